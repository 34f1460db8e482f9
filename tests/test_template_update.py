"""A generated project pulls later template changes with cruft, keeping its own edits.

The template is a local git repository here (a copy of this one's template); users give a
repository URL, which cookiecutter clones, and the project records that clone's `origin`.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO, TEMPLATE, Baker

TRAINER_YAML = Path("template", "{{cookiecutter.project_slug}}", "configs", "trainer.yaml")


def git(folder: Path, *args: str) -> str:
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]
    result = subprocess.run(["git", *identity, *args], cwd=folder, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def cruft(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cruft", *args], cwd=project, capture_output=True, text=True)


def template_copy(folder: Path) -> Path:
    """This repository's template as it is in the working tree (as tested), outside git."""
    folder.mkdir()
    shutil.copy(REPO / "cookiecutter.json", folder / "cookiecutter.json")
    shutil.copytree(TEMPLATE, folder / "template", ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def template_repository(folder: Path) -> Path:
    """The template committed into a new git repository."""
    template_copy(folder)
    git(folder, "init", "-q")
    git(folder, "add", "-A")
    git(folder, "commit", "-qm", "template v1")
    return folder


def test_a_baked_project_records_its_template_and_pulls_later_changes(tmp_path: Path):
    template = template_repository(tmp_path / "template-repo")
    project = Baker(tmp_path, template=template).bake(project_name="Digit Lab")

    record = json.loads((project / ".cruft.json").read_text())
    assert record["template"] == str(template)
    assert record["commit"] == git(template, "rev-parse", "HEAD")
    assert record["directory"] == "template"
    assert record["context"]["cookiecutter"]["package_name"] == "digit_lab"

    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "generated")
    experiment = project / "configs" / "digits_cnn.yaml"
    experiment.write_text(experiment.read_text() + "# my own note\n")
    git(project, "commit", "-qam", "my change")
    assert cruft(project, "check").returncode == 0

    trainer = template / TRAINER_YAML
    trainer.write_text(trainer.read_text() + "# a later template improvement\n")
    git(template, "commit", "-qam", "template v2")
    assert cruft(project, "check").returncode == 1  # out of date

    result = cruft(project, "update", "--skip-apply-ask")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (project / "configs" / "trainer.yaml").read_text().endswith("# a later template improvement\n")
    assert experiment.read_text().endswith("# my own note\n")  # the user's edit is kept
    assert json.loads((project / ".cruft.json").read_text())["commit"] == git(template, "rev-parse", "HEAD")
    assert cruft(project, "check").returncode == 0


def test_a_template_outside_git_bakes_without_a_record_and_says_how_to_add_one(tmp_path: Path):
    baker = Baker(tmp_path, template=template_copy(tmp_path / "template-copy"))
    result = baker.run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "cruft link" in result.stderr
    (project,) = baker.out.iterdir()
    assert not (project / ".cruft.json").exists()
