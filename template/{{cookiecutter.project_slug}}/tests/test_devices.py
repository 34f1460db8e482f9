"""The same experiment on accelerators; these run where the hardware is and are skipped elsewhere."""

import math

import pytest
import torch

from {{ cookiecutter.package_name }}.history import read_rows

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
