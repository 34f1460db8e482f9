"""litproject's own suite: the machinery, run through the default project, baked and installed
once per session (tests/conftest.py), as its users run it: `python train.py ...` in this process
(`train`) or in new processes, every test in its own folder, offline, W&B writing to disk."""

import hashlib
import importlib.util
import logging
import os
import runpy
import shutil
import sys
from pathlib import Path

import pytest
import wandb

from litproject.runs import runs_in

PROJECT = Path(os.environ["LITPROJECT_TEST_PROJECT"])  # set by tests/conftest.py
CONFIGS = PROJECT / "configs"
PACKAGE = "lightning_project"  # the default project's package


def project_helper(name: str):
    """A module of the project's own test helpers (tests/helpers/<name>.py): files in the formats
    users bring, written the same way here and there."""
    spec = importlib.util.spec_from_file_location(
        f"project_{name}", PROJECT / "tests" / "helpers" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


images = project_helper("images")


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in a fresh folder, with W&B disabled (it writes nothing and costs nothing; tests of what
    W&B receives ask for `wandb_offline`), so that nothing reaches the network."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WANDB_MODE", "disabled")
    monkeypatch.setenv("WANDB_SILENT", "true")
    return tmp_path


@pytest.fixture
def wandb_offline(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """W&B offline: runs are written to workdir/wandb, for the tests to read back."""
    monkeypatch.setenv("WANDB_MODE", "offline")
    return workdir / "wandb"


@pytest.fixture(autouse=True)
def logs_to_this_test() -> None:
    """Log handlers (Lightning's among them) keep the stderr of the moment they were made; pytest
    gives each test its own, so point them at this one (else they write to a closed stream)."""
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            if type(handler) is logging.StreamHandler and getattr(handler.stream, "closed", False):
                handler.stream = sys.stderr  # not setStream: it flushes the closed one


@pytest.fixture
def process_env(workdir: Path) -> dict[str, str]:
    """The environment of `python train.py` in a new process, as a user starts it: offline, and
    with no link to this process's W&B service (which W&B hands to child processes). The project's
    code is on the path as its editable install puts it there (which another session may move)."""
    env = {**os.environ, "WANDB_MODE": "offline", "PYTHONPATH": str(PROJECT / "src")}
    env.pop("WANDB_SERVICE", None)
    return env


@pytest.fixture
def default_configs() -> list[Path]:
    """The config files `train.py` reads when no `--config` is given: the shared settings and
    the default experiment."""
    names = runpy.run_path(str(PROJECT / "train.py"))
    return [names["BASE_CONFIG"], names["DEFAULT_EXPERIMENT"]]


@pytest.fixture
def run_folders(workdir: Path):
    """The run folders of an experiment (`runs/<experiment>/<run>/`), oldest first."""

    def find(experiment: str = "digits_cnn") -> list[Path]:
        return runs_in(workdir / "runs" / experiment)[::-1]

    return find


@pytest.fixture
def run_folder(run_folders):
    """The folder of an experiment's only run; fails the test if there is none or several."""

    def find(experiment: str = "digits_cnn") -> Path:
        (folder,) = run_folders(experiment)
        return folder

    return find


@pytest.fixture
def train(monkeypatch: pytest.MonkeyPatch):
    """Run `python train.py <args>` in this process, exactly as a user types it."""

    def run(*args: str) -> None:
        with monkeypatch.context() as patch:
            patch.setattr(sys, "argv", ["train.py", *args])
            try:
                runpy.run_path(str(PROJECT / "train.py"), run_name="__main__")
            finally:
                wandb.finish()  # a new process would start a new W&B run; so does the next call

    return run


def in_project(folder: Path) -> Path:
    """`folder` set up as a user's project folder: train.py and configs/ (links to the project's),
    so that `litproject sweep` and `convert` find them, and runs land in `folder`."""
    for name in ("train.py", "configs"):
        (folder / name).symlink_to(PROJECT / name)
    return folder


@pytest.fixture
def litproject_command(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    """Run `litproject <args>` in this process; give back its exit status, stdout and stderr."""
    from litproject.__main__ import main

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        with monkeypatch.context() as patch:
            patch.setattr(sys, "argv", ["litproject", *args])
            status = main(list(args))
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run


QUICK_FIT = [
    "fit",
    "--trainer.max_epochs=1",
    "--trainer.limit_train_batches=3",
    "--trainer.limit_val_batches=2",
    "--trainer.enable_progress_bar=false",
]


@pytest.fixture(scope="session")
def trained_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A quick fit of the default experiment (one epoch of 3 batches), made once per session: its
    `runs/` folder, for tests that need a trained run rather than a training."""
    folder = tmp_path_factory.mktemp("trained")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setenv("WANDB_MODE", "disabled")
        patch.setattr(sys, "argv", ["train.py", *QUICK_FIT])
        runpy.run_path(str(PROJECT / "train.py"), run_name="__main__")
    return folder / "runs"


@pytest.fixture
def trained(trained_once: Path, workdir: Path) -> Path:
    """A copy of that trained run in this test's folder (runs/digits_cnn/<run>/): its folder."""
    shutil.copytree(trained_once, workdir / "runs")
    (run,) = runs_in(workdir / "runs" / "digits_cnn")
    return run


@pytest.fixture
def snapshot(workdir: Path):
    """Every file under the test's folder with a hash of its content: to show that nothing changed."""

    def take() -> dict[str, str]:
        return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in workdir.rglob("*") if p.is_file()}

    return take


@pytest.fixture
def refused(train, capsys, snapshot):
    """Run `python train.py <args>`; check that it stops with `status`, no traceback and no earlier
    file changed or lost; give back what it printed on stderr."""

    def run(*args: str, status: int = 2) -> str:
        before = snapshot()
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_info:
            train(*args)
        err = capsys.readouterr().err
        assert exit_info.value.code == status, err
        assert "Traceback" not in err
        after = snapshot()
        assert {path: after.get(path) for path in before} == before  # new files may appear
        return err

    return run


@pytest.fixture
def mnist_dir(tmp_path: Path) -> Path:
    """A data_dir with tiny MNIST and Fashion-MNIST in their real IDX format."""
    return project_helper("mnist").write_mnist(tmp_path / "mnist-data")


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """A folder of 300 digit images as PNG files, 30 per class folder."""
    return images.write_digit_images(tmp_path / "images", per_class=30)
