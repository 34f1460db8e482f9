"""Bad input at every door of `python train.py`: one clear line naming the bad value, a non-zero
exit, no traceback, and the files that were there before left as they were."""

from pathlib import Path

import pytest
import torch
from torch import nn

from .conftest import PROJECT

CONFIGS = PROJECT / "configs"
SHORT = ["--trainer.max_epochs=1", "--trainer.limit_train_batches=2", "--trainer.limit_val_batches=1"]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["fitt"], "invalid choice: 'fitt'"),
        (["fit", "--model.net=NoSuchNet"], "error: --model.net NoSuchNet: no such class; give a class"),
        (["fit", "--model.optimizer.lr", "abc"], "error: --model.optimizer.lr abc: must be a number"),
        (
            ["fit", "--trainer.max_epochs=abc"],
            "error: --trainer.max_epochs abc: must be a whole number or null",
        ),
        (["fit", "--trainer.max_epocs=3"], "unrecognized arguments: --trainer.max_epocs=3"),
        (["fit", "--config", "missing.yaml"], "error: --config missing.yaml: No such file or directory;"),
        (["fit", "--config", "broken.yaml"], "error: broken.yaml is not valid YAML at line 3, column 1"),
    ],
)
def test_command_line_mistakes(refused, workdir: Path, args: list[str], named: str):
    (workdir / "broken.yaml").write_text("trainer:\n  max_epochs: [1\n")
    err = refused(*args)
    assert named in err
    assert len([line for line in err.splitlines() if line.startswith("error:")]) == 1


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--data.batch_size=0", "--data.batch_size 0: must be more than 0"),
        ("--data.batch_size=-3", "--data.batch_size -3: must be more than 0"),
        ("--data.num_workers=-1", "--data.num_workers -1: must be at least 0"),
        ("--data.val_fraction=1.5", "--data.val_fraction 1.5: must be at least 0 and less than 1"),
        ("--data.image_size=0", "--data.image_size 0: must be more than 0"),
        ("--model.optimizer.lr=-1", "--model.optimizer: Invalid learning rate: -1.0"),
        ("--model.optimizer.betas=[2,0.9]", "--model.optimizer: Invalid beta parameter at index 0: 2.0"),
        ("--trainer.max_epochs=-5", "`max_epochs` must be a non-negative integer or -1. You passed in -5."),
        ("--trainer.devices=0", "`Trainer(devices='0')` value is not a valid input using cpu accelerator."),
        ("--trainer.precision=17", "--trainer.precision 17: must be one of 64, 32, 16"),
        ("--checkpoint.save_top_k=-3", "Invalid value for save_top_k=-3. Must be >= -1"),
        ("--trainer.limit_train_batches=-1", "invalid value -1 for limit_train_batches"),
    ],
)
def test_a_value_out_of_range_is_one_line_before_anything_is_written(refused, workdir: Path, option, message):
    err = refused("fit", option)
    (line,) = [line for line in err.splitlines() if line.startswith("error:")]
    assert message in line, line
    assert not (workdir / "runs").exists() and not (workdir / "wandb").exists()


def test_fractions_that_leave_nothing_to_train_on(refused, workdir: Path):
    err = refused("fit", "--data.val_fraction=0.5", "--data.test_fraction=0.5")
    assert (
        "error: --data.val_fraction 0.5 and --data.test_fraction 0.5 leave no data to train on: their sum "
        "must be less than 1." in err
    )
    assert not (workdir / "runs").exists()


def test_damaged_mnist_file(refused, mnist_dir: Path):
    images = mnist_dir / "MNIST" / "raw" / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:5000])  # cut short, as by an interrupted copy
    err = refused("fit", "--config", str(CONFIGS / "mnist_cnn.yaml"), f"--data.data_dir={mnist_dir}", *SHORT)
    assert f"error: {images} is damaged or cut short" in err


def test_data_dir_that_cannot_be_written(refused, workdir: Path):
    (workdir / "a_file").write_text("not a folder")
    err = refused("fit", "--config", str(CONFIGS / "mnist_cnn.yaml"), "--data.data_dir=a_file/data", *SHORT)
    assert "error: cannot write MNIST to --data.data_dir a_file/data" in err


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ("temperature,rainfall,apples,oranges\n73,67,56,70\n", "has no column 'humidity'"),
        (
            "temperature,rainfall,humidity,apples,oranges\n73,67,43,56,70\n91,88,n/a,81,101\n",
            "line 3: humidity 'n/a'",
        ),
    ],
)
def test_crop_yields_csv_with_a_missing_column_or_a_word_for_a_number(
    refused, workdir, table: str, named: str
):
    (workdir / "yields.csv").write_text(table)
    err = refused("fit", "--config", str(CONFIGS / "crop_yields_linear.yaml"), "--data.csv_path=yields.csv")
    assert f"error: yields.csv {named}" in err


def test_output_folder_that_cannot_be_written_fails_before_training(refused, workdir: Path):
    (workdir / "a_file").write_text("not a folder")
    err = refused("fit", "--trainer.default_root_dir=a_file/runs", *SHORT)
    assert "error: cannot write to a_file/runs" in err
    assert not (workdir / "wandb").exists()


class NanAfter(nn.Module):
    """A network whose outputs turn to NaN after `steps` training steps, like a diverging run."""

    def __init__(self, in_features: int = 784, out_features: int = 10, steps: int = 6) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.steps = steps
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += self.training
        out = self.linear(x.flatten(1))
        return out * float("nan") if self.calls > self.steps else out


def test_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(refused, workdir: Path, run_folder):
    args = ["fit", f"--model.net={__name__}.NanAfter", "--trainer.limit_train_batches=4", *SHORT[2:]]
    err = refused(*args, "--trainer.max_epochs=3", "--trainer.log_every_n_steps=1", status=1)
    last = (run_folder() / "checkpoints" / "last.ckpt").absolute()
    assert f"error: the training loss is nan at step 7 (epoch 1); the last good checkpoint is {last}" in err
    assert torch.load(last, weights_only=True)["global_step"] == 4  # the end of the first epoch
