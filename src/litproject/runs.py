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

from .errors import CheckpointError, UserError

try:  # POSIX; on Windows runs are not locked
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

RUNS_DIR = Path("runs")
RUN_FILE = "run.yaml"
LOCK_FILE = ".lock"
# How the process that starts a run tells the processes Lightning starts for DDP where the run is.
RUN_FOLDER_VARIABLE = "LITPROJECT_RUN_FOLDER"
TRAINING_ELSEWHERE = "is training in another process; wait for it to end."
# Letters, digits and . _ = - : a name that is the same folder on every file system and shell.
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._=-]{0,99}")


class RunError(UserError):
    """A run name that cannot be a folder, or a run that cannot be used as asked."""


def shown(path: str | Path) -> Path:
    """`path` as a user reads it best: relative to the current folder when it lies inside it."""
    path = Path(path)
    return path.relative_to(Path.cwd()) if path.is_absolute() and path.is_relative_to(Path.cwd()) else path


def say(message: str) -> None:
    """Print a line for the user, once per run (not from every DDP process)."""
    if launched_as_rank_zero():
        print(message)


def check_name(option: str, value: str) -> str:
    if not SAFE_NAME.fullmatch(value):
        raise RunError(
            f"{option} {value!r} is not a safe folder name: use up to 100 letters, digits, '.', '_', "
            f"'=' or '-', starting with a letter or digit (e.g. {option} lr-0.01)."
        )
    return value


def is_experiment_config(path: str | Path) -> bool:
    """Whether a config file chooses the model or the data (a class): an experiment, not a recipe
    or preset that only changes settings of the one stacked before it."""
    try:
        content = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError):
        return False
    if not isinstance(content, dict):
        return False
    return any(
        isinstance(content.get(key), str)
        or (isinstance(content.get(key), dict) and "class_path" in content[key])
        for key in ("model", "data")
    )


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


def wandb_sweep_run_id() -> str | None:
    """In a trial that a W&B sweep agent started, the trial's W&B run id (the agent sets both
    variables): the trial's run folder is named after it, so that the two name each other."""
    return os.environ.get("WANDB_RUN_ID") if os.environ.get("WANDB_SWEEP_ID") else None


class RunFolder:
    """Where one command's run writes, decided in two steps: `locate` from the options alone
    (and `find_checkpoint` for `--ckpt_path`), before anything is built; `settle` once every
    check has passed, which makes (claims) a new folder and locks it while `fit` trains.
    `close` lets the lock go, and removes a claimed folder that received nothing.

    Only the process that starts a run makes and locks its folder. Lightning's DDP processes learn
    it from RUN_FOLDER_VARIABLE; those of other launchers (torchrun, SLURM) never write where
    their own guess points, as Lightning takes every shared path from rank zero (checkpoints,
    logs) and the prediction writer does too.
    """

    def __init__(self, subcommand: str | None, experiment: str, name: str | None, given: Path | None) -> None:
        self.subcommand = subcommand
        self.experiment = RUNS_DIR / experiment
        self.name = name
        self.folder = given  # known: given, or found with a checkpoint; else made by `settle`
        self.claimed = False
        self.lock: RunLock | None = None

    @classmethod
    def locate(
        cls,
        subcommand: str | None,
        experiment: str,
        run_name: str | None,
        root_dir: str | None,
        resuming: bool,
    ) -> "RunFolder":
        """The run the options name: `--trainer.default_root_dir`, the launching process's folder
        (in a further DDP process), or the run's name (`--run_name`, or a W&B sweep trial's id)."""
        check_name("--experiment", experiment)
        name = run_name or wandb_sweep_run_id()
        if name:
            check_name("--run_name", name)
        if root_dir:
            given = Path(root_dir)
        elif not launched_as_rank_zero() and os.environ.get(RUN_FOLDER_VARIABLE):
            given = Path(os.environ[RUN_FOLDER_VARIABLE])
        else:
            given = RUNS_DIR / experiment / name if name else None
        # Only the process that starts a run may find its name taken: the further processes of a
        # multi-process run (Lightning's DDP launcher, torchrun, srun) see the folder it made.
        if subcommand == "fit" and name and not resuming and given.exists() and launched_as_rank_zero():
            raise RunError(
                f"--run_name {name}: {shown(given)} exists. Continue that run with --ckpt_path last, "
                "or give a new name."
            )
        return cls(subcommand, experiment, name, given)

    def find_checkpoint(self, ckpt_path: str, dirpath: str | None) -> Path | None:
        """The file `--ckpt_path` names; the run it belongs to becomes this run's folder.

        `last` / `best` are that checkpoint of the given run, else of the newest run of the
        experiment that has one; `fit` passes over a run that another process trains. Without a
        `last` checkpoint, `fit` trains from the start (a cluster job that resumes itself relies
        on that). A file in a run's folder belongs to that run.
        """
        fit, given = self.subcommand == "fit", self.folder
        if ckpt_path not in ("last", "best"):
            path = Path(ckpt_path)
            if not path.is_file():
                raise CheckpointError(
                    f"--ckpt_path {ckpt_path}: no such file. Give a .ckpt file, or last or best."
                )
            run = path.parent.parent if path.parent.name == "checkpoints" else path.parent
            self.folder = given or (run if is_run(run) else None)
            if fit and self.folder and trained_elsewhere(self.folder):
                raise RunError(f"--ckpt_path {ckpt_path}: {shown(self.folder)} {TRAINING_ELSEWHERE}")
            return path

        kind, folder = ckpt_path, Path(dirpath) if dirpath else None
        # With --checkpoint.dirpath and no given run, every run keeps its checkpoints in that one folder.
        runs = [given] if given else [None] if folder else runs_in(self.experiment)
        passed_over = []
        for run in runs:
            found = checkpoints_of(run, kind, folder)
            if not found:
                passed_over.append(
                    f"{shown(run)} has no {kind} checkpoint yet (in its first epoch, or stopped before)"
                )
            elif fit and run is not None and trained_elsewhere(run):
                if given:
                    raise RunError(f"--ckpt_path {kind}: {shown(run)} {TRAINING_ELSEWHERE}")
                passed_over.append(f"{shown(run)} is training in another process")
            else:
                self.folder = given or run
                note = f" ({'; '.join(passed_over)}: took the newest run that has one)" if passed_over else ""
                say(f"--ckpt_path {kind}: {shown(found[0])}{note}")
                return found[0]
        where = shown(folder or given or self.experiment)
        if fit and kind == "last":
            if given and not given.exists():  # a named run's first start, as a cluster job's
                say(f"--ckpt_path last: {where} is a new run: training from the start.")
            else:
                why = f" ({'; '.join(passed_over)})" if passed_over else ""
                say(f"--ckpt_path last: no checkpoint to resume in {where}{why}: training from the start.")
            return None
        raise CheckpointError(
            f"--ckpt_path {kind}: there is no {kind} checkpoint in {where}. Train the experiment "
            "first (python train.py fit --config ...), or give a checkpoint file."
        )

    def settle(self, resumed_from: str | None) -> Path:
        """This run's folder: the one found, or a new one made (claimed) now, locked for `fit`."""
        if not (launched_as_rank_zero() and self.subcommand):
            # A further DDP process, or a CLI that only builds (run=False): the folder is not made
            # here; Lightning makes what it writes into.
            return self.folder or self.experiment / time.strftime("%Y%m%d-%H%M%S")
        check_writable(self.folder or self.experiment)
        named_but_new = self.folder == self.experiment / str(self.name) and not self.folder.exists()
        if self.folder is None or named_but_new:  # named but new: --run_name with a first --ckpt_path last
            self.folder = claim(self.experiment, self.name)
            self.claimed = True
        elif not is_run(self.folder):  # --trainer.default_root_dir
            self.claimed = not self.folder.exists()
            self.folder.mkdir(parents=True, exist_ok=True)
            start(self.folder, self.experiment.name)
        if self.subcommand == "fit":
            self.lock = RunLock(self.folder)
            if not self.lock.acquire():
                raise RunError(f"{shown(self.folder)} {TRAINING_ELSEWHERE}")
            if resumed_from:  # what the saved config leaves out: this fit continued a checkpoint
                resumed = run_info(self.folder).get("resumed_from", [])
                record(self.folder, resumed_from=[*resumed, str(shown(resumed_from))])
        os.environ[RUN_FOLDER_VARIABLE] = str(self.folder.absolute())
        return self.folder

    def close(self, failed: bool) -> None:
        """Let the lock go; after a failure, remove a folder this process made that holds nothing."""
        if self.lock is not None:
            self.lock.release()
        if failed and self.claimed:
            release(self.folder)


def trained_elsewhere(run: Path) -> bool:
    # A further DDP process belongs to the run that its launching process holds.
    return launched_as_rank_zero() and run.is_dir() and in_use(run)


class RunFolderError(UserError):
    """The run's folder cannot be written."""


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
