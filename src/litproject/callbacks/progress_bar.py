"""The progress bar, updated at the pace an eye can follow rather than at every step."""

import math
import time
from typing import Any

from jsonargparse.typing import PositiveFloat
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import RichProgressBar


class ProgressBar(RichProgressBar):
    """Lightning's Rich progress bar (the command line puts it in place of Lightning's default),
    whose position, speed and values are updated at most `updates_per_second` times a second,
    and at the end of every epoch.

    Lightning's updates it after every batch; each update costs about 200 Python calls, as much
    as Lightning's own loop around a step, while the screen shows a few changes a second.
    """

    def __init__(self, updates_per_second: PositiveFloat = 10, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.interval = 1 / updates_per_second
        self._updated = -math.inf

    def _due(self, batches_done: int, total: int | float) -> bool:
        now = time.monotonic()
        if now - self._updated < self.interval and batches_done < total:
            return False
        self._updated = now
        return True

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if self.is_enabled and self._due(batch_idx + 1, self.total_train_batches):
            super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)

    def on_validation_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        # A disabled bar (every process but the first under DDP) tracks no dataloader: nothing to do.
        if self.is_enabled and self._due(batch_idx + 1, self.total_val_batches_current_dataloader):
            super().on_validation_batch_end(trainer, pl_module, outputs, batch, batch_idx, dataloader_idx)
