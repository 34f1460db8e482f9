"""Sweep files: W&B's sweep format (`configs/sweeps/*.yaml`), read the same way by both engines.

    method: bayes                      # grid, random or bayes
    metric: {name: val/acc, goal: maximize}
    parameters:                        # train.py options, as on the command line without "--"
      model.optimizer.lr: {distribution: log_uniform_values, min: 0.0003, max: 0.01}
      data.batch_size: {values: [32, 64, 128]}
    early_terminate: {type: hyperband, min_iter: 2}   # optional: stop hopeless trials early
    run_cap: 12                        # how many trials (grid: the grid's size)
    program: train.py
    command:                           # a block list: "[${env}, ...]" is not valid YAML
      - ${env}
      - ${interpreter}
      - ${program}
      - fit
      - --config
      - configs/digits_cnn.yaml
      - ${args}

A trial runs the command with `${args}` replaced by one `--name=value` flag per parameter, as the
W&B agent builds it; the Optuna engine (`study.py`) runs the same command with values its
sampler chose.
"""

import difflib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import UserError

METHODS = ("grid", "random", "bayes")
GOALS = ("maximize", "minimize")
# W&B's distributions that both engines run; W&B has a few more (normal, ...), which Optuna has not.
DISTRIBUTIONS = (
    "constant",
    "categorical",
    "int_uniform",
    "uniform",
    "q_uniform",
    "log_uniform_values",
    "q_log_uniform_values",
    "log_uniform",
)
# The keys of W&B's sweep configuration.
KEYS = ("method", "metric", "parameters", "early_terminate", "run_cap", "program", "command")
KEYS += ("name", "description", "project", "entity")
# The command's placeholders the W&B agent fills: the environment, python, the program, the flags.
PLACEHOLDERS = ("${env}", "${interpreter}", "${program}", "${args}")


class SweepError(UserError):
    """A sweep file, or a sweep's option, that cannot run."""


@dataclass(frozen=True)
class Parameter:
    """One swept option and where its values come from, as W&B reads it."""

    name: str
    distribution: str
    values: tuple = ()  # constant and categorical
    low: float = 0.0
    high: float = 0.0
    q: float | None = None  # q_ distributions: values rounded to a multiple of q

    def suggest(self, trial: Any) -> Any:
        """This parameter's value for an Optuna trial, drawn as W&B draws it."""
        if self.distribution in ("constant", "categorical"):
            return trial.suggest_categorical(self.name, list(self.values))
        if self.distribution == "int_uniform":
            return trial.suggest_int(self.name, int(self.low), int(self.high))
        log = self.distribution in ("log_uniform_values", "q_log_uniform_values", "log_uniform")
        low, high = (
            (math.exp(self.low), math.exp(self.high))
            if self.distribution == "log_uniform"
            else (self.low, self.high)
        )
        value = trial.suggest_float(self.name, low, high, log=log)
        # W&B rounds after drawing: round(x / q) * q. Optuna's `step` cannot be combined with `log`.
        return round(value / self.q) * self.q if self.q else value


@dataclass(frozen=True)
class Sweep:
    """A sweep file, checked: every field both engines need, with one clear error for each mistake."""

    path: Path
    method: str
    metric: str
    goal: str
    parameters: tuple[Parameter, ...]
    train_args: tuple[str, ...]  # the command's own arguments: fit --config configs/<experiment>.yaml ...
    run_cap: int | None = None
    early_terminate: dict = field(default_factory=dict)
    content: dict = field(default_factory=dict)  # the file as read: a study remembers what it ran

    @property
    def name(self) -> str:
        return self.path.stem

    def flags(self, values: dict[str, Any]) -> list[str]:
        """The flags of one trial, formatted as the W&B agent formats `${args}`."""
        return [f"--{name}={value}" for name, value in values.items()]

    def grid(self) -> dict[str, list]:
        """Every value of every parameter, for a grid sweep."""
        return {parameter.name: list(parameter.values) for parameter in self.parameters}

    @property
    def grid_size(self) -> int:
        return math.prod(len(parameter.values) for parameter in self.parameters)

    @classmethod
    def load(cls, path: str | Path) -> "Sweep":
        path = Path(path)
        try:
            content = yaml.safe_load(path.read_text())
        except OSError as error:
            raise SweepError(f"{path}: cannot read the sweep file ({error.strerror}).") from None
        except yaml.YAMLError as error:
            raise SweepError(f"{path} is not valid YAML: {getattr(error, 'problem', error)}.") from None
        if not isinstance(content, dict):
            raise SweepError(
                f"{path}: a sweep file is a mapping with method, metric, parameters and command."
            )
        return cls.from_dict(path, content)

    @classmethod
    def from_dict(cls, path: Path, content: dict) -> "Sweep":
        def fail(message: str) -> SweepError:
            return SweepError(f"{path}: {message}")

        for key in content:
            if key not in KEYS:
                nearest = difflib.get_close_matches(str(key), KEYS, n=1)
                hint = f"did you mean {nearest[0]}?" if nearest else f"a sweep file has {', '.join(KEYS)}."
                raise fail(f"unknown key {key!r}: {hint}")
        method = content.get("method")
        if method not in METHODS:
            raise fail(f"method {method!r} is not one of {', '.join(METHODS)}.")
        metric = content.get("metric") or {}
        if not isinstance(metric, dict) or not metric.get("name"):
            raise fail("metric needs a name, e.g. metric: {name: val/acc, goal: maximize}.")
        goal = metric.get("goal", "minimize")
        if goal not in GOALS:
            raise fail(f"metric goal {goal!r} is not one of {', '.join(GOALS)}.")
        raw_parameters = content.get("parameters")
        if not isinstance(raw_parameters, dict) or not raw_parameters:
            raise fail("parameters is empty: give at least one option to sweep, e.g. model.optimizer.lr.")
        parameters = tuple(parse_parameter(path, name, spec) for name, spec in raw_parameters.items())
        if method == "grid":
            for parameter in parameters:
                if parameter.distribution not in ("constant", "categorical"):
                    raise fail(
                        f"method grid needs a list of values for every parameter; {parameter.name} has "
                        f"distribution {parameter.distribution}."
                    )
        run_cap = content.get("run_cap")
        if run_cap is not None and (not isinstance(run_cap, int) or run_cap < 1):
            raise fail(f"run_cap {run_cap!r} is not a positive whole number.")
        early_terminate = content.get("early_terminate") or {}
        if early_terminate:
            if early_terminate.get("type") != "hyperband":
                raise fail(f"early_terminate type {early_terminate.get('type')!r} is not hyperband.")
            for key in ("min_iter", "max_iter", "eta"):
                value = early_terminate.get(key)
                if value is not None and (not isinstance(value, int) or value < 1):
                    raise fail(f"early_terminate {key} {value!r} is not a positive whole number.")
        if content.get("program") != "train.py":
            raise fail(f"program {content.get('program')!r} is not train.py.")
        command = [str(part) for part in content.get("command") or []]
        missing = [placeholder for placeholder in PLACEHOLDERS if placeholder not in command]
        if missing:
            example = "${env} ${interpreter} ${program} fit --config configs/<experiment>.yaml ${args}"
            raise fail(f"command lacks {', '.join(missing)}: list it as {example}, one item per line.")
        train_args = tuple(part for part in command if part not in PLACEHOLDERS)
        if not train_args or train_args[0] != "fit":
            raise fail("command runs train.py without fit: put fit right after ${program}.")
        return cls(
            path, method, metric["name"], goal, parameters, train_args, run_cap, early_terminate, content
        )


def parse_parameter(path: Path, name: str, spec: Any) -> Parameter:
    """A parameter as W&B reads it: `value`, `values`, or a distribution (by default uniform
    between `min` and `max`, int_uniform when both are whole numbers)."""

    def fail(message: str) -> SweepError:
        return SweepError(f"{path}: parameter {name}: {message}")

    if not isinstance(spec, dict):
        raise fail("give value, values, or min and max (with a distribution).")
    if "value" in spec:
        return Parameter(name, "constant", (spec["value"],))
    if "values" in spec:
        values = spec["values"]
        if not isinstance(values, list) or not values:
            raise fail("values must be a non-empty list.")
        return Parameter(name, "categorical", tuple(values))
    if "min" not in spec or "max" not in spec:
        raise fail("give value, values, or min and max (with a distribution).")
    low, high = spec["min"], spec["max"]
    if not all(isinstance(bound, int | float) and not isinstance(bound, bool) for bound in (low, high)):
        raise fail(f"min {low!r} and max {high!r} must be numbers.")
    if low > high:
        raise fail(f"min {low} is greater than max {high}.")
    default = "int_uniform" if isinstance(low, int) and isinstance(high, int) else "uniform"
    distribution = spec.get("distribution", default)
    if distribution not in DISTRIBUTIONS or distribution in ("constant", "categorical"):
        supported = ", ".join(d for d in DISTRIBUTIONS if d not in ("constant", "categorical"))
        raise fail(f"distribution {distribution!r} is not one of {supported}.")
    if distribution in ("log_uniform_values", "q_log_uniform_values") and low <= 0:
        raise fail(f"{distribution} needs min > 0 (it is {low}).")
    q = spec.get("q", 1) if distribution.startswith("q_") else None
    if q is not None and not (isinstance(q, int | float) and q > 0):
        raise fail(f"q {q!r} must be a positive number.")
    return Parameter(name, distribution, low=low, high=high, q=q)
