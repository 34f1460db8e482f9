"""The same experiment on accelerators; these run where the hardware is and are skipped elsewhere."""

import math
import sys

import pytest
import torch

from litproject.cli import main
from litproject.history import read_rows

SHORT = ["--trainer.max_epochs=1", "--trainer.limit_train_batches=5", "--trainer.limit_val_batches=2"]

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
mps = pytest.mark.skipif(not torch.backends.mps.is_available(), reason="needs Apple MPS")


@cuda
@pytest.mark.parametrize("precision", ["32-true", "16-mixed", "bf16-mixed"])
def test_fit_on_one_cuda_gpu(train, run_folder, precision: str):
    if precision == "bf16-mixed" and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bfloat16")
    train(
        "fit", "--trainer.accelerator=gpu", "--trainer.devices=1", f"--trainer.precision={precision}", *SHORT
    )
    trained_as_asked(run_folder(), precision)


@cuda
def test_on_cuda_batches_are_copied_through_page_locked_memory(monkeypatch, default_configs):
    """The loaders pin their batches when the trainer runs on CUDA (faster copies to the GPU),
    and serve the same batches as on the CPU."""
    monkeypatch.setattr(sys, "argv", ["train.py"])
    batches = {}
    for accelerator in ("gpu", "cpu"):
        flags = [
            "--trainer.logger=false",
            f"--trainer.accelerator={accelerator}",
            "--trainer.devices=1",
            *SHORT,
        ]
        cli = main(flags, default_configs[:1], default_configs[1], run=False)
        cli.trainer.fit(cli.model, cli.datamodule)
        loader = cli.datamodule.train_dataloader()
        assert loader.pin_memory == (accelerator == "gpu")
        loader.sampler.set_epoch(1)
        batches[accelerator] = list(loader)
    for (x, y), (x_ref, y_ref) in zip(batches["gpu"], batches["cpu"], strict=True):
        assert torch.equal(x, x_ref) and torch.equal(y, y_ref)


@mps
def test_fit_on_apple_mps(train, run_folder):
    train("fit", "--trainer.accelerator=mps", "--trainer.devices=1", *SHORT)
    trained_as_asked(run_folder(), "32-true")


def trained_as_asked(run, precision: str) -> None:
    """The run took its 5 steps, its losses are numbers, and under 16-bit mixed precision the
    checkpoint holds the gradient scaler's state (Lightning saves it only when it scaled)."""
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert checkpoint["global_step"] == 5
    (epoch,) = read_rows(run / "metrics.csv")
    assert math.isfinite(epoch["train/loss"]) and math.isfinite(epoch["val/loss"])
    if precision == "16-mixed":
        assert checkpoint["MixedPrecision"]["scale"] > 0
