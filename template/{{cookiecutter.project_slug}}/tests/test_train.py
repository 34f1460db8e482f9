"""`python train.py`: every experiment config trains, and the default experiment fits, tests and
predicts through the command line as a user runs it (litproject's own suite tests the rest)."""

import csv
import re
import subprocess
import sys
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.data import DigitsDataModule

PROJECT = Path(__file__).resolve().parents[1]
CONFIGS = PROJECT / "configs"
EXPERIMENTS = sorted(path.stem for path in CONFIGS.glob("*.yaml") if path.stem != "trainer")
SHORT = [
    "--trainer.max_epochs=1",
    "--trainer.limit_train_batches=3",
    "--trainer.limit_val_batches=2",
    "--trainer.enable_progress_bar=false",
]


def test_every_experiment_config_is_tested():
    assert EXPERIMENTS == [
        "crop_yields_linear",
        "deep_linear",
        "digits_cnn",
        "fashion_mnist_cnn",
        "folder_cnn",
        "mnist_cnn",
        "random_mlp",
    ]


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_trains_and_validates_one_batch(
    train, workdir: Path, mnist_dir: Path, image_folder: Path, experiment: str
):
    data_args = {
        "mnist_cnn": [f"--data.data_dir={mnist_dir}", "--data.download=false"],
        "fashion_mnist_cnn": [f"--data.data_dir={mnist_dir}", "--data.download=false"],
        "folder_cnn": [f"--data.train_dir={image_folder}", "--data.num_workers=0"],
    }.get(experiment, [])
    train("fit", "--config", str(CONFIGS / f"{experiment}.yaml"), *data_args, "--trainer.fast_dev_run=true")
    assert list((workdir / "runs" / f"{experiment}").glob("*/checkpoints/last.ckpt"))


def test_the_default_experiment_fits_tests_and_predicts(train, workdir: Path, capsys):
    train("fit", *SHORT)
    (run,) = (workdir / "runs" / "digits_cnn").iterdir()
    assert (run / "checkpoints" / "best.ckpt").is_file()
    capsys.readouterr()
    train("test", "--ckpt_path=best", "--trainer.limit_test_batches=2")
    assert re.search(r"test/acc\W+[0-9.]+", capsys.readouterr().out)

    train("predict", "--ckpt_path=best")
    (predictions,) = run.glob("predictions-*.csv")
    with predictions.open() as file:
        rows = list(csv.DictReader(file))
    data = DigitsDataModule()
    data.setup("test")
    assert [int(row["target"]) for row in rows] == data.splits["test"].tensors[1].tolist()


def test_train_py_alone_prints_a_guide_and_the_experiments():
    result = subprocess.run([sys.executable, "train.py"], cwd=PROJECT, capture_output=True, text=True)
    assert result.returncode == 2
    for word in ("fit", "validate", "test", "predict", "--config", "--ckpt_path", *EXPERIMENTS):
        assert word in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow  # the default experiment's 15 epochs
def test_the_default_experiment_learns_the_digits(train, capsys):
    train("fit", "--trainer.enable_progress_bar=false")
    capsys.readouterr()
    train("test", "--ckpt_path=best", "--trainer.enable_progress_bar=false")
    assert float(re.search(r"test/acc\W+([0-9.]+)", capsys.readouterr().out).group(1)) >= 0.95
