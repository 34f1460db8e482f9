"""Several processes: DDP on two CPU processes (gloo), launched by Lightning as users launch it."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from litproject.cli import main

from .conftest import PROJECT

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
