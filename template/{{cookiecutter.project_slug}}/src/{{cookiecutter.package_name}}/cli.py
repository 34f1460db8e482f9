"""The command line: Lightning's own LightningCLI, plus the few defaults this project adds.

`python train.py fit|validate|test|predict` parses the YAML configs and flags into a
Trainer, a task (model) and a datamodule, then runs the subcommand. Everything else lives
in `configs/`.
"""

import importlib
import inspect
import os
import signal
import sys
import time
from datetime import datetime
from pathlib import Path

import yaml
from jsonargparse import Namespace
from lightning.pytorch import Callback, Trainer
from lightning.pytorch.cli import ArgsType, LightningArgumentParser, LightningCLI
from lightning.pytorch.utilities.exceptions import SIGTERMException

from .callbacks import Checkpoint, CheckpointError
from .callbacks.checkpoint import check_fits, read_checkpoint
from .errors import UserError
from .history import TEST_METRICS_FILE, append_row
from .runs import (
    RUNS_DIR,
    RunError,
    RunLock,
    check_name,
    checkpoints_of,
    claim,
    experiment_name,
    in_use,
    is_experiment_config,
    is_run,
    launched_as_rank_zero,
    record,
    release,
    run_info,
    runs_in,
    start,
)
from .tasks import IncompatibleDataError, Task
from .tracking import (
    SaveRunConfig,
    configure_loggers,
    continue_wandb_run,
    resolve_wandb_mode,
    shown,
    wandb_run_location,
)

# Sizes the data determines. Where the task or its network has a constructor argument of one
# of these names, the command line sets it from the datamodule's attribute of the same name.
DATA_SIZES = ("num_classes", "in_channels", "in_features", "out_features")

# How the process that starts a run tells the processes Lightning starts for DDP where the run is.
RUN_FOLDER_VARIABLE = f"{__package__.upper()}_RUN_FOLDER"
TRAINING_ELSEWHERE = "is training in another process; wait for it to end."


def import_class(class_path: str) -> type:
    module, _, name = class_path.rpartition(".")
    return getattr(importlib.import_module(module), name)


class RunFolderError(UserError):
    """The run's folder cannot be written."""


def wandb_sweep_run_id() -> str | None:
    """In a trial that a W&B sweep agent started, the trial's W&B run id (the agent sets both
    variables): the trial's run folder is named after it, so that a trial W&B runs again after a
    preemption (same id) continues its own folder with `--ckpt_path last`."""
    return os.environ.get("WANDB_RUN_ID") if os.environ.get("WANDB_SWEEP_ID") else None


def say(message: str) -> None:
    """Print a line for the user, once per run (not from every DDP process)."""
    if launched_as_rank_zero():
        print(message)


def check_writable(folder: str | Path) -> None:
    """Fail now, not after the first epoch, if the run cannot write into `folder` (which is made
    later, only once the run starts)."""
    path = Path(folder).absolute()
    existing = next(parent for parent in (path, *path.parents) if parent.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        problem = "is not a folder" if not existing.is_dir() else "is not writable"
        raise RunFolderError(
            f"cannot write to {folder}: {existing} {problem}. Run from a folder you can write to, "
            "or set --trainer.default_root_dir (and --checkpoint.dirpath)."
        )


class CLI(LightningCLI):
    """LightningCLI with a folder per run, sizes passed from data to model, a checkpoint callback
    that every run has, and checkpoints checked before they are used.

    Each `fit` writes into a new folder, `runs/<experiment>/<run>/` (see `runs.py`), named after
    its start time or `--run_name`; the experiment is named after its config file or
    `--experiment`. `--ckpt_path last` (or `best`) takes that checkpoint of the newest run that
    has one; a subcommand started from a checkpoint writes into that checkpoint's run folder and
    continues the W&B run that wrote it.
    """

    checkpoint: dict | None = None  # the one `--ckpt_path` names, opened without its tensors
    run_name: str | None = None  # --run_name, or the W&B run id of a W&B sweep's trial
    run_folder: Path | None = None  # this run's folder, once known
    claimed = False  # whether this process made `run_folder` (and removes it if nothing starts)
    lock: RunLock | None = None

    def __init__(self, *args, **kwargs) -> None:
        variable = os.environ.get(RUN_FOLDER_VARIABLE)
        try:
            super().__init__(*args, **kwargs)
        except BaseException:
            if self.claimed:
                release(self.run_folder)
            raise
        finally:
            if self.lock is not None:
                self.lock.release()
            if launched_as_rank_zero():  # as it was, for a later run in this process
                os.environ.pop(RUN_FOLDER_VARIABLE, None)
                if variable is not None:
                    os.environ[RUN_FOLDER_VARIABLE] = variable

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_lightning_class_args(Checkpoint, "checkpoint")
        parser.add_argument(
            "--experiment",
            type=str | None,
            help="The experiment's folder in runs/ (default: the name of the experiment's config file).",
        )
        parser.add_argument(
            "--run_name",
            type=str | None,
            help="The run's folder in runs/<experiment>/ (default: its start time, YYYYmmdd-HHMMSS).",
        )

    def _parse_ckpt_path(self) -> None:
        # Lightning's step that takes the model's hyperparameters from the `--ckpt_path` file.
        # First find the run, turn `last` / `best` into a file, and open it with one clear error
        # if it is missing or damaged: before anything is built or written.
        subcommand = self.config.get("subcommand")
        self.locate_run(self.config[subcommand] if subcommand else self.config, subcommand)
        super()._parse_ckpt_path()

    def locate_run(self, config: Namespace, subcommand: str | None) -> None:
        """Name the experiment, check the run's name, and find the run this one continues: the
        one `--ckpt_path` names, or for a further DDP process the launching process's."""
        if config.experiment:
            check_name("--experiment", config.experiment)
        else:
            defaults = config.get("__default_config__") or []  # one path, or a list of several
            defaults = defaults if isinstance(defaults, list) else [defaults]
            config_files = [*defaults, *(config.get("config") or [])]
            config.experiment = experiment_name([str(path) for path in config_files])
        self.run_name = config.run_name or wandb_sweep_run_id()
        if self.run_name:
            check_name("--run_name", self.run_name)
        experiment = RUNS_DIR / config.experiment
        given = self.given_run_folder(config, experiment)
        if subcommand == "fit" and self.run_name and not config.get("ckpt_path") and given.exists():
            raise RunError(
                f"--run_name {self.run_name}: {shown(given)} exists. Continue that run with "
                "--ckpt_path last, or give a new name."
            )
        self.run_folder = given
        if config.get("ckpt_path"):
            path = self.find_checkpoint(config, subcommand, experiment, given)
            config.ckpt_path = str(path) if path else None
            if path:
                self.checkpoint = read_checkpoint(path)

    def given_run_folder(self, config: Namespace, experiment: Path) -> Path | None:
        """The run folder set before any search: `--trainer.default_root_dir`, the launching
        process's folder (in a further DDP process), or the run's name."""
        if config.trainer.default_root_dir:
            return Path(config.trainer.default_root_dir)
        if not launched_as_rank_zero() and os.environ.get(RUN_FOLDER_VARIABLE):
            return Path(os.environ[RUN_FOLDER_VARIABLE])
        return experiment / self.run_name if self.run_name else None

    def find_checkpoint(
        self, config: Namespace, subcommand: str | None, experiment: Path, given: Path | None
    ) -> Path | None:
        """The file `--ckpt_path` names, and the run it belongs to (`run_folder`).

        `last` / `best` are that checkpoint of the given run, else of the newest run of the
        experiment that has one; `fit` passes over a run that another process trains. Without a
        `last` checkpoint, `fit` trains from the start (a cluster job that resumes itself relies
        on that). A file in a run's folder belongs to that run.
        """
        kind = config.ckpt_path
        if kind not in ("last", "best"):
            path = Path(kind)
            if not path.is_file():
                raise CheckpointError(
                    f"--ckpt_path {kind}: no such file. Give a .ckpt file, or last or best."
                )
            run = path.parent.parent if path.parent.name == "checkpoints" else path.parent
            self.run_folder = given or (run if is_run(run) else None)
            if subcommand == "fit" and self.run_folder and self.trained_elsewhere(self.run_folder):
                raise RunError(f"--ckpt_path {kind}: {shown(self.run_folder)} {TRAINING_ELSEWHERE}")
            return path

        dirpath = Path(config.checkpoint.dirpath) if config.checkpoint.dirpath else None
        # With --checkpoint.dirpath and no given run, every run keeps its checkpoints in that one folder.
        runs = [given] if given else [None] if dirpath else runs_in(experiment)
        passed_over = []
        for run in runs:
            found = checkpoints_of(run, kind, dirpath)
            if not found:
                passed_over.append(
                    f"{shown(run)} has no {kind} checkpoint yet (in its first epoch, or stopped before)"
                )
            elif subcommand == "fit" and run is not None and self.trained_elsewhere(run):
                if given:
                    raise RunError(f"--ckpt_path {kind}: {shown(run)} {TRAINING_ELSEWHERE}")
                passed_over.append(f"{shown(run)} is training in another process")
            else:
                self.run_folder = given or run
                note = f" ({'; '.join(passed_over)}: took the newest run that has one)" if passed_over else ""
                say(f"--ckpt_path {kind}: {shown(found[0])}{note}")
                return found[0]
        where = shown(dirpath or given or experiment)
        if subcommand == "fit" and kind == "last":
            why = f" ({'; '.join(passed_over)})" if passed_over else ""
            say(f"--ckpt_path last: no checkpoint to resume in {where}{why}: training from the start.")
            return None
        raise CheckpointError(
            f"--ckpt_path {kind}: there is no {kind} checkpoint in {where}. Train the experiment "
            "first (python train.py fit --config ...), or give a checkpoint file."
        )

    @staticmethod
    def trained_elsewhere(run: Path) -> bool:
        # A further DDP process belongs to the run that its launching process holds.
        return launched_as_rank_zero() and run.is_dir() and in_use(run)

    def before_instantiate_classes(self) -> None:
        config = self.config[self.subcommand] if self.subcommand else self.config
        self.fill_sizes_from_data(config)
        # The config a run saves is what was asked for, with the sizes and experiment filled in;
        # its folder and its W&B run belong to this run only, not to a rerun of its config.
        to_save = config.clone()
        for where in ("run_name", "ckpt_path"):  # a rerun is a new run, from the start
            if where in to_save:
                to_save[where] = None
        self.save_config_kwargs = {**self.save_config_kwargs, "config_to_save": to_save}
        folder = self.settle_run_folder(config)
        config.trainer.default_root_dir = str(folder)
        config.checkpoint.dirpath = config.checkpoint.dirpath or str(folder / "checkpoints")
        check_writable(config.checkpoint.dirpath)
        if self.checkpoint is not None:
            continue_wandb_run(config.trainer.logger, self.checkpoint.get("wandb_run_id"))
        # The W&B mode is decided before the logger exists, so W&B never asks for a login.
        run_name = f"{config.experiment}/{folder.name}"
        configure_loggers(config.trainer.logger, str(folder), resolve_wandb_mode(), run_name)

    def settle_run_folder(self, config: Namespace) -> Path:
        """This run's folder: the one found, or a new one made (and claimed) now.

        Only the launching process makes and locks it. Lightning's DDP processes learn it from
        RUN_FOLDER_VARIABLE; those of other launchers (torchrun, SLURM) never write where their
        own guess points, as Lightning takes every shared path from rank zero (checkpoints,
        logs) and the prediction writer does too.
        """
        experiment = RUNS_DIR / config.experiment
        if not (launched_as_rank_zero() and self.subcommand):
            # A further DDP process, or a CLI that only builds (run=False): the folder is not made
            # here; Lightning makes what it writes into.
            return self.run_folder or experiment / time.strftime("%Y%m%d-%H%M%S")
        check_writable(self.run_folder or experiment)
        if self.run_folder is None:
            self.run_folder = claim(experiment, self.run_name)
            self.claimed = True
        elif self.run_folder == experiment / str(self.run_name) and not self.run_folder.exists():
            # a named run with `--ckpt_path last`, the first time
            self.run_folder = claim(experiment, self.run_name)
            self.claimed = True
        elif not is_run(self.run_folder):  # --trainer.default_root_dir
            self.claimed = not self.run_folder.exists()
            self.run_folder.mkdir(parents=True, exist_ok=True)
            start(self.run_folder, config.experiment)
        if self.subcommand == "fit":
            self.lock = RunLock(self.run_folder)
            if not self.lock.acquire():
                raise RunError(f"{shown(self.run_folder)} {TRAINING_ELSEWHERE}")
            if config.ckpt_path:  # what the saved config leaves out: this fit continued a checkpoint
                resumed = run_info(self.run_folder).get("resumed_from", [])
                record(self.run_folder, resumed_from=[*resumed, str(shown(config.ckpt_path))])
        os.environ[RUN_FOLDER_VARIABLE] = str(self.run_folder.absolute())
        return self.run_folder

    @staticmethod
    def fill_sizes_from_data(config: Namespace) -> None:
        """Set the task's and network's `DATA_SIZES` arguments from the datamodule.

        A datamodule knows its sizes from its own arguments (it loads nothing when built), so
        `TwoLayerNet` gets `in_features=784` on MNIST and 1000 on random vectors without editing a
        config, and the resolved config that is saved records the sizes actually used.
        """
        if not (config.get("data") and config.get("model")):
            return
        data = import_class(config.data.class_path)(**config.data.init_args.as_dict())
        targets = [config.model]
        if isinstance(config.model.init_args.get("net"), Namespace):
            targets.append(config.model.init_args.net)
        for target in targets:
            accepted = inspect.signature(import_class(target.class_path)).parameters
            for name in DATA_SIZES:
                if name in accepted and hasattr(data, name):
                    target.init_args[name] = getattr(data, name)

    def instantiate_trainer(self, **kwargs) -> Trainer:
        # Before anything runs, prints or is logged:
        if isinstance(self.model, Task):
            try:
                self.model.check_data(self.datamodule)
            except IncompatibleDataError:
                if self.checkpoint is None:
                    raise
                raise CheckpointError(
                    f"--ckpt_path {self.ckpt_path} holds a {type(self.model).__name__} with "
                    f"{type(self.model.net).__name__}, which does not fit {type(self.datamodule).__name__}. "
                    "Give the config it was trained with: --config configs/<experiment>.yaml"
                ) from None
        if self.checkpoint is not None:
            check_fits(self.model, self.checkpoint, self.ckpt_path)
        return super().instantiate_trainer(**kwargs)

    @property
    def ckpt_path(self) -> str | None:
        return self.config[self.subcommand].ckpt_path if self.subcommand else None

    def after_fit(self) -> None:
        checkpoint = self.trainer.checkpoint_callback
        self.report_run(
            {"Best checkpoint": checkpoint.best_model_path, "Last checkpoint": checkpoint.last_model_path}
        )

    def report_run(self, files: dict[str, str] | None = None) -> None:
        """End every subcommand by saying where its files went: run folder, checkpoints, config,
        W&B run."""
        if not self.trainer.is_global_zero:  # under DDP, one process reports
            return
        saved_config = next((c.path for c in self.trainer.callbacks if isinstance(c, SaveRunConfig)), None)
        reported = {"Run": self.trainer.default_root_dir, **(files or {}), "Config": saved_config}
        for label, path in reported.items():
            if path:
                print(f"{label}: {shown(path)}")
        location = wandb_run_location(self.trainer.logger)
        if location:
            print(location)

    def after_test(self) -> None:
        """Keep the test's metrics in the run's `test_metrics.csv` (a row per test), then report."""
        path = Path(self.trainer.default_root_dir, TEST_METRICS_FILE)
        if self.trainer.is_global_zero:
            metrics = {name: float(value) for name, value in self.trainer.callback_metrics.items()}
            tested = {
                "tested": datetime.now().isoformat(timespec="seconds"),
                "checkpoint": self.ckpt_path or "",
            }
            append_row(
                path,
                {**tested, **{name: value for name, value in metrics.items() if name.startswith("test/")}},
            )
        self.report_run({"Test metrics": path})

    after_validate = after_predict = report_run


def config_files_in(args: list[str]) -> list[str]:
    """The files given with `--config` / `-c` (jsonargparse reads them later)."""
    found = [value for flag, value in zip(args, args[1:], strict=False) if flag in ("--config", "-c")]
    return found + [arg.split("=", 1)[1] for arg in args if arg.startswith("--config=")]


def classes_given(args: list[str]) -> bool:
    """Whether the flags choose the model or the data class (`--model=RegressionTask`, `--data X`)."""
    return any(arg.split("=", 1)[0] in ("--model", "--data") for arg in args)


def check_yaml(path: str | Path) -> None:
    """One line naming the file and the place for a config that is not YAML (jsonargparse's
    message names neither)."""
    try:
        yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        print(f"error: {path} is not valid YAML{where}: {getattr(error, 'problem', error)}.", file=sys.stderr)
        sys.exit(2)
    except OSError:
        pass  # a missing file: jsonargparse says so


def main(
    args: ArgsType = None,
    base_configs: list[Path] | None = None,
    default_experiment: Path | None = None,
    run: bool = True,
    callbacks: list[Callback] | None = None,
) -> CLI:
    """Run the command line. `base_configs` are read before any `--config`; `default_experiment`
    only when no `--config` is given, so that nothing in it reaches another experiment.

    With `run=False` there is no subcommand: the CLI only builds the trainer, model and data.
    `callbacks` are added to the Trainer's whatever the configs say (a sweep adds its own).
    """
    given = sys.argv[1:] if args is None else args
    config_files = config_files_in(given) if isinstance(given, list) else []
    defaults = list(base_configs or [])
    if default_experiment and not config_files:
        defaults.append(default_experiment)
    for path in [*defaults, *config_files]:
        check_yaml(path)
    if config_files and not any(map(is_experiment_config, config_files)) and not classes_given(given):
        print(
            f"error: {', '.join(config_files)} sets neither model nor data: give an experiment config "
            f"first, e.g. --config configs/digits_cnn.yaml --config {config_files[-1]}",
            file=sys.stderr,
        )
        sys.exit(2)
    parser_kwargs = {"default_config_files": [str(path) for path in defaults]}
    # With subcommands, each subcommand's parser reads the default config files.
    if run:
        parser_kwargs = {sub: parser_kwargs for sub in ("fit", "validate", "test", "predict")}
    try:
        return CLI(
            save_config_callback=SaveRunConfig,
            save_config_kwargs={"save_to_log_dir": False},
            auto_configure_optimizers=False,  # tasks take their optimizer as an argument
            parser_kwargs=parser_kwargs,
            trainer_defaults={"callbacks": callbacks} if callbacks else None,
            args=args,
            run=run,
        )
    except UserError as error:  # the user's to fix (or a run that failed, as a NaN loss): no traceback
        print(f"error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
    except SIGTERMException:
        # Lightning ends a SIGTERM'd run with status 0, which schedulers read as "finished". The
        # shell's code for "killed by SIGTERM" says it was not, and the checkpoint is saved.
        sys.exit(128 + signal.SIGTERM)
