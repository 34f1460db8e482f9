"""`python train.py ...` end to end: real LightningCLI runs, W&B offline, files on disk."""

import csv
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from lightning_project.data import DigitsDataModule
from PIL import Image

from litproject.cli import main

from .conftest import PROJECT

SHORT = ["--trainer.max_epochs=1", "--trainer.limit_train_batches=3", "--trainer.limit_val_batches=2"]
CONFIGS = PROJECT / "configs"
EXPERIMENTS = sorted(path.stem for path in CONFIGS.glob("*.yaml") if path.stem != "trainer")


def test_fit_writes_checkpoints_config_and_an_offline_wandb_run(
    wandb_offline, train, workdir: Path, run_folder
):
    train("fit", *SHORT)

    run_dir = run_folder()
    assert (run_dir / "checkpoints" / "best.ckpt").is_file()
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    checkpoint = torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert checkpoint["epoch"] == 0 and checkpoint["global_step"] == 3

    (config_file,) = (run_dir / "configs").glob("*-fit.yaml")
    config = yaml.safe_load(config_file.read_text())
    assert config["seed_everything"] == 42
    assert config["model"]["init_args"]["net"]["class_path"].endswith("models.Net")

    (wandb_run,) = (workdir / "wandb").glob("offline-run-*/run-*.wandb")
    assert wandb_run.stat().st_size > 0


@pytest.mark.slow  # several fits: run by `pytest -m slow` and CI
def test_fit_twice_then_test_keeps_every_config(wandb_offline, train, workdir: Path, run_folders):
    train("fit", *SHORT)
    train("fit", *SHORT)
    first, second = run_folders()
    train("test", f"--ckpt_path={first / 'checkpoints' / 'last.ckpt'}", "--trainer.limit_test_batches=2")

    # Each fit has its own folder; the test of the first run's checkpoint belongs to that run.
    assert [path.name[-8:] for path in sorted((first / "configs").iterdir())] == ["fit.yaml", "est.yaml"]
    assert [path.name[-8:] for path in (second / "configs").iterdir()] == ["fit.yaml"]
    assert len(list((workdir / "wandb").glob("offline-run-*"))) == 3


@pytest.mark.parametrize("switch_off", [["--trainer.logger=false"], []], ids=["logger=false", "disabled"])
def test_logging_switched_off_writes_no_wandb_folder(
    train, workdir: Path, monkeypatch, run_folder, switch_off: list
):
    monkeypatch.setenv("WANDB_MODE", "offline" if switch_off else "disabled")
    train("fit", *SHORT, *switch_off)
    assert not (workdir / "wandb").exists()
    assert (run_folder() / "checkpoints" / "last.ckpt").is_file()


def test_printed_config_feeds_back_into_fit(train, workdir: Path, capsys: pytest.CaptureFixture, run_folder):
    with pytest.raises(SystemExit) as exit_info:
        train("fit", "--print_config")
    assert exit_info.value.code == 0
    printed = capsys.readouterr().out
    (workdir / "printed.yaml").write_text(printed)
    assert yaml.safe_load(printed)["trainer"]["max_epochs"] == 15

    train("fit", "--config", "printed.yaml", *SHORT)
    # The experiment is named after the last config file.
    assert (run_folder("printed") / "checkpoints" / "last.ckpt").is_file()


def test_predict_writes_a_csv_row_for_every_test_image_in_order(train, trained: Path):
    train("predict", "--ckpt_path=best", "--trainer.logger=false")

    (path,) = trained.glob("predictions-*.csv")  # in the folder of the run that trained it
    with path.open() as file:
        rows = list(csv.DictReader(file))
    data = DigitsDataModule()
    data.setup()
    targets = data.splits["test"].tensors[1].tolist()
    assert len(rows) == len(targets) == 270
    assert [int(row["index"]) for row in rows] == list(range(270))  # the predict split's order
    assert [int(row["target"]) for row in rows] == targets
    for row in rows:
        probabilities = [float(row[f"probabilities_{i}"]) for i in range(10)]
        assert sum(probabilities) == pytest.approx(1, abs=1e-5)
        assert int(row["class"]) == max(range(10), key=probabilities.__getitem__)

    train("predict", "--ckpt_path=best", "--trainer.logger=false")  # a second one keeps the first
    assert len(list(trained.glob("predictions-*.csv"))) == 2


def test_train_py_alone_prints_a_guide_without_waiting_for_lightning():
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "train.py"], cwd=PROJECT, capture_output=True, text=True
    )
    assert result.returncode == 2
    imports = [line for line in result.stderr.splitlines() if line.startswith("import time:")]
    guide = "\n".join(line for line in result.stderr.splitlines() if not line.startswith("import time:"))
    for word in ("fit", "validate", "test", "predict", "--config", "--ckpt_path", "--help", *EXPERIMENTS):
        assert word in guide
    assert "Traceback" not in guide
    assert imports and not [line for line in imports if re.search(r"\|\s+(lightning|torch)\b", line)]


def test_every_run_ends_by_saying_where_its_files_went(train, workdir: Path, capsys):
    def reported(*args: str) -> dict[str, str]:
        capsys.readouterr()
        train(*args)
        lines = capsys.readouterr().out.splitlines()
        reports = r"Run: |(Best|Last) checkpoint: |Config: "
        return dict(line.split(": ", 1) for line in lines if re.match(reports, line))

    fit = reported("fit", *SHORT)
    run = fit.pop("Run")
    assert re.fullmatch(r"runs/digits_cnn/\d{8}-\d{6}", run)  # named after its start time
    assert fit["Best checkpoint"] == f"{run}/checkpoints/best.ckpt"
    assert fit["Last checkpoint"] == f"{run}/checkpoints/last.ckpt"
    assert re.fullmatch(run + r"/configs/\d{8}-\d{6}-fit\.yaml", fit["Config"])
    test = reported("test", "--ckpt_path=best", "--trainer.limit_test_batches=1")
    assert list(test) == ["Run", "Config"] and test["Run"] == run and test["Config"].endswith("-test.yaml")
    assert all((workdir / path).is_file() for path in [*fit.values(), test["Config"]])


def test_fit_draws_its_learning_curves(train, run_folder):
    train("fit", *SHORT, "--trainer.max_epochs=2", "--trainer.logger=false")
    with Image.open(run_folder() / "learning_curves.png") as image:
        assert image.format == "PNG" and image.width > 400


def test_training_loss_is_logged_every_log_every_n_steps(train, run_folders):
    """Sent to the loggers on the steps of `log_every_n_steps`, each with that step's loss: the
    same as in a run that logs every step; the epoch's metrics do not depend on it."""

    def logged(every: int) -> tuple[dict[int, str], list[dict[str, str]]]:
        train(
            "fit",
            *SHORT,
            "--trainer.limit_train_batches=7",
            "--trainer.limit_val_batches=4",
            "--data.batch_size=16",
            f"--trainer.log_every_n_steps={every}",
            "--trainer.logger=CSVLogger",
            "--trainer.callbacks=[]",
        )
        (metrics,) = run_folders()[-1].glob("version_*/metrics.csv")
        with metrics.open() as file:
            rows = list(csv.DictReader(file))
        losses = {int(row["step"]): row["train/loss"] for row in rows if row.get("train/loss")}
        epoch_metrics = [
            {key: value for key, value in row.items() if value and key.endswith(("/acc", "val/loss"))}
            for row in rows
            if row.get("train/acc") or row.get("val/acc")
        ]
        return losses, epoch_metrics

    every_step, every_step_metrics = logged(1)
    assert sorted(every_step) == list(range(7))
    assert {"train/acc", "val/acc", "val/loss"} <= {key for row in every_step_metrics for key in row}
    every_third, every_third_metrics = logged(3)
    assert every_third == {step: every_step[step] for step in (2, 5)}  # steps 3 and 6, from 0
    assert every_third_metrics == every_step_metrics
    never, never_metrics = logged(0)
    assert never == {}  # Lightning's "no step logging", not a division by zero
    assert never_metrics == every_step_metrics


def test_csv_and_tensorboard_loggers_write_metrics_to_the_run_folder(train, workdir: Path, run_folders):
    train("fit", *SHORT, "--trainer.logger=CSVLogger", "--trainer.log_every_n_steps=1")
    (metrics,) = run_folders()[-1].glob("version_*/metrics.csv")
    with metrics.open() as file:
        logged = {key for row in csv.DictReader(file) for key, value in row.items() if value}
    assert {"train/loss", "val/loss", "val/acc", "train/lr"} <= logged

    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    train("fit", *SHORT, "--trainer.logger=TensorBoardLogger", "--trainer.log_every_n_steps=1")
    (events,) = run_folders()[-1].glob("**/events.out.tfevents.*")
    scalars = event_accumulator.EventAccumulator(str(events)).Reload().Tags()["scalars"]
    assert {"train/loss", "val/loss", "val/acc"} <= set(scalars)
    assert not (workdir / "wandb").exists()


def test_networks_and_data_combine_by_short_name_with_sizes_from_the_data(train, run_folder):
    """TwoLayerNet was written for 1000 random features; on digits it gets 784 inputs, 10 outputs."""
    train("fit", "--model.net=TwoLayerNet", "--data=DigitsDataModule", "--data.image_size=28", *SHORT)
    (saved,) = (run_folder() / "configs").glob("*-fit.yaml")
    net = yaml.safe_load(saved.read_text())["model"]["init_args"]["net"]
    assert net["class_path"].endswith("TwoLayerNet")
    assert (net["init_args"]["in_features"], net["init_args"]["out_features"]) == (784, 10)


def test_regression_experiment_from_classification_default_by_name(train, run_folder):
    train(
        "fit",
        "--experiment=teacher_by_name",  # else it would be named after the default experiment
        "--model=RegressionTask",
        "--model.net=MyNetwork",
        "--data=TeacherDataModule",
        "--data.in_features=20",
        "--data.out_features=40",
        *SHORT,
    )
    # The network built from names loads into the experiment written as a config, and tests.
    run = run_folder("teacher_by_name")
    last = run / "checkpoints" / "last.ckpt"
    train(
        "test", "--config", str(CONFIGS / "deep_linear.yaml"), f"--ckpt_path={last}", "--trainer.logger=false"
    )
    assert list((run / "configs").glob("*-test.yaml"))  # the test of a run's checkpoint belongs to it


def test_incompatible_pair_stops_before_training_with_one_message(train, workdir: Path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train("fit", "--data=CropYieldsDataModule")  # the default CNN classifier on crop yields
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "ClassificationTask needs class labels, but CropYieldsDataModule has numeric targets" in err
    assert "Traceback" not in err
    assert not (workdir / "runs").exists() and not (workdir / "wandb").exists()


def test_missing_mnist_offline_is_one_clear_error(train, workdir: Path, capsys):
    config = ["--config", str(CONFIGS / "mnist_cnn.yaml")]
    with pytest.raises(SystemExit) as exit_info:
        train("fit", *config, "--data.data_dir=empty", "--data.download=false")
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "MNIST is not in empty/MNIST/raw" in err and "train-images-idx3-ubyte" in err
    assert "Traceback" not in err


@pytest.mark.slow  # starts DataLoader worker processes
def test_data_workers_serve_the_same_training(train, workdir: Path):
    """Batches cut in two worker processes are the batches of the main process, in the same
    order: the trained weights are the same, bit for bit."""
    weights = {}
    for workers in (0, 2):
        train(
            "fit", *SHORT, f"--data.num_workers={workers}", f"--run_name=w{workers}", "--trainer.logger=false"
        )
        last = workdir / "runs" / "digits_cnn" / f"w{workers}" / "checkpoints" / "last.ckpt"
        weights[workers] = torch.load(last, map_location="cpu", weights_only=True)["state_dict"]
    assert weights[0].keys() == weights[2].keys()
    for name, tensor in weights[0].items():
        assert torch.equal(tensor, weights[2][name]), name


def test_the_trainer_spares_each_step_what_nobody_asked_for(monkeypatch, default_configs):
    """Lightning's default progress bar becomes ours (updated at the eye's pace), no profiler asked
    for costs nothing, and callbacks are not called for hooks they do not implement; a progress
    bar switched off or a profiler asked for stay as the user set them."""
    from lightning.pytorch.callbacks import RichProgressBar
    from lightning.pytorch.profilers import SimpleProfiler

    from litproject.callbacks import ProgressBar
    from litproject.trainer import NoProfiler

    monkeypatch.setattr(sys, "argv", ["train.py"])
    trainer = main(["--trainer.logger=false"], default_configs[:1], default_configs[1], run=False).trainer
    assert type(trainer.progress_bar_callback) is ProgressBar
    assert type(trainer.profiler) is NoProfiler
    assert trainer.checkpoint_callback.on_train_batch_start is None  # an inherited no-op
    assert callable(trainer.checkpoint_callback.on_train_batch_end)  # ModelCheckpoint's own

    flags = ["--trainer.logger=false", "--trainer.enable_progress_bar=false", "--trainer.profiler=simple"]
    trainer = main(flags, default_configs[:1], default_configs[1], run=False).trainer
    assert trainer.progress_bar_callback is None
    assert type(trainer.profiler) is SimpleProfiler

    flags = ["--trainer.logger=false", "--trainer.callbacks+=RichProgressBar"]
    flags.append("--trainer.callbacks.leave=true")  # a bar the user configured keeps its settings
    trainer = main(flags, default_configs[:1], default_configs[1], run=False).trainer
    assert type(trainer.progress_bar_callback) is RichProgressBar and trainer.progress_bar_callback._leave


def test_the_progress_bar_updates_at_most_so_often_and_at_the_end_of_an_epoch(monkeypatch):
    from litproject.callbacks import progress_bar

    now = [100.0]
    monkeypatch.setattr(progress_bar.time, "monotonic", lambda: now[0])
    bar = progress_bar.ProgressBar(updates_per_second=10)
    assert bar._due(1, 50)  # the first batch
    now[0] += 0.05
    assert not bar._due(2, 50)  # too soon
    assert bar._due(50, 50)  # the last batch, however soon
    now[0] += 0.2
    assert bar._due(51, float("inf"))  # due again (an iterable without a length)

    # The bar of a process other than the first under DDP is disabled and follows no dataloader.
    bar.disable()
    bar.on_validation_batch_end(None, None, None, None, batch_idx=0)
    bar.on_train_batch_end(None, None, None, None, batch_idx=0)
