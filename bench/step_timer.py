"""A Lightning callback that times the training steps of `python train.py fit` for the benchmark,
or, with BENCH_COUNT=1, counts the calls they make (call_counter.py) in the same windows.

Loaded into the generated project with `--trainer.callbacks+=step_timer.StepTimer` (bench/ on
PYTHONPATH); writes its numbers as JSON to $BENCH_OUT when fit ends.
"""

import json
import os
import resource
import time

import torch
from call_counter import CallCounter
from lightning.pytorch import Callback


class StepTimer(Callback):
    """Per epoch: the time from the first training batch's start to the last one's end (this
    callback's hook, the last of the batch's callbacks), over the number of steps (validation
    excluded; logging, checkpointing and the progress bar included)."""

    def __init__(self) -> None:
        self.epochs: list[dict] = []
        self.first_step_at: float | None = None
        self.counter = CallCounter() if os.environ.get("BENCH_COUNT") else None
        self.counted_steps = 0

    def setup(self, trainer, pl_module, stage) -> None:
        # Last of the callbacks, so that a step's window holds every other callback's hooks of the
        # batch (of the epoch's last batch too: its window ends here, in on_train_batch_end).
        # A new list: Lightning is iterating over the one it has, to call this very hook.
        trainer.callbacks = [callback for callback in trainer.callbacks if callback is not self] + [self]

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._start, self._end, self._steps = None, None, 0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self._start is None:
            self._start = time.perf_counter()
            if self.counter and trainer.current_epoch > 0:  # the first epoch warms up
                self.counter.start()
        if self.first_step_at is None:
            self.first_step_at = time.time()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        last = trainer.fit_loop.epoch_loop.batch_progress.is_last_batch
        if last and torch.cuda.is_available():
            torch.cuda.synchronize()  # once per epoch: the GPU's queued work belongs to this epoch
        self._end, self._steps = time.perf_counter(), self._steps + 1
        if self.counter and trainer.current_epoch > 0:
            self.counted_steps += 1
            if last:
                self.counter.stop()

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self.epochs.append({"seconds": self._end - self._start, "steps": self._steps})

    def on_fit_end(self, trainer, pl_module) -> None:
        result = {
            "epochs": self.epochs,
            "first_step_s": self.first_step_at - float(os.environ["BENCH_T0"]),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
        if self.counter:
            result["calls"] = self.counter.per_step(self.counted_steps)
        with open(os.environ["BENCH_OUT"], "w") as file:
            json.dump(result, file)
