"""Every private or internal member of another library that litproject relies on, in one place.

Lightning (2.6), LitData (0.2), W&B (0.31) and Optuna (5) have no public name for these. Each
use goes through this module, so that a release that moves one breaks here, in one place:
`tests/runtime/test_compat.py` fails with the member's name, and the behaviour tests named in
each docstring fail with what it was for. Nothing else in litproject, and nothing in a generated
project, reaches a private member or writes an attribute onto another library's object.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:  # imported by the functions that need them: `load_wandb_launch_early` runs first
    from jsonargparse import Namespace
    from lightning.pytorch import Callback, Trainer
    from lightning.pytorch.callbacks import ModelCheckpoint
    from lightning.pytorch.cli import LightningCLI
    from lightning.pytorch.loggers import WandbLogger


# Lightning ---------------------------------------------------------------------------------------


def logs_this_step(trainer: Trainer) -> bool:
    """Whether Lightning sends this training step's `self.log` values to the loggers: every
    `log_every_n_steps` steps, never when it is 0. (test_a_nan_loss_stops_the_run_...)"""
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
    from lightning.pytorch import Callback as Base

    for name in STEP_HOOKS:
        if getattr(type(callback), name) is getattr(Base, name):
            setattr(callback, name, None)


def saves_at_train_epoch_end(checkpoint: ModelCheckpoint, trainer: Trainer) -> bool:
    """Whether the checkpoint callback saves at the end of the training epoch (else after
    validation), as Lightning decides it."""
    return checkpoint._should_save_on_train_epoch_end(trainer)


def saves_every_n_train_steps(checkpoint: ModelCheckpoint, trainer: Trainer) -> bool:
    """Whether this training step is one of the checkpoint's `every_n_train_steps`."""
    every = checkpoint._every_n_train_steps
    return every > 0 and trainer.global_step % every == 0


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


# W&B ---------------------------------------------------------------------------------------------


def load_wandb_launch_early() -> None:
    """Import W&B's Launch client now, before torch and Lightning are loaded.

    W&B loads it at the start of every run, to apply job inputs that may have been staged in the
    process. Its pydantic models look up their own source through `inspect.getmodule`, which
    scans every loaded module: far less costly with few modules loaded than once torch and
    Lightning are (docs/performance.md). Loaded first, W&B does exactly what it did, sooner."""
    with contextlib.suppress(ImportError):  # a W&B release without it has nothing to load early
        import wandb.sdk.launch.inputs.internal  # noqa: F401


# LitData -----------------------------------------------------------------------------------------


def storage_client(url: str) -> Any:
    """LitData's client of the bucket in `url` (s3://, gs://, r2://), which uploads and downloads
    single files; LitData is imported here, when a bucket is used."""
    from litdata.streaming.fs_provider import _get_fs_provider

    return _get_fs_provider(url)


def resumable_loader(*args: Any, **kwargs: Any) -> Any:
    """LitData's `StreamingDataLoader`, whose position Lightning saves in checkpoints and restores.

    After a restore, LitData serves the rest of the interrupted epoch, but keeps its `restore`
    flag until an epoch is read to its very end, which Lightning never does (it stops after the
    epoch's last batch): the next epoch would replay the resumed one. So the flag is cleared
    when the epoch after the resumed one begins (LitData 0.2.76).
    (test_a_run_resumed_in_the_middle_of_an_epoch_sees_what_an_unbroken_run_sees)"""
    from litdata import StreamingDataLoader

    class ResumableLoader(StreamingDataLoader):
        def __iter__(self) -> Iterator:
            if getattr(self, "_served_restored_epoch", False):
                self.restore = False
            self._served_restored_epoch = self.restore
            return super().__iter__()

    return ResumableLoader(*args, **kwargs)


# Optuna ------------------------------------------------------------------------------------------

# Keys Optuna itself writes into a trial's system attributes.
RETRY_HISTORY = "retry_history"  # RetryFailedTrialCallback: the numbers of the trials this one retries
GRID_ID = "grid_id"  # GridSampler: which point of the grid the trial runs


def retry_history(trial: Any) -> list[int]:
    """The numbers of the trials that `trial` runs again, first the original (Optuna's retry
    callbacks); empty for a trial of its own. (test_an_interrupted_sweep_resumes_without_running_...)"""
    return list(trial.system_attrs.get(RETRY_HISTORY, []))


def grid_point(trial: Any) -> int | None:
    """The grid point an Optuna grid trial runs. (test_two_workers_on_one_study_run_the_grid_once_...)"""
    return trial.system_attrs.get(GRID_ID)


def heartbeat_age(storage: Any, trial_id: int) -> float | None:
    """Seconds since the worker of trial `trial_id` last recorded its heartbeat in an Optuna
    `RDBStorage`, by the database's clock, as Optuna's own staleness check reads it; None when it
    recorded none. (test_a_sweep_waits_for_a_trial_running_elsewhere_...)"""
    import sqlalchemy
    from optuna.storages._rdb.models import TrialHeartbeatModel

    with sqlalchemy.orm.Session(storage.engine) as session:
        row = TrialHeartbeatModel.where_trial_id(trial_id, session)
        if row is None:
            return None
        now = session.execute(sqlalchemy.func.now()).scalar()
        return (now.replace(tzinfo=None) - row.heartbeat.replace(tzinfo=None)).total_seconds()
