"""Keeping track of runs: the W&B mode, decided before W&B starts so that a run never blocks
on a login or a network that is not there; one W&B run across resumes; the resolved config of
every run."""

import itertools
import netrc
import os
import socket
import sys
import time
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from urllib.parse import urlparse

import yaml
from jsonargparse import Namespace
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.cli import LightningArgumentParser, SaveConfigCallback
from lightning.pytorch.loggers import Logger, WandbLogger
from lightning.pytorch.trainer.states import TrainerFn

from .compat import wandb_started
from .runs import is_run, record, shown

DEFAULT_HOST = "https://api.wandb.ai"


def has_wandb_credentials(environ: Mapping[str, str]) -> bool:
    """Whether an API key is configured: `WANDB_API_KEY`, or a netrc entry for the W&B host."""
    if environ.get("WANDB_API_KEY"):
        return True
    host = urlparse(environ.get("WANDB_BASE_URL", DEFAULT_HOST)).hostname
    path = Path(environ.get("NETRC", Path.home() / ".netrc"))
    try:
        return path.is_file() and netrc.netrc(path).authenticators(host) is not None
    except (netrc.NetrcParseError, OSError):
        return False


def can_reach(url: str, timeout: float = 3.0) -> bool:
    """Whether a TCP connection to the host of `url` opens within `timeout` seconds."""
    parsed = urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def resolve_wandb_mode(environ: MutableMapping[str, str] = os.environ) -> str:
    """Honour `WANDB_MODE`; otherwise go online with credentials and offline without. Online
    with a W&B host that cannot be reached becomes offline, so training never waits for it.

    The choice is written back to `WANDB_MODE`, which every later W&B call (and every DDP
    process started later) reads.
    """
    mode = environ.get("WANDB_MODE") or ("online" if has_wandb_credentials(environ) else "offline")
    host = environ.get("WANDB_BASE_URL", DEFAULT_HOST)
    if mode == "online" and not can_reach(host):
        print(f"W&B: cannot reach {host}; logging offline (upload later with wandb sync).", file=sys.stderr)
        mode = "offline"
    environ["WANDB_MODE"] = mode
    return mode


def continue_wandb_run(logger: Namespace | None, run_id: str | None) -> None:
    """Make a W&B logger that is not yet created continue the run `run_id` (resuming a run, or
    testing its checkpoint), unless the config names a run itself."""
    loggers = logger if isinstance(logger, list) else [logger]
    for config in loggers:
        if (
            run_id
            and isinstance(config, Namespace)
            and config.class_path.endswith(".WandbLogger")
            and config.init_args.get("id") is None
            and config.init_args.get("version") is None
        ):
            config.init_args.id = run_id


def configure_loggers(
    logger: Namespace | list | bool | None, folder: str, wandb_mode: str, name: str
) -> None:
    """Settle what the loggers' configs leave open, before the loggers exist.

    W&B gets the mode decided by `resolve_wandb_mode` (W&B reads its environment only once per
    process), an absolute `save_dir` (`./wandb` by default; W&B's background service may run
    in another working directory), unless the config names the run, the run's `name`
    (`<experiment>/<run>`, as its folder), and the group `WANDB_RUN_GROUP` names (a sweep's).
    CSV and TensorBoard write into the run's folder unless a `save_dir` was given (switching
    from W&B on the command line carries over its `save_dir: .`).
    """
    for config in logger if isinstance(logger, list) else [logger]:
        if not isinstance(config, Namespace):
            continue
        save_dir = config.init_args.get("save_dir")
        if config.class_path.endswith(".WandbLogger"):
            config.init_args.save_dir = str(Path(save_dir or ".").resolve())
            config.init_args.name = config.init_args.get("name") or name
            config.dict_kwargs = {**(config.get("dict_kwargs") or {}), "mode": wandb_mode}
            # W&B's own start and end lines repeat what the run prints at its end (wandb_run_location).
            config.dict_kwargs.setdefault("settings", {"quiet": True})
            if os.environ.get("WANDB_RUN_GROUP"):  # a sweep's group; W&B reads it only when it starts
                config.dict_kwargs.setdefault("group", os.environ["WANDB_RUN_GROUP"])
        elif save_dir in (None, "."):
            config.init_args.save_dir = folder


def wandb_run_location(logger: Logger | None) -> str | None:
    """Where the W&B run went, as one line: its page, or its folder and the upload command."""
    if not isinstance(logger, WandbLogger) or not wandb_started(logger):  # disabled, or never started
        return None
    run = logger.experiment
    if run.settings.mode == "offline":
        run_dir = shown(Path(run.dir).parent)
        return f"W&B run saved offline in {run_dir}; upload it with: wandb sync {run_dir}"
    return f"W&B run: {run.url}" if run.url else None


def finish_wandb_run() -> None:
    """Finish this process's W&B run, if it started one (W&B would at exit, less quietly)."""
    wandb = sys.modules.get("wandb")  # imported only by a run that logs to W&B
    if wandb is not None and wandb.run is not None:
        wandb.run.finish()


def unused_path(folder: Path, name: str) -> Path:
    """`folder/name`, or `name` numbered -2, -3, ... when an earlier run (in the same second) took
    it: nothing a run writes replaces another run's file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = Path(folder, name)
    for n in itertools.count(2):
        if not path.exists():
            return path
        path = path.with_stem(f"{Path(name).stem}-{n}")


class SaveRunConfig(SaveConfigCallback):
    """Keep the resolved config of every run, never overwriting an earlier one, and let the run's
    folder and its W&B run name each other.

    The config goes to `<run folder>/configs/<time>-<subcommand>.yaml` (`path`) and into the
    logger's run config as `<subcommand>_config` (for W&B: the run's Config panel), so `fit`,
    a resumed `fit` and a `test` of its checkpoint (which continues its W&B run) keep every one.
    The W&B config also gets `run_dir`, the run's folder, and the folder's `run.yaml` the W&B run id.

    `text` is the config as asked for, dumped once by the CLI: a rerun of the saved file is a new
    run, not one that writes into this run's folder or W&B run.
    """

    path: Path | None = None

    def __init__(
        self,
        parser: LightningArgumentParser,
        config: Namespace,
        text: str = "",
        subcommand: str | None = None,
        **kwargs,
    ) -> None:
        super().__init__(parser, config, **kwargs)
        self.text = text
        self.subcommand = subcommand  # lr_find runs a fit: its config is named after lr_find

    def save_config(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        stage = self.subcommand or TrainerFn(stage).value
        folder = Path(trainer.default_root_dir)
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{stage}.yaml"
        self.path = path = unused_path(folder / "configs", name)
        text = self.text or self.parser.dump(self.config)
        with path.open("x") as file:  # "x": never over an earlier run's file
            file.write(text)
        if trainer.logger is None:
            return
        trainer.logger.log_hyperparams(
            {f"{stage}_config": yaml.safe_load(text), "run_dir": str(shown(folder))}
        )
        if isinstance(trainer.logger, WandbLogger) and is_run(folder):
            record(folder, wandb_run_id=trainer.logger.version)
