"""Baked projects install, pass their own test suite, and train the default experiment."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import SUPPORTED_PYTHON, Baker, install, offline_env, run, template_choices

# A project that requires a newer Python than the one running the tests cannot be installed here.
INSTALLABLE_PYTHON = [v for v in SUPPORTED_PYTHON if tuple(map(int, v.split("."))) <= sys.version_info[:2]]


def variant() -> dict:
    """A bake whose every answer differs from the defaults where it can: other names, the oldest
    Python this interpreter installs, another license, no workflow. (The choices differ in text
    only, not in code; test_bake.py bakes each of them and lints the result.)"""
    choices = template_choices()
    others = {key: next(v for v in values if v != values[0]) for key, values in choices.items()}
    return {
        "project_name": "Other Names",
        "package_name": "other_names",
        **others,
        "python_version": INSTALLABLE_PYTHON[0],
    }


@pytest.mark.parametrize("answers", [{}, variant()], ids=["defaults", "other answers"])
def test_baked_project_installs_and_passes_its_own_tests(baker: Baker, answers: dict):
    """As the project's README and CI workflow say: `pip install -e ".[dev]"`, `pytest` (about
    30 s on 2 cores), `pytest -m slow`."""
    project = baker.bake(**answers)
    install(project)
    for select in ([], ["-m", "slow"]):
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *select],
            cwd=project,
            env=offline_env(),
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
        assert re.search(r"\d+ passed", result.stdout)


def test_default_experiment_trains_offline_to_95_percent(project_copy: Path):
    """`python train.py fit` with no arguments: the CNN on digits, W&B offline."""
    default_project = project_copy
    fit_output = run(default_project, sys.executable, "train.py", "fit")
    # What a user sees: no upstream notice they cannot act on (Lightning's tips, W&B's deprecation
    # notices and its closing lines, which the run's own lines repeat), a summary of the network
    # alone with its real sizes, and at the end where things went and the best validation result.
    for noise in ("💡 Tip", "anonymous setting", "LeafSpec", "MetricCollection", "You can sync this run"):
        assert noise not in fit_output, noise
    lines = [line.rstrip() for line in fit_output.splitlines() if line.strip()]
    assert lines[:2] == ["Seed set to 42", "GPU available: False, used: False"], lines[:6]
    assert "[1, 1, 28, 28]" in fit_output and "Total FLOPs: 0" not in fit_output
    wandb_line = r"W&B run saved offline in wandb/offline-run-\S+; upload it with: wandb sync \S+"
    assert re.fullmatch(wandb_line, lines[-2]), lines[-2]
    assert re.fullmatch(r"Best val/loss: [0-9.]+ at epoch \d+ \(val/acc [0-9.]+\)", lines[-1]), lines[-1]
    run_folder = re.search(r"^Run: (runs/digits_cnn/\S+)$", fit_output, re.MULTILINE).group(1)
    checkpoints = default_project / run_folder / "checkpoints"
    assert (checkpoints / "best.ckpt").is_file() and (checkpoints / "last.ckpt").is_file()
    run_dir = re.search(r"upload it with: wandb sync (wandb/offline-run-\S+)", fit_output).group(1)
    assert list((default_project / run_dir).glob("run-*.wandb"))

    validate_output = run(
        default_project, sys.executable, "train.py", "validate", f"--ckpt_path={checkpoints / 'best.ckpt'}"
    )
    accuracy = float(re.search(r"val/acc\W+([0-9.]+)", validate_output).group(1))
    assert accuracy >= 0.95


SHORT_RUN = ["--trainer.max_epochs=1", "--trainer.limit_train_batches=4", "--trainer.limit_val_batches=2"]


def test_torchrun_launches_ddp_on_two_cpu_processes(project_copy: Path):
    """The torchrun recipe of the README (one machine here; --nnodes and --rdzv_endpoint for more)."""
    default_project = project_copy
    root = "runs/torchrun"
    run(
        default_project,
        *(sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"),
        *("train.py", "fit", "--trainer.accelerator=cpu", "--trainer.devices=2", "--trainer.strategy=ddp"),
        *SHORT_RUN,
        f"--trainer.default_root_dir={root}",
        "--trainer.logger=false",
    )
    assert sorted(p.name for p in (default_project / root / "checkpoints").glob("*.ckpt")) == [
        "best.ckpt",
        "last.ckpt",
    ]


def test_compiled_network_trains_and_keeps_checkpoints_interchangeable(project_copy: Path):
    """`--model.compile=true` compiles the network's forward (a real torch.compile, C++ compiler
    included); parameter names, and so checkpoints, are those of the uncompiled network."""
    default_project = project_copy
    root = default_project / "runs" / "compiled"
    run(
        default_project,
        *(sys.executable, "train.py", "fit", "--model.compile=true", "--trainer.logger=false"),
        *SHORT_RUN,
        f"--trainer.default_root_dir={root}",
    )
    import torch

    state = torch.load(root / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)[
        "state_dict"
    ]
    assert set(state) == {
        f"net.{name}"
        for name in ("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc.weight", "fc.bias")
    }


def test_the_workflow_lint_step_passes_with_the_pre_commit_hooks(project_copy: Path, tmp_path: Path):
    """The GitHub Actions lint step as CI runs it: pre-commit's ruff hooks, from the project's
    environment (on PATH, as in an activated venv), over a git repository of the baked files."""
    default_project = project_copy
    workflow = yaml.safe_load((default_project / ".github" / "workflows" / "tests.yml").read_text())
    (lint,) = [
        step["run"] for step in workflow["jobs"]["test"]["steps"] if step.get("name", "").startswith("Lint")
    ]
    for command in (["init", "-q"], ["add", "-A"]):
        subprocess.run(["git", *command], cwd=default_project, check=True)
    env = {
        **offline_env(),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PRE_COMMIT_HOME": str(tmp_path),
    }
    result = subprocess.run(lint, shell=True, cwd=default_project, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"ruff check\.+Passed", result.stdout) and re.search(
        r"ruff format\.+Passed", result.stdout
    )
