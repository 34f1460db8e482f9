"""Weights & Biases mode: decided once, before W&B starts, so a run never blocks on a login."""

import netrc
import os
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from urllib.parse import urlparse

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
