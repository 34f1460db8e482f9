"""Checkpoints users can trust: exact resume, interrupts that save, bad paths that change nothing."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import fsspec.implementations.local
import pytest
import torch
from torch import nn

from .conftest import PROJECT
from .helpers.wandb_run import load_runs

QUIET = ["--trainer.enable_progress_bar=false", "--trainer.logger=false"]
SHORT = ["--trainer.limit_train_batches=4", "--trainer.limit_val_batches=2", *QUIET]


class DropoutNet(nn.Module):
    """A network with dropout: its random masks draw on the global random state, which a resumed
    run gets back only from the checkpoint (the tutorials' networks have no dropout)."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Dropout(0.5))
        self.out = nn.Linear(64, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.layers(x))


def load(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


# A step-wise cosine schedule: the resumed run must go on from the step it stopped at.
COSINE = [
    "--model.schedule.scheduler=torch.optim.lr_scheduler.CosineAnnealingLR",
    "--model.schedule.scheduler.T_max=8",
    "--model.schedule.interval=step",
]


@pytest.mark.slow  # several fits: run by `pytest -m slow` and CI
@pytest.mark.parametrize("schedule", [[], COSINE], ids=["constant rate", "cosine schedule"])
def test_two_epochs_equal_one_epoch_and_a_resume(train, schedule: list[str]):
    net = [f"--model.net={__name__}.DropoutNet", *schedule]
    train("fit", *net, *SHORT, "--trainer.max_epochs=2", "--trainer.default_root_dir=runs/straight")
    train("fit", *net, *SHORT, "--trainer.max_epochs=1", "--trainer.default_root_dir=runs/resumed")
    train(
        "fit",
        *net,
        *SHORT,
        "--trainer.max_epochs=2",
        "--trainer.default_root_dir=runs/resumed",
        "--ckpt_path=last",
    )

    straight = load(Path("runs/straight/checkpoints/last.ckpt"))
    resumed = load(Path("runs/resumed/checkpoints/last.ckpt"))
    assert (
        (straight["epoch"], straight["global_step"]) == (resumed["epoch"], resumed["global_step"]) == (1, 8)
    )
    for name, tensor in straight["state_dict"].items():
        assert torch.equal(tensor, resumed["state_dict"][name]), name
    for param, state in straight["optimizer_states"][0]["state"].items():
        for key, value in state.items():
            assert torch.equal(value, resumed["optimizer_states"][0]["state"][param][key]), key
    # The learning curves of the resumed run cover both epochs.
    assert [row["epoch"] for row in resumed["callbacks"]["LearningCurves"]["history"]] == [1, 2]
    # The schedule, if any, is where an unbroken run's is: same step, same rate.
    assert straight["lr_schedulers"] == resumed["lr_schedulers"]
    rates = [s["optimizer_states"][0]["param_groups"][0]["lr"] for s in (straight, resumed)]
    assert rates[0] == rates[1] and (rates[0] < 0.003) == bool(schedule)


@pytest.mark.slow  # several fits
def test_early_stopping_counts_on_across_a_resume(train):
    """A run stopped after 2 epochs and resumed stops early where an unbroken run does."""
    stop = ["--config", str(PROJECT / "configs" / "digits_cnn.yaml")]
    stop += ["--config", str(PROJECT / "configs" / "recipes" / "early_stopping.yaml")]
    stalled = [*stop, *SHORT, "--model.optimizer.lr=1e-9", "--trainer.max_epochs=10"]
    train("fit", *stalled, "--run_name=straight")
    train("fit", *stalled[:-1], "--trainer.max_epochs=2", "--run_name=resumed")
    train("fit", *stalled, "--run_name=resumed", "--ckpt_path=last")
    straight, resumed = (
        load(Path("runs/digits_cnn", name, "checkpoints", "last.ckpt")) for name in ("straight", "resumed")
    )
    assert straight["epoch"] == resumed["epoch"] == 3  # stopped after the 4th epoch, as counted
    (state,) = [value for key, value in straight["callbacks"].items() if key.startswith("EarlyStopping")]
    assert state == next(
        value for key, value in resumed["callbacks"].items() if key.startswith("EarlyStopping")
    )


def test_last_checkpoint_follows_training_when_the_metric_stops_improving(train, run_folder):
    # With lr=0 the validation loss never improves after the first epoch; `last` must still move.
    train("fit", *SHORT, "--trainer.max_epochs=3", "--model.optimizer.lr=0")
    checkpoints = run_folder() / "checkpoints"
    assert load(checkpoints / "best.ckpt")["epoch"] == 0
    assert load(checkpoints / "last.ckpt")["epoch"] == 2


def test_a_crash_while_saving_leaves_the_previous_checkpoint_whole(train, monkeypatch, run_folder):
    train("fit", *SHORT, "--trainer.max_epochs=1")
    last = run_folder() / "checkpoints" / "last.ckpt"
    before = last.read_bytes()

    def disk_full(self, data):  # the file system fails halfway through writing a checkpoint
        self.f.write(data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fsspec.implementations.local.LocalFileOpener, "write", disk_full)
    with pytest.raises(OSError, match="No space left"):
        train("fit", *SHORT, "--trainer.max_epochs=2", "--ckpt_path=last")
    assert last.read_bytes() == before
    assert load(last)["epoch"] == 0


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 128 + signal.SIGTERM), (signal.SIGINT, 1)])
def test_an_interrupted_run_saves_its_place_and_resumes_in_the_same_wandb_run(
    wandb_offline, train, workdir: Path, process_env: dict, run_folder, signum: int, status: int
):
    # Batches of 4: about 315 steps an epoch (a second or more), so the signal lands mid-epoch.
    args = [
        "fit",
        "--data.batch_size=4",
        "--trainer.limit_val_batches=2",
        "--trainer.enable_progress_bar=false",
    ]
    run = subprocess.Popen(
        [sys.executable, str(PROJECT / "train.py"), *args, "--trainer.max_epochs=-1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=process_env,
    )
    deadline = time.monotonic() + 120
    while not list(workdir.glob("runs/digits_cnn/*/checkpoints/last.ckpt")) and time.monotonic() < deadline:
        assert run.poll() is None, run.communicate()[0]
        time.sleep(0.1)
    checkpoints = run_folder() / "checkpoints"
    first_epoch = load(checkpoints / "last.ckpt")["global_step"]
    time.sleep(0.5)  # past the end of the first epoch (validation, media, curves), into the second
    run.send_signal(signum)
    output, _ = run.communicate(timeout=60)

    assert run.returncode == status, output
    assert "Traceback" not in output
    saved = load(checkpoints / "last.ckpt")
    assert saved["global_step"] > first_epoch and saved["global_step"] % first_epoch != 0  # mid-epoch
    assert "Resume with the same command and --ckpt_path last" in output

    train(*args, "--ckpt_path=last", f"--trainer.max_epochs={saved['epoch'] + 1}")  # to the epoch's end
    resumed = load(run_folder() / "checkpoints" / "last.ckpt")  # the same, only run
    assert resumed["epoch"] == saved["epoch"] and resumed["global_step"] > saved["global_step"]
    interrupted, continued = load_runs(workdir / "wandb")
    assert interrupted.run_id == continued.run_id == saved["wandb_run_id"]


@pytest.mark.parametrize(
    ("ckpt_path", "message"),
    [
        ("missing.ckpt", "--ckpt_path missing.ckpt: no such file"),
        ("random.ckpt", "random.ckpt: not a complete PyTorch checkpoint"),
        ("o.ckpt", "--ckpt_path o.ckpt holds weights that do not fit ClassificationTask (missing net.conv1"),
        ("best", "--ckpt_path best: there is no best checkpoint in runs/random_mlp."),
    ],
)
def test_a_bad_checkpoint_is_one_clear_error_and_changes_nothing(
    train, trained: Path, capsys, snapshot, ckpt_path: str, message: str
):
    Path("random.ckpt").write_bytes(os.urandom(4096))
    # As if from a CNN trained on 2 classes: a last layer of 2 outputs where the model has 10.
    torch.save(
        {"state_dict": {"net.fc.weight": torch.zeros(2, 320), "net.fc.bias": torch.zeros(2)}}, "o.ckpt"
    )
    before = snapshot()
    config = ["--config", str(PROJECT / "configs" / "random_mlp.yaml")] if ckpt_path == "best" else []
    capsys.readouterr()

    with pytest.raises(SystemExit) as exit_info:
        train("test", *config, f"--ckpt_path={ckpt_path}", *QUIET)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert f"error: {message}" in err
    assert "Traceback" not in err
    assert snapshot() == before
