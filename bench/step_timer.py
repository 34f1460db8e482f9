"""A Lightning callback that times the training steps of `python train.py fit` for the benchmark.

Loaded into the generated project with `--trainer.callbacks+=step_timer.StepTimer` (bench/ on
PYTHONPATH); writes its numbers as JSON to $BENCH_OUT when fit ends.
"""

import json
import os
import resource
import time

import torch
from lightning.pytorch import Callback


class StepTimer(Callback):
    """Per epoch: the time from the first training batch's start to the last one's end, over the
    number of steps (validation and checkpointing excluded; logging and the progress bar included)."""

    def __init__(self) -> None:
        self.epochs: list[dict] = []
        self.first_step_at: float | None = None

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._start, self._end, self._steps = None, None, 0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self._start is None:
            self._start = time.perf_counter()
        if self.first_step_at is None:
            self.first_step_at = time.time()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.fit_loop.epoch_loop.batch_progress.is_last_batch and torch.cuda.is_available():
            torch.cuda.synchronize()  # once per epoch: the GPU's queued work belongs to this epoch
        self._end, self._steps = time.perf_counter(), self._steps + 1

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self.epochs.append({"seconds": self._end - self._start, "steps": self._steps})

    def on_fit_end(self, trainer, pl_module) -> None:
        result = {
            "epochs": self.epochs,
            "first_step_s": self.first_step_at - float(os.environ["BENCH_T0"]),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
        with open(os.environ["BENCH_OUT"], "w") as file:
            json.dump(result, file)
