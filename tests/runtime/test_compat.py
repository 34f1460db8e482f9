"""The private members of other libraries that `litproject/compat.py` uses are still there: a
release that renames one fails here, by name, rather than somewhere in a run. What each is for is
tested by the behaviour tests its docstring names."""

import inspect

import lightning
import optuna
import pytest
import wandb
from lightning.pytorch import Trainer
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.demos.boring_classes import BoringModel
from lightning.pytorch.loggers import WandbLogger

from litproject import compat
from litproject.callbacks import Checkpoint

CHANGED = f"Lightning {lightning.__version__} changed it: see litproject/compat.py"


def test_the_checkpoint_members_are_there(tmp_path):
    checkpoint = Checkpoint(dirpath=tmp_path)
    trainer = Trainer(logger=False, callbacks=[checkpoint], enable_progress_bar=False)
    for name in (
        "_should_save_on_train_epoch_end",
        "_should_skip_saving_checkpoint",
        "_save_last_checkpoint",
        "_monitor_candidates",
    ):
        assert callable(getattr(checkpoint, name, None)), f"ModelCheckpoint.{name}: {CHANGED}"
    for name in ("_last_global_step_saved", "_every_n_train_steps"):
        assert hasattr(checkpoint, name), f"ModelCheckpoint.{name}: {CHANGED}"
    assert isinstance(trainer._logger_connector.should_update_logs, bool), f"should_update_logs: {CHANGED}"


def test_the_cli_members_are_there():
    assert callable(getattr(LightningCLI, "_parser", None)), f"LightningCLI._parser: {CHANGED}"
    # Its dump for the hyperparameters is cached in `config_dump`: one given before is used.
    source = inspect.getsource(LightningCLI._dump_config)
    assert 'hasattr(self, "config_dump")' in source, f"LightningCLI._dump_config: {CHANGED}"


def test_the_wandb_logger_members_are_there(tmp_path, monkeypatch: pytest.MonkeyPatch):
    logger = WandbLogger(save_dir=str(tmp_path), offline=True)
    assert not compat.wandb_started(logger)  # and reading it did not start a run
    assert logger._wandb_init.get("anonymous", "missing") is None, f"WandbLogger._wandb_init: {CHANGED}"
    compat.leave_out_wandb_anonymous(logger)
    assert "anonymous" not in logger._wandb_init


def test_unused_step_hooks_are_skipped_and_used_ones_run():
    """Lightning still skips a hook that is not callable, and a callback's own hooks still run."""
    source = inspect.getsource(lightning.pytorch.trainer.call._call_callback_hooks)
    assert "if callable(fn):" in source, f"_call_callback_hooks: {CHANGED}"

    class CountsBatches(lightning.pytorch.Callback):
        batches = 0

        def on_train_batch_end(self, *args) -> None:
            self.batches += 1

    counter = CountsBatches()
    compat.skip_unused_step_hooks(counter)
    assert counter.on_train_batch_start is None and counter.on_before_backward is None
    trainer = Trainer(
        max_steps=3, logger=False, callbacks=[counter], enable_checkpointing=False, enable_progress_bar=False
    )
    trainer.fit(BoringModel())
    assert counter.batches == 3


def test_the_wandb_launch_module_is_there():
    """Loaded early by `load_wandb_launch_early`, where each W&B run loads it from
    (`Run._apply_launch_inputs` or the like): W&B still has it there."""
    compat.load_wandb_launch_early()
    run_source = inspect.getsource(wandb.sdk.wandb_run)
    assert "from wandb.sdk.launch.inputs.internal import" in run_source, (
        f"wandb {wandb.__version__} loads its Launch inputs from elsewhere: see litproject/compat.py"
    )


def test_the_litdata_members_are_there():
    from litdata import StreamingDataLoader
    from litdata.streaming import fs_provider

    assert callable(getattr(fs_provider, "_get_fs_provider", None)), (
        "litdata's _get_fs_provider: see compat.py"
    )
    assert "self.restore" in inspect.getsource(StreamingDataLoader), (
        "litdata's StreamingDataLoader.restore: see litproject/compat.py"
    )


def test_the_optuna_heartbeat_table_is_there(tmp_path):
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path}/study.db")
    study = optuna.create_study(storage=storage)
    trial = study.ask()
    trial_id = storage.get_trial_id_from_study_id_trial_number(
        storage.get_study_id_from_name(study.study_name), 0
    )
    assert compat.heartbeat_age(storage, trial_id) is None  # none recorded yet
    storage.record_heartbeat(trial_id)
    age = compat.heartbeat_age(storage, trial_id)
    assert age is not None and 0 <= age < 60, f"optuna {optuna.__version__}: trial_heartbeats"
    study.tell(trial, 1.0)


def test_the_optuna_trial_keys_are_there():
    """A retried trial names the trial it retries, a grid trial its point, under the keys compat reads."""
    study = optuna.create_study(sampler=optuna.samplers.GridSampler({"x": [1, 2]}))
    trial = study.ask()
    trial.suggest_categorical("x", [1, 2])
    study.tell(trial, state=optuna.trial.TrialState.FAIL)
    failed = study.get_trials()[0]
    assert compat.grid_point(failed) in (0, 1), f"optuna {optuna.__version__}: GridSampler's {compat.GRID_ID}"
    callback = optuna.storages.RetryHeartbeatStaleTrialCallback  # what litproject sweep uses
    with pytest.warns(optuna.exceptions.ExperimentalWarning):
        callback()(study, failed)
    (retry,) = [t for t in study.get_trials() if t.number == 1]
    assert compat.retry_history(retry) == [0], f"optuna {optuna.__version__}: {compat.RETRY_HISTORY}"
