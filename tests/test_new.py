"""`litproject new`: the template bundled in the package, the same questions and refusals as
`cookiecutter <this repository>`, a git repository with a first commit; and the whole first
session from a package installed as users install it (a wheel, not this checkout)."""

import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import REPO, Baker, offline_env


def new(tmp_path: Path, *args: str, python: str = sys.executable) -> subprocess.CompletedProcess:
    """`litproject new <args>` with cookiecutter's own files kept in tmp_path (as Baker does)."""
    config = Baker(tmp_path).config
    command = [python, "-m", "litproject", "new", "--config-file", str(config), *args]
    return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env=offline_env())


def test_new_makes_a_committed_project_and_says_what_to_do_next(tmp_path: Path):
    result = new(tmp_path, "--no-input", "-o", "out", "project_name=Digit Lab")
    assert result.returncode == 0, result.stdout + result.stderr
    project = tmp_path / "out" / "digit-lab"
    assert (project / "src" / "digit_lab" / "tasks" / "classification.py").is_file()
    assert "git repository made, with a first commit." in result.stdout
    assert f"cd {Path('out') / 'digit-lab'}" in result.stdout and 'pip install -e ".[dev]"' in result.stdout

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=project, capture_output=True, text=True, check=True).stdout

    assert len(git("log", "--oneline").splitlines()) == 1
    assert git("status", "--porcelain") == ""  # every file committed, none ignored by mistake
    assert "Select a template" not in result.stdout  # the template itself, not the repository's menu


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("package_name=torch", "ERROR: package_name 'torch' would shadow the module 'torch'"),
        ("licence=MIT", "ERROR: licence=MIT names no variable of this template: did you mean license=MIT?"),
    ],
)
def test_new_refuses_bad_answers_in_one_line_with_nothing_written(tmp_path: Path, answer: str, message: str):
    result = new(tmp_path, "--no-input", "-o", "out", answer)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1 and errors[0].startswith(message), result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not list(tmp_path.glob("out/*"))


@pytest.mark.slow  # a wheel built, a virtual environment made, a project installed and trained
def test_from_a_wheel_new_install_and_fit_work_offline(tmp_path: Path):
    """`pip install <this repository>` (a wheel, the template inside it), `litproject new
    --no-input`, `pip install -e ".[dev]"`, `python train.py fit`: offline. The new environment
    sees this one's packages (torch and the rest, gigabytes) through a .pth file instead of
    copies; litproject itself and the project are installed into it."""
    venv = tmp_path / "venv"
    # Without its own pip and setuptools (Python 3.11 gives an old setuptools): the outer ones.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    (Path(site) / "outer.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = [python, "-m", "pip", "install", "--quiet", "--no-build-isolation"]
    subprocess.run([*pip, "--no-deps", str(REPO)], check=True, env=offline_env())
    shown = subprocess.run([python, "-m", "pip", "show", "-f", "litproject"], capture_output=True, text=True)
    assert "Editable project location" not in shown.stdout and "template/cookiecutter.json" in shown.stdout

    result = new(tmp_path, "--no-input", python=python)
    assert result.returncode == 0, result.stdout + result.stderr
    project = tmp_path / "lightning-project"
    subprocess.run([*pip, "-e", ".[dev]"], cwd=project, check=True, env=offline_env())
    env = {**offline_env(), "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    fit = subprocess.run(
        [python, "train.py", "fit", "--trainer.max_epochs=1", "--trainer.enable_progress_bar=false"],
        cwd=project, capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert fit.returncode == 0, fit.stdout[-3000:] + fit.stderr[-3000:]
    assert re.search(r"^Best val/loss: [0-9.]+ at epoch 1", fit.stdout, re.MULTILINE), fit.stdout[-2000:]
    code = "import litproject, lightning_project as p; print(litproject.__file__, p.__file__)"
    imported = subprocess.run(
        [python, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout
    assert imported.split() == [
        str(Path(site) / "litproject" / "__init__.py"),
        str(project / "src" / "lightning_project" / "__init__.py"),
    ]
