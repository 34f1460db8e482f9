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
from pathlib import Path

import yaml
from jsonargparse import Namespace
from lightning.pytorch import Trainer
from lightning.pytorch.cli import ArgsType, LightningArgumentParser, LightningCLI
from lightning.pytorch.utilities.exceptions import SIGTERMException

from .callbacks import Checkpoint, CheckpointError, NonFiniteLossError
from .callbacks.checkpoint import check_fits, find_checkpoint, read_checkpoint
from .data import DataError
from .tasks import IncompatibleDataError, Task
from .tracking import (
    SaveRunConfig,
    configure_loggers,
    continue_wandb_run,
    resolve_wandb_mode,
    shown,
    wandb_run_location,
)

RUNS_DIR = Path("runs")

# Sizes the data determines. Where the task or its network has a constructor argument of one
# of these names, the command line sets it from the datamodule's attribute of the same name.
DATA_SIZES = ("num_classes", "in_channels", "in_features", "out_features")


def import_class(class_path: str) -> type:
    module, _, name = class_path.rpartition(".")
    return getattr(importlib.import_module(module), name)


class RunFolderError(OSError):
    """The run's folder cannot be written."""


def set_run_folders(config: Namespace) -> None:
    """Unless set: the experiment folder `runs/<stem of the last config file>` and, in it,
    `checkpoints/`."""
    if config.trainer.default_root_dir is None:
        config_files = [*config.get("__default_config__", []), *(config.get("config") or [])]
        experiment = Path(str(config_files[-1])).stem if config_files else "default"
        config.trainer.default_root_dir = str(RUNS_DIR / experiment)
    if config.checkpoint.dirpath is None:
        config.checkpoint.dirpath = str(Path(config.trainer.default_root_dir, "checkpoints"))


def check_writable(folder: str) -> None:
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
    """LightningCLI with sizes passed from data to model, a checkpoint callback that every run
    has, a folder per experiment, and checkpoints checked before they are used.

    An experiment's folder is `runs/<name of its config file>` (`runs/digits_cnn` by
    default): its checkpoints (`best.ckpt`, `last.ckpt`) and configs stay there across runs,
    so `--ckpt_path last` (or `best`) finds the newest one. A run started from a checkpoint
    continues the W&B run that wrote it.
    """

    checkpoint: dict | None = None  # the one `--ckpt_path` names, opened without its tensors

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_lightning_class_args(Checkpoint, "checkpoint")

    def _parse_ckpt_path(self) -> None:
        # Lightning's step that takes the model's hyperparameters from the `--ckpt_path` file.
        # First turn `last` / `best` into that file, and open it with one clear error if it is
        # missing or damaged: before anything is built or written.
        if self.config.get("subcommand"):
            config = self.config[self.config.subcommand]
            set_run_folders(config)
            if config.get("ckpt_path"):
                self.open_checkpoint(config)
        super()._parse_ckpt_path()

    def open_checkpoint(self, config: Namespace) -> None:
        folder = Path(config.checkpoint.dirpath)
        path = find_checkpoint(config.ckpt_path, folder, required=self.config.subcommand != "fit")
        config.ckpt_path = str(path) if path else None
        if path:
            self.checkpoint = read_checkpoint(path)
            continue_wandb_run(config.trainer.logger, self.checkpoint.get("wandb_run_id"))

    def before_instantiate_classes(self) -> None:
        config = self.config[self.subcommand] if self.subcommand else self.config
        set_run_folders(config)
        if self.subcommand:  # a run that will write files
            for folder in (config.trainer.default_root_dir, config.checkpoint.dirpath):
                check_writable(folder)
        # The W&B mode is decided before the logger exists, so W&B never asks for a login.
        configure_loggers(config.trainer.logger, config.trainer.default_root_dir, resolve_wandb_mode())
        self.fill_sizes_from_data(config)

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
        """End every subcommand by saying where its files went: checkpoints, config, W&B run."""
        if not self.trainer.is_global_zero:  # under DDP, one process reports
            return
        saved_config = next((c.path for c in self.trainer.callbacks if isinstance(c, SaveRunConfig)), None)
        for label, path in {**(files or {}), "Config": saved_config}.items():
            if path:
                print(f"{label}: {shown(path)}")
        location = wandb_run_location(self.trainer.logger)
        if location:
            print(location)

    after_validate = after_test = after_predict = report_run


def config_files_in(args: list[str]) -> list[str]:
    """The files given with `--config` / `-c` (jsonargparse reads them later)."""
    found = [value for flag, value in zip(args, args[1:], strict=False) if flag in ("--config", "-c")]
    return found + [arg.split("=", 1)[1] for arg in args if arg.startswith("--config=")]


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


def main(args: ArgsType = None, default_config_files: list[Path] | None = None, run: bool = True) -> CLI:
    """Run the command line; `default_config_files` are read before any `--config`.

    With `run=False` there is no subcommand: the CLI only builds the trainer, model and data.
    """
    given = sys.argv[1:] if args is None else args
    for path in [*(default_config_files or []), *(config_files_in(given) if isinstance(given, list) else [])]:
        check_yaml(path)
    defaults = {"default_config_files": [str(path) for path in default_config_files or []]}
    # With subcommands, each subcommand's parser reads the default config files.
    parser_kwargs = {sub: defaults for sub in ("fit", "validate", "test", "predict")} if run else defaults
    try:
        return CLI(
            save_config_callback=SaveRunConfig,
            save_config_kwargs={"save_to_log_dir": False},
            auto_configure_optimizers=False,  # tasks take their optimizer as an argument
            parser_kwargs=parser_kwargs,
            args=args,
            run=run,
        )
    except (IncompatibleDataError, DataError, CheckpointError, RunFolderError) as error:  # the user's to fix
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except NonFiniteLossError as error:  # a run that failed, not a bug: no traceback either
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    except SIGTERMException:
        # Lightning ends a SIGTERM'd run with status 0, which schedulers read as "finished". The
        # shell's code for "killed by SIGTERM" says it was not, and the checkpoint is saved.
        sys.exit(128 + signal.SIGTERM)
