"""A folder per run: runs started together never share one, `--ckpt_path last` / `best` find the
newest, runs can be named, and an experiment's config never reaches another experiment."""

import os
import re
import runpy
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import yaml

from litproject import runs
from litproject.runs import RunLock, checkpoints_of, claim

from .conftest import PROJECT
from .helpers.wandb_run import load_runs

CONFIGS = PROJECT / "configs"
SHORT = [
    "--trainer.max_epochs=1",
    "--trainer.limit_train_batches=3",
    "--trainer.limit_val_batches=2",
    "--trainer.enable_progress_bar=false",
]
QUIET = ["--trainer.logger=false"]
REPORTED = re.compile(r"^(Run|Best checkpoint|Last checkpoint|Config): (\S+)$", re.MULTILINE)


def load(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def wandb_id(run: Path) -> str:
    return yaml.safe_load((run / "run.yaml").read_text())["wandb_run_id"]


def test_runs_claimed_in_the_same_second_get_a_folder_each(workdir: Path, monkeypatch):
    monkeypatch.setattr(runs, "time", SimpleNamespace(strftime=lambda _: "20260101-120000"))
    experiment = workdir / "runs" / "digits_cnn"
    claimed = []
    threads = [threading.Thread(target=lambda: claimed.append(claim(experiment))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    names = ["20260101-120000", *(f"20260101-120000-{n}" for n in range(2, 9))]
    assert sorted(folder.name for folder in claimed) == sorted(names)
    for folder in claimed:
        info = yaml.safe_load((folder / "run.yaml").read_text())
        assert (info["experiment"], info["run"]) == ("digits_cnn", folder.name)


@pytest.fixture
def frozen_clock(tmp_path: Path, process_env: dict) -> dict:
    """The environment of a process whose clock always says 2026-01-01 12:00:00 when a run is
    named: as for runs started in the same second, however long Python takes to start."""
    site = tmp_path / "frozen_clock"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import time\n"
        "_strftime = time.strftime\n"
        "def strftime(format, *args):\n"
        "    return '20260101-120000' if format == '%Y%m%d-%H%M%S' else _strftime(format, *args)\n"
        "time.strftime = strftime\n"
    )
    return {**process_env, "PYTHONPATH": f"{site}:{process_env['PYTHONPATH']}"}


@pytest.mark.slow
def test_two_fits_started_together_write_two_complete_separate_runs(workdir: Path, frozen_clock, run_folders):
    def start(lr: float) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, str(PROJECT / "train.py"), "fit", *SHORT, "--trainer.max_epochs=2"]
            + [f"--model.optimizer.lr={lr}"],
            cwd=workdir,
            env=frozen_clock,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    processes = {lr: start(lr) for lr in (0.001, 0.002)}
    outputs = {lr: process.communicate(timeout=300)[0] for lr, process in processes.items()}
    for lr, process in processes.items():
        assert process.returncode == 0, outputs[lr][-3000:]

    folders = run_folders()
    assert sorted(folder.name for folder in folders) == ["20260101-120000", "20260101-120000-2"]
    for lr, output in outputs.items():
        printed = dict(REPORTED.findall(output))
        run = workdir / printed.pop("Run")
        # Everything this run reported lies in its own folder, and holds its own learning rate.
        assert all((workdir / path).is_relative_to(run) for path in printed.values()), printed
        config = yaml.safe_load((workdir / printed["Config"]).read_text())
        assert config["model"]["init_args"]["optimizer"]["init_args"]["lr"] == lr
        for name in ("Best checkpoint", "Last checkpoint"):
            checkpoint = load(workdir / printed[name])
            assert checkpoint["hyper_parameters"]["optimizer"]["init_args"]["lr"] == lr
            assert checkpoint["wandb_run_id"] == wandb_id(run)
        assert load(workdir / printed["Last checkpoint"])["epoch"] == 1
        assert (run / "learning_curves.png").is_file()
    assert wandb_id(folders[0]) != wandb_id(folders[1])


@pytest.mark.slow  # several fits: run by `pytest -m slow` and CI
def test_last_resumes_the_newest_run_in_its_folder_and_its_wandb_run(
    wandb_offline, train, workdir, run_folders, capsys
):
    train("fit", *SHORT)
    train("fit", *SHORT)
    older, newer = run_folders()
    untouched = (older / "checkpoints" / "last.ckpt").read_bytes()
    capsys.readouterr()

    train("fit", *SHORT, "--trainer.max_epochs=2", "--ckpt_path=last")
    out = capsys.readouterr().out
    assert f"--ckpt_path last: {newer.relative_to(workdir)}/checkpoints/last.ckpt\n" in out
    assert f"Run: {newer.relative_to(workdir)}\n" in out
    assert run_folders() == [older, newer]  # no new folder
    assert load(newer / "checkpoints" / "last.ckpt")["epoch"] == 1
    assert (older / "checkpoints" / "last.ckpt").read_bytes() == untouched
    first, second, resumed = load_runs(workdir / "wandb")
    assert resumed.run_id == second.run_id == wandb_id(newer) != first.run_id


def test_last_passes_over_runs_with_no_checkpoint_yet_or_in_training(train, workdir, run_folders, capsys):
    train("fit", *SHORT)
    (trained,) = run_folders()
    experiment = workdir / "runs" / "digits_cnn"
    crashed = claim(experiment)  # stopped before its first checkpoint
    training = claim(experiment)  # newest, and another process trains it now
    shutil.copytree(trained / "checkpoints", training / "checkpoints")
    other_process = RunLock(training)
    assert other_process.acquire()
    capsys.readouterr()
    try:
        train("fit", *SHORT, "--trainer.max_epochs=2", "--ckpt_path=last", "--trainer.logger=false")
    finally:
        other_process.release()

    out = capsys.readouterr().out
    assert f"{training.relative_to(workdir)} is training in another process" in out
    assert f"{crashed.relative_to(workdir)} has no last checkpoint yet" in out
    assert f"--ckpt_path last: {trained.relative_to(workdir)}/checkpoints/last.ckpt" in out
    assert load(trained / "checkpoints" / "last.ckpt")["epoch"] == 1
    assert load(training / "checkpoints" / "last.ckpt")["epoch"] == 0


def test_last_is_the_newer_of_last_ckpt_and_the_slurm_time_limit_checkpoint(workdir: Path):
    run = claim(workdir / "runs" / "digits_cnn")
    (run / "checkpoints").mkdir()
    last, hpc = run / "checkpoints" / "last.ckpt", run / "hpc_ckpt_1.ckpt"
    for path, saved_at in ((last, 1000), (hpc, 2000)):
        path.write_bytes(b"")
        os.utime(path, (saved_at, saved_at))
    assert checkpoints_of(run, "last") == [hpc, last]
    os.utime(last, (3000, 3000))
    assert checkpoints_of(run, "last") == [last, hpc]
    assert checkpoints_of(run, "best") == []


@pytest.mark.slow  # several fits: run by `pytest -m slow` and CI
def test_a_named_run_is_never_started_twice_but_continues(train, workdir: Path, capsys, snapshot):
    train("fit", *SHORT, "--run_name=baseline")
    run = workdir / "runs" / "digits_cnn" / "baseline"
    assert load(run / "checkpoints" / "last.ckpt")["epoch"] == 0

    before = snapshot()
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        train("fit", *SHORT, "--run_name=baseline")
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert "error: --run_name baseline: runs/digits_cnn/baseline exists. Continue that run with " in err
    assert "Traceback" not in err
    assert snapshot() == before

    train("fit", *SHORT, "--run_name=baseline", "--ckpt_path=last", "--trainer.max_epochs=2")
    assert load(run / "checkpoints" / "last.ckpt")["epoch"] == 1
    assert [path.name for path in (workdir / "runs" / "digits_cnn").iterdir()] == ["baseline"]


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--run_name", "a/b"),
        ("--run_name", "../elsewhere"),
        ("--run_name", ".hidden"),
        ("--run_name", "with space"),
        ("--run_name", "x" * 101),
        ("--experiment", "my/study"),
    ],
)
def test_a_name_that_is_not_a_safe_folder_is_refused(train, workdir: Path, capsys, option: str, value: str):
    with pytest.raises(SystemExit) as exit_info:
        train("fit", *SHORT, f"{option}={value}")
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.startswith(f"error: {option} {value!r} is not a safe folder name: use up to 100 letters")
    assert "Traceback" not in err
    assert not (workdir / "runs").exists() and not (workdir / "wandb").exists()


def test_a_key_of_the_default_experiment_does_not_reach_another(workdir: Path, capsys, monkeypatch):
    """A copy of the project's train.py and configs, with a key added to the default experiment
    only: it applies to `python train.py fit` and to nothing given with --config."""
    shutil.copy(PROJECT / "train.py", workdir)
    shutil.copytree(CONFIGS, workdir / "configs")
    default = workdir / "configs" / "digits_cnn.yaml"
    content = yaml.safe_load(default.read_text())
    content["trainer"]["gradient_clip_val"] = 0.5
    default.write_text(yaml.safe_dump(content))

    def printed(*args: str) -> dict:
        monkeypatch.setattr(sys, "argv", ["train.py", "fit", *args, "--print_config"])
        with pytest.raises(SystemExit) as exit_info:
            runpy.run_path(str(workdir / "train.py"), run_name="__main__")
        assert exit_info.value.code == 0
        return yaml.safe_load(capsys.readouterr().out)

    assert printed()["trainer"]["gradient_clip_val"] == 0.5
    crop_yields = printed("--config", "configs/crop_yields_linear.yaml")
    assert crop_yields["trainer"]["gradient_clip_val"] is None
    assert crop_yields["trainer"]["max_epochs"] == 100  # its own, over trainer.yaml's
    assert crop_yields["model"]["init_args"]["net"]["class_path"].endswith("LinearRegression")


def test_the_experiment_is_named_by_its_config_or_explicitly(train, workdir: Path, run_folders, capsys):
    (workdir / "shorter.yaml").write_text("trainer:\n  limit_train_batches: 2\n")
    experiment = ["--config", str(CONFIGS / "digits_cnn.yaml"), "--config", "shorter.yaml"]
    train("fit", *experiment, *SHORT, "--trainer.logger=false")
    assert len(run_folders("digits_cnn")) == 1  # a settings file stacked after it does not rename it
    train("fit", *SHORT, "--experiment=lr_study", "--trainer.logger=false")
    assert len(run_folders("lr_study")) == 1

    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        train("fit", "--config", "shorter.yaml")  # settings without an experiment
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == (
        "error: shorter.yaml sets neither model nor data: give an experiment config first, "
        "e.g. --config configs/digits_cnn.yaml --config shorter.yaml\n"
    )


@pytest.mark.slow  # several fits: run by `pytest -m slow` and CI
def test_a_saved_config_reruns_as_a_new_run_from_the_start(wandb_offline, train, workdir: Path, run_folders):
    train("fit", *SHORT, "--run_name=first")
    train("fit", *SHORT, "--run_name=first", "--ckpt_path=last", "--trainer.max_epochs=2")  # resumed
    (first,) = run_folders()
    saved = sorted((first / "configs").glob("*-fit*.yaml"))[-1]  # the resumed fit's
    assert yaml.safe_load((first / "run.yaml").read_text())["resumed_from"] == [
        str((first / "checkpoints" / "last.ckpt").relative_to(workdir))
    ]
    train("fit", "--config", str(saved))
    again, second = run_folders()  # the same experiment, a new folder and W&B run
    assert again == first and second.name != "first" and wandb_id(first) != wandb_id(second)
    # From the start, with the saved settings: 2 epochs of 3 steps.
    assert (load(second / "checkpoints" / "last.ckpt")["global_step"]) == 6


def test_a_named_run_that_trains_elsewhere_is_not_resumed(train, workdir: Path, capsys, snapshot):
    train("fit", *SHORT, "--run_name=busy", "--trainer.logger=false")
    other_process = RunLock(workdir / "runs" / "digits_cnn" / "busy")
    assert other_process.acquire()
    before = snapshot()
    capsys.readouterr()
    try:
        with pytest.raises(SystemExit) as exit_info:
            train("fit", *SHORT, "--run_name=busy", "--ckpt_path=last", "--trainer.max_epochs=2")
    finally:
        other_process.release()
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == (
        "error: --ckpt_path last: runs/digits_cnn/busy is training in another process; wait for it to end.\n"
    )
    assert snapshot() == before


def test_a_checkpoint_of_the_earlier_layout_still_loads(train, workdir: Path, run_folders):
    """Before run folders, checkpoints lay in runs/<experiment>/checkpoints/: given as a path, they load."""
    train("fit", *SHORT, *QUIET)
    (trained,) = run_folders()
    earlier = workdir / "runs" / "digits_cnn" / "checkpoints"
    shutil.copytree(trained / "checkpoints", earlier)
    train("test", f"--ckpt_path={earlier / 'best.ckpt'}", "--trainer.limit_test_batches=1", *QUIET)
    tested = run_folders()[-1]
    assert tested != trained and list(tested.glob("configs/*-test.yaml"))
