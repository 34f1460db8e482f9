"""Bad answers are refused before anything is written, with one clear line each."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, TEMPLATE, Baker

BAD_ANSWERS = [
    ("package_name", "class", "Python keyword"),
    ("package_name", "torch", "shadow the module 'torch'"),
    ("package_name", "lightning", "shadow the module 'lightning'"),
    ("package_name", "test", "shadow the module 'test'"),
    ("package_name", "json", "standard-library module 'json'"),
    ("package_name", "1digits", "not a valid import name"),
    ("package_name", "my-package", "not a valid import name"),
    ("package_name", "pâquet", "not a valid import name"),
    ("package_name", "", "not a valid import name"),
    ("project_slug", "../escape", "not a safe folder name"),
    ("project_slug", "/tmp/abs", "not a safe folder name"),
    ("project_slug", "has space", "not a safe folder name"),
    ("project_slug", "", "not a safe folder name"),
    ("author_email", "ada.example.org", "not an email address"),
    ("author_email", "ada@localhost", "not an email address"),
    ("python_version", "3.8", "not supported"),
    ("python_version", "three", "not supported"),
    ("wandb_project", "my/project", "not a valid W&B name"),
    ("wandb_entity", "my team", "not a valid W&B name"),
]


def files_under(folder: Path) -> set[Path]:
    return set(folder.rglob("*")) if folder.exists() else set()


@pytest.mark.parametrize(("key", "value", "rule"), BAD_ANSWERS, ids=lambda v: repr(v))
def test_bad_answer_is_refused_with_one_line_and_nothing_on_disk(
    baker: Baker, key: str, value: str, rule: str
):
    # A slug like '../escape' points outside the output folder: watch its parent as well.
    work = baker.out.parent
    before = files_under(work)
    result = baker.run(**{key: value})

    assert result.returncode != 0
    # One line for the bad answer (answers derived from it, like the package name from the
    # slug, may add their own).
    errors = [line for line in result.stderr.splitlines() if line.startswith(f"ERROR: {key} {value!r} ")]
    assert len(errors) == 1, result.stderr
    assert rule in errors[0]
    assert "Traceback" not in result.stdout + result.stderr
    assert files_under(work) - before <= {baker.out}  # at most the empty output folder
    assert not files_under(baker.out)
    assert not Path("/tmp/abs").exists()


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("licence=MIT", "ERROR: licence=MIT names no variable of this template: did you mean license=MIT?"),
        ("license=WTFPL", "ERROR: license 'WTFPL' is not one of the choices: MIT, BSD-3-Clause,"),
        (
            "github_actions=maybe",
            "ERROR: github_actions 'maybe' is not an answer to a yes/no question: give github_actions=yes",
        ),
    ],
)
def test_command_line_answers_cookiecutter_would_mishandle_are_refused(
    baker: Baker, answer: str, message: str
):
    # Cookiecutter ignores an unknown key and raises a traceback for a value outside a choice.
    key, value = answer.split("=")
    result = baker.run(**{key: value})
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR:")]
    assert result.returncode != 0
    assert len(errors) == 1 and errors[0].startswith(message), result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not files_under(baker.out)


def test_answers_given_interactively_are_checked_before_generation(tmp_path: Path):
    """Without `--no-input` (here: cookiecutter's Python API, which the pre_prompt hook does not
    read), the pre_gen_project hook applies the same rules and cookiecutter removes the folder."""
    config = tmp_path / "config.yaml"  # replays and clones stay in tmp_path
    config.write_text(f"replay_dir: {tmp_path / 'replay'}\ncookiecutters_dir: {tmp_path / 'clones'}\n")
    code = (
        "from cookiecutter.main import cookiecutter\n"
        f"cookiecutter({str(REPO)!r}, no_input=True, output_dir={str(tmp_path / 'out')!r},\n"
        f"             config_file={str(config)!r}, extra_context={{'package_name': 'torch'}})\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode != 0
    assert "ERROR: package_name 'torch' would shadow the module 'torch'" in result.stderr
    assert not files_under(tmp_path / "out")


def test_several_bad_answers_are_all_reported_at_once(baker: Baker):
    result = baker.run(package_name="torch", author_email="nope", python_version="2.7")
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR:")]
    assert result.returncode != 0
    assert len(errors) == 3
    assert not files_under(baker.out)


def test_good_unusual_answers_are_accepted(baker: Baker):
    project = baker.bake(project_slug="Seed.Models_2", wandb_entity="")
    assert project.name == "Seed.Models_2"
    assert (project / "src" / "seed_models_2").is_dir()  # derived from the slug


def run_pre_prompt(pretend_cookiecutter: str) -> subprocess.CompletedProcess:
    """Run the pre-prompt hook as cookiecutter does, with the installed version faked."""
    code = (
        "import importlib.metadata, runpy, sys\n"
        f"importlib.metadata.version = lambda name: {pretend_cookiecutter!r}\n"
        "runpy.run_path(sys.argv[1], run_name='__main__')\n"
    )
    hook = TEMPLATE / "hooks" / "pre_prompt.py"
    env = {**os.environ, "PYTHONPATH": str(hook.parent)}  # as when cookiecutter runs the file itself
    return subprocess.run([sys.executable, "-c", code, str(hook)], capture_output=True, text=True, env=env)


def test_pre_prompt_hook_refuses_an_old_cookiecutter():
    result = run_pre_prompt("2.4.1")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "cookiecutter 2.4.1 is too old" in result.stderr and "pip install -U" in result.stderr


def test_pre_prompt_hook_accepts_this_environment():
    result = run_pre_prompt("2.6.0")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
