"""The project's image-folder datamodule through `python train.py`: real PNG files trained on,
tested and predicted, and every bad file or folder refused in one line before a run starts."""

import csv
import re
from pathlib import Path

import pytest
import torch
import yaml
from lightning_project.data import ImageFolderDataModule

from .conftest import PROJECT, images

CONFIG = str(PROJECT / "configs" / "folder_cnn.yaml")
TEST_ACCURACY = re.compile(r"test/acc\W+([0-9.]+)")


def test_the_folder_experiment_trains_tests_and_predicts(train, run_folder, image_folder: Path, capsys):
    folder = [f"--data.train_dir={image_folder}", "--data.num_workers=0"]
    rotate = ["--data.augment+=torchvision.transforms.v2.RandomRotation", "--data.augment.degrees=[-10,10]"]
    train("fit", "--config", CONFIG, *folder, *rotate, "--trainer.max_epochs=1")
    run = run_folder("folder_cnn")
    (config,) = (run / "configs").glob("*-fit.yaml")
    (augment,) = yaml.safe_load(config.read_text())["data"]["init_args"]["augment"]  # a rerun gets it back
    assert augment["class_path"].endswith("RandomRotation") and augment["init_args"]["degrees"] == [-10, 10]
    capsys.readouterr()
    train("test", "--config", CONFIG, *folder, "--ckpt_path=best")
    assert float(TEST_ACCURACY.search(capsys.readouterr().out).group(1)) > 0.2  # one epoch: beyond chance
    checkpoint = torch.load(run / "checkpoints" / "best.ckpt", map_location="cpu", weights_only=True)
    assert set(checkpoint["ImageFolderDataModule"]) == {"mean", "std"}

    train("predict", "--config", CONFIG, *folder, "--ckpt_path=best", "--trainer.logger=false")
    (predictions,) = run.glob("predictions-*.csv")
    with predictions.open() as file:
        rows = list(csv.DictReader(file))
    data = ImageFolderDataModule(str(image_folder))
    data.setup("test")
    assert [(row["file"], int(row["target"])) for row in rows] == [(str(p), c) for p, c in data.files["test"]]


@pytest.mark.slow  # two full trainings, about a minute
def test_png_files_train_as_well_as_the_digits_in_memory(train, tmp_path: Path, capsys):
    """The default experiment's CNN and schedule, on the same 1,797 digits: from memory, and from
    PNG files decoded one at a time (8-bit, so slightly coarser than scikit-learn's 17 levels)."""
    folder = images.write_digit_images(tmp_path / "digits")
    accuracy = {}
    for name, args in (("memory", []), ("files", ["--config", CONFIG, f"--data.train_dir={folder}"])):
        train("fit", *args, "--trainer.max_epochs=8", "--trainer.enable_progress_bar=false")
        capsys.readouterr()
        train("test", *args, "--ckpt_path=best", "--trainer.enable_progress_bar=false")
        accuracy[name] = float(TEST_ACCURACY.search(capsys.readouterr().out).group(1))
    assert accuracy["memory"] >= 0.95 and accuracy["files"] >= accuracy["memory"] - 0.02, accuracy


def test_a_bad_file_is_one_line_before_a_run_is_kept(refused, image_folder: Path, run_folders):
    """Found by the training statistics' pass in `setup`, when the run's folder is made: the run is
    refused in one line and its folder removed. (Each bad file and folder is the project's
    datamodule's to name: its own tests.)"""
    path = images.truncate(image_folder)
    err = refused("fit", "--config", CONFIG, f"--data.train_dir={image_folder}")
    assert err.splitlines()[-1].startswith(f"error: {path} is damaged or cut short"), err
    assert not run_folders("folder_cnn")


def test_a_damaged_validation_image_read_in_a_worker_process_is_named(refused, tmp_path: Path):
    """Only training images are decoded before training; a damaged validation image is named when
    a worker process reads it, in one line as well."""
    train_dir = images.write_digit_images(tmp_path / "train", 5)
    val_dir = images.write_digit_images(tmp_path / "val", 2)
    path = images.truncate(val_dir)
    folders = [f"--data.train_dir={train_dir}", f"--data.val_dir={val_dir}"]
    err = refused("fit", "--config", CONFIG, *folders, "--data.num_workers=1", "--trainer.max_epochs=1")
    assert err.splitlines()[-1].startswith(f"error: {path} is damaged or cut short"), err


def test_a_folder_refused_when_the_datamodule_is_built_is_one_line(refused, workdir: Path):
    (workdir / "empty").mkdir()
    err = refused("fit", "--config", CONFIG, "--data.train_dir=empty")
    assert err.splitlines()[-1].startswith("error: --data.train_dir empty has no class folders"), err
    assert not (workdir / "runs").exists()
