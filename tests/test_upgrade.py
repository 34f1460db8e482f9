"""A project keeps running when litproject moves by a minor or patch version: the project the
first release of this major version made, run against litproject as it stands."""

import re
import subprocess
import sys
import tarfile
from io import BytesIO
from pathlib import Path

import pytest
from conftest import REPO, Baker, install, offline_env

import litproject

RELEASE = re.compile(r"^Release litproject (\d+)\.(\d+)\.(\d+)\b")


def first_release_of_this_major() -> str:
    """The commit of the first release whose major version is litproject's: its subject says
    `Release litproject X.Y.Z`."""
    major = litproject.__version__.split(".")[0]
    search = ["log", "--reverse", "--format=%H %s", f"--grep=^Release litproject {major}\\."]
    log = subprocess.run(["git", "-C", str(REPO), *search], capture_output=True, text=True, check=True)
    log = log.stdout.splitlines()
    if not log:
        pytest.fail(f"no commit 'Release litproject {major}.x.y' in this clone's history (a shallow clone?)")
    return log[0].split()[0]


@pytest.mark.slow  # a bake, an install and the project's own tests
def test_the_first_release_of_this_major_version_runs_on_litproject_as_it_stands(tmp_path: Path):
    commit = first_release_of_this_major()
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", commit, "cookiecutter.json", "template"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    old = tmp_path / "release"
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(old, filter="data")
    project = Baker(tmp_path, template=old).bake(project_name="Old Release")
    install(project)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project, env=offline_env(), capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]
    assert re.search(r"\d+ passed", result.stdout)
