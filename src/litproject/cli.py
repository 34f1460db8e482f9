"""The command line of a project's `train.py`: Lightning's own LightningCLI, plus what litproject adds.

`python train.py fit|validate|test|predict|lr_find` parses the YAML configs and flags into a
Trainer, a task (model) and a datamodule, then runs the subcommand. Everything else lives in the
project's `configs/`.
"""

import inspect
import math
import os
import pkgutil
import signal
import sys
import warnings
from datetime import datetime
from pathlib import Path
from typing import NoReturn

import yaml
from jsonargparse import Namespace
from lightning.pytorch import Callback
from lightning.pytorch.callbacks import ProgressBar as AnyProgressBar
from lightning.pytorch.cli import ArgsType, LightningArgumentParser, LightningCLI
from lightning.pytorch.loggers import WandbLogger
from lightning.pytorch.utilities.exceptions import MisconfigurationException, SIGTERMException

from .callbacks import Checkpoint, EarlyStopping, LearningCurves, ProgressBar, TrainingLog
from .checkpoint_files import check_fits, read_checkpoint
from .compat import dump_config_once, leave_out_wandb_anonymous, skip_unused_step_hooks
from .contract import IncompatibleDataError, PairingCheck, check_kind, sizes
from .data import StreamingDataModule  # noqa: F401  (so that --data=StreamingDataModule resolves)
from .errors import CheckpointError, OptionError, UserError, one_line
from .history import TEST_METRICS_FILE, append_row
from .notices import leave_out_upstream_notices
from .runs import (
    RUN_FOLDER_VARIABLE,
    RunFolder,
    check_writable,
    experiment_name,
    is_experiment_config,
    launched_as_rank_zero,
    shown,
)
from .tracking import (
    SaveRunConfig,
    configure_loggers,
    continue_wandb_run,
    finish_wandb_run,
    resolve_wandb_mode,
    wandb_run_location,
)
from .trainer import NoProfiler, Trainer


class Parser(LightningArgumentParser):
    """LightningCLI's parser, whose refusals are one line: the option, its value, what it takes."""

    def error(self, message: str, ex: Exception | None = None) -> NoReturn:
        if not self.exit_on_error or os.environ.get("JSONARGPARSE_DEBUG"):  # a nested parse, or debugging
            super().error(message, ex)
        parser = getattr(ex, "subcommand_parser", None) or self
        print(
            f"error: {one_line(message)} (see {parser.prog.replace(' [options]', '')} --help)",
            file=sys.stderr,
        )
        sys.exit(2)


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
    run: RunFolder | None = None  # where this run writes (runs.py)

    def __init__(self, *args, **kwargs) -> None:
        variable = os.environ.get(RUN_FOLDER_VARIABLE)
        failed = True
        try:
            super().__init__(*args, **kwargs)
            failed = False
        finally:
            if self.run is not None:
                self.run.close(failed)
            if launched_as_rank_zero():  # as it was, for a later run in this process
                os.environ.pop(RUN_FOLDER_VARIABLE, None)
                if variable is not None:
                    os.environ[RUN_FOLDER_VARIABLE] = variable

    @staticmethod
    def subcommands() -> dict[str, set[str]]:
        # `lr_find`: the Trainer's learning-rate finder (trainer.py), on the config's model and data;
        # `serve`: a checkpoint's model over HTTP (serving/).
        return {
            **LightningCLI.subcommands(),
            "lr_find": {"model", "datamodule"},
            "serve": {"model", "datamodule"},
        }

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_lightning_class_args(Checkpoint, "checkpoint")
        # Off unless a config sets it (configs/recipes/early_stopping.yaml); apart from
        # trainer.callbacks so that it stacks on any experiment without replacing their list.
        parser.add_subclass_arguments(EarlyStopping, "early_stopping", required=False)
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

    def parse_arguments(self, parser: LightningArgumentParser, args: ArgsType) -> None:
        # Right after parsing, before Lightning takes the model's hyperparameters from the
        # `--ckpt_path` file: find the run, turn `last` / `best` into a file, and open it with one
        # clear error if it is missing or damaged, before anything is built or written.
        super().parse_arguments(parser, args)
        subcommand = self.config.get("subcommand")
        config = self.config[subcommand] if subcommand else self.config
        # Unnamed, or named after the experiment (the debug presets' "{experiment}-debug"):
        experiment = config.experiment or "{experiment}"
        if "{experiment}" in experiment:
            defaults = config.get("__default_config__") or []  # one path, or a list of several
            files = [*(defaults if isinstance(defaults, list) else [defaults]), *(config.get("config") or [])]
            config.experiment = experiment.replace("{experiment}", experiment_name([str(p) for p in files]))
        ckpt_path = config.get("ckpt_path")
        if subcommand == "serve" and not ckpt_path:
            raise CheckpointError("serve needs a checkpoint: --ckpt_path best (or last, or a .ckpt file).")
        self.run = RunFolder.locate(
            subcommand, config.experiment, config.run_name, config.trainer.default_root_dir, bool(ckpt_path)
        )
        if ckpt_path:
            path = self.run.find_checkpoint(ckpt_path, config.checkpoint.dirpath)
            config.ckpt_path = str(path) if path else None
            if path:
                self.checkpoint = read_checkpoint(path)

    def instantiate_classes(self) -> None:
        """Build the data, model and trainer; a value their constructors refuse (or the optimizer's,
        built once here to check) is the user's to fix, said in one line before anything runs."""
        try:
            super().instantiate_classes()
        except UserError:
            raise
        except (ValueError, MisconfigurationException, ModuleNotFoundError) as error:
            raise OptionError(one_line(str(error))) from None

    def before_instantiate_classes(self) -> None:
        config = self.config[self.subcommand] if self.subcommand else self.config
        self.fill_sizes_from_data(config)
        plain_numbers(config)
        # The config a run saves is what was asked for, with the sizes and experiment filled in;
        # its folder and its W&B run belong to this run only, not to a rerun of its config.
        to_save = config.clone()
        for where in ("run_name", "ckpt_path"):  # a rerun is a new run, from the start
            if where in to_save:
                to_save[where] = None
        text = dump_config_once(self, to_save)
        self.save_config_kwargs = {**self.save_config_kwargs, "text": text, "subcommand": self.subcommand}
        folder = self.run.settle(config.get("ckpt_path"))
        if self.checkpoint is not None and config.ckpt_path.startswith(str(folder)):
            # Resuming in the run's own folder: Lightning's warning that it is not empty is expected.
            warnings.filterwarnings("ignore", "Checkpoint directory .* exists and is not empty", UserWarning)
        config.trainer.default_root_dir = str(folder)
        config.checkpoint.dirpath = config.checkpoint.dirpath or str(folder / "checkpoints")
        check_writable(config.checkpoint.dirpath)
        if self.subcommand == "serve":  # a server adds nothing to the run it serves
            config.trainer.logger = False
        if self.checkpoint is not None:
            continue_wandb_run(config.trainer.logger, self.checkpoint.get("wandb_run_id"))
        # The W&B mode is decided before the logger exists, so W&B never asks for a login.
        run_name = f"{config.experiment}/{folder.name}"
        configure_loggers(config.trainer.logger, str(folder), resolve_wandb_mode(), run_name)

    def fill_sizes_from_data(self, config: Namespace) -> None:
        """Set the task's and network's size arguments from the datamodule (`contract.sizes`), and
        refuse a task for class labels on numeric targets or the other way round.

        A datamodule knows its sizes from its own arguments (it loads nothing when built), so
        `TwoLayerNet` gets `in_features=784` on MNIST and 1000 on random vectors without editing a
        config, and the resolved config that is saved records the sizes actually used.
        """
        if not (config.get("data") and config.get("model")):
            return
        data = pkgutil.resolve_name(config.data.class_path)(**config.data.init_args.as_dict())
        task_class = pkgutil.resolve_name(config.model.class_path)
        try:
            check_kind(task_class, data)
        except IncompatibleDataError as error:
            if self.checkpoint is None:
                raise
            raise CheckpointError(
                f"--ckpt_path {config.ckpt_path}: {error} Give the config it was trained with: "
                "--config configs/<experiment>.yaml"
            ) from None
        found = sizes(data)
        targets = [config.model]
        if isinstance(config.model.init_args.get("net"), Namespace):
            targets.append(config.model.init_args.net)
        for target in targets:
            accepted = inspect.signature(pkgutil.resolve_name(target.class_path)).parameters
            for name, size in found.items():
                if name in accepted:
                    target.init_args[name] = size

    def instantiate_trainer(self, **kwargs) -> Trainer:
        """The Trainer, once the options have passed the checks that need the built model and data.

        To the configured callbacks it adds the early stopping of `--early_stopping`, the training
        loss and learning rate (`callbacks.TrainingLog`), the check of model and data on a real
        batch (`contract.PairingCheck`) and, in place of Lightning's default progress bar, one
        updated at the pace an eye can follow (`callbacks.ProgressBar`; a bar the config lists is
        kept as it is). Without a profiler asked for it gives `NoProfiler`, and callbacks are not
        called for per-batch hooks they do not implement."""
        if self.checkpoint is not None:
            check_fits(self.model, self.checkpoint, self.ckpt_path)
        optimizer = getattr(self.model, "optimizer", None)  # a task's OptimizerCallable (see the docs)
        if callable(optimizer):
            try:
                optimizer(self.model.parameters())  # built again by Lightning, when fit starts
            except ValueError as error:
                raise OptionError(f"--model.optimizer: {error}") from None
        config = self.config_init[self.subcommand] if self.subcommand else self.config_init
        loggers = config.trainer.logger
        for logger in loggers if isinstance(loggers, list) else [loggers]:
            if isinstance(logger, WandbLogger):
                leave_out_wandb_anonymous(logger)
        self.check_overfit_batches(config.trainer.overfit_batches)
        listed = config.trainer.callbacks or []
        callbacks = [*(listed if isinstance(listed, list) else [listed]), TrainingLog(), PairingCheck()]
        if config.trainer.enable_progress_bar and not any(isinstance(c, AnyProgressBar) for c in callbacks):
            callbacks.append(ProgressBar())
        if config.get("early_stopping") is not None:  # before the checkpoint, which saves its state
            callbacks.append(config.early_stopping)
        if config.trainer.profiler is None:
            kwargs.setdefault("profiler", NoProfiler())
        trainer = super().instantiate_trainer(callbacks=callbacks, **kwargs)
        for callback in trainer.callbacks:
            skip_unused_step_hooks(callback)
        return trainer

    def check_overfit_batches(self, overfit: int | float) -> None:
        """`overfit_batches` must not ask for more batches than the data has (Lightning would
        quietly take them all)."""
        if not isinstance(overfit, int) or overfit <= 0 or not self.datamodule:
            return
        self.datamodule.setup("fit")
        available = len(self.datamodule.train_dataloader())
        if overfit > available:
            data = type(self.datamodule).__name__
            raise OptionError(
                f"--trainer.overfit_batches {overfit}: {data} has {available} training batch(es) of "
                f"{self.datamodule.batch_size}; ask for at most {available}, or a smaller --data.batch_size."
            )

    @property
    def ckpt_path(self) -> str | None:
        return self.config[self.subcommand].ckpt_path if self.subcommand else None

    def after_fit(self) -> None:
        checkpoint = self.trainer.checkpoint_callback
        self.report_run(
            {"Best checkpoint": checkpoint.best_model_path, "Last checkpoint": checkpoint.last_model_path}
        )
        if self.trainer.is_global_zero and checkpoint.best_model_score is not None:
            stops = [c.stopped for c in self.trainer.callbacks if isinstance(c, EarlyStopping) and c.stopped]
            for line in [*profile_summary(self.trainer), *stops, best_result(self.trainer)]:
                print(line)

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

    def after_lr_find(self) -> None:
        """The suggested rate, the line that uses it, and the finder's plot in the run's folder."""
        finder = self.trainer.lr_finder
        suggestion = finder.suggestion() if finder else None
        plot = Path(self.trainer.default_root_dir, "lr_find.png")
        if finder is not None and self.trainer.is_global_zero:
            finder.plot(suggest=suggestion is not None).savefig(plot, dpi=100)
        self.report_run({"Learning-rate plot": plot if plot.exists() else None})
        if suggestion is None:
            print("The finder found no rate to suggest: give more --num_training steps, or a lower --max_lr.")
        else:
            print(
                f"Suggested learning rate: {suggestion:.3g}; train with --model.optimizer.lr={suggestion:.3g}"
            )

    after_validate = after_predict = report_run


def profile_summary(trainer: Trainer, rows: int = 6) -> list[str]:
    """Where the profiler's report went, and its slowest lines (configs/debug/profile.yaml)."""
    name = getattr(trainer.profiler, "filename", None)
    reports = (
        sorted(Path(trainer.log_dir or trainer.default_root_dir).glob(f"fit-{name}*.txt")) if name else []
    )
    if not reports:
        return []
    table = []
    for line in reports[-1].read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 5 and cells[0] not in ("Action", "Total"):
            table.append(f"  {cells[3]:>9} s {cells[4]:>7} %  {cells[0]}")
    return [f"Profile: {shown(reports[-1])}; the slowest steps (total time, share):", *table[:rows]]


def best_result(trainer: Trainer) -> str:
    """The best value of the checkpoint's metric, and the epoch's other validation metrics."""
    checkpoint = trainer.checkpoint_callback
    best = float(checkpoint.best_model_score)
    history = next((c.history for c in trainer.callbacks if isinstance(c, LearningCurves)), [])
    row = next(
        (r for r in history if math.isclose(r.get(checkpoint.monitor, math.nan), best, rel_tol=1e-6)), None
    )
    if row is None:
        return f"Best {checkpoint.monitor}: {best:.4g}"
    others = [f"{name} {value:.4g}" for name, value in row.items() if name.startswith("val/")]
    others = [text for text in others if not text.startswith(f"{checkpoint.monitor} ")]
    return f"Best {checkpoint.monitor}: {best:.4g} at epoch {row['epoch']}" + (
        f" ({', '.join(others)})" if others else ""
    )


def plain_numbers(config: Namespace) -> None:
    """Make every number of the config a plain int or float.

    jsonargparse keeps a value parsed under a restricted type (`PositiveInt`) as an instance of
    that type, and carries it over when the command line switches to another class with an
    argument of the same name (`--data=MyData`, whose `batch_size: int` takes the default
    experiment's 64): such an instance cannot be written to YAML under the new class's type.
    """
    for key, value in config.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if type(value) not in (int, float):
            config[key] = int(value) if isinstance(value, int) else float(value)


def config_files_in(args: list[str]) -> list[str]:
    """The files given with `--config` / `-c` (jsonargparse reads them later)."""
    found = [value for flag, value in zip(args, args[1:], strict=False) if flag in ("--config", "-c")]
    return found + [arg.split("=", 1)[1] for arg in args if arg.startswith("--config=")]


def classes_given(args: list[str]) -> bool:
    """Whether the flags choose the model or the data class (`--model=RegressionTask`, `--data X`)."""
    return any(arg.split("=", 1)[0] in ("--model", "--data") for arg in args)


def check_yaml(path: str | Path) -> None:
    """One line naming the file, for a config that cannot be read or is not YAML (and the place
    of the mistake: jsonargparse's message names neither)."""
    try:
        yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        print(f"error: {path} is not valid YAML{where}: {getattr(error, 'problem', error)}.", file=sys.stderr)
        sys.exit(2)
    except OSError as error:
        print(
            f"error: --config {path}: {error.strerror or error}; give a config file, "
            "e.g. configs/<experiment>.yaml.",
            file=sys.stderr,
        )
        sys.exit(2)


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
    leave_out_upstream_notices()
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
        parser_kwargs = {sub: parser_kwargs for sub in CLI.subcommands()}
    try:
        with warnings.catch_warnings():
            # Sweeps and tests call main(args) from a process that has its own argv, by design.
            warnings.filterwarnings("ignore", "LightningCLI's args parameter is intended", UserWarning)
            cli = CLI(
                trainer_class=Trainer,
                parser_class=Parser,
                save_config_callback=SaveRunConfig,
                save_config_kwargs={"save_to_log_dir": False},
                auto_configure_optimizers=False,  # tasks take their optimizer as an argument
                parser_kwargs=parser_kwargs,
                trainer_defaults={"callbacks": callbacks} if callbacks else None,
                args=args,
                run=run,
            )
        if run:  # the W&B run ends with its command, quietly: the command said where it went
            finish_wandb_run()
        return cli
    except UserError as error:  # the user's to fix (or a run that failed, as a NaN loss): no traceback
        print(f"error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
    except SIGTERMException:
        # Lightning ends a SIGTERM'd run with status 0, which schedulers read as "finished". The
        # shell's code for "killed by SIGTERM" says it was not, and the checkpoint is saved.
        sys.exit(128 + signal.SIGTERM)
