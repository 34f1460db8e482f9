"""`litproject`: the commands beside a project's `python train.py`.

    litproject new [key=value ...] [--no-input] [-o FOLDER]   make a project (cookiecutter's questions)
    litproject sweep configs/sweeps/lr_batch.yaml             run a sweep file's trials with Optuna
    litproject compare runs/digits_cnn                        tabulate an experiment's runs
    litproject convert data/digits-chunks [--config ...]      an experiment's data as LitData chunks
    litproject export runs/digits_cnn/<run>/checkpoints/best.ckpt [--format onnx]
                                                              a trained network as plain PyTorch or ONNX
    litproject --version

`sweep` and `convert` run in a project's folder, beside its train.py. Each command's --help
lists its options.
"""

import importlib
import sys

from . import __version__
from .errors import UserError

COMMANDS = {
    "new": "litproject.new",
    "sweep": "litproject.sweeps.study",
    "compare": "litproject.compare",
    "convert": "litproject.convert",
    "export": "litproject.export",
}
EXTRAS = {"optuna": "sweeps", "optuna_integration": "sweeps"}  # what a command needs beyond the core


def main(argv: list[str] | None = None) -> int:
    """Run `litproject <command> ...`; the exit status."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(__doc__.rstrip(), file=sys.stdout if args else sys.stderr)
        return 0 if args else 2
    if args[0] == "--version":
        print(f"litproject {__version__}")
        return 0
    command, rest = args[0], args[1:]
    if command not in COMMANDS:
        print(
            f"error: litproject {command}: no such command; the commands are {', '.join(COMMANDS)}.",
            file=sys.stderr,
        )
        return 2
    try:
        module = importlib.import_module(COMMANDS[command])
    except ModuleNotFoundError as error:
        if error.name not in EXTRAS:
            raise
        extra = EXTRAS[error.name]
        print(f'error: litproject {command} needs {error.name}: pip install -e ".[{extra}]"', file=sys.stderr)
        return 2
    try:
        return module.main(rest) or 0
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code


if __name__ == "__main__":
    sys.exit(main())
