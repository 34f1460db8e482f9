from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.tracking import resolve_wandb_mode


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
def test_mode_from_environment(environ: dict, mode: str, tmp_path: Path):
    environ = {"NETRC": str(tmp_path / "no-netrc"), **environ}
    assert resolve_wandb_mode(environ) == mode
    assert environ["WANDB_MODE"] == mode  # written back for W&B itself to read


def test_netrc_entry_for_the_wandb_host_means_online(netrc_file: Path):
    assert resolve_wandb_mode({"NETRC": str(netrc_file)}) == "online"


def test_netrc_entry_for_another_host_means_offline(netrc_file: Path):
    environ = {"NETRC": str(netrc_file), "WANDB_BASE_URL": "http://wandb.example.org:8080"}
    assert resolve_wandb_mode(environ) == "offline"


def test_unreadable_netrc_means_offline(tmp_path: Path):
    broken = tmp_path / "netrc"
    broken.write_text("machine\n")
    assert resolve_wandb_mode({"NETRC": str(broken)}) == "offline"
