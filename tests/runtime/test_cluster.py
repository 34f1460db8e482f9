"""The SLURM script, with a stand-in `srun` that records what it would run."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from lightning.fabric.plugins.environments import SLURMEnvironment

from litproject.cli import main

from .conftest import PROJECT

SCRIPT = PROJECT / "scripts" / "slurm_train.sh"


@pytest.fixture
def fake_srun(tmp_path: Path) -> Path:
    """A folder holding an `srun` that writes its arguments, one per line, to srun-args.txt."""
    folder = tmp_path / "bin"
    folder.mkdir()
    srun = folder / "srun"
    srun.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$SRUN_ARGS"\n')
    srun.chmod(0o755)
    return folder


def run_script(fake_srun: Path, *args: str, **slurm: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **slurm, "PATH": f"{fake_srun}:{os.environ['PATH']}"}
    env["SRUN_ARGS"] = str(fake_srun / "srun-args.txt")
    return subprocess.run(["bash", str(SCRIPT), *args], cwd=PROJECT, env=env, capture_output=True, text=True)


def test_script_passes_the_cluster_layout_to_train_py(fake_srun: Path, capsys):
    result = run_script(
        fake_srun,
        "configs/digits_cnn.yaml",
        "--trainer.max_epochs=3",
        SLURM_JOB_ID="77",
        SLURM_JOB_NUM_NODES="2",
        SLURM_NTASKS_PER_NODE="4",
    )
    assert result.returncode == 0, result.stderr
    command = (fake_srun / "srun-args.txt").read_text().splitlines()
    assert command[:5] == ["python", "train.py", "fit", "--config", "configs/digits_cnn.yaml"]
    assert command[5:] == [
        "--run_name",
        "slurm-77",
        "--ckpt_path",
        "last",
        "--trainer.num_nodes=2",
        "--trainer.devices=4",
        "--trainer.strategy=ddp",
        "--trainer.max_epochs=3",
    ]

    # Dry run: train.py accepts exactly these arguments.
    with pytest.raises(SystemExit) as exit_info:
        main([*command[2:4], str(PROJECT / command[4]), *command[5:], "--print_config"])
    assert exit_info.value.code == 0
    trainer = yaml.safe_load(capsys.readouterr().out)["trainer"]
    assert (trainer["num_nodes"], str(trainer["devices"]), trainer["strategy"], trainer["max_epochs"]) == (
        2,
        "4",
        "ddp",
        3,
    )


def test_each_array_task_is_its_own_run(fake_srun: Path):
    run_script(fake_srun, "configs/digits_cnn.yaml", SLURM_ARRAY_JOB_ID="80", SLURM_ARRAY_TASK_ID="3")
    command = (fake_srun / "srun-args.txt").read_text().splitlines()
    assert command[command.index("--run_name") + 1] == "slurm-80-3"


def test_script_without_a_config_says_how_to_call_it(fake_srun: Path):
    result = run_script(fake_srun)
    assert result.returncode != 0
    assert "usage: sbatch scripts/slurm_train.sh CONFIG" in result.stderr
    assert not (fake_srun / "srun-args.txt").exists()


def test_script_asks_for_the_requeue_signal():
    header = [line for line in SCRIPT.read_text().splitlines() if line.startswith("#SBATCH")]
    assert "#SBATCH --signal=SIGUSR1@90" in header and "#SBATCH --requeue" in header


def inside_a_slurm_job(monkeypatch: pytest.MonkeyPatch) -> None:
    """The variables SLURM sets for a one-task job."""
    for key, value in {
        "SLURM_NTASKS": "1",
        "SLURM_NTASKS_PER_NODE": "1",
        "SLURM_JOB_NAME": "train",
        "SLURM_JOB_ID": "1234",
        "SLURM_NODELIST": "node1",
        "SLURM_PROCID": "0",
        "SLURM_LOCALID": "0",
        "SLURM_NODEID": "0",
    }.items():
        monkeypatch.setenv(key, value)


def test_lightning_runs_under_slurm_with_automatic_requeue(monkeypatch, default_configs):
    """Inside a SLURM job, Lightning's SLURMEnvironment takes over ranks and requeueing."""
    inside_a_slurm_job(monkeypatch)
    monkeypatch.setattr(sys, "argv", ["train.py"])
    # What the script runs, on one CPU process.
    args = [
        "--trainer.accelerator=cpu",
        "--trainer.devices=1",
        "--trainer.strategy=ddp",
        "--trainer.logger=false",
    ]
    cli = main(args, default_configs, run=False)
    environment = cli.trainer.strategy.cluster_environment
    assert isinstance(environment, SLURMEnvironment)
    assert environment.auto_requeue


def test_requeued_job_resumes_from_the_hpc_checkpoint_in_the_same_run(train, run_folder, monkeypatch):
    """Lightning saves `hpc_ckpt_<n>.ckpt` in the run's folder when SLURM signals the time limit;
    the requeued job, same command and job id, continues that run from it instead of starting over."""
    inside_a_slurm_job(monkeypatch)
    script = ["--run_name=slurm-1234", "--ckpt_path=last", "--trainer.limit_val_batches=2"]
    script.append("--trainer.logger=false")
    train("fit", *script, "--trainer.max_epochs=1", "--trainer.limit_train_batches=3")
    run = run_folder()
    (run / "checkpoints" / "last.ckpt").rename(run / "hpc_ckpt_1.ckpt")  # what the signal saves

    train("fit", *script, "--trainer.max_epochs=2", "--trainer.limit_train_batches=5")
    assert run_folder() == run
    last = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    # Resumed: the 3 steps of epoch 0, then 5 of epoch 1. Started over, it would be 5 + 5.
    assert (last["epoch"], last["global_step"]) == (1, 8)
