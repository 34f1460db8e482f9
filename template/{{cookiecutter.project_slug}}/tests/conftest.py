"""Shared fixtures: every test runs in its own folder, offline, with W&B switched off."""

import runpy
import sys
from pathlib import Path

import pytest

from .helpers.images import write_digit_images
from .helpers.mnist import write_mnist

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in a fresh folder, with W&B disabled, so that nothing reaches the network."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WANDB_MODE", "disabled")
    monkeypatch.setenv("WANDB_SILENT", "true")
    return tmp_path


@pytest.fixture
def train(monkeypatch: pytest.MonkeyPatch):
    """Run `python train.py <args>` in this process, exactly as a user types it."""

    def run(*args: str) -> None:
        with monkeypatch.context() as patch:
            patch.setattr(sys, "argv", ["train.py", *args])
            runpy.run_path(str(PROJECT / "train.py"), run_name="__main__")

    return run


@pytest.fixture
def mnist_dir(tmp_path: Path) -> Path:
    """A data_dir with tiny MNIST and Fashion-MNIST in their real IDX format."""
    return write_mnist(tmp_path / "mnist-data")


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """A folder of 300 digit images as PNG files, 30 per class folder."""
    return write_digit_images(tmp_path / "images", per_class=30)
