"""Training recipes, run as the docs write them: learning-rate schedules, early stopping, the debug
presets, the learning-rate finder, gradient clipping and accumulation."""

import csv
import math
import sys
from pathlib import Path

import pytest
import torch

from litproject.cli import main
from litproject.history import read_rows

from .conftest import PROJECT

CONFIGS = PROJECT / "configs"
DIGITS = ["--config", str(CONFIGS / "digits_cnn.yaml")]
QUICK = [
    "--trainer.limit_train_batches=4",
    "--trainer.limit_val_batches=2",
    "--trainer.enable_progress_bar=false",
]


def recipe(name: str) -> list[str]:
    return [*DIGITS, "--config", str(CONFIGS / "recipes" / f"{name}.yaml")]


def preset(name: str) -> list[str]:
    return [*DIGITS, "--config", str(CONFIGS / "debug" / f"{name}.yaml")]


def logged_rates(run: Path) -> list[float]:
    """The learning rates the run logged, in order (CSVLogger's metrics.csv)."""
    (metrics,) = run.glob("version_*/metrics.csv")
    with metrics.open() as file:
        return [float(row["train/lr"]) for row in csv.DictReader(file) if row.get("train/lr")]


CSV_EVERY_STEP = ["--trainer.logger=CSVLogger", "--trainer.log_every_n_steps=1"]


def test_cosine_lowers_the_rate_at_every_step(train, run_folder):
    train("fit", *recipe("cosine"), *QUICK, "--trainer.max_epochs=2", *CSV_EVERY_STEP)
    rates = logged_rates(run_folder())
    assert len(rates) == 8 and rates[0] == pytest.approx(0.003)  # one per step, from the optimizer's rate
    assert all(later < earlier for earlier, later in zip(rates, rates[1:], strict=False))


@pytest.mark.slow  # a few epochs: run by `pytest -m slow` and CI
def test_one_cycle_rises_then_falls_over_the_runs_steps(train, run_folder, capsys):
    train("fit", *recipe("one_cycle"), *QUICK, "--trainer.max_epochs=3", *CSV_EVERY_STEP)
    rates = logged_rates(run_folder())
    peak = rates.index(max(rates))
    assert 0 < peak < len(rates) - 1 and max(rates) == pytest.approx(0.01, rel=0.05)
    assert rates[-1] < rates[0]  # total_steps was counted: the cycle ends with the run
    with pytest.raises(SystemExit) as exit_info:  # a longer resume would step past the cycle
        train("fit", "--ckpt_path=last", *recipe("one_cycle"), *QUICK, "--trainer.max_epochs=5")
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "Traceback" not in err
    assert "error: this run's one-cycle schedule was built for 12 optimizer steps and the trainer" in err
    assert "now asks for 20: a cycle cannot be stretched once started." in err


@pytest.mark.slow  # a few epochs: run by `pytest -m slow` and CI
def test_plateau_divides_the_rate_when_the_loss_stalls(train, run_folder):
    # Asked to improve by half each epoch, the validation loss soon "stalls": the rate is cut by 10.
    train(
        "fit",
        *recipe("plateau"),
        *QUICK,
        "--trainer.max_epochs=9",
        "--model.schedule.scheduler.threshold=0.5",
        *CSV_EVERY_STEP,
    )
    rates = logged_rates(run_folder())  # once an epoch
    cut = rates.index(min(rates))
    assert len(rates) == 9 and cut > 0
    assert rates[:cut] == pytest.approx([3e-3] * cut) and rates[cut:] == pytest.approx([3e-4] * (9 - cut))


def test_plateau_watching_a_metric_the_task_never_logs_is_one_line(train, capsys, run_folder):
    with pytest.raises(SystemExit) as exit_info:
        train("fit", *recipe("plateau"), *QUICK, "--model.schedule.monitor=val/f1")
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "Traceback" not in err
    assert (
        "error: --model.schedule.monitor val/f1: the task never logs it; ReduceLROnPlateau can watch" in err
    )
    assert not list(run_folder().glob("checkpoints/*.ckpt"))


@pytest.mark.slow  # a few epochs: run by `pytest -m slow` and CI
def test_early_stopping_stops_a_stalled_run_and_says_why(train, capsys, run_folder):
    capsys.readouterr()
    train("fit", *recipe("early_stopping"), *QUICK, "--trainer.max_epochs=20", "--model.optimizer.lr=1e-9")
    out = capsys.readouterr().out
    # val/loss improves by less than min_delta at lr 1e-9: 3 validations without progress, after the first.
    assert (
        "Stopped early after epoch 4: Monitored metric val/loss did not improve in the last 3 records." in out
    )
    assert len(read_rows(run_folder() / "metrics.csv")) == 4


def test_early_stopping_watches_a_named_metric_the_way_it_improves(train, run_folder):
    train(
        "fit", *recipe("early_stopping"), *QUICK, "--trainer.max_epochs=1", "--early_stopping.monitor=val/acc"
    )
    checkpoint = torch.load(run_folder() / "checkpoints" / "last.ckpt", weights_only=False)
    state = checkpoint["callbacks"]["EarlyStopping{'monitor': 'val/acc', 'mode': 'max'}"]
    # Accuracy rises as it improves (torchmetrics' higher_is_better): its best is the epoch's accuracy.
    (epoch,) = read_rows(run_folder() / "metrics.csv")
    assert state["best_score"].item() == pytest.approx(epoch["val/acc"])


def test_early_stopping_on_a_metric_the_task_never_logs_is_one_line(train, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train("fit", *recipe("early_stopping"), *QUICK, "--early_stopping.monitor=val/f1")
    assert exit_info.value.code == 2
    assert "error: --early_stopping.monitor val/f1: the task never logs it; it logs val/acc, val/loss." in (
        capsys.readouterr().err
    )


def test_a_debug_run_never_becomes_an_experiments_last_checkpoint(train, workdir: Path, run_folder, capsys):
    train("fit", *preset("fast"))
    assert run_folder("digits_cnn-debug")  # one run, in runs/digits_cnn-debug/
    assert not (workdir / "runs" / "digits_cnn").exists()
    capsys.readouterr()
    with pytest.raises(SystemExit):
        train("test", "--ckpt_path=last", "--trainer.logger=false")
    assert (
        "error: --ckpt_path last: there is no last checkpoint in runs/digits_cnn." in capsys.readouterr().err
    )


@pytest.mark.slow  # a few epochs: run by `pytest -m slow` and CI
def test_the_limit_preset_runs_a_few_batches_a_few_epochs(train, run_folder):
    train("fit", *preset("limit"))
    run = run_folder("digits_cnn-debug")
    assert [row["epoch"] for row in read_rows(run / "metrics.csv")] == [1, 2, 3]
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 30


class NanInBackward(torch.nn.Module):
    """A network whose backward pass turns NaN at the third step (forward stays finite)."""

    def __init__(self, in_features: int = 784, num_classes: int = 10) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(in_features, num_classes)
        self.steps = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.steps += self.training
        out = self.linear(x.flatten(1))
        return out * torch.sqrt(out - out) if self.steps == 3 else out  # 0 forward; inf - inf backward


@pytest.fixture
def deterministic_reset():
    """The Trainer switches PyTorch to deterministic algorithms for the whole process: switch back."""
    yield
    torch.use_deterministic_algorithms(False)


def test_the_anomaly_preset_names_the_operation_that_made_a_nan(train, deterministic_reset):
    with pytest.raises(RuntimeError, match="returned nan values"):  # PyTorch's anomaly detection
        train("fit", *preset("anomaly"), f"--model.net={__name__}.NanInBackward")
    assert torch.are_deterministic_algorithms_enabled()


@pytest.mark.slow  # a few epochs: run by `pytest -m slow` and CI
def test_the_profile_preset_writes_its_report_and_prints_the_slowest_steps(train, run_folder, capsys):
    capsys.readouterr()
    train("fit", *preset("profile"), "--trainer.limit_train_batches=5", "--trainer.limit_val_batches=2")
    out = capsys.readouterr().out
    report = run_folder("digits_cnn-debug") / "fit-profile.txt"
    assert "FIT Profiler Report" in report.read_text()
    assert f"Profile: {report.relative_to(Path.cwd())}; the slowest steps (total time, share):" in out
    assert " %  run_training_epoch" in out


@pytest.mark.slow  # 40 epochs
def test_the_overfit_preset_drives_the_training_loss_near_zero(train, run_folder):
    train("fit", *preset("overfit"), "--trainer.enable_progress_bar=false")
    epochs = read_rows(run_folder("digits_cnn-debug") / "metrics.csv")
    assert epochs[-1]["train/loss"] < 0.05


def test_the_overfit_preset_refuses_data_with_fewer_batches(train, capsys, workdir: Path):
    experiment = ["--config", str(CONFIGS / "crop_yields_linear.yaml")]
    with pytest.raises(SystemExit):
        train("fit", *experiment, "--config", str(CONFIGS / "debug" / "overfit.yaml"))
    assert (
        "error: --trainer.overfit_batches 4: CropYieldsDataModule has 1 training batch(es) of 16; ask for at "
        "most 1, or a smaller --data.batch_size." in capsys.readouterr().err
    )
    assert not (workdir / "runs").exists()


def test_a_preset_alone_is_refused(train, capsys):
    with pytest.raises(SystemExit):
        train("fit", "--config", str(CONFIGS / "debug" / "fast.yaml"))
    assert "sets neither model nor data: give an experiment config first" in capsys.readouterr().err


def test_gradient_clipping_and_accumulation_reach_the_trainer(monkeypatch, default_configs):
    monkeypatch.setattr(sys, "argv", ["train.py"])
    flags = [
        "--trainer.gradient_clip_val=0.5",
        "--trainer.accumulate_grad_batches=4",
        "--trainer.logger=false",
    ]
    trainer = main(flags, default_configs[:1], default_configs[1], run=False).trainer
    assert trainer.gradient_clip_val == 0.5  # by the norm, Lightning's default
    assert trainer.accumulate_grad_batches == 4


@pytest.mark.slow  # a search, then the default experiment's full 15 epochs
def test_the_learning_rate_finders_suggestion_trains_the_default_experiment(train, run_folders, capsys):
    capsys.readouterr()
    train("lr_find", "--min_lr=1e-5", "--max_lr=0.5", "--trainer.enable_progress_bar=false")
    out = capsys.readouterr().out
    (suggested,) = [line for line in out.splitlines() if line.startswith("Suggested learning rate: ")]
    lr = float(suggested.split("--model.optimizer.lr=")[1])
    assert math.isfinite(lr) and 1e-5 <= lr <= 0.5
    (search,) = run_folders()
    assert (search / "lr_find.png").is_file()

    train("fit", f"--model.optimizer.lr={lr}", "--trainer.enable_progress_bar=false")
    trained = run_folders()[-1]
    assert max(row["val/acc"] for row in read_rows(trained / "metrics.csv")) >= 0.95
