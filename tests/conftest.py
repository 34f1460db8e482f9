"""Bake projects with the real cookiecutter command line, the way users do.

Before any test is collected, the default project is baked once and installed (editable) into
this environment: `default_project`, which litproject's own suite (tests/runtime/) runs and
imports, and which the template's tests copy before they change anything in it.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "template"
DEFAULT_SLUG = "lightning-project"
SUPPORTED_PYTHON = ["3.10", "3.11", "3.12", "3.13"]  # what the pre-generation hook accepts


def template_choices() -> dict[str, list]:
    """Every choice and boolean variable of the template with all the values it takes."""
    context = json.loads((TEMPLATE / "cookiecutter.json").read_text())
    choices = {key: value for key, value in context.items() if isinstance(value, list)}
    choices.update({key: [True, False] for key, value in context.items() if isinstance(value, bool)})
    return choices


class Baker:
    """Runs `cookiecutter <repo> --no-input -o <out> key=value ...` in a subprocess."""

    def __init__(self, tmp_path: Path, template: Path = REPO) -> None:
        self.template = template
        self.out = tmp_path / "work" / "out"
        # Keep cookiecutter's own files (replays, clones) out of the user's home and of work/.
        cookiecutter_home = tmp_path / "cookiecutter"
        cookiecutter_home.mkdir()
        self.config = cookiecutter_home / "config.yaml"
        self.config.write_text(
            f"replay_dir: {cookiecutter_home / 'replay'}\ncookiecutters_dir: {cookiecutter_home / 'clones'}\n"
        )

    def run(self, *flags: str, **answers: object) -> subprocess.CompletedProcess:
        pairs = [
            f"{key}={'yes' if value is True else 'no' if value is False else value}"
            for key, value in answers.items()
        ]
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "cookiecutter",
                str(self.template),
                "--no-input",
                "-o",
                str(self.out),
                "--config-file",
                str(self.config),
                *flags,
                *pairs,
            ],
            capture_output=True,
            text=True,
            check=False,
        )

    def bake(self, **answers: object) -> Path:
        """Bake and return the project folder; fail the test with cookiecutter's output if it fails."""
        result = self.run(**answers)
        assert result.returncode == 0, result.stdout + result.stderr
        (project,) = self.out.iterdir()
        return project


@pytest.fixture
def baker(tmp_path: Path) -> Baker:
    return Baker(tmp_path)


def install(project: Path, extras: str = "[dev]") -> None:
    """`pip install -e <project>[dev]` into the test environment, as the project's README says.

    litproject and everything it needs are installed already (`make test` installs them), so
    this builds the project alone. Build isolation is off so that building needs only the
    setuptools already installed.
    """
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-build-isolation",
            "-e",
            f"{project}{extras}",
        ],
        check=True,
    )


def offline_env() -> dict[str, str]:
    """The environment of a user with no network and no W&B account."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("WANDB_")}
    return {**env, "WANDB_API_KEY": "", "NETRC": os.devnull, "COLUMNS": "200"}


def run(project: Path, *command: str, **env: str) -> str:
    """Run a command in the project as a user without network or W&B account; return its output,
    stdout and stderr in the order a terminal shows them."""
    path = {"PYTHONPATH": str(project / "src")} if (project / "src").is_dir() else {}  # a copy's own code
    result = subprocess.run(
        command,
        cwd=project,
        env={**offline_env(), **path, "PYTHONUNBUFFERED": "1", **env},  # unbuffered: in a terminal's order
        stdin=subprocess.DEVNULL,  # nothing may prompt
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-10000:]
    return result.stdout


DEFAULT_PROJECT = "LITPROJECT_TEST_PROJECT"  # where the session's default project is baked


def bake_default_project() -> None:
    """Bake and install the default project, once per session: when pytest imports this file,
    before the tests of tests/runtime/ are collected (they import the project). xdist's workers
    start later and inherit the variable that says where it is."""
    if not os.environ.get(DEFAULT_PROJECT):
        # Kept after the session: the editable install points at it until the next session's.
        folder = Path(tempfile.mkdtemp(prefix="default-project-"))
        project = Baker(folder).bake()
        install(project, extras="")
        os.environ[DEFAULT_PROJECT] = str(project)
    # First on this process's import path: this session's project, whatever the editable install
    # points at (a process started before the install, or a test that installs another bake of it).
    sys.path.insert(0, str(Path(os.environ[DEFAULT_PROJECT]) / "src"))


@pytest.fixture(scope="session")
def default_project() -> Path:
    """The project `cookiecutter --no-input` makes, installed: read it, run it, but change it only
    in a copy (`project_copy`), as other tests use it at the same time."""
    return Path(os.environ[DEFAULT_PROJECT])


@pytest.fixture
def project_copy(default_project: Path, tmp_path: Path) -> Path:
    """A copy of the default project in this test's folder, whose own `src/` comes first on the
    import path of the commands `run` starts in it."""
    copy = tmp_path / default_project.name
    shutil.copytree(default_project, copy, ignore=shutil.ignore_patterns("runs", "wandb", "*.egg-info"))
    return copy


bake_default_project()
