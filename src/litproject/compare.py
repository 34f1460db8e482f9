"""Compare the runs of an experiment from what they wrote: no server, no second bookkeeping.

For each run folder, the settings come from its saved `fit` config, the metrics from its
`metrics.csv` (per epoch) and `test_metrics.csv` (per test). The table shows the settings that
differ between the runs, the best value of a validation metric, the matching test metric of the
newest test, the epochs and the training time; runs that differ only in their seed are also
summarised as mean and standard deviation per setting.
"""

import fnmatch
import re
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from jsonargparse import ArgumentParser

from .errors import UserError
from .history import METRICS_FILE, TEST_METRICS_FILE, read_rows, write_rows
from .runs import runs_in, settings

SEED = "seed_everything"
# Set per run by the command line, not settings to compare.
NOT_SETTINGS = ("ckpt_path", "run_name", "experiment")
LOWER_IS_BETTER = ("loss", "mse", "mae", "error", "err")


class CompareError(UserError):
    """Nothing to compare, or a metric no run has."""


@dataclass
class Run:
    name: str
    settings: dict[str, Any]
    best: float | None  # the best value of the metric over the run's validations
    best_epoch: int | None
    last: float | None  # its value after the last validation, which sweeps optimise
    test: float | None  # the metric's test counterpart, from the newest test
    epochs: int
    seconds: float | None


def lower_is_better(metric: str) -> bool:
    return any(word in metric.rsplit("/", 1)[-1].lower() for word in LOWER_IS_BETTER)


def load_run(folder: Path, metric: str, minimize: bool) -> Run:
    epochs = read_rows(folder / METRICS_FILE)
    scored = [row for row in epochs if isinstance(row.get(metric), float)]
    best = (min if minimize else max)(scored, key=lambda row: row[metric]) if scored else None
    tests = read_rows(folder / TEST_METRICS_FILE)
    test_metric = "test/" + metric.split("/", 1)[-1]
    test = tests[-1].get(test_metric) if tests else None
    return Run(
        name=folder.name,
        settings={key: value for key, value in settings(folder).items() if key not in NOT_SETTINGS},
        best=best[metric] if best else None,
        best_epoch=int(best["epoch"]) if best else None,
        last=scored[-1][metric] if scored else None,
        test=test if isinstance(test, float) else None,
        epochs=int(epochs[-1]["epoch"]) if epochs else 0,
        seconds=epochs[-1].get("time") if epochs else None,
    )


def differing(runs: list[Run]) -> list[str]:
    """The settings that do not have one value in every run."""
    names = sorted({name for run in runs for name in run.settings})
    return [name for name in names if len({repr(run.settings.get(name)) for run in runs}) > 1]


def shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).rsplit(".", 1)[-1] if isinstance(value, str) and value.count(".") > 1 else str(value)


def mean_std(values: list[float | None]) -> str:
    """Mean ± standard deviation of the values there are, and how many when some are missing."""
    present = [value for value in values if value is not None]
    if not present:
        return ""
    spread = statistics.stdev(present) if len(present) > 1 else 0.0
    count = f" ({len(present)} of {len(values)})" if len(present) < len(values) else ""
    return f"{statistics.mean(present):.4g} ± {spread:.2g}{count}"


def table(
    runs: list[Run], columns: list[str], metric: str
) -> tuple[list[str], list[list[str]], list[list[Any]]]:
    """Header, rows as text, rows as values."""
    test = "test/" + metric.split("/", 1)[-1]
    header = ["run", *columns, f"best {metric}", "at epoch", f"last {metric}", test, "epochs", "time (s)"]
    values = [
        [
            run.name,
            *(run.settings.get(name) for name in columns),
            run.best,
            run.best_epoch,
            run.last,
            run.test,
        ]
        + [run.epochs, run.seconds]
        for run in runs
    ]
    return header, [[shown(value) for value in row] for row in values], values


def seed_groups(
    runs: list[Run], columns: list[str], metric: str, minimize: bool
) -> tuple[list[str], list[list[str]]]:
    """Runs that differ only in their seed, as one row each: how many, mean ± standard deviation;
    the best mean first."""
    others = [name for name in columns if name != SEED]
    groups: dict[tuple, list[Run]] = {}
    for run in runs:
        groups.setdefault(tuple(repr(run.settings.get(name)) for name in others), []).append(run)
    header = [*others, "seeds", f"best {metric}", "test/" + metric.split("/", 1)[-1], "epochs"]

    def mean_best(members: list[Run]) -> float:
        values = [run.best for run in members if run.best is not None]
        mean = statistics.mean(values) if values else float("inf") if minimize else -float("inf")
        return mean if minimize else -mean

    rows = []
    for members in sorted(groups.values(), key=mean_best):
        rows.append(
            [shown(members[0].settings.get(name)) for name in others]
            + [str(len(members))]
            + [mean_std([run.best for run in members])]
            + [mean_std([run.test for run in members])]
            + [mean_std([float(run.epochs) for run in members])]
        )
    return header, rows


def markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows]) + "\n"


def plot(runs: list[Run], columns: list[str], metric: str, path: Path) -> None:
    """The best metric of each run against each setting that differs: one panel per setting."""
    from matplotlib.figure import Figure  # imported here: matplotlib costs startup time

    scored = [run for run in runs if run.best is not None]
    columns = columns or ["run"]
    figure = Figure(figsize=(4.5 * len(columns), 3.5), layout="constrained")
    for axes, name in zip(figure.subplots(1, len(columns), squeeze=False)[0], columns, strict=True):
        xs = [run.name if name == "run" else run.settings.get(name) for run in scored]
        if all(isinstance(x, int | float) and not isinstance(x, bool) for x in xs):
            axes.scatter(xs, [run.best for run in scored])
            if min(xs) > 0 and max(xs) / min(xs) > 20:  # a learning rate, say: a log axis
                axes.set_xscale("log")
        else:
            labels = sorted({shown(x) for x in xs})
            axes.scatter([labels.index(shown(x)) for x in xs], [run.best for run in scored])
            axes.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
        axes.set(xlabel=name, ylabel=f"best {metric}")
    figure.savefig(path, dpi=100)


def compare(
    experiment: Path,
    pattern: str = "*",
    metric: str | None = None,
    goal: str | None = None,
    sort: str | None = None,
) -> Path:
    """Print the comparison and write it beside the runs; give the path prefix of the files."""
    folders = [run for run in runs_in(experiment) if fnmatch.fnmatch(run.name, pattern)]
    if not folders:
        where = f" matching {pattern!r}" if pattern != "*" else ""
        raise CompareError(f"{experiment}: no runs{where}. Give an experiment folder, e.g. runs/digits_cnn.")
    if metric is None:
        monitor = settings(folders[0])
        metric, goal = (
            monitor.get("checkpoint.monitor") or "val/loss",
            goal or {"max": "maximize"}.get(monitor.get("checkpoint.mode"), "minimize"),
        )
    minimize = (goal or ("minimize" if lower_is_better(metric) else "maximize")) == "minimize"
    runs = [load_run(folder, metric, minimize) for folder in folders]
    if all(run.best is None for run in runs):
        logged = sorted(
            {key for folder in folders for row in read_rows(folder / METRICS_FILE) for key in row}
        )
        raise CompareError(f"no run logged {metric}; they logged: {', '.join(logged) or 'nothing yet'}.")
    columns = differing(runs)
    header, rows, values = table(runs, columns, metric)
    column = sort or f"best {metric}"
    if column not in header:
        raise CompareError(f"--sort {sort}: not a column; the columns are {', '.join(header)}.")
    best_first = sort is None and not minimize  # the metric, best first; any other column ascending

    def order(pair: tuple[list[str], list[Any]]) -> tuple:
        value = pair[1][header.index(column)]
        if value is None:
            return (2, 0)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return (0, -value if best_first else value)
        return (1, str(value))

    ordered = sorted(zip(rows, values, strict=True), key=order)
    rows, values = [row for row, _ in ordered], [value for _, value in ordered]
    text = markdown(header, rows)
    if SEED in columns:
        text += "\nAcross seeds (mean ± standard deviation):\n\n" + markdown(
            *seed_groups(runs, columns, metric, minimize)
        )
    print(text, end="")
    subset = re.sub(r"[^A-Za-z0-9._=-]", "", pattern).strip("-_.")  # 'lr_batch-*' names files -lr_batch
    prefix = experiment / (f"comparison-{subset}" if pattern != "*" and subset else "comparison")
    write_rows(prefix.with_suffix(".csv"), [dict(zip(header, row, strict=True)) for row in values])
    prefix.with_suffix(".md").write_text(text)
    plot(runs, columns, metric, prefix.with_suffix(".png"))
    print(f"\nWritten: {prefix}.csv, {prefix}.md, {prefix}.png")
    return prefix


def main(args: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="litproject compare", description="Compare the runs of an experiment.")
    parser.add_argument("experiment", type=Path, help="an experiment's folder, e.g. runs/digits_cnn")
    parser.add_argument("--runs", default="*", help="only runs whose name matches, e.g. 'lr_batch-*'")
    parser.add_argument("--metric", type=str | None, help="a validation metric (default: the checkpoint's)")
    parser.add_argument("--goal", type=Literal["maximize", "minimize"] | None, help="default: from its name")
    parser.add_argument(
        "--sort", type=str | None, help="a column to sort by (default: the metric, best first)"
    )
    options = parser.parse_args(args)
    try:
        compare(options.experiment, options.runs, options.metric, options.goal, options.sort)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    return 0
