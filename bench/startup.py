"""Where a short run's seconds go, for the benchmark: `train.py <args>` run in this process, as
`python train.py <args>` runs it, with the wall-clock time noted at the end of each phase;
written as JSON to $BENCH_OUT (seconds since $BENCH_T0, when run.py started the process).

    python startup.py fit --trainer.max_steps=1 --trainer.limit_val_batches=1     # in the project
"""

import json
import os
import runpy
import sys
import time

START = float(os.environ["BENCH_T0"])
marks: dict[str, float] = {}


def mark(phase: str) -> None:
    marks[phase] = round(time.time() - START, 3)


def marked_end(owner: object, attribute: str, phase: str, before: str | None = None) -> None:
    """Note when `owner.attribute` returns (and, with `before`, when it is called)."""
    original = getattr(owner, attribute)

    def wrapper(*args, **kwargs):
        if before:
            mark(before)
        result = original(*args, **kwargs)
        mark(phase)
        return result

    setattr(owner, attribute, wrapper)


if __name__ == "__main__":
    from litproject.compat import load_wandb_launch_early

    load_wandb_launch_early()  # as litproject.main does
    mark("W&B's Launch client imported early (litproject.compat)")
    import lightning.pytorch as pl

    mark("import lightning.pytorch")
    from lightning.pytorch.cli import LightningCLI

    import litproject.cli as cli
    from litproject.callbacks import LearningCurves

    mark("litproject's modules")
    marked_end(LightningCLI, "parse_arguments", "command line and configs parsed (jsonargparse)")
    marked_end(LightningCLI, "instantiate_classes", "model, data and Trainer built")

    def wandb_init_marked(*args, **kwargs):
        """Installed when the subcommand starts: jsonargparse reads `wandb.init`'s signature while
        parsing, and must find W&B's own."""
        import wandb

        marked_end(wandb, "init", "W&B run started")
        return run_subcommand(*args, **kwargs)

    run_subcommand = LightningCLI._run_subcommand
    LightningCLI._run_subcommand = wandb_init_marked
    marked_end(pl.Trainer, "_run_sanity_check", "data set up, sanity validation")
    marked_end(LearningCurves, "on_fit_end", "training step, checkpoint, learning curves")
    marked_end(cli, "finish_wandb_run", "W&B run finished")

    sys.argv = ["train.py", *sys.argv[1:]]
    runpy.run_path("train.py", run_name="__main__")
    with open(os.environ["BENCH_OUT"], "w") as file:
        json.dump(marks, file)
