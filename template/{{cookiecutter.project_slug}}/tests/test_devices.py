"""The same experiment on accelerators; these run where the hardware is and are skipped elsewhere."""

import pytest
import torch

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
    assert (run_folder() / "checkpoints" / "last.ckpt").is_file()


@mps
def test_fit_on_apple_mps(train, run_folder):
    train("fit", "--trainer.accelerator=mps", "--trainer.devices=1", *SHORT)
    assert (run_folder() / "checkpoints" / "last.ckpt").is_file()
