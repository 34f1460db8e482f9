"""litproject: the runtime of the projects that the Lightning project template makes.

A project holds what its user owns: networks, tasks, datamodules, configs and a short `train.py`
that calls `litproject.main`. Everything else lives here, versioned, and reaches every project
by `pip install -U litproject`: the command line, run folders, tracking, callbacks, checkpoints,
sweeps, compare, convert and streaming, export, and the one module that knows other libraries'
internals (`compat.py`). `litproject new` makes a project; `litproject --help` lists the other
commands. The stable surface, what configs and projects may name, is listed in docs/runtime.md.
"""

import sys
from pathlib import Path

__version__ = "1.1.0"


def main(base_config: Path, default_experiment: Path, guide: str = "", args: list[str] | None = None) -> None:
    """Run a project's `python train.py <subcommand> ...` (LightningCLI).

    `base_config` (settings every experiment shares) is read first, then the experiment:
    the `--config` files, or `default_experiment` when none is given. Without a subcommand it
    prints `guide` (train.py's docstring) and the experiments beside the default one, before
    Lightning's seconds of imports, and exits with status 2 as for any command-line mistake.
    """
    given = sys.argv[1:] if args is None else args
    if not given:
        configs = Path(default_experiment).parent
        experiments = sorted(path.stem for path in configs.glob("*.yaml") if path != Path(base_config))
        print(
            f"{guide.rstrip()}\n\nExperiments in {configs.name}/: {', '.join(experiments)}", file=sys.stderr
        )
        sys.exit(2)
    from .compat import load_wandb_launch_early

    load_wandb_launch_early()  # before Lightning is imported: see its docstring
    from .cli import main as run

    run(given, base_configs=[Path(base_config)], default_experiment=Path(default_experiment))
