"""`litproject new`: a new project from the bundled template, with cookiecutter's questions.

    litproject new                                   answer the questions
    litproject new --no-input                        every default: ./lightning-project
    litproject new --no-input project_name="Digit Lab" license=Apache-2.0
    litproject new -o ~/code                         make it in another folder

The answers are checked before anything is written, as with `cookiecutter <this repository>`
(same questions, same refusals). The new folder is a git repository with a first commit, so that
pre-commit's hooks work at once; the next steps are printed at the end.
"""

import re
import shutil
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

from . import __version__

NEXT_STEPS = """
Made {path}. Next:
  cd {path}
  pip install -e ".[dev]"          # the project, litproject {version} and the tools its tests use
  python train.py fit              # the default experiment, offline, in about 20 s on a CPU
  pytest                           # the project's own tests
"""


def template_folder() -> Path:
    """The template: package data in an installed wheel; the repository's `template/` folder when
    litproject runs from a checkout of its repository (an editable install)."""
    bundled = Path(str(files("litproject") / "template"))
    if (bundled / "cookiecutter.json").is_file():
        return bundled
    return Path(__file__).resolve().parents[2] / "template"


def git(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True)


def first_commit(project: Path, author: str, email: str) -> str:
    """Make `project` a git repository holding every generated file in one commit; what happened."""
    if shutil.which("git") is None:
        return "git is not installed: the project is not a git repository yet."
    if git(project, "rev-parse", "--is-inside-work-tree").returncode == 0:
        return "the project lies inside a git repository already: nothing was committed."
    # The answers' author, where git knows no one yet: a first commit needs a name.
    known = git(project, "config", "user.email").stdout.strip()
    identity = [] if known else ["-c", f"user.name={author}", "-c", f"user.email={email}"]
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        [*identity, "commit", "-q", "-m", "A new project from litproject"],
    ):
        result = git(project, *args)
        if result.returncode != 0:
            return f"git {' '.join(args[-5:])} failed: {result.stderr.strip()}"
    return "git repository made, with a first commit."


def main(args: list[str] | None = None) -> int:
    """Run cookiecutter's own command line on the bundled template, then commit the new project."""
    import click
    from cookiecutter.cli import main as cookiecutter

    given = sys.argv[1:] if args is None else list(args)
    if given and given[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    command = [str(template_folder()), *given]
    options = cookiecutter.make_context("litproject new", list(command), resilient_parsing=True).params
    out = Path(options["output_dir"] or ".")
    before = set(out.iterdir()) if out.is_dir() else set()
    try:
        cookiecutter.main(command, prog_name="litproject new", standalone_mode=False)
    except SystemExit as exit_info:  # cookiecutter has said what went wrong
        return int(exit_info.code or 0)
    except click.ClickException as error:  # a mistake on the command line
        error.show()
        return error.exit_code
    made = sorted(set(out.iterdir()) - before) if out.is_dir() else []
    if len(made) == 1:  # not when -f made it again over an earlier one
        print(first_commit(made[0], *author(made[0])))
        print(NEXT_STEPS.format(path=made[0], version=__version__))
    return 0


def author(project: Path) -> tuple[str, str]:
    """The author name and email the project was made with, from its pyproject.toml."""
    found = re.search(
        r'authors = \[\{ name = "(.*?)", email = "(.*?)" \}\]', (project / "pyproject.toml").read_text()
    )
    return (found[1].replace('\\"', '"'), found[2]) if found else ("litproject", "litproject@localhost")
