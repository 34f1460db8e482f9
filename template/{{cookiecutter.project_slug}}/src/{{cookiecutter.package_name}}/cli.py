"""The command line: Lightning's own LightningCLI, plus the few defaults this project adds.

`python train.py fit|validate|test|predict` parses the YAML configs and flags into a
Trainer, a task (model) and a datamodule, then runs the subcommand. Everything else lives
in `configs/`.
"""

import importlib
import inspect
import sys
from pathlib import Path

from jsonargparse import Namespace
from lightning.pytorch import Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import ArgsType, LightningArgumentParser, LightningCLI
from lightning.pytorch.loggers import WandbLogger

from .data.mnist import MissingDataError
from .tasks import IncompatibleDataError, Task
from .tracking import SaveRunConfig, resolve_wandb_mode

RUNS_DIR = Path("runs")

# Sizes the data determines. Where the task or its network has a constructor argument of one
# of these names, the command line sets it from the datamodule's attribute of the same name.
DATA_SIZES = ("num_classes", "in_channels", "in_features", "out_features")


def import_class(class_path: str) -> type:
    module, _, name = class_path.rpartition(".")
    return getattr(importlib.import_module(module), name)


class CLI(LightningCLI):
    """LightningCLI with sizes passed from data to model, a checkpoint callback that every run
    has, and a folder per experiment.

    An experiment's folder is `runs/<name of its config file>` (`runs/digits_cnn` by
    default): its checkpoints (`best.ckpt`, `last.ckpt`) and configs stay there across runs,
    so `--ckpt_path last` finds the last one.
    """

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")

    def before_instantiate_classes(self) -> None:
        config = self.config[self.subcommand] if self.subcommand else self.config
        if config.trainer.default_root_dir is None:
            config_files = [*config.get("__default_config__", []), *(config.get("config") or [])]
            experiment = Path(str(config_files[-1])).stem if config_files else "default"
            config.trainer.default_root_dir = str(RUNS_DIR / experiment)
        if config.checkpoint.dirpath is None:
            config.checkpoint.dirpath = str(Path(config.trainer.default_root_dir, "checkpoints"))
        resolve_wandb_mode()  # before the logger exists, so W&B never asks for a login
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
        if isinstance(self.model, Task):
            self.model.check_data(self.datamodule)  # before anything runs, prints or is logged
        return super().instantiate_trainer(**kwargs)

    def after_fit(self) -> None:
        if not self.trainer.is_global_zero:  # under DDP, one process reports
            return
        checkpoint = self.trainer.checkpoint_callback
        for kind, path in (("Best", checkpoint.best_model_path), ("Last", checkpoint.last_model_path)):
            if path:
                print(f"{kind} checkpoint: {path}")
        if isinstance(self.trainer.logger, WandbLogger):
            run = self.trainer.logger.experiment
            if run.settings.mode == "offline":
                run_dir = Path(run.dir).parent
                print(f"W&B run saved offline in {run_dir}; upload it with: wandb sync {run_dir}")


def main(args: ArgsType = None, default_config_files: list[Path] | None = None, run: bool = True) -> CLI:
    """Run the command line; `default_config_files` are read before any `--config`.

    With `run=False` there is no subcommand: the CLI only builds the trainer, model and data.
    """
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
    except (IncompatibleDataError, MissingDataError) as error:  # the user's choice, not a bug: no traceback
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
