"""The project a `litproject` command runs in: the folder that holds its `train.py`."""

import runpy
from pathlib import Path

from .errors import UserError


def configs(folder: Path | None = None) -> tuple[Path, Path]:
    """The config files a project's `train.py` reads when no `--config` is given: `BASE_CONFIG`,
    the settings every experiment shares, and `DEFAULT_EXPERIMENT`. `litproject sweep` and
    `litproject convert` build the same runs and data as `python train.py` does from them."""
    path = (folder or Path.cwd()) / "train.py"
    if not path.is_file():
        raise UserError(
            f"no train.py in {path.parent}: run this command in a project's folder (where train.py is)."
        )
    names = runpy.run_path(str(path))  # as a module, not as __main__: it only names its configs
    try:
        return Path(names["BASE_CONFIG"]), Path(names["DEFAULT_EXPERIMENT"])
    except KeyError as missing:
        raise UserError(
            f"{path} does not name {missing.args[0]}: a project's train.py names BASE_CONFIG and "
            "DEFAULT_EXPERIMENT, the config files it reads first."
        ) from None
