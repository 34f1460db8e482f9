"""Where runs go and what W&B receives: read back from the offline run files on disk."""

import socket
from pathlib import Path

import pytest
import yaml
from lightning_project.models import Net

from litproject import tracking
from litproject.tracking import resolve_wandb_mode

from .conftest import PROJECT
from .helpers.wandb_run import (
    CHUNK_HEADER,
    FILE_HEADER,
    CorruptRunFileError,
    IncompleteRunFileError,
    find_runs,
    load_run,
    load_runs,
)

SHORT = ["--trainer.max_epochs=1", "--trainer.limit_train_batches=3", "--trainer.limit_val_batches=2"]


@pytest.fixture
def reachable_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """The W&B server cannot run here: these tests pretend that its host answers."""
    monkeypatch.setattr(tracking, "can_reach", lambda url: True)


@pytest.fixture
def netrc_file(tmp_path: Path) -> Path:
    path = tmp_path / "netrc"
    path.write_text("machine api.wandb.ai\n  login user\n  password 0123456789abcdef\n")
    path.chmod(0o600)
    return path


@pytest.mark.parametrize(
    ("environ", "mode"),
    [
        ({"WANDB_MODE": "disabled", "WANDB_API_KEY": "key"}, "disabled"),  # an explicit mode wins
        ({"WANDB_API_KEY": "key"}, "online"),
        ({"WANDB_API_KEY": ""}, "offline"),
        ({}, "offline"),
    ],
)
def test_mode_from_environment(environ: dict, mode: str, tmp_path: Path, reachable_host):
    environ = {"NETRC": str(tmp_path / "no-netrc"), **environ}
    assert resolve_wandb_mode(environ) == mode
    assert environ["WANDB_MODE"] == mode  # written back for W&B itself to read


def test_netrc_entry_for_the_wandb_host_means_online(netrc_file: Path, reachable_host):
    assert resolve_wandb_mode({"NETRC": str(netrc_file)}) == "online"


def test_netrc_entry_for_another_host_means_offline(netrc_file: Path):
    environ = {"NETRC": str(netrc_file), "WANDB_BASE_URL": "http://wandb.example.org:8080"}
    assert resolve_wandb_mode(environ) == "offline"


def test_unreadable_netrc_means_offline(tmp_path: Path):
    broken = tmp_path / "netrc"
    broken.write_text("machine\n")
    assert resolve_wandb_mode({"NETRC": str(broken)}) == "offline"


def closed_port() -> int:
    """A local port that nothing listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_host_means_offline(capsys: pytest.CaptureFixture, tmp_path: Path):
    url = f"http://127.0.0.1:{closed_port()}"
    environ = {"WANDB_MODE": "online", "WANDB_BASE_URL": url, "NETRC": str(tmp_path / "no-netrc")}
    assert resolve_wandb_mode(environ) == "offline"
    assert f"cannot reach {url}" in capsys.readouterr().err


def test_run_with_credentials_but_no_reachable_host_still_trains(train, workdir, monkeypatch, run_folder):
    # The W&B server is the one thing that cannot run here: it is "down" (a closed local port).
    monkeypatch.delenv("WANDB_MODE")
    monkeypatch.setenv("WANDB_API_KEY", "0" * 40)
    monkeypatch.setenv("WANDB_BASE_URL", f"http://127.0.0.1:{closed_port()}")
    train("fit", *SHORT)
    (run_file,) = find_runs(workdir / "wandb")
    assert load_run(run_file).exit_code == 0
    assert (run_folder() / "checkpoints" / "last.ckpt").is_file()


def test_wandb_run_holds_config_metrics_learning_rate_and_media(
    wandb_offline, train, workdir: Path, run_folder
):
    # Gradient histograms every step, so that a 3-step run has some.
    (workdir / "every_step.yaml").write_text(
        "trainer:\n  callbacks:\n"
        "    - class_path: litproject.callbacks.ClassifierMedia\n"
        "    - class_path: litproject.callbacks.WatchGradients\n"
        "      init_args: {log: gradients, log_every_n_steps: 1}\n"
    )
    experiment = ["--config", str(PROJECT / "configs" / "digits_cnn.yaml"), "--config", "every_step.yaml"]
    train("fit", *experiment, *SHORT, "--trainer.log_every_n_steps=1")

    (run_file,) = find_runs(workdir / "wandb")
    run = load_run(run_file)
    assert run.exit_code == 0
    assert run.config["fit_config"]["seed_everything"] == 42  # the full resolved config
    assert run.config["fit_config"]["trainer"]["max_epochs"] == 1
    # The W&B run and the run folder name each other.
    folder = run_folder()
    assert run.config["run_dir"] == str(folder.relative_to(workdir))
    assert run.name == f"digits_cnn/{folder.name}"
    assert yaml.safe_load((folder / "run.yaml").read_text())["wandb_run_id"] == run.run_id
    assert run.config["net"]["class_path"].endswith("models.Net")  # the model's hyperparameters
    assert run.config["batch_size"] == 64  # and the datamodule's
    logged = {key for row in run.history for key in row}
    assert {"train/loss", "train/acc", "train/lr", "val/loss", "val/acc"} <= logged
    assert [row["train/lr"] for row in run.history if "train/lr" in row] == [pytest.approx(3e-3)]
    assert len([row["train/loss"] for row in run.history if "train/loss" in row]) == 3  # every step
    media = {
        key: value["_type"]
        for row in run.history
        for key, value in row.items()
        if key.startswith("val/") and isinstance(value, dict)
    }
    # The confusion matrix is a table of counts that W&B draws as its confusion-matrix chart.
    assert media == {"val/confusion_matrix_table": "table-file", "val/samples": "images/separated"}
    # Gradient histograms at every step, named as wandb.watch names them, over every weight.
    histograms = [
        row["gradients/net.conv1.weight"] for row in run.history if "gradients/net.conv1.weight" in row
    ]
    assert len(histograms) == 3
    parameters = dict(Net().named_parameters())
    for histogram in histograms:
        assert histogram["_type"] == "histogram" and len(histogram["bins"]) == len(histogram["values"]) + 1
        assert sum(histogram["values"]) == parameters["conv1.weight"].numel()  # every value counted
    assert {key for key in logged if key.startswith("gradients/")} == {
        f"gradients/net.{name}" for name in parameters
    }


@pytest.mark.slow  # several fits: run by `pytest -m slow` and CI
def test_resume_and_test_continue_the_same_wandb_run(wandb_offline, train, workdir: Path):
    train("fit", *SHORT)
    train("fit", *SHORT, "--trainer.max_epochs=2", "--ckpt_path=last")
    train("test", "--ckpt_path=best", "--trainer.limit_test_batches=2")

    runs = load_runs(workdir / "wandb")
    assert len(runs) == 3 and len({run.run_id for run in runs}) == 1
    fit, resumed, tested = runs
    assert max(row.get("epoch", 0) for row in resumed.history) == 1  # the second epoch
    assert {"test/loss", "test/acc"} <= {key for row in tested.history for key in row}
    # Each offline file holds what its process logged; `wandb sync` merges them into one run.
    assert "fit_config" in fit.config and "test_config" in tested.config


def test_the_run_file_reader_rejects_a_damaged_file(wandb_offline, train, workdir: Path):
    train("validate", "--trainer.limit_val_batches=1")
    (run_file,) = find_runs(workdir / "wandb")
    assert load_run(run_file).exit_code == 0
    data = bytearray(run_file.read_bytes())
    data[len(FILE_HEADER) + CHUNK_HEADER.size] ^= 0xFF  # the first byte of the first record
    run_file.write_bytes(bytes(data))
    with pytest.raises(CorruptRunFileError, match="CRC-32"):
        load_run(run_file)
    data[len(FILE_HEADER) + CHUNK_HEADER.size] ^= 0xFF  # mend it, then cut the file short
    run_file.write_bytes(bytes(data[:-3]))
    with pytest.raises(IncompleteRunFileError, match="truncated|ends inside"):
        load_run(run_file, wait=0)
