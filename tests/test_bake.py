"""Baking: defaults, every choice and boolean value, and what lands on disk."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DEFAULT_SLUG, REPO, SUPPORTED_PYTHON, Baker, template_choices

UNRENDERED = re.compile(r"{{|{%|cookiecutter\.")
# The tutorials the template was written from were numbered "seed 000" to "seed 004" inside the
# project; users never saw them, and "seed" means the random seed to them. Flags "seed 001",
# "seeds 001 and 003", "the seed's ...", "the seeds' networks", "seed CNN" and the like, not
# `seed_everything`, `--data.seed`, "random seed 0" or the sweep file seeds.yaml and its seeds-000 runs.
TUTORIAL_NUMBER = re.compile(
    r"(?i)\bseeds?\s*0\d\d\b|\bseed's|\bseeds'(?!\w)"
    r"|\bseed\s+(?:cnn|mlp|docs?|documents?|tutorials?|texts?|models?|networks?)\b"
)


def every_choice() -> list[tuple[str, object]]:
    choices = {**template_choices(), "python_version": SUPPORTED_PYTHON}
    return [(key, value) for key, values in choices.items() for value in values]


def test_defaults_bake_the_documented_layout(baker: Baker):
    project = baker.bake()
    assert project.name == DEFAULT_SLUG
    for path in [
        "pyproject.toml",
        "README.md",
        "LICENSE",
        ".gitignore",
        ".pre-commit-config.yaml",
        "train.py",
        "configs/trainer.yaml",
        "configs/digits_cnn.yaml",
        "configs/mnist_cnn.yaml",
        "configs/fashion_mnist_cnn.yaml",
        "configs/random_mlp.yaml",
        "configs/deep_linear.yaml",
        "configs/crop_yields_linear.yaml",
        "configs/folder_cnn.yaml",
        "configs/sweeps/lr_batch.yaml",
        "configs/sweeps/seeds.yaml",
        "configs/recipes/cosine.yaml",
        "configs/recipes/one_cycle.yaml",
        "configs/recipes/plateau.yaml",
        "configs/recipes/early_stopping.yaml",
        "configs/debug/fast.yaml",
        "configs/debug/overfit.yaml",
        "configs/debug/limit.yaml",
        "configs/debug/anomaly.yaml",
        "configs/debug/profile.yaml",
        "scripts/slurm_train.sh",
        "scripts/slurm_sweep.sh",
        "src/lightning_project/models/cnn.py",
        "src/lightning_project/models/two_layer_net.py",
        "src/lightning_project/models/my_network.py",
        "src/lightning_project/models/linear_regression.py",
        "src/lightning_project/data/base.py",
        "src/lightning_project/data/digits.py",
        "src/lightning_project/data/mnist.py",
        "src/lightning_project/data/crop_yields.py",
        "src/lightning_project/data/crop_yields.csv",
        "src/lightning_project/data/teacher.py",
        "src/lightning_project/data/folder.py",
        "src/lightning_project/tasks/base.py",
        "src/lightning_project/tasks/classification.py",
        "src/lightning_project/tasks/regression.py",
        "tests/conftest.py",
        "tests/test_models.py",
        "tests/test_tasks.py",
        "tests/test_data.py",
        "tests/test_image_folder.py",
        "tests/test_train.py",
        ".github/workflows/tests.yml",
    ]:
        assert (project / path).is_file(), path


def assert_rendered_and_lint_clean(project: Path) -> None:
    for path in project.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert not UNRENDERED.search(text), f"unrendered template code in {path.relative_to(project)}"
    for check in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *check, "."], cwd=project, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_no_user_facing_text_names_the_tutorials_by_seed_number(baker: Baker):
    """Every file of the default baked project, and the template's README and docs pages, names
    its models by what they are, not by the internal "seed 00N" numbers of their tutorials."""
    flagged = ["CNN (seed 001)", "after the seed's 500 steps", "Seeds 001 and 003", "the seed CNN"]
    random_seeds = ["--seed_everything=3", "seeds-000", "random seed 0", "(seed included)", "seed=0"]
    assert all(TUTORIAL_NUMBER.search(text) for text in flagged)
    assert not any(TUTORIAL_NUMBER.search(text) for text in random_seeds)
    project = baker.bake()
    files = [path for path in project.rglob("*") if path.is_file()]
    files += [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    found = [
        f"{path.relative_to(project if path.is_relative_to(project) else REPO)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if TUTORIAL_NUMBER.search(line)
    ]
    assert not found, "\n".join(found)


@pytest.mark.parametrize(("key", "value"), every_choice(), ids=lambda v: str(v))
def test_every_choice_bakes_fully_rendered_lint_clean_files(baker: Baker, key: str, value: object):
    assert_rendered_and_lint_clean(baker.bake(**{key: value}))


@pytest.mark.parametrize(
    "package_name", ["a_first", "zz_last", "a_package_name_much_longer_than_most_people_use"]
)
def test_imports_stay_lint_clean_whatever_the_package_name(baker: Baker, package_name: str):
    """Import sorting and line lengths depend on the package name: try names that sort first
    and last, and a long one."""
    assert_rendered_and_lint_clean(baker.bake(package_name=package_name))


@pytest.mark.parametrize(
    ("license_", "marker"),
    [
        ("MIT", "Permission is hereby granted, free of charge"),
        ("BSD-3-Clause", "Neither the name of the copyright holder"),
        ("Apache-2.0", "Apache License\n                           Version 2.0"),
        ("GPL-3.0-only", "GNU GENERAL PUBLIC LICENSE\n                       Version 3"),
        ("Proprietary", "All rights reserved."),
    ],
)
def test_license_file_holds_the_chosen_license(baker: Baker, license_: str, marker: str):
    assert set(template_choices()["license"]) >= {license_}
    text = (baker.bake(license=license_, author_name="Ada Lovelace") / "LICENSE").read_text()
    assert marker in text
    if license_ in {"MIT", "BSD-3-Clause", "Proprietary"}:
        assert "Ada Lovelace" in text


def test_github_actions_off_leaves_no_workflow(baker: Baker):
    assert not (baker.bake(github_actions=False) / ".github").exists()


def test_answers_flow_into_the_project(baker: Baker):
    project = baker.bake(
        project_name="Digit Lab",
        package_name="digit_lab",
        author_email="ada@example.org",
        python_version="3.12",
        wandb_project="digits",
        wandb_entity="ada-team",
    )
    assert project.name == "digit-lab"
    assert (project / "src" / "digit_lab" / "tasks" / "base.py").is_file()
    pyproject = (project / "pyproject.toml").read_text()
    assert 'requires-python = ">=3.12"' in pyproject and 'target-version = "py312"' in pyproject
    assert "ada@example.org" in pyproject
    trainer = (project / "configs" / "trainer.yaml").read_text()
    assert "project: digits" in trainer and "entity: ada-team" in trainer
    assert "class_path: digit_lab.models.Net" in (project / "configs" / "digits_cnn.yaml").read_text()


def test_quotes_in_free_text_answers_stay_valid_toml(baker: Baker):
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    project = baker.bake(description='A "quoted" description', author_name='Ada "The Countess" Lovelace')
    meta = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    assert meta["description"] == 'A "quoted" description'
    assert meta["authors"][0]["name"] == 'Ada "The Countess" Lovelace'


def test_existing_target_folder_is_refused_and_left_untouched(baker: Baker):
    target = baker.out / DEFAULT_SLUG
    target.mkdir(parents=True)
    (target / "notes.txt").write_text("my work")

    result = baker.run()
    assert result.returncode != 0
    assert "already exists" in result.stdout + result.stderr
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    assert (target / "notes.txt").read_text() == "my work"


def test_generated_gitignore_ignores_runs_and_data_but_no_generated_file(baker: Baker):
    project = baker.bake()
    for folder in ("data", "runs", "wandb"):
        (project / folder).mkdir()
        (project / folder / "x.bin").write_text("x")

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=project, capture_output=True, text=True, check=True).stdout

    git("init", "-q")
    ignored = git("status", "--porcelain", "--ignored", "--untracked-files=all").splitlines()
    ignored = {line[3:] for line in ignored if line.startswith("!! ")}
    assert ignored == {"data/x.bin", "runs/x.bin", "wandb/x.bin"}


LINE_BUDGET = 1500  # lines of Python outside tests/ in a generated project
SELF = ("self", "cls")


def reaches_into_libraries(path: Path) -> list[str]:
    """The places of a Python file that use a private member (`x._name`, `from a._b import`) of
    anything but the file's own classes, or write an attribute onto an object that is not `self`."""
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        line = f"{path.name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            if not (isinstance(node.value, ast.Name) and node.value.id in SELF):
                found.append(f"{line}: private member .{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            private = [part for part in node.module.split(".") if part.startswith("_")]
            private += [alias.name for alias in node.names if alias.name.startswith("_")]
            if private:
                found.append(f"{line}: imports private {', '.join(private)} from {node.module}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr":
            found.append(f"{line}: setattr")
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                base = target
                while isinstance(base, ast.Attribute | ast.Subscript):
                    base = base.value
                if isinstance(target, ast.Attribute) and not (isinstance(base, ast.Name) and base.id in SELF):
                    found.append(f"{line}: writes {ast.unparse(target)}")
    return found


def test_the_project_holds_only_what_its_user_owns(baker: Baker):
    """Networks, tasks, datamodules and train.py: within the line budget, and with no private
    member of any library nor an attribute written onto another library's object (the machinery
    that needs them is litproject's, whose `compat.py` holds them all)."""
    project = baker.bake()
    code = [path for path in project.rglob("*.py") if "tests" not in path.relative_to(project).parts]
    lines = sum(len(path.read_text().splitlines()) for path in code)
    assert lines <= LINE_BUDGET, f"{lines} lines of Python outside tests/"
    found = [place for path in project.rglob("*.py") for place in reaches_into_libraries(path)]
    assert not found, "\n".join(found)
    # The check finds what it looks for.
    probe = project / "probe.py"
    probe.write_text(
        "from lightning.pytorch.tuner.lr_finder import _LRFinder\n"
        "trainer.profiler = None\nx = logger._experiment\nsetattr(cli, 'config_dump', {})\n"
    )
    assert len(reaches_into_libraries(probe)) == 4
