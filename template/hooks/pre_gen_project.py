"""Refuse bad answers before any project file is written, and hold the rules for every hook.

Cookiecutter (and cruft, which has no pre_prompt hook) renders this file with the answers, runs
it, and deletes the project folder it just created when it exits non-zero. For `--no-input`
runs `pre_prompt` has already applied the same rules, imported from here, without the traceback
cookiecutter prints after a failed pre_gen_project hook. Each broken rule is one message naming
the value, the rule and the fix.

The rules below are plain Python, also imported unrendered: keep Jinja syntax out of this file
except in ANSWERS.
"""

import json
import keyword
import re
import sys

ANSWERS = r"""{{ cookiecutter | jsonify }}"""  # a string, so that the module imports unrendered

SUPPORTED_PYTHON = ("3.10", "3.11", "3.12", "3.13")
# Import names the generated project depends on or creates; a package with one of these
# names would shadow it.
RESERVED = {
    "torch",
    "torchvision",
    "lightning",
    "pytorch_lightning",
    "lightning_fabric",
    "lightning_utilities",
    "torchmetrics",
    "wandb",
    "jsonargparse",
    "rich",
    "sklearn",
    "numpy",
    "yaml",
    "PIL",
    "pytest",
    "ruff",
    "tests",
    "test",
    "train",
    "configs",
    "src",
    "matplotlib",
    "export",
    "onnx",
    "onnxscript",
    "onnxruntime",
    "tensorboard",
}
SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
PACKAGE = re.compile(r"[a-z_][a-z0-9_]*")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
WANDB_NAME = re.compile(r"[^/\\#?%:\s]+")


def problems(answers: dict) -> list[str]:
    """Every rule a set of answers breaks, each as one message."""
    found = []
    slug = answers["project_slug"]
    if not SLUG.fullmatch(slug):
        found.append(
            f"project_slug {slug!r} is not a safe folder name: use letters, digits, '.', '_' "
            "and '-', starting with a letter or digit (e.g. 'my-project')."
        )

    package = answers["package_name"]
    if not PACKAGE.fullmatch(package):
        found.append(
            f"package_name {package!r} is not a valid import name: use lowercase ASCII letters, "
            "digits and '_', not starting with a digit (e.g. 'my_project')."
        )
    elif keyword.iskeyword(package):
        found.append(
            f"package_name {package!r} is a Python keyword: choose another name (e.g. 'my_{package}')."
        )
    elif package in RESERVED:
        found.append(
            f"package_name {package!r} would shadow the module {package!r} the project uses: "
            f"choose another name (e.g. 'my_{package}')."
        )
    elif package in sys.stdlib_module_names:
        found.append(
            f"package_name {package!r} would shadow the standard-library module {package!r}: "
            f"choose another name (e.g. 'my_{package}')."
        )

    email = answers["author_email"]
    if not EMAIL.fullmatch(email):
        found.append(f"author_email {email!r} is not an email address: use the form 'name@example.com'.")

    python = answers["python_version"]
    if python not in SUPPORTED_PYTHON:
        found.append(
            f"python_version {python!r} is not supported: choose one of {', '.join(SUPPORTED_PYTHON)}."
        )

    for key in ("wandb_project", "wandb_entity"):
        value = answers[key]
        if (value or key == "wandb_project") and not WANDB_NAME.fullmatch(value):
            found.append(
                f"{key} {value!r} is not a valid W&B name: use a non-empty name without spaces "
                "or any of / \\ # ? % :."
            )

    if not answers["project_name"].strip():
        found.append("project_name is empty: give the project a name (e.g. 'My Project').")
    return found


def main() -> int:
    messages = problems(json.loads(ANSWERS))
    for message in messages:
        print(f"ERROR: {message}", file=sys.stderr)
    return 1 if messages else 0


if __name__ == "__main__":
    sys.exit(main())
