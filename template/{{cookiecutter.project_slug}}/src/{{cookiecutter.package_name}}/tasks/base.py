"""The training logic every task shares, written once."""

from dataclasses import dataclass
from typing import Any, Literal

import torch
from lightning.pytorch import LightningDataModule, LightningModule, Trainer
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import nn
from torchmetrics import MetricCollection

from ..errors import OptionError, UserError
from ..lightning_internals import logs_this_step


class IncompatibleDataError(UserError):
    """A task and its network cannot train on the chosen data."""


@dataclass
class Schedule:
    """A learning-rate schedule, as the configs write it:

        schedule:
          scheduler:
            class_path: torch.optim.lr_scheduler.CosineAnnealingLR
            init_args: {T_max: 15}
          interval: epoch        # or step: the scheduler steps after every optimizer step
          monitor: val/loss      # what ReduceLROnPlateau watches (other schedulers ignore it)

    Lightning steps the scheduler and keeps its state in checkpoints, so a resumed run
    continues the schedule where it stopped. `OneCycleLR` without `total_steps` (or `epochs`)
    gets the run's number of optimizer steps.
    """

    scheduler: LRSchedulerCallable
    interval: Literal["epoch", "step"] = "epoch"
    monitor: str = "val/loss"

    def build(self, optimizer: torch.optim.Optimizer, trainer: Trainer, logged: set[str]) -> dict[str, Any]:
        """The scheduler and its settings, as Lightning's `configure_optimizers` returns them;
        `logged` are the metrics a plateau scheduler may watch."""
        given = getattr(self.scheduler, "keywords", {})  # jsonargparse builds it as a partial
        if given.get("total_steps", 0) is None and given.get("epochs") is None:  # OneCycleLR
            scheduler = self.scheduler(optimizer, total_steps=trainer.estimated_stepping_batches)
        else:
            scheduler = self.scheduler(optimizer)
        settings = {"scheduler": scheduler, "interval": self.interval}
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            if self.monitor not in logged:
                raise OptionError(
                    f"--model.schedule.monitor {self.monitor}: the task never logs it; "
                    f"ReduceLROnPlateau can watch {', '.join(sorted(logged))}."
                )
            settings["monitor"] = self.monitor
        return settings


class Task(LightningModule):
    """One step for training, validation and testing; a subclass says what the loss is.

    Lightning runs the tutorial's loop around `training_step`: `model.train()`,
    `optimizer.zero_grad()`, `loss.backward()`, `optimizer.step()`, then `model.eval()` and
    `torch.no_grad()` for validation. It also moves the network and every batch to the device.

    Args:
        net: the network to train; any `nn.Module` (set in the config with `class_path`).
        optimizer: builds the optimizer from the parameters, e.g. `torch.optim.Adam`.
        metrics: what to measure besides the loss; cloned once per stage.
        compile: compile the network's forward with `torch.compile` when training starts:
            faster steps after a one-off compilation (seconds to minutes); the weights and
            checkpoints stay the same as without it.
        schedule: the learning-rate schedule, if any: how the scheduler is built from the
            optimizer (e.g. `torch.optim.lr_scheduler.CosineAnnealingLR`), when it steps and
            what `ReduceLROnPlateau` watches (see `Schedule`).
    """

    def __init__(
        self,
        net: nn.Module,
        optimizer: OptimizerCallable,
        metrics: MetricCollection,
        compile: bool = False,
        schedule: Schedule | None = None,
    ) -> None:
        super().__init__()
        # Through the CLI, `net` and `optimizer` are saved as their config (class_path and
        # init_args): plain values, so a checkpoint alone can rebuild the model.
        self.save_hyperparameters(ignore=["metrics"])
        self.net = net
        self.optimizer = optimizer
        self.schedule = schedule
        self.compile_net = compile
        # One metric object per stage, so training batches never leak into validation scores.
        self.train_metrics = metrics.clone(prefix="train/")
        self.val_metrics = metrics.clone(prefix="val/")
        self.test_metrics = metrics.clone(prefix="test/")
        self._unmeasured: dict[str, list[tuple[torch.Tensor, torch.Tensor]]] = {
            "train": [],
            "val": [],
            "test": [],
        }

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def check_data(self, datamodule: LightningDataModule) -> None:
        """Raise `IncompatibleDataError` if this task cannot train on `datamodule`."""

    def configure_model(self) -> None:
        # nn.Module.compile() compiles in place: parameter names, and so checkpoints, do not change.
        if self.compile_net:
            self.net.compile()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def _step(self, batch: tuple[torch.Tensor, torch.Tensor], stage: str) -> dict[str, torch.Tensor]:
        x, y = batch
        outputs = self(x)
        loss = self.loss(outputs, y)
        self._measure(stage, outputs, y)
        # The training loss is logged on the steps Lightning sends to the logger (every
        # `log_every_n_steps`), as the tutorials print it every few batches: each `self.log`
        # costs Lightning about a millisecond, as much as a small network's whole step. The
        # metrics are logged once per epoch (`_log_metrics`). Validation and test losses are
        # averaged over the epoch and, under DDP, over all processes (sync_dist).
        training = stage == "train"
        if not training or logs_this_step(self.trainer):
            self.log(
                f"{stage}/loss",
                loss,
                prog_bar=True,
                on_step=training,
                on_epoch=not training,
                sync_dist=not training,
            )
        if training:
            return loss  # callbacks receive it as outputs["loss"]
        # Evaluation callbacks receive the outputs too, for plots such as a confusion matrix.
        return {"loss": loss, "outputs": outputs.detach()}

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> dict:
        return self._step(batch, "val")

    def test_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> dict:
        return self._step(batch, "test")

    def _measure(self, stage: str, outputs: torch.Tensor, targets: torch.Tensor) -> None:
        """Give the stage's metrics this batch, gathered with the next ones into one update every
        `log_every_n_steps` batches: a torchmetrics update costs about two hundred Python calls
        whatever its size (three times the CNN's forward pass and loss), and the metrics' states
        add up over samples, so the epoch's values are those of an update per batch."""
        unmeasured = self._unmeasured[stage]
        unmeasured.append((outputs.detach(), targets))
        if len(unmeasured) >= self.trainer.log_every_n_steps:
            self._update_metrics(stage)

    def _update_metrics(self, stage: str) -> None:
        unmeasured = self._unmeasured[stage]
        if unmeasured:
            outputs, targets = zip(*unmeasured, strict=True)
            getattr(self, f"{stage}_metrics").update(torch.cat(outputs), torch.cat(targets))
            unmeasured.clear()

    def _log_metrics(self, stage: str) -> None:
        """Log a stage's metrics over the whole epoch: every batch of every process (torchmetrics
        gathers them under DDP), not an average of per-batch scores."""
        self._update_metrics(stage)
        metrics = getattr(self, f"{stage}_metrics")
        self.log_dict(metrics.compute(), prog_bar=stage != "train")
        metrics.reset()

    def on_train_epoch_end(self) -> None:
        self._log_metrics("train")

    def on_validation_epoch_end(self) -> None:
        self._log_metrics("val")

    def on_test_epoch_end(self) -> None:
        self._log_metrics("test")

    def on_train_start(self) -> None:
        # After a resume the schedule is the checkpoint's, one-cycle's step count included: a
        # cycle cannot be stretched to more steps than it was built for.
        for config in self.trainer.lr_scheduler_configs:
            planned = getattr(config.scheduler, "total_steps", None)  # OneCycleLR
            if planned is not None and planned < self.trainer.estimated_stepping_batches:
                raise OptionError(
                    f"this run's one-cycle schedule was built for {planned} optimizer steps and the "
                    f"trainer now asks for {self.trainer.estimated_stepping_batches}: a cycle cannot "
                    "be stretched once started. Resume with the settings the run began with "
                    "(max_epochs, limit_train_batches), or start a new run without --ckpt_path."
                )

    def on_train_epoch_start(self) -> None:
        # Charted beside the loss, at the cadence it changes: per epoch, or per logged step
        # under a step-wise schedule (in `on_train_batch_start`).
        if not self.steps_learning_rate:
            self.log("train/lr", self.learning_rate, on_step=False, on_epoch=True)

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        if self.steps_learning_rate and logs_this_step(self.trainer):
            self.log("train/lr", self.learning_rate, on_step=True, on_epoch=False)

    @property
    def learning_rate(self) -> float:
        return self.trainer.optimizers[0].param_groups[0]["lr"]

    @property
    def steps_learning_rate(self) -> bool:
        return self.schedule is not None and self.schedule.interval == "step"

    def configure_optimizers(self) -> torch.optim.Optimizer | dict:
        optimizer = self.optimizer(self.parameters())
        if self.schedule is None:
            return optimizer
        logged = {"val/loss", *self.val_metrics.keys()}
        return {"optimizer": optimizer, "lr_scheduler": self.schedule.build(optimizer, self.trainer, logged)}

    def _try_forward(self, datamodule: LightningDataModule) -> torch.Size:
        """Output shape of the network on a batch of two inputs shaped like the data's.

        In evaluation mode, so that the trial changes nothing: no batch-norm statistics, no
        random numbers drawn by dropout.
        """
        name = f"{type(self.net).__name__} (in {type(self).__name__})"
        x = torch.zeros(2, *datamodule.input_shape)
        self.example_input_array = x[:1]  # for Lightning's summary: sizes and FLOPs of each layer
        training = self.net.training
        try:
            with torch.no_grad():
                return self.net.eval()(x).shape
        except RuntimeError as error:
            raise IncompatibleDataError(
                f"{name} cannot take the inputs of {type(datamodule).__name__}, shaped "
                f"{tuple(datamodule.input_shape)}: {error}. Choose a network for such inputs."
            ) from None
        finally:
            self.net.train(training)
