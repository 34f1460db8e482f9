"""The learning rate, charted beside the loss, and a schedule that cannot stretch checked."""

from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer

from ..compat import logs_this_step
from ..errors import OptionError


class LearningRate(Callback):
    """Logs `train/lr`, the first optimizer's rate, at the cadence it changes: once per epoch, or
    on every logged step under a schedule that steps with the optimizer. The command line adds it
    to every run.

    A run resumed under a one-cycle schedule keeps the checkpoint's cycle, whose step count cannot
    grow: asking for more steps (a larger max_epochs, say) is refused when training starts.
    """

    stepwise = False

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

    def on_train_batch_start(
        self, trainer: Trainer, pl_module: LightningModule, batch: Any, index: int
    ) -> None:
        if self.stepwise and logs_this_step(trainer):
            pl_module.log("train/lr", rate(trainer), on_step=True, on_epoch=False)


def rate(trainer: Trainer) -> float:
    return trainer.optimizers[0].param_groups[0]["lr"]
