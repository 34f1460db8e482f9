"""The training loss and the learning rate, charted on the steps Lightning logs."""

from typing import Any

import torch
from lightning.pytorch import Callback, LightningModule, Trainer

from ..compat import logs_this_step
from ..errors import OptionError


class TrainingLog(Callback):
    """Logs `train/loss`, the loss a task's `training_step` returns (also on the progress bar),
    and `train/lr`, the first optimizer's rate, on the steps Lightning sends to the loggers
    (every `log_every_n_steps`; the rate once per epoch unless a schedule steps with the
    optimizer). The command line adds it to every run.

    A task could `self.log` its loss at every step, as Lightning's examples do: Lightning would
    drop the values of the steps it does not send to the loggers, after spending on each call
    about as much as a small network's whole step (docs/performance.md). Logged here, only the
    values that reach the loggers are logged, and the task's step stays free of it.

    A run resumed under a one-cycle schedule keeps the checkpoint's cycle, whose step count cannot
    grow: asking for more steps (a larger max_epochs, say) is refused when training starts.
    """

    stepwise = False  # the learning rate changes at every step

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self.stepwise = any(config.interval == "step" for config in trainer.lr_scheduler_configs)
        for config in trainer.lr_scheduler_configs:
            planned = getattr(config.scheduler, "total_steps", None)  # OneCycleLR
            if planned is not None and planned < trainer.estimated_stepping_batches:
                raise OptionError(
                    f"this run's one-cycle schedule was built for {planned} optimizer steps and the "
                    f"trainer now asks for {trainer.estimated_stepping_batches}: a cycle cannot "
                    "be stretched once started. Resume with the settings the run began with "
                    "(max_epochs, limit_train_batches), or start a new run without --ckpt_path."
                )

    def on_train_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not self.stepwise and trainer.optimizers:
            pl_module.log("train/lr", rate(trainer), on_step=False, on_epoch=True)

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if not logs_this_step(trainer):
            return
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        if isinstance(loss, torch.Tensor):
            pl_module.log("train/loss", loss.detach(), prog_bar=True, on_step=True, on_epoch=False)

    def on_train_batch_start(
        self, trainer: Trainer, pl_module: LightningModule, batch: Any, batch_idx: int
    ) -> None:
        if self.stepwise and logs_this_step(trainer):  # the rate this step trains with
            pl_module.log("train/lr", rate(trainer), on_step=True, on_epoch=False)


def rate(trainer: Trainer) -> float:
    return trainer.optimizers[0].param_groups[0]["lr"]
