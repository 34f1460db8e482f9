"""The checkpoint callback: best and last checkpoints that a run can always resume from exactly."""

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import WandbLogger
from lightning.pytorch.utilities import rank_zero_info
from lightning.pytorch.utilities.exceptions import SIGTERMException

from ..checkpoint_files import rng_states, set_rng_states
from ..compat import saves_at_train_epoch_end, saves_every_n_train_steps, write_last_checkpoint


class Checkpoint(ModelCheckpoint):
    """Lightning's `ModelCheckpoint` (best and last), plus what a resumed run needs to carry on
    as if it had never stopped.

    - The random number generators' states, which Lightning does not save: after a resume,
      dropout draws the same masks as in a run that never stopped.
    - The W&B run id, so that a resumed `fit` (or a later `test`) continues the same W&B run.
    - On Ctrl-C or SIGTERM (a cluster's time limit) it saves the last checkpoint before the run
      ends, so `--ckpt_path last` carries on from there (the interrupted epoch starts again).

    - `last` after every validation, as Lightning did before 2.6 (2.6 writes it only when the
      best checkpoint changes), and every `every_n_train_steps` steps when that is set, also
      before the first validation (Lightning waits for the metric): a run with long epochs
      resumes from the middle of one.

    Lightning writes each checkpoint to a temporary file and then renames it: a crash during a
    save leaves the previous `last.ckpt` whole.
    """

    def on_save_checkpoint(self, trainer: Trainer, pl_module: LightningModule, checkpoint: dict) -> None:
        checkpoint["rng_states"] = rng_states()
        if isinstance(trainer.logger, WandbLogger) and trainer.logger.version:
            checkpoint["wandb_run_id"] = trainer.logger.version

    def on_load_checkpoint(self, trainer: Trainer, pl_module: LightningModule, checkpoint: dict) -> None:
        if "rng_states" in checkpoint:
            set_rng_states(checkpoint["rng_states"])

    # Lightning 2.6 writes `last` only at steps where it also writes a best checkpoint: a run
    # resumed from `last` would lose every epoch since the metric last improved. So after
    # Lightning's own save (at the end of the training epoch, or of validation when it runs
    # several times per epoch), `last` is written if it was not.
    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        if self.save_last and saves_at_train_epoch_end(self, trainer):
            write_last_checkpoint(self, trainer, unless_saved_at_this_step=True)

    def on_train_batch_end(self, trainer: Trainer, pl_module: LightningModule, *args) -> None:
        super().on_train_batch_end(trainer, pl_module, *args)
        if self.save_last and saves_every_n_train_steps(self, trainer):
            write_last_checkpoint(self, trainer, unless_saved_at_this_step=True)

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        super().on_validation_end(trainer, pl_module)
        if self.save_last and not saves_at_train_epoch_end(self, trainer):
            write_last_checkpoint(self, trainer, unless_saved_at_this_step=True)

    def on_exception(self, trainer: Trainer, pl_module: LightningModule, exception: BaseException) -> None:
        # Only an interruption: after an error the weights may be broken, and the last good
        # checkpoint must stay as it is.
        if isinstance(exception, KeyboardInterrupt | SIGTERMException) and not trainer.sanity_checking:
            write_last_checkpoint(self, trainer)
            rank_zero_info(
                f"Interrupted at epoch {trainer.current_epoch}, step {trainer.global_step}: saved "
                f"{self.last_model_path}. Resume with the same command and --ckpt_path last"
            )
