"""Refuse bad answers before any project file is written.

Cookiecutter renders this file with the answers, runs it, and deletes the project folder it
just created when the hook exits non-zero. (For `--no-input` runs the pre_prompt hook has
already applied the same rules, without cookiecutter's traceback that follows a failed
pre_gen_project hook.)
"""

import json
import sys
from pathlib import Path

ANSWERS = json.loads(r"""{{ cookiecutter | jsonify }}""")

sys.path.insert(0, str(Path(ANSWERS["_repo_dir"], "hooks")))  # this file runs from a temporary copy
from answer_rules import problems  # noqa: E402


def main() -> int:
    messages = problems(ANSWERS)
    for message in messages:
        print(f"ERROR: {message}", file=sys.stderr)
    return 1 if messages else 0


if __name__ == "__main__":
    sys.exit(main())
