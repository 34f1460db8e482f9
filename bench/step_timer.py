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
    """Per epoch: the time from the first training batch's start to the end of the last one, with
    every callback's hook of that batch and the loggers' update, over the number of steps
    (validation excluded; logging, checkpointing and the progress bar included)."""

    def __init__(self) -> None:
        self.epochs: list[dict] = []
        self.first_step_at: float | None = None
        self.counter = CallCounter() if os.environ.get("BENCH_COUNT") else None
        self.counted_steps = 0

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._start, self._end, self._steps, self._closing = None, None, 0, False

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self._start is None:
            self._start = time.perf_counter()
            if self.counter and trainer.current_epoch > 0:  # the first epoch warms up
                self.counter.start()
        if self.first_step_at is None:
            self.first_step_at = time.time()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self._steps += 1
        if self.counter and trainer.current_epoch > 0:
            self.counted_steps += 1
        if trainer.fit_loop.epoch_loop.batch_progress.is_last_batch:
            self._closing = True  # the epoch's last step ends when what follows its hooks is done
        else:
            self._end = time.perf_counter()

    def close_epoch(self, trainer) -> None:
        """The end of the epoch's last step: after every callback's hook of that batch and the
        loggers' update, before validation (or the epoch's end, without one)."""
        if not self._closing:
            return
        self._closing = False
        if torch.cuda.is_available():
            torch.cuda.synchronize()  # once per epoch: the GPU's queued work belongs to this epoch
        self._end = time.perf_counter()
        if self.counter and trainer.current_epoch > 0:
            self.counter.stop()

    def on_validation_start(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:
            self.close_epoch(trainer)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self.close_epoch(trainer)
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
