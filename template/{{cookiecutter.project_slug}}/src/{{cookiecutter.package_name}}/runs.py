"""A folder per run: how a run gets one, and how `--ckpt_path last` / `best` find one again.

    runs/<experiment>/<run>/
        run.yaml              which run this is: experiment, name, start time, command, W&B run id
        checkpoints/          best.ckpt, last.ckpt
        configs/              the resolved config of every subcommand run on this run's checkpoints
        learning_curves.png   predictions-<time>.csv   ...

A new run claims its folder by creating it, which the file system grants to one process only:
two runs started in the same second are named `<time>` and `<time>-2`, never one folder. While
a `fit` trains, it holds a lock on its folder, so that no other process resumes it at the same time.
"""

import itertools
import os
import re
import shlex
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from .errors import UserError

try:  # POSIX; on Windows runs are not locked
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

RUNS_DIR = Path("runs")
RUN_FILE = "run.yaml"
LOCK_FILE = ".lock"
# Letters, digits and . _ = - : a name that is the same folder on every file system and shell.
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._=-]{0,99}")


class RunError(UserError):
    """A run name that cannot be a folder, or a run that cannot be used as asked."""


def check_name(option: str, value: str) -> str:
    if not SAFE_NAME.fullmatch(value):
        raise RunError(
            f"{option} {value!r} is not a safe folder name: use up to 100 letters, digits, '.', '_', "
            f"'=' or '-', starting with a letter or digit (e.g. {option} lr-0.01)."
        )
    return value


def is_experiment_config(path: str | Path) -> bool:
    """Whether a config file sets the model or the data: an experiment, not a preset of settings."""
    try:
        content = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(content, dict) and ("model" in content or "data" in content)


def experiment_name(config_files: list[str]) -> str:
    """The experiment a run belongs to: the stem of the last experiment config (a preset stacked
    after it does not rename it), else of the last config file."""
    for path in reversed(config_files):
        if is_experiment_config(path):
            return Path(path).stem
    return Path(config_files[-1]).stem if config_files else "default"


def is_run(folder: Path) -> bool:
    return (folder / RUN_FILE).is_file()


def run_info(folder: Path) -> dict[str, Any]:
    """What `run.yaml` says; empty for a folder that is not a run's."""
    try:
        info = yaml.safe_load((folder / RUN_FILE).read_text())
    except (OSError, yaml.YAMLError):
        return {}
    return info if isinstance(info, dict) else {}


def record(folder: Path, **values: Any) -> None:
    """Add `values` to the run's `run.yaml` (written whole, then renamed: never half a file)."""
    info = {**run_info(folder), **values}
    partial = folder / f".{RUN_FILE}.partial"
    partial.write_text(yaml.safe_dump(info, sort_keys=False))
    partial.replace(folder / RUN_FILE)


def claim(experiment: Path, name: str | None = None) -> Path:
    """Make and return the folder of a new run in `experiment`: `name`, or the start time.

    `mkdir` succeeds for exactly one process, so a time taken by a run started in the same second
    moves on to `<time>-2`, `<time>-3`, ... A given name that exists is refused.
    """
    experiment.mkdir(parents=True, exist_ok=True)
    base = name or time.strftime("%Y%m%d-%H%M%S")
    for n in itertools.count(1):
        folder = experiment / (base if n == 1 else f"{base}-{n}")
        try:
            folder.mkdir()
        except FileExistsError:
            if name:
                raise RunError(f"--run_name {name}: {folder} exists. Give a new name.") from None
            continue
        start(folder, experiment.name)
        return folder


def start(folder: Path, experiment: str) -> None:
    """Write the `run.yaml` of a new run."""
    record(
        folder,
        experiment=experiment,
        run=folder.name,
        started=datetime.now().isoformat(timespec="microseconds"),
        command=shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]),
    )


def release(folder: Path) -> None:
    """Remove a claimed run folder that received nothing but its `run.yaml` (a run stopped by bad
    input before it wrote anything), and its experiment and `runs/` folders if that leaves them
    empty."""
    if not folder.is_dir() or {path.name for path in folder.iterdir()} - {RUN_FILE, LOCK_FILE}:
        return
    for name in (RUN_FILE, LOCK_FILE):
        (folder / name).unlink(missing_ok=True)
    for path in (folder, folder.parent, folder.parent.parent):
        try:
            path.rmdir()
        except OSError:  # not empty
            return


def runs_in(experiment: Path) -> list[Path]:
    """The run folders of an experiment, newest first (by start time)."""
    runs = [folder for folder in experiment.iterdir() if is_run(folder)] if experiment.is_dir() else []
    return sorted(runs, key=lambda folder: str(run_info(folder).get("started", "")), reverse=True)


def checkpoints_of(run: Path | None, kind: str, folder: Path | None = None) -> list[Path]:
    """A run's `last` or `best` checkpoints, newest first: `last*.ckpt` / `best*.ckpt` in its
    checkpoint folder (`folder`, else `<run>/checkpoints`); for `last` also the
    `hpc_ckpt_<n>.ckpt` that Lightning saves in the run folder when SLURM signals the time limit."""
    found = list((folder or run / "checkpoints").glob(f"{kind}*.ckpt"))
    if kind == "last" and run is not None:
        found += run.glob("hpc_ckpt_*.ckpt")
    return sorted(found, key=lambda path: path.stat().st_mtime, reverse=True)


class RunLock:
    """Held by a training process on its run folder: another `fit` must not resume the same run
    while it trains (both would write its `last.ckpt`). The operating system lets the lock go when
    the process ends, however it ends."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._file = None

    def acquire(self) -> bool:
        """Take the lock; False if another process holds it."""
        if fcntl is None:
            return True
        self._file = open(self.folder / LOCK_FILE, "a")  # noqa: SIM115 (held until release)
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.release()
            return False
        return True

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing lets the lock go
            self._file = None


def in_use(folder: Path) -> bool:
    """Whether a `fit` in another process trains this run now."""
    lock = RunLock(folder)
    if not lock.acquire():
        return True
    lock.release()
    return False


def launched_as_rank_zero(environ: os._Environ | dict = os.environ) -> bool:
    """Whether this process is the one that starts a run, not a further process of the same run
    (started by Lightning for DDP, by torchrun or by SLURM), as the launchers' variables say."""
    return all(int(environ.get(key) or 0) == 0 for key in ("RANK", "LOCAL_RANK", "NODE_RANK", "SLURM_PROCID"))


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A resolved config as the command line names its options: `model.optimizer.lr`, not
    `model.init_args.optimizer.init_args.lr`; a class by its `class_path`, under its own name."""
    options = {}
    for key, value in config.items():
        if key == "init_args" and isinstance(value, dict):
            options.update(flatten(value, prefix))
        elif key == "class_path":
            options[prefix.rstrip(".")] = value
        elif key != "dict_kwargs":
            if isinstance(value, dict):
                options.update(flatten(value, f"{prefix}{key}."))
            else:
                options[prefix + key] = value
    return options


def settings(run: Path) -> dict[str, Any]:
    """The options a run was trained with: its newest saved `fit` config, flattened."""
    saved = sorted((run / "configs").glob("*-fit*.yaml"))
    return flatten(yaml.safe_load(saved[-1].read_text()) or {}) if saved else {}
