"""Several processes: DDP on two CPU processes (gloo), launched as users launch it: by Lightning
itself, and by torchrun (as SLURM's srun does, it starts every process at once)."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from litproject.cli import main

from .conftest import PROJECT
from .helpers.wandb_run import load_runs

EPOCHS = ["--trainer.max_epochs=2", "--trainer.enable_progress_bar=false"]


def validate(configs: list[Path], ckpt: Path) -> dict[str, float]:
    """Validation metrics of a checkpoint in this (single) process."""
    cli = main(["--trainer.logger=false", *EPOCHS], configs, run=False)
    (metrics,) = cli.trainer.validate(cli.model, datamodule=cli.datamodule, ckpt_path=ckpt, verbose=False)
    return metrics


@pytest.mark.slow
def test_ddp_on_two_cpu_processes(workdir: Path, default_configs, process_env, monkeypatch, run_folder):
    # Half the batch per process: two processes see 2 x 32 samples per step, one sees 64.
    ddp = [
        "--trainer.accelerator=cpu",
        "--trainer.devices=2",
        "--trainer.strategy=ddp",
        "--data.batch_size=32",
    ]
    result = subprocess.run(
        [sys.executable, str(PROJECT / "train.py"), "fit", *ddp, *EPOCHS],
        cwd=workdir,
        env=process_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    # Written once, by rank zero: one run folder with one set of checkpoints, one saved config,
    # one W&B run; the second process learnt the folder from the first.
    (run_dir,) = (workdir / "runs" / "digits_cnn").iterdir()
    assert run_dir == run_folder()
    assert sorted(path.name for path in (run_dir / "checkpoints").glob("*.ckpt")) == [
        "best.ckpt",
        "last.ckpt",
    ]
    assert len(list((run_dir / "configs").iterdir())) == 1
    assert len(list((workdir / "wandb").glob("offline-run-*"))) == 1

    # Validation under DDP covered the whole split and was synchronised across processes: the
    # loss it recorded for the best checkpoint equals one process validating that checkpoint.
    best = run_dir / "checkpoints" / "best.ckpt"
    states = torch.load(best, map_location="cpu", weights_only=True)["callbacks"]
    (recorded,) = [
        state["best_model_score"] for name, state in states.items() if name.startswith("Checkpoint{")
    ]
    monkeypatch.setattr(sys, "argv", ["train.py"])
    ddp_metrics = validate(default_configs, best)
    assert ddp_metrics["val/loss"] == pytest.approx(recorded.item(), rel=1e-5)

    # ...and the two processes trained one model as one process would: it learned (chance is 0.1).
    assert ddp_metrics["val/acc"] >= 0.85


LAUNCHERS = {
    "Lightning": [],
    "torchrun": ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"],
}


@pytest.mark.slow
@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_a_named_run_trains_and_resumes_under_every_launcher(
    workdir: Path, process_env, run_folder, launcher: str
):
    """`--run_name` names the run's folder, which only the launching process may find taken: the
    further processes see the folder it made. (Every multi-process run used to be tested unnamed,
    and each named one died: its second process found the name taken by the first.)"""
    ddp = ["--trainer.accelerator=cpu", "--trainer.devices=2", "--trainer.strategy=ddp", "--run_name=ddpx"]
    short = [
        "--trainer.limit_train_batches=4",
        "--trainer.limit_val_batches=2",
        "--trainer.enable_progress_bar=false",
    ]
    command = [sys.executable, *LAUNCHERS[launcher], str(PROJECT / "train.py"), "fit", *ddp, *short]
    for more in (["--trainer.max_epochs=1"], ["--trainer.max_epochs=2", "--ckpt_path=last"]):
        result = subprocess.run(
            [*command, *more], cwd=workdir, env=process_env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    run = run_folder()
    assert run.name == "ddpx"
    last = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert (last["epoch"], last["global_step"]) == (1, 8)  # resumed: 4 steps, then 4 more
    fit, resumed = load_runs(workdir / "wandb")  # rank zero's, one per command
    assert fit.run_id == resumed.run_id == last["wandb_run_id"]
