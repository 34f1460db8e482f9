"""Check the environment, and the answers given on the command line, before any question is asked.

Cookiecutter runs this hook first, so a user on an unsupported Python or cookiecutter
learns it before answering eleven questions, not after. It also checks `key=value` answers
that cookiecutter itself would mishandle: a misspelled key, which it ignores silently, and a
value outside a choice or a yes/no answer, which it rejects with a Python traceback.
"""

from __future__ import annotations  # so that an old Python gets the message below, not a TypeError

import difflib
import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from cookiecutter import cli
from cookiecutter.config import get_user_config
from cookiecutter.generate import generate_context
from cookiecutter.prompt import prompt_for_config
from pre_gen_project import problems  # beside this file, which cookiecutter runs in place

MIN_PYTHON = (3, 10)
MIN_COOKIECUTTER = (2, 5)  # nested templates ("templates" key) and pre_prompt hooks
YES_NO = {"1", "true", "t", "yes", "y", "on", "0", "false", "f", "no", "n", "off"}  # what cookiecutter reads


def as_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:2] if part.isdigit())


def command_line() -> dict | None:
    """The options and `key=value` answers of the cookiecutter command that runs this hook
    (`cookiecutter ...` or `litproject new ...`), read from its process (/proc, else `ps`) and
    parsed by cookiecutter's own command line; None when it was started otherwise (the Python API
    is not checked here)."""
    parent = os.getppid()
    try:
        args = [arg.decode() for arg in Path(f"/proc/{parent}/cmdline").read_bytes().split(b"\0") if arg]
    except OSError:
        try:
            ps = subprocess.run(["ps", "-o", "args=", "-p", str(parent)], capture_output=True, text=True)
        except OSError:
            return None
        args = ps.stdout.split()
    names = [Path(arg).name for arg in args[:4]]
    if "cookiecutter" in names[:3]:
        given = args[names.index("cookiecutter") + 1 :]
    elif "litproject" in names[:3] and names[names.index("litproject") + 1 :][:1] == ["new"]:
        given = ["<the bundled template>", *args[names.index("litproject") + 2 :]]  # litproject new ...
    else:
        return None
    context = cli.main.make_context("cookiecutter", given, resilient_parsing=True)
    return context.params


def final_answers(options: dict) -> dict:
    """The answers a `--no-input` run will use: defaults, user config and command line, rendered
    by cookiecutter itself."""
    config = get_user_config(options["config_file"], options["default_config"])
    context = generate_context("cookiecutter.json", config["default_context"], options["extra_context"])
    return prompt_for_config(context, no_input=True)


def check_answers(answers: dict[str, str], variables: dict) -> list[str]:
    """One line per answer that names no variable, or is not among the choices it offers."""
    names = [name for name in variables if not name.startswith("_")]
    errors = []
    for key, value in answers.items():
        default = variables.get(key)
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1)
            fix = f"did you mean {close[0]}={value}?" if close else f"the variables are {', '.join(names)}."
            errors.append(f"ERROR: {key}={value} names no variable of this template: {fix}")
        elif isinstance(default, list) and value not in default:
            errors.append(f"ERROR: {key} {value!r} is not one of the choices: {', '.join(default)}.")
        elif isinstance(default, bool) and value.lower() not in YES_NO:
            errors.append(
                f"ERROR: {key} {value!r} is not an answer to a yes/no question: give {key}=yes or no."
            )
    return errors


def main() -> int:
    if sys.version_info < MIN_PYTHON:
        found = ".".join(map(str, sys.version_info[:3]))
        print(
            f"ERROR: Python {found} runs cookiecutter, but the project needs Python >= 3.10; "
            "install cookiecutter with a newer Python (e.g. `python3.11 -m pip install cookiecutter`).",
            file=sys.stderr,
        )
        return 1
    found = version("cookiecutter")
    if as_tuple(found) < MIN_COOKIECUTTER:
        print(
            f"ERROR: cookiecutter {found} is too old for this template (needs >= 2.5); "
            "upgrade it with `pip install -U 'cookiecutter>=2.5'`.",
            file=sys.stderr,
        )
        return 1
    options = command_line()
    if options is None:
        return 0
    # Cookiecutter runs this hook in a copy of the template folder, beside its cookiecutter.json.
    variables = json.loads(Path("cookiecutter.json").read_text())
    errors = check_answers(options["extra_context"] or {}, variables)
    if not errors and options["no_input"]:
        errors = [f"ERROR: {message}" for message in problems(final_answers(options))]
    for error in errors:
        print(error, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
