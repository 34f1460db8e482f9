"""Keeping track of runs: the W&B mode, decided before W&B starts so that a run never blocks
on a login, and the resolved config of every run."""

import itertools
import netrc
import os
import time
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from urllib.parse import urlparse

import yaml
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.cli import SaveConfigCallback
from lightning.pytorch.trainer.states import TrainerFn

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


def resolve_wandb_mode(environ: MutableMapping[str, str] = os.environ) -> str:
    """Honour `WANDB_MODE`; otherwise go online with credentials and offline without.

    The choice is written back to `WANDB_MODE`, which every later W&B call reads.
    """
    if not environ.get("WANDB_MODE"):
        environ["WANDB_MODE"] = "online" if has_wandb_credentials(environ) else "offline"
    return environ["WANDB_MODE"]


class SaveRunConfig(SaveConfigCallback):
    """Keep the resolved config of every run, never overwriting an earlier one.

    It goes to `<experiment folder>/configs/<time>-<subcommand>.yaml` and into the logger's run
    config (for W&B: the run's Config panel), so running `fit` twice, or `fit` then `test`,
    keeps both.
    """

    def save_config(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        folder = Path(trainer.default_root_dir, "configs")
        folder.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        name = f"{stamp}-{TrainerFn(stage).value}"
        path = folder / f"{name}.yaml"
        for n in itertools.count(2):  # two runs in the same second: number the second
            if not path.exists():
                break
            path = folder / f"{name}-{n}.yaml"
        self.parser.save(self.config, path)
        if trainer.logger is not None:
            trainer.logger.log_hyperparams({"config": yaml.safe_load(self.parser.dump(self.config))})
