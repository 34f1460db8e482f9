"""Lightning behaviour this project relies on that Lightning (2.6) has no public name for (and
LitData's, 0.2, for streaming).

Every use of a private Lightning or LitData member goes through this module, so that a Lightning release
that changes one breaks here, in one place: `tests/test_lightning_internals.py` fails with the
member's name, and the behaviour tests named in each docstring fail with what it was for.
"""

from typing import Any

import yaml
from jsonargparse import Namespace
from lightning.pytorch import Callback, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.loggers import WandbLogger


def logs_this_step(trainer: Trainer) -> bool:
    """Whether Lightning sends this training step's `self.log` values to the loggers: every
    `log_every_n_steps` steps, never when it is 0. Values logged on other steps are dropped, so
    logging only on these steps saves the cost of `self.log` and changes nothing logged.
    (test_training_loss_is_logged_every_log_every_n_steps)"""
    return trainer._logger_connector.should_update_logs


# The hooks Lightning calls on every callback at every batch.
STEP_HOOKS = tuple(
    f"on_{stage}_batch_{moment}"
    for stage in ("train", "validation", "test", "predict")
    for moment in ("start", "end")
) + ("on_before_backward", "on_after_backward", "on_before_optimizer_step", "on_before_zero_grad")


def skip_unused_step_hooks(callback: Callback) -> None:
    """Spare Lightning the calls of the per-batch hooks that `callback` does not implement.

    Lightning calls every per-batch hook of every callback (`_call_callback_hooks`), each
    wrapped in the profiler and named by the callback's `state_key`: about ten Python calls per
    callback and hook, six hooks per training step, even for the inherited no-ops. It skips a
    hook that is not callable, so the inherited no-ops are set to None on the instance; the
    callback's own hooks are untouched. (test_unused_step_hooks_are_skipped_and_used_ones_run)"""
    for name in STEP_HOOKS:
        if getattr(type(callback), name) is getattr(Callback, name):
            setattr(callback, name, None)


def saves_at_train_epoch_end(checkpoint: ModelCheckpoint, trainer: Trainer) -> bool:
    """Whether the checkpoint callback saves at the end of the training epoch (else after
    validation), as Lightning decides it."""
    return checkpoint._should_save_on_train_epoch_end(trainer)


def saves_every_n_train_steps(checkpoint: ModelCheckpoint, trainer: Trainer) -> bool:
    """Whether this training step is one of the checkpoint's `every_n_train_steps`."""
    every = checkpoint._every_n_train_steps
    return every > 0 and trainer.global_step % every == 0


def storage_client(url: str) -> Any:
    """LitData's client of the bucket in `url` (s3://, gs://, r2://), which uploads and downloads
    single files; LitData is imported here, when a bucket is used."""
    from litdata.streaming.fs_provider import _get_fs_provider

    return _get_fs_provider(url)


def write_last_checkpoint(
    checkpoint: ModelCheckpoint, trainer: Trainer, unless_saved_at_this_step: bool = False
) -> None:
    """Write the `last` checkpoint now, the way Lightning writes it (same file, same contents).

    Since 2.6, Lightning writes `last` only at steps where it also writes a best checkpoint,
    and not at all when a run is interrupted. (test_last_checkpoint_follows_training_when_the_
    metric_stops_improving, test_an_interrupted_run_saves_its_place_...)"""
    if unless_saved_at_this_step and (
        checkpoint._should_skip_saving_checkpoint(trainer)
        or checkpoint._last_global_step_saved == trainer.global_step
    ):
        return
    checkpoint._save_last_checkpoint(trainer, checkpoint._monitor_candidates(trainer))


def dump_config_once(cli: LightningCLI, config: Namespace) -> str:
    """`config` (the subcommand's) as YAML, and the same dump given to LightningCLI for the model's
    and data's hyperparameters, which it would otherwise dump again (`_dump_config` caches its
    dump in `config_dump`): each dump checks the whole config, a quarter of a second."""
    text = cli._parser(cli.subcommand).dump(config, skip_link_targets=False, skip_none=False)
    cli.config_dump = yaml.safe_load(text)
    return text


def wandb_started(logger: WandbLogger) -> bool:
    """Whether the W&B logger has started its run (reading `logger.experiment` would start one)."""
    return logger._experiment is not None


def leave_out_wandb_anonymous(logger: WandbLogger) -> None:
    """Lightning passes `anonymous=None` to `wandb.init` even when nothing set it, and W&B 0.19+
    then warns that the setting "has no effect": leave it out unless it was set."""
    if logger._wandb_init.get("anonymous") is None:
        logger._wandb_init.pop("anonymous", None)
