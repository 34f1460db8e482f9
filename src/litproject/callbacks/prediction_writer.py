"""Predictions to a CSV file, one row per input, for a spreadsheet or pandas."""

import csv
import time
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import BasePredictionWriter
from lightning.pytorch.utilities import rank_zero_info

from ..contract import NamedSamples, Task
from ..tracking import unused_path


class PredictionWriter(BasePredictionWriter):
    """Write what `predict` returns to `<folder>/predictions-<time>.csv`, batch by batch.

    Row i is input i of the predict split (the `index` column), with its file when the data is
    files (the `file` column); each output becomes one column, or one per value
    (`probabilities_0`, `probabilities_1`, ...), followed by the input's `target` when the data
    has one. The folder defaults to the run's folder; under DDP each
    process writes its own file (`-rank<N>`) into rank zero's folder, and its `index` column says
    which inputs it got. Earlier files are never overwritten.
    """

    def __init__(self, folder: str | None = None) -> None:
        super().__init__(write_interval="batch")
        self.folder = folder
        self.path: Path | None = None
        self._file = None
        self._writer = None

    def on_predict_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        suffix = f"-rank{trainer.global_rank}" if trainer.world_size > 1 else ""
        # The run's folder as rank zero knows it (torchrun's further processes cannot know it).
        folder = Path(self.folder or trainer.strategy.broadcast(trainer.default_root_dir))
        self.path = unused_path(folder, f"predictions-{time.strftime('%Y%m%d-%H%M%S')}{suffix}.csv")
        self._file = self.path.open("x", newline="")  # "x": fails rather than overwrite
        self._writer = None
        data = trainer.datamodule
        # The datamodules of a project predict on their test split.
        self._names = data.sample_names("test") if isinstance(data, NamedSamples) else None

    def write_on_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        prediction: Any,
        batch_indices: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int,
    ) -> None:
        columns = dict(prediction) if isinstance(prediction, dict) else {"prediction": prediction}
        if isinstance(pl_module, Task):
            _, targets = pl_module.unpack(batch)
            if isinstance(targets, torch.Tensor):
                columns["target"] = targets
        names, values = [], []
        for name, tensor in columns.items():
            flat = tensor.detach().cpu().reshape(len(tensor), -1)
            names += [name] if flat.shape[1] == 1 else [f"{name}_{i}" for i in range(flat.shape[1])]
            values.append(flat.tolist())
        first = ["index", "file"] if self._names else ["index"]
        if self._writer is None:
            self._writer = csv.writer(self._file)
            self._writer.writerow([*first, *names])
        for index, *parts in zip(batch_indices, *values, strict=True):
            name = [self._names[index]] if self._names else []
            self._writer.writerow([index, *name, *(_format(value) for part in parts for value in part)])

    def on_predict_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._file.close()
        rank_zero_info(f"Predictions: {self.path}")


def _format(value: int | float) -> int | str:
    """Class numbers as they are; other numbers to 7 significant digits, float32's precision."""
    return value if isinstance(value, int) else f"{value:.7g}"
