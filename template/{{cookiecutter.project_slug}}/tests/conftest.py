"""Shared fixtures: every test runs in its own folder, offline, with W&B writing to disk."""

import runpy
import sys
from pathlib import Path

import pytest
import wandb

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in a fresh folder with W&B offline, so runs land in tmp_path/wandb and nothing
    reaches the network."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    return tmp_path


@pytest.fixture
def default_configs() -> list[Path]:
    """The config files `train.py` reads before any `--config`."""
    return runpy.run_path(str(PROJECT / "train.py"))["DEFAULT_CONFIGS"]


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
