"""The training logic every task here shares, read top to bottom as in Lightning's examples."""

from typing import Any

import torch
from lightning.pytorch import LightningModule
from lightning.pytorch.cli import OptimizerCallable
from litproject.schedules import Schedule
from torch import nn
from torchmetrics import MetricCollection


class Task(LightningModule):
    """Trains `net` on batches of (inputs, targets); a subclass says what the loss and the
    predictions are, and which metrics to keep.

    Lightning runs the tutorials' loop around `training_step`: `model.train()`,
    `optimizer.zero_grad()`, `loss.backward()`, `optimizer.step()`, then `model.eval()` and
    `torch.no_grad()` for validation. It also moves the network and every batch to the device.
    The loss `training_step` returns is charted as `train/loss` by litproject, on the steps that
    reach the loggers; validation and test log theirs here.

    Args:
        net: the network to train; any `nn.Module` (set in the config with `class_path`).
        optimizer: builds the optimizer from the parameters, e.g. `torch.optim.Adam`.
        metrics: what to measure besides the loss, e.g. accuracy; cloned once per stage. (The
            tasks here give `litproject.metrics.BatchedMetricCollection`: torchmetrics' own,
            updated ten batches at a time, for the same values.)
        schedule: the learning-rate schedule, if any: how the scheduler is built from the
            optimizer (e.g. `torch.optim.lr_scheduler.CosineAnnealingLR`), when it steps and
            what `ReduceLROnPlateau` watches (see `litproject.schedules.Schedule`).
        compile: compile the network's forward with `torch.compile` when training starts:
            faster steps after a one-off compilation (seconds to minutes); the weights and
            checkpoints stay the same as without it.
    """

    def __init__(
        self,
        net: nn.Module,
        optimizer: OptimizerCallable,
        metrics: MetricCollection,
        schedule: Schedule | None = None,
        compile: bool = False,
    ) -> None:
        super().__init__()
        # Through the command line, `net` and `optimizer` are saved as their config (class_path
        # and init_args): plain values, so a checkpoint alone can rebuild the model.
        self.save_hyperparameters(ignore=["metrics"])
        self.net = net
        self.optimizer = optimizer
        self.schedule = schedule
        self.compile_net = compile
        # One metric object per stage, so training batches never leak into validation scores.
        self.train_metrics = metrics.clone(prefix="train/")
        self.val_metrics = metrics.clone(prefix="val/")
        self.test_metrics = metrics.clone(prefix="test/")

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def unpack(self, batch: Any) -> tuple[Any, torch.Tensor]:
        """A batch as (inputs, targets). The datamodules here give pairs; for batches of another
        form (a dict, say) override this: the steps use it, and so does litproject's check of
        the network on a real batch before training."""
        inputs, targets = batch
        return inputs, targets

    def forward(self, inputs: Any) -> torch.Tensor:
        return self.net(inputs)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        inputs, targets = self.unpack(batch)
        outputs = self(inputs)
        loss = self.loss(outputs, targets)
        self.train_metrics.update(outputs.detach(), targets)
        return loss  # charted as train/loss by litproject

    def validation_step(self, batch: Any, batch_idx: int) -> dict[str, torch.Tensor]:
        return self.evaluate(batch, "val", self.val_metrics)

    def test_step(self, batch: Any, batch_idx: int) -> dict[str, torch.Tensor]:
        return self.evaluate(batch, "test", self.test_metrics)

    def evaluate(self, batch: Any, stage: str, metrics: MetricCollection) -> dict[str, torch.Tensor]:
        """The loss, averaged over the epoch and under DDP over every process, and the metrics."""
        inputs, targets = self.unpack(batch)
        outputs = self(inputs)
        loss = self.loss(outputs, targets)
        metrics.update(outputs, targets)
        self.log(f"{stage}/loss", loss, prog_bar=True, sync_dist=True)
        # Callbacks receive the outputs too, for plots such as a confusion matrix.
        return {"loss": loss, "outputs": outputs}

    def on_train_epoch_end(self) -> None:
        self.log_epoch(self.train_metrics)

    def on_validation_epoch_end(self) -> None:
        self.log_epoch(self.val_metrics, prog_bar=True)

    def on_test_epoch_end(self) -> None:
        self.log_epoch(self.test_metrics, prog_bar=True)

    def log_epoch(self, metrics: MetricCollection, prog_bar: bool = False) -> None:
        """The metrics of the whole epoch: every batch of every process (torchmetrics gathers
        them under DDP), not an average of per-batch scores."""
        self.log_dict(metrics.compute(), prog_bar=prog_bar)
        metrics.reset()

    def configure_optimizers(self) -> torch.optim.Optimizer | dict:
        optimizer = self.optimizer(self.parameters())
        if self.schedule is None:
            return optimizer
        watchable = {"val/loss", *self.val_metrics.keys()}  # what ReduceLROnPlateau may watch
        return {
            "optimizer": optimizer,
            "lr_scheduler": self.schedule.build(optimizer, self.trainer, watchable),
        }

    def configure_model(self) -> None:
        # nn.Module.compile() compiles in place: parameter names, and so checkpoints, do not change.
        if self.compile_net:
            self.net.compile()
