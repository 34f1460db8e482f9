"""Drop the files a user's answers switched off, and record where the project came from.

The record is cruft's `.cruft.json` (template, commit, answers), so that `cruft check` and
`cruft update` in the project pull later template changes. cruft writes its own when it
generates the project (`cruft create`, `cruft update`): then its answers hold `_commit`.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

ANSWERS = json.loads(r"""{{ cookiecutter | jsonify }}""")


def git(folder: Path, *args: str) -> str | None:
    """Output of a git command in `folder`, or None when git or the repository is not there."""
    try:
        result = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True)
    except OSError:
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def template_source(template_dir: Path) -> dict | None:
    """Where `template_dir` came from: the `origin` URL of the clone cookiecutter makes of a
    repository URL; the checkout itself when its commit is not on any remote branch (a local
    template with commits of its own). None when the template is not in a git repository."""
    root, commit = git(template_dir, "rev-parse", "--show-toplevel"), git(template_dir, "rev-parse", "HEAD")
    if not (root and commit):
        return None
    directory = template_dir.resolve().relative_to(Path(root).resolve()).as_posix()
    pushed = git(template_dir, "branch", "--remotes", "--contains", commit)
    url = (pushed and git(template_dir, "remote", "get-url", "origin")) or root
    return {"template": url, "commit": commit, "directory": None if directory == "." else directory}


def record_template_source() -> None:
    template_dir = Path(ANSWERS["_template"])
    source = template_source(template_dir)
    if source is None:
        print(
            f"note: {ANSWERS['_template']} is not a git checkout, so no .cruft.json was written; "
            "`cruft link <template URL> --directory template` adds one later.",
            file=sys.stderr,
        )
        return
    # In cookiecutter.json's order, as cruft writes them (ANSWERS is sorted by name).
    variables = json.loads((template_dir / "cookiecutter.json").read_text())
    answers = {key: ANSWERS[key] for key in variables if not key.startswith("_")}
    answers.update(_template=source["template"], _commit=source["commit"])
    record = {
        "template": source["template"],
        "commit": source["commit"],
        "checkout": ANSWERS.get("_checkout"),
        "context": {"cookiecutter": answers},
        "directory": source["directory"],
        "skip": [],
    }
    Path(".cruft.json").write_text(json.dumps(record, indent=2) + "\n")


if not ANSWERS["github_actions"]:
    shutil.rmtree(Path(".github"))
if "_commit" not in ANSWERS:
    record_template_source()
