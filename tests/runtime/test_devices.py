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
def test_data_that_fits_stays_on_the_gpu_and_serves_the_same_batches(monkeypatch, default_configs):
    """The digits are copied to the GPU once and cut there (no page-locked copies); the batches
    are those cut in host memory with `--data.keep_on_gpu=false`, in the same order."""
    monkeypatch.setattr(sys, "argv", ["train.py"])
    flags = ["--trainer.logger=false", "--trainer.accelerator=gpu", "--trainer.devices=1", *SHORT]
    batches = {}
    for keep in (True, False):
        cli = main([*flags, f"--data.keep_on_gpu={keep}"], default_configs[:1], default_configs[1], run=False)
        cli.trainer.fit(cli.model, cli.datamodule)
        loader = cli.datamodule.train_dataloader()
        assert loader.dataset.tensors[0].is_cuda == keep and loader.pin_memory != keep
        loader.sampler.set_epoch(1)
        batches[keep] = [[tensor.cpu() for tensor in batch] for batch in loader]
    assert len(batches[True]) == len(batches[False]) > 1
    for (x, y), (x_ref, y_ref) in zip(batches[True], batches[False], strict=True):
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
