"""How training went, on disk: for machines with no W&B server to look at, and for `litproject compare`."""

import time
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.utilities import rank_zero_info

from ..history import METRICS_FILE, write_rows
from ..runs import shown


class LearningCurves(Callback):
    """After every epoch, the run's `metrics.csv` (see `history.py`): the mean training loss,
    every validation metric and the seconds of training so far; at the end of `fit`, these
    curves plotted to `learning_curves.png` in the run's folder.

    The training loss is the mean over each epoch's batches, summed on the device so that no
    step waits for it. The history is kept in checkpoints, so a resumed run has every epoch.
    """

    def __init__(self, filename: str = "learning_curves.png") -> None:
        self.filename = filename
        self.history: list[dict[str, float]] = []
        self._loss_sum: torch.Tensor | float = 0.0
        self._batches = 0
        self._seconds_before = 0.0  # training time of the epochs before this process started
        self._started = 0.0

    def on_fit_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._seconds_before = self.history[-1].get("time", 0.0) if self.history else 0.0
        self._started = time.perf_counter()

    def on_train_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._loss_sum, self._batches = 0.0, 0

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        self._loss_sum = self._loss_sum + outputs["loss"].detach()
        self._batches += 1

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        # Before the checkpoint of this epoch is saved, so that the checkpoint holds this row.
        if trainer.state.fn == "fit" and not trainer.sanity_checking:
            self._record(trainer)

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not self.history or self.history[-1]["epoch"] != trainer.current_epoch + 1:  # no validation
            self._record(trainer)

    def _record(self, trainer: Trainer) -> None:
        row = {"epoch": trainer.current_epoch + 1}
        row["time"] = round(self._seconds_before + time.perf_counter() - self._started, 3)
        if self._batches:
            row["train/loss"] = float(self._loss_sum / self._batches)
        for name, value in trainer.callback_metrics.items():
            if name.startswith("val/") and value.numel() == 1:
                row[name] = float(value)
        self.history.append(row)
        if trainer.is_global_zero:
            write_rows(Path(trainer.default_root_dir, METRICS_FILE), self.history)

    def on_fit_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not (trainer.is_global_zero and self.history):
            return
        path = Path(trainer.default_root_dir, self.filename)
        plot(self.history, path)
        rank_zero_info(f"Learning curves: {shown(path)}")

    def state_dict(self) -> dict[str, Any]:
        return {"history": self.history}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.history = state_dict["history"]


def plot(history: list[dict[str, float]], path: Path) -> None:
    """One panel for the losses, one per validation metric; epochs on the x axis."""
    from matplotlib.figure import Figure  # imported here: matplotlib costs startup time

    metrics = sorted({name for row in history for name in row} - {"epoch", "time", "train/loss", "val/loss"})
    panels = [("loss", ["train/loss", "val/loss"])] + [(name, [name]) for name in metrics]
    figure = Figure(figsize=(4.5 * len(panels), 3.5), layout="constrained")
    for axes, (title, names) in zip(figure.subplots(1, len(panels), squeeze=False)[0], panels, strict=True):
        for name in names:
            points = [(row["epoch"], row[name]) for row in history if name in row]
            if points:
                axes.plot(*zip(*points, strict=True), marker="o", markersize=3, label=name)
        axes.set(title=title, xlabel="epoch")
        axes.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
