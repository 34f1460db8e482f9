"""The most-used Lightning template's way, for the benchmark (variant P): R1's network, loss,
optimizer and batches in a LightningModule written the way lightning-hydra-template writes its
MNIST module, under the Trainer its default configs build. Written here from its documented
pattern, not copied:

- a `MeanMetric` for the loss and a torchmetrics metric per stage, both updated and logged with
  `self.log(..., on_step=False, on_epoch=True)` at every step (`Accuracy` on the CNN; the mean
  squared error on the regression workloads), the best validation value in a `MaxMetric` or
  `MinMetric`;
- its default callbacks: `ModelCheckpoint` (best by the validation metric, and last),
  `EarlyStopping` (patience 100), `RichModelSummary` and `RichProgressBar`; no logger.

    python peer.py <workload> <epochs> <data_dir>     # writes JSON to $BENCH_OUT
"""

import os
import sys
import tempfile

import torch
from bare_lightning import Batches
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint, RichModelSummary, RichProgressBar
from raw_loop import workload
from step_timer import StepTimer
from torch.utils.data import DataLoader
from torchmetrics import Accuracy, MaxMetric, MeanMetric, MeanSquaredError, MinMetric

VALIDATION = 1024  # samples, as a validation split for the callbacks


class PeerModule(LightningModule):
    def __init__(
        self, net: torch.nn.Module, criterion: torch.nn.Module, optimizer, classes: int | None
    ) -> None:
        super().__init__()
        self.net, self.criterion, self.optimizer = net, criterion, optimizer
        self.classes = classes
        make = (lambda: Accuracy(task="multiclass", num_classes=classes)) if classes else MeanSquaredError
        self.train_metric, self.val_metric = make(), make()
        self.train_loss, self.val_loss = MeanMetric(), MeanMetric()
        self.val_best = MaxMetric() if classes else MinMetric()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def model_step(self, batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x, y = batch
        outputs = self(x)
        loss = self.criterion(outputs, y)
        predictions = outputs.argmax(dim=1) if self.classes else outputs
        return loss, predictions, y

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        loss, predictions, targets = self.model_step(batch)
        self.train_loss(loss)
        self.train_metric(predictions, targets)
        self.log("train/loss", self.train_loss, on_step=False, on_epoch=True, prog_bar=True)
        self.log("train/metric", self.train_metric, on_step=False, on_epoch=True, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx: int) -> None:
        loss, predictions, targets = self.model_step(batch)
        self.val_loss(loss)
        self.val_metric(predictions, targets)
        self.log("val/loss", self.val_loss, on_step=False, on_epoch=True, prog_bar=True)
        self.log("val/metric", self.val_metric, on_step=False, on_epoch=True, prog_bar=True)

    def on_validation_epoch_end(self) -> None:
        self.val_best(self.val_metric.compute())
        self.log("val/metric_best", self.val_best.compute(), sync_dist=True, prog_bar=True)

    def configure_optimizers(self):
        return self.optimizer


def validation_batches(batches) -> list:
    """The first batches of an epoch of a second copy of the data, kept as a fixed validation
    split (the training batches come in the same order as in R1 and LB)."""
    kept, seen = [], 0
    for batch in batches():
        kept.append(batch)
        seen += len(batch[0])
        if seen >= VALIDATION:
            return kept
    return kept


if __name__ == "__main__":
    torch.set_num_threads(int(os.environ["BENCH_THREADS"]))
    torch.manual_seed(0)
    name, epochs, data_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    net, criterion, optimizer, batches = workload(name, "R1", data_dir)
    *_, validation = workload(name, "R1", data_dir)
    goal = "max" if name == "cnn" else "min"
    trainer = Trainer(
        accelerator="auto",
        max_epochs=epochs,
        logger=False,
        default_root_dir=tempfile.mkdtemp(prefix="peer-"),
        callbacks=[
            ModelCheckpoint(monitor="val/metric", mode=goal, save_top_k=1, save_last=True),
            EarlyStopping(monitor="val/metric", mode=goal, patience=100),
            RichModelSummary(max_depth=-1),
            RichProgressBar(),
            StepTimer(),
        ],
    )
    module = PeerModule(net, criterion, optimizer, classes=10 if name == "cnn" else None)
    trainer.fit(
        module,
        DataLoader(Batches(batches), batch_size=None),
        DataLoader(validation_batches(validation), batch_size=None),
    )
