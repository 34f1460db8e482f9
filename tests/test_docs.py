"""The documentation site builds with no warning, and its worked examples run as written."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

from conftest import REPO, run

EXTENDING = REPO / "docs" / "extending.md"
# A fenced block with a title is a file to create: ```python title="src/.../lenet.py"
FILE_BLOCK = re.compile(r'^```\w+ title="(?P<path>[^"]+)"\n(?P<text>.*?)^```$', re.MULTILINE | re.DOTALL)
COMMAND_BLOCK = re.compile(r"^```bash\n(?P<lines>.*?)^```$", re.MULTILINE | re.DOTALL)
TEST_ACCURACY = re.compile(r"test/acc\W+([0-9.]+)")


def test_docs_site_builds_strictly(tmp_path: Path):
    """`mkdocs build --strict` fails on any warning: a broken link, a page missing from the nav."""
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (site / "extending" / "index.html").is_file() and (site / "quick-start" / "index.html").is_file()


def test_extending_examples_run_in_a_generated_project(project_copy: Path):
    """Every file of docs/extending.md written into the default project, lint-clean, and every
    command of the page run in order: the new model and datamodule train, test and pass their test."""
    default_project = project_copy
    page = EXTENDING.read_text()
    files = [(default_project / match["path"], match["text"]) for match in FILE_BLOCK.finditer(page)]
    assert len(files) >= 5
    for path, text in files:
        assert not path.exists(), f"{path} would replace a file of the project"
        path.write_text(text)
    written = [str(path) for path, _ in files if path.suffix == ".py"]
    run(default_project, sys.executable, "-m", "ruff", "check", *written)
    run(default_project, sys.executable, "-m", "ruff", "format", "--check", *written)

    commands = [line for block in COMMAND_BLOCK.finditer(page) for line in block["lines"].splitlines()]
    assert commands and all(
        line.startswith(("python train.py ", "python scripts/", "pytest ")) for line in commands
    )
    for line in commands:
        program, *args = shlex.split(line)
        module = [] if program == "python" else ["-m", "pytest"]
        output = run(default_project, sys.executable, *module, *args, WANDB_MODE="disabled")
        if " test " in f" {line} ":
            assert float(TEST_ACCURACY.search(output).group(1)) >= 0.95, line
