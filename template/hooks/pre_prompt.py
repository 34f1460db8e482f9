"""Check the environment before any question is asked.

Cookiecutter runs this hook first, so a user on an unsupported Python or cookiecutter
learns it before answering eleven questions, not after.
"""

import sys
from importlib.metadata import version

MIN_PYTHON = (3, 10)
MIN_COOKIECUTTER = (2, 5)  # nested templates ("templates" key) and pre_prompt hooks


def as_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:2] if part.isdigit())


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
    return 0


if __name__ == "__main__":
    sys.exit(main())
