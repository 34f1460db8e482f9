"""`litproject compare`: a table of an experiment's runs whose numbers are those of the runs' own files."""

import csv
import runpy
import statistics
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from litproject.history import read_rows

from .conftest import PROJECT

pytestmark = pytest.mark.slow  # four fits: run by `pytest -m slow` and CI
QUICK = [
    "--trainer.max_epochs=3",
    "--trainer.limit_train_batches=4",
    "--trainer.limit_val_batches=2",
    "--trainer.enable_progress_bar=false",
    "--trainer.logger=false",
]


@pytest.fixture
def compare(litproject_command):
    """Run `litproject compare <args>` in this process; give back its exit status and output."""
    return lambda *args: litproject_command("compare", *args)


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two learning rates, the first from two seeds; one run tested. Made once for this module."""
    folder = tmp_path_factory.mktemp("compare")
    runs = [("a", 0.003, 1), ("b", 0.003, 2), ("c", 0.0005, 1)]
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setenv("WANDB_MODE", "disabled")
        for name, lr, seed in runs:
            patch.setattr(sys, "argv", ["train.py", "fit", *QUICK, f"--run_name={name}"])
            patch.setattr(sys, "argv", [*sys.argv, f"--model.optimizer.lr={lr}", f"--seed_everything={seed}"])
            runpy.run_path(str(PROJECT / "train.py"), run_name="__main__")
        patch.setattr(sys, "argv", ["train.py", "test", "--run_name=a", "--ckpt_path=best", *QUICK[1:]])
        runpy.run_path(str(PROJECT / "train.py"), run_name="__main__")
    return folder


def test_the_table_holds_the_numbers_of_the_runs_files(compare, three_runs: Path, monkeypatch):
    monkeypatch.chdir(three_runs)
    status, out, err = compare("runs/digits_cnn", "--metric=val/acc")
    assert status == 0, err

    with open("runs/digits_cnn/comparison.csv", newline="") as file:
        table = list(csv.DictReader(file))
    assert list(table[0]) == [
        "run",
        "model.optimizer.lr",
        "seed_everything",
        "best val/acc",
        "at epoch",
        "last val/acc",
        "test/acc",
        "epochs",
        "time (s)",
    ]
    assert [float(row["best val/acc"]) for row in table] == sorted(
        (float(row["best val/acc"]) for row in table), reverse=True
    )
    for row in table:
        run = Path("runs/digits_cnn", row["run"])
        epochs = read_rows(run / "metrics.csv")
        best = max(epochs, key=lambda epoch: epoch["val/acc"])
        assert float(row["best val/acc"]) == best["val/acc"] and int(row["at epoch"]) == best["epoch"]
        assert float(row["last val/acc"]) == epochs[-1]["val/acc"]
        assert int(row["epochs"]) == 3 and float(row["time (s)"]) == epochs[-1]["time"]
        # metrics.csv itself is the history the checkpoint keeps.
        history = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["callbacks"][
            "LearningCurves"
        ]
        assert [epoch["val/acc"] for epoch in epochs] == pytest.approx(
            [e["val/acc"] for e in history["history"]]
        )
        tests = read_rows(run / "test_metrics.csv")
        assert row["test/acc"] == (str(tests[-1]["test/acc"]) if tests else "")
    assert {row["run"]: row["test/acc"] != "" for row in table} == {"a": True, "b": False, "c": False}

    # The runs that differ only in their seed, summarised; the same in the Markdown file.
    by_seed = {row["run"]: float(row["best val/acc"]) for row in table}
    both = [by_seed["a"], by_seed["b"]]
    assert f"| 0.003 | 2 | {statistics.mean(both):.4g} ± {statistics.stdev(both):.2g} |" in out
    assert f"| 0.0005 | 1 | {by_seed['c']:.4g} ± 0 |" in out
    # Of the two seeds, one was tested: the test column says so.
    assert f"| {float(table[[r['run'] for r in table].index('a')]['test/acc']):.4g} ± 0 (1 of 2) |" in out
    assert Path("runs/digits_cnn/comparison.md").read_text() == out.split("\nWritten: ")[0]
    with Image.open("runs/digits_cnn/comparison.png") as image:
        assert image.format == "PNG" and image.width > 400


def test_a_subset_sorted_by_another_column(compare, three_runs: Path, monkeypatch):
    monkeypatch.chdir(three_runs)
    status, out, err = compare("runs/digits_cnn", "--runs", "[ab]", "--sort", "seed_everything")
    assert status == 0, err
    rows = [line for line in out.splitlines() if line.startswith("| a ") or line.startswith("| b ")]
    assert [row.split(" | ")[0] for row in rows] == ["| a", "| b"]
    # The checkpoint's metric by default: the lowest val/loss first.
    assert "best val/loss" in out and (three_runs / "runs/digits_cnn/comparison-ab.csv").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["runs/nothing"], "error: runs/nothing: no runs. Give an experiment folder, e.g. runs/digits_cnn."),
        (["runs/digits_cnn", "--runs", "zz*"], "error: runs/digits_cnn: no runs matching 'zz*'."),
        (["runs/digits_cnn", "--metric", "val/f1"], "error: no run logged val/f1; they logged: epoch, time,"),
        (["runs/digits_cnn", "--sort", "colour"], "error: --sort colour: not a column; the columns are run,"),
    ],
)
def test_bad_input_is_one_line(compare, three_runs: Path, monkeypatch, args: list, message: str):
    monkeypatch.chdir(three_runs)
    status, out, err = compare(*args)
    assert status == 2 and err.startswith(message) and err.count("\n") == 1, err
