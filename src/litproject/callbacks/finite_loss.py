"""Stop a run whose loss has stopped being a number, instead of training on NaN for hours."""

from typing import Any

import torch
from lightning.pytorch import Callback, LightningModule, Trainer

from ..compat import logs_this_step
from ..errors import UserError


class NonFiniteLossError(UserError):
    """The training loss became NaN or infinite: a run that failed, not a bug."""

    exit_code = 1


class StopOnNonFiniteLoss(Callback):
    """Raise `NonFiniteLossError` when the training loss is NaN or infinite, naming the step and
    the last checkpoint, which is kept as it was (no checkpoint is saved after the failure).

    The loss is looked at on the steps where Lightning logs it anyway (every
    `trainer.log_every_n_steps`), so that checking costs no extra wait for the GPU.
    """

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if logs_this_step(trainer) and not torch.isfinite(outputs["loss"]):
            last = getattr(trainer.checkpoint_callback, "last_model_path", "") or "none yet"
            raise NonFiniteLossError(
                f"the training loss is {outputs['loss'].item()} at step {trainer.global_step} (epoch "
                f"{trainer.current_epoch}); the last good checkpoint is {last}. Lower the learning "
                "rate (--model.optimizer.lr), or look for inf or NaN in the data."
            )
