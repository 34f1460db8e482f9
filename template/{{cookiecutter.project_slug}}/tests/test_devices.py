"""The same experiment on accelerators; these run where the hardware is and are skipped elsewhere."""

from pathlib import Path

import pytest
import torch

SHORT = ["--trainer.max_epochs=1", "--trainer.limit_train_batches=5", "--trainer.limit_val_batches=2"]

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
mps = pytest.mark.skipif(not torch.backends.mps.is_available(), reason="needs Apple MPS")


@cuda
@pytest.mark.parametrize("precision", ["32-true", "16-mixed", "bf16-mixed"])
def test_fit_on_one_cuda_gpu(train, workdir: Path, precision: str):
    if precision == "bf16-mixed" and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bfloat16")
    train(
        "fit", "--trainer.accelerator=gpu", "--trainer.devices=1", f"--trainer.precision={precision}", *SHORT
    )
    assert (workdir / "runs" / "digits_cnn" / "checkpoints" / "last.ckpt").is_file()


@mps
def test_fit_on_apple_mps(train, workdir: Path):
    train("fit", "--trainer.accelerator=mps", "--trainer.devices=1", *SHORT)
    assert (workdir / "runs" / "digits_cnn" / "checkpoints" / "last.ckpt").is_file()
