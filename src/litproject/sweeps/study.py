"""A sweep file run by Optuna: offline, on one machine or on many that share one database.

Each trial is a real `python train.py fit` of the project, run in this process (Lightning is imported
once, not once per trial), in its own run folder `runs/<experiment>/<study>-<number>/`, with its
W&B run grouped under the study's name. The study lives in a database, so that a sweep survives
its process:

- SQLite in `runs/<experiment>/sweeps/<study>.db` by default; `--storage` names any database
  Optuna can use (e.g. PostgreSQL), which several processes or machines share: each runs the same
  command, and together they run the sweep's trials once.
- A sweep stopped by Ctrl-C or SIGTERM marks its running trial failed and queues it again;
  `--resume` goes on from there, never re-running a finished trial.
- A worker that vanished (killed outright, machine lost) leaves its trial running in the
  database. Each trial records the worker's host and process id, and the worker beats a
  heartbeat. A worker that has no trial left to start does not end while another worker's trial
  runs: it waits for that trial to finish or for its heartbeat to stop for a grace period, and a
  trial whose worker was on this machine, under a process id that is gone, is taken as lost at
  once. A lost trial is queued again and continues in its own run folder from its last checkpoint
  (Optuna's RetryHeartbeatStaleTrialCallback).
- The sweep ends by saying how many of the trials asked for are done (complete or pruned), and
  why any are not; fewer than asked is exit status 1.
"""

import contextlib
import difflib
import io
import os
import signal
import socket
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import optuna
import sqlalchemy
import yaml
from jsonargparse import ActionYesNo, ArgumentParser
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.utilities.exceptions import SIGTERMException
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState
from optuna_integration import PyTorchLightningPruningCallback

from .. import project
from ..cli import config_files_in
from ..cli import main as train
from ..compat import grid_point, heartbeat_age, retry_history
from ..errors import UserError
from ..runs import RUNS_DIR, check_name, experiment_name, flatten
from .spec import Sweep, SweepError

HEARTBEAT_S = 20  # a running trial's process writes a heartbeat this often...
GRACE_S = 60  # ...and a trial without one for this long is taken as lost, and queued again
FAILURES_IN_A_ROW = 3  # trials that fail one after the other before the sweep stops
# Queues a lost or interrupted trial again, with the values it reported so far. (Optuna calls
# the class experimental since 2.8; it is what its own heartbeat documentation uses.)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    RETRY = RetryHeartbeatStaleTrialCallback(inherit_intermediate_values=True)
COUNTED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.WAITING)
DONE = (TrialState.COMPLETE, TrialState.PRUNED)
WAIT_S = 2  # how often a worker that waits for another's trial looks at the study again


class TrialFailedError(Exception):
    """A trial that ran and failed (its loss diverged, a value its configs refuse): the trial is
    marked failed and the sweep goes on."""


class SweepStoppedError(Exception):
    """A trial stopped the sweep with an error that train.py has already printed."""

    def __init__(self, exit_code: int) -> None:
        self.exit_code = exit_code


class NotNeededError(Exception):
    """Another worker took the sweep's last trial at the same moment as this one."""


class TrialCallback(PyTorchLightningPruningCallback):
    """Optuna's pruning callback (it reports the sweep's metric to the trial after every
    validation, and stops a trial that the pruner finds hopeless), which also keeps the time spent
    in `fit` and how the run ended; a metric that the task never logs stops the sweep at once."""

    def __init__(self, trial: optuna.Trial, monitor: str) -> None:
        super().__init__(trial, monitor)
        self.exception: BaseException | None = None
        self.in_fit = False
        self.fit_s = 0.0
        self._started = 0.0

    def on_fit_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._started = time.perf_counter()
        self.in_fit = True
        super().on_fit_start(trainer, pl_module)

    def on_fit_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self.fit_s = time.perf_counter() - self._started
        self.in_fit = False

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not trainer.sanity_checking and self.monitor not in trainer.callback_metrics:
            logged = ", ".join(sorted(name for name in trainer.callback_metrics if name.startswith("val")))
            raise SweepError(f"metric {self.monitor} is never logged; the task logs {logged}.")
        super().on_validation_end(trainer, pl_module)

    def on_exception(self, trainer: Trainer, pl_module: LightningModule, exception: BaseException) -> None:
        self.exception = exception
        self.fit_s = time.perf_counter() - self._started
        self.in_fit = False


def check_options(sweep: Sweep, config: dict[str, Any]) -> None:
    """Every swept parameter must be an option of `train.py fit` with the sweep's configs."""
    options = set(flatten(config))
    for parameter in sweep.parameters:
        name = parameter.name.replace(".init_args", "")
        if name not in options:
            nearest = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
            hint = f"; did you mean {nearest[0]}?" if nearest else "; see python train.py fit --help."
            raise SweepError(
                f"{sweep.path}: parameter {parameter.name} is not an option of train.py fit{hint}"
            )


def resolved_config(args: list[str], configs: tuple[Path, Path]) -> dict[str, Any]:
    """The config `train.py fit <args>` would run, as `--print_config` prints it."""
    printed = io.StringIO()
    argv, sys.argv = sys.argv, ["train.py", *args]  # so that a message names train.py
    try:
        with contextlib.redirect_stdout(printed):
            train([*args, "--print_config"], [configs[0]], configs[1])
    except SystemExit as exit_info:
        if exit_info.code:  # train.py has said what is wrong with the sweep's command
            raise SweepError(f"the sweep's command does not run: python train.py {' '.join(args)}") from None
    finally:
        sys.argv = argv
    return yaml.safe_load(printed.getvalue())


def connect(url: str, tries: int = 5) -> RDBStorage:
    """Open (or create) the study database.

    Workers started together on a new database all find it empty and all write its tables and
    schema version; all but one fail on the other's rows ("UNIQUE constraint failed",
    "table ... already exists"). A second try finds the schema written and opens it.
    """
    # Optuna calls the heartbeat experimental; it is what its documentation uses against lost workers.
    warnings.filterwarnings(
        "ignore", "Argument ``heartbeat_interval``", optuna.exceptions.ExperimentalWarning
    )

    def storage() -> RDBStorage:
        return RDBStorage(
            url,
            # SQLite lets one writer in at a time: wait for the others instead of failing.
            engine_kwargs={"connect_args": {"timeout": 60}} if url.startswith("sqlite:///") else None,
            heartbeat_interval=HEARTBEAT_S,
            grace_period=GRACE_S,
            heartbeat_stale_trial_callback=RETRY,
        )

    for attempt in range(1, tries):
        try:
            return storage()
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.OperationalError) as error:
            if not isinstance(error, sqlalchemy.exc.IntegrityError) and "already exists" not in str(error):
                raise  # not the race: a database that cannot be opened
            time.sleep(0.2 * attempt)
    return storage()


def open_study(
    sweep: Sweep, url: str, name: str, resume: bool, seed: int | None
) -> tuple[optuna.Study, RDBStorage]:
    try:
        storage = connect(url)
        exists = name in optuna.get_all_study_names(storage)
    except Exception as error:  # SQLAlchemy and the database drivers raise many kinds
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]  # the driver's own words
        raise SweepError(f"--storage {url}: cannot open the database ({reason}).") from None
    if resume and not exists:
        raise SweepError(f"--resume: there is no study {name} in {url}; start it without --resume.")
    study = optuna.create_study(
        study_name=name,
        storage=storage,
        sampler=sampler_for(sweep, seed),
        pruner=pruner_for(sweep),
        direction=sweep.goal,
        load_if_exists=True,
    )
    recorded = study.user_attrs.get("sweep")
    if recorded is None:
        study.set_user_attr("sweep", sweep.content)
    elif recorded != sweep.content:
        raise SweepError(
            f"study {name} in {url} was started from another version of {sweep.path}: "
            "give --study_name for a new study, or restore the file."
        )
    return study, storage


def sampler_for(sweep: Sweep, seed: int | None) -> optuna.samplers.BaseSampler:
    """grid: every combination once; random: independent draws; bayes: TPE, Optuna's Bayesian
    optimisation, which draws more where earlier trials did well."""
    if sweep.method == "grid":
        return optuna.samplers.GridSampler(sweep.grid(), seed=seed)
    if sweep.method == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def pruner_for(sweep: Sweep) -> optuna.pruners.BasePruner:
    """W&B's hyperband early termination as Optuna's: `min_iter`, `max_iter` and `eta` count
    validations, as `min_resource`, `max_resource` and `reduction_factor`."""
    terminate = sweep.early_terminate
    if not terminate:
        return optuna.pruners.NopPruner()
    return optuna.pruners.HyperbandPruner(
        min_resource=terminate.get("min_iter", 1),
        max_resource=terminate.get("max_iter", "auto"),
        reduction_factor=terminate.get("eta", 3),
    )


def counted_before(study: optuna.Study, number: int) -> int:
    """Trials numbered before `number` that are done or will be (failed ones are run again)."""
    return sum(trial.number < number and trial.state in COUNTED for trial in study.get_trials(deepcopy=False))


class Runner:
    """Runs trials of one study in this process until the study has `target` of them.

    Ctrl-C or SIGTERM during a trial interrupts it (Lightning saves its last checkpoint), marks it
    failed and queues it again; between trials, they stop the sweep once Optuna's bookkeeping is
    done, so that no trial is left half-recorded.
    """

    def __init__(
        self, sweep: Sweep, study: optuna.Study, storage: RDBStorage, target: int, configs: tuple[Path, Path]
    ) -> None:
        self.sweep, self.study, self.storage, self.target, self.configs = (
            sweep,
            study,
            storage,
            target,
            configs,
        )
        self.current: int | None = None  # the number of this process's trial
        self.waited_for: set[int] = set()  # trials of other workers this one has said it waits for
        self.callback: TrialCallback | None = None  # while a trial runs
        self.stop_signal: int | None = None

    def on_signal(self, signum: int, frame: Any) -> None:
        if self.callback is None:  # between trials: stop after this one's bookkeeping
            self.stop_signal = signum
        elif signum == signal.SIGINT:
            raise KeyboardInterrupt  # as Python's own handler does; Lightning handles it in fit
        elif not self.callback.in_fit:
            raise SIGTERMException  # in fit, Lightning's handler (which calls this one) stops the run

    def remaining(self) -> int:
        """Trials still to start: the target less those done, running or queued, and, in a grid,
        less the points whose trial failed (a grid point runs once; an interrupted or lost trial
        runs again as a queued retry)."""
        trials = self.study.get_trials(deepcopy=False)
        taken = sum(trial.state in COUNTED for trial in trials)
        return self.target - taken - (len(failed_for_good(trials)) if self.sweep.method == "grid" else 0)

    def objective(self, trial: optuna.Trial) -> float:
        self.current = trial.number
        # Where it runs: a worker on this machine can tell whether the process still exists.
        trial.set_user_attr("worker", {"host": socket.gethostname(), "pid": os.getpid()})
        if counted_before(self.study, trial.number) >= self.target or self.grid_point_taken(trial.number):
            trial.set_user_attr("not_needed", True)
            raise NotNeededError
        values = {parameter.name: parameter.suggest(trial) for parameter in self.sweep.parameters}
        # A trial queued again after an interruption continues the interrupted one's run, from its
        # last checkpoint, with the values it had already reported.
        original = (retry_history(self.frozen(trial.number)) or [trial.number])[0]
        args = [
            *self.sweep.train_args,
            *self.sweep.flags(values),
            f"--run_name={self.study.study_name}-{original:03d}",
        ]
        if original != trial.number and not any(arg.startswith("--ckpt_path") for arg in args):
            args.append("--ckpt_path=last")
        callback = TrialCallback(trial, self.sweep.metric)
        started = time.perf_counter()
        print(f"Trial {trial.number}: python train.py {' '.join(args)}", flush=True)
        argv = sys.argv
        sys.argv = ["train.py", *args]  # what Lightning's DDP launcher starts again, and run.yaml records
        self.callback = callback
        try:
            cli = train(args, [self.configs[0]], self.configs[1], callbacks=[callback])
        except SystemExit as exit_info:
            if isinstance(callback.exception, KeyboardInterrupt | SIGTERMException):
                raise KeyboardInterrupt from callback.exception
            if isinstance(callback.exception, SweepError):
                raise SweepStoppedError(exit_info.code) from None
            trial.set_user_attr("failure", f"train.py ended with status {exit_info.code}")
            raise TrialFailedError from None
        except SIGTERMException as interrupt:  # before Lightning's own handler took over
            raise KeyboardInterrupt from interrupt
        finally:
            self.callback = None
            sys.argv = argv
            if "wandb" in sys.modules:  # one W&B run per trial, as a new process would have
                sys.modules["wandb"].finish()
        reported = self.frozen(trial.number).intermediate_values  # {epoch: value}
        if not reported:
            trial.set_user_attr("failure", f"no validation ran, so there is no {self.sweep.metric}")
            raise TrialFailedError
        trial.set_user_attr("run_dir", cli.trainer.default_root_dir)
        trial.set_user_attr("fit_s", round(callback.fit_s, 3))
        trial.set_user_attr("outside_fit_s", round(time.perf_counter() - started - callback.fit_s, 3))
        # As W&B scores a trial (its run's summary): the value after the last validation.
        return reported[max(reported)]

    def grid_point_taken(self, number: int) -> bool:
        """Whether an earlier trial has this grid trial's point: a grid point runs once, even if it
        failed (only an interrupted trial runs again, as a retry). Optuna's grid sampler gives an
        earlier point again when none is left, or to two workers at the same moment."""
        this = self.frozen(number)
        if self.sweep.method != "grid" or retry_history(this):
            return False
        point = grid_point(this)
        trials = self.study.get_trials(deepcopy=False)
        return any(t.number < number and grid_point(t) == point for t in trials)

    def frozen(self, number: int) -> optuna.trial.FrozenTrial:
        return next(trial for trial in self.study.get_trials(deepcopy=False) if trial.number == number)

    def run(self) -> int:
        """Run trials; the exit status: 0, or 130 / 143 after Ctrl-C / SIGTERM."""
        handlers = {
            signum: signal.signal(signum, self.on_signal) for signum in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            return self.run_trials()
        finally:
            for signum, handler in handlers.items():
                signal.signal(signum, handler)

    def run_trials(self) -> int:
        failures = 0
        while self.stop_signal is None:
            self.requeue_lost()  # first: a lost trial continues before new ones start
            trials = self.study.get_trials(deepcopy=False)
            if self.remaining() <= 0 and not any(trial.state == TrialState.WAITING for trial in trials):
                running = [trial for trial in trials if trial.state == TrialState.RUNNING]
                if not running:
                    break
                self.wait_for(running)
                continue
            try:
                self.study.optimize(self.objective, n_trials=1, catch=(TrialFailedError, NotNeededError))
            except KeyboardInterrupt as interrupt:
                trial = self.frozen(self.current)
                if trial.state == TrialState.FAIL:
                    RETRY(self.study, trial)
                print(
                    f"Interrupted: trial {trial.number} will run again with the same command and --resume.",
                    file=sys.stderr,
                )
                return 128 + signal.SIGTERM if isinstance(interrupt.__cause__, SIGTERMException) else 130
            trial = self.frozen(self.current)
            if trial.user_attrs.get("not_needed"):  # another worker took the last one: wait for it
                continue
            self.report(trial)
            failures = failures + 1 if trial.state == TrialState.FAIL else 0
            if failures >= FAILURES_IN_A_ROW:
                raise SweepError(f"{failures} trials failed in a row; see their messages above.")
        if self.stop_signal is not None:
            print(
                "Stopped between trials: continue with the same command and --resume.",
                file=sys.stderr,
            )
            return 128 + self.stop_signal
        return 0

    def requeue_lost(self) -> None:
        """Queue again the running trials of workers that ran on this machine under a process id
        that no longer exists (killed outright, say): lost for sure, with no need to wait for
        their heartbeat to go stale."""
        for trial in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            worker = trial.user_attrs.get("worker") or {}
            if worker.get("host") != socket.gethostname() or process_exists(worker.get("pid")):
                continue
            self.storage.set_trial_state_values(self.trial_id(trial.number), TrialState.FAIL)
            RETRY(self.study, self.frozen(trial.number))
            print(
                f"Trial {trial.number} was lost ({worker['host']}, process {worker['pid']} is gone): "
                "it will run again.",
                flush=True,
            )

    def trial_id(self, number: int) -> int:
        """The storage's id of this study's trial `number` (what its own calls take)."""
        study_id = self.storage.get_study_id_from_name(self.study.study_name)
        return self.storage.get_trial_id_from_study_id_trial_number(study_id, number)

    def wait_for(self, running: list[optuna.trial.FrozenTrial]) -> None:
        """Let the trials of other workers finish; those whose heartbeat has stopped for GRACE_S
        seconds Optuna fails, and RETRY queues again."""
        for trial in running:
            if trial.number in self.waited_for:
                continue
            self.waited_for.add(trial.number)
            worker = trial.user_attrs.get("worker") or {}
            where = f"{worker.get('host', 'an unknown host')}, process {worker.get('pid', '?')}"
            age = heartbeat_age(self.storage, self.trial_id(trial.number))
            seen = f"heartbeat {age:.0f} s ago" if age is not None else "no heartbeat yet"
            print(
                f"Waiting for trial {trial.number}, running in {where} ({seen}): until it ends, or its "
                f"heartbeat has stopped for {GRACE_S} s and it runs again here.",
                flush=True,
            )
        optuna.storages.fail_stale_trials(self.study)
        if any(self.frozen(trial.number).state == TrialState.RUNNING for trial in running):
            time.sleep(WAIT_S)

    def report(self, trial: optuna.trial.FrozenTrial) -> None:
        """One line per trial (Optuna's own log is set to errors only)."""
        value = f", {self.sweep.metric} {trial.value:.4g}" if trial.value is not None else ""
        why = f": {trial.user_attrs['failure']}" if "failure" in trial.user_attrs else ""
        timing = trial.user_attrs.get("outside_fit_s")
        timing = f", {timing:.1f} s outside fit" if timing is not None else ""
        print(f"Trial {trial.number} {trial.state.name.lower()}{why}{value}{timing}", flush=True)


def run_sweep(
    sweep_file: Path,
    configs: tuple[Path, Path],
    trials: int | None = None,
    resume: bool = False,
    storage: str | None = None,
    study_name: str | None = None,
    seed: int | None = None,
) -> int:
    """Open (or continue) the study of `sweep_file` and run its trials; gives the exit status."""
    sweep = Sweep.load(sweep_file)
    name = check_name("--study_name", study_name or sweep.name)
    config = resolved_config(list(sweep.train_args), configs)
    check_options(sweep, config)
    target = trial_count(sweep, trials)
    config_files = config_files_in(list(sweep.train_args)) or [str(configs[1])]
    experiment = config.get("experiment") or experiment_name(config_files)
    if storage is None:
        database = RUNS_DIR / experiment / "sweeps" / f"{name}.db"
        storage = f"sqlite:///{database}"
        if resume and not database.exists():
            raise SweepError(f"--resume: there is no study {name} in {storage}; start it without --resume.")
        database.parent.mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # a line per trial is printed here
    study, database = open_study(sweep, storage, name, resume, seed)
    done = sum(trial.state in COUNTED for trial in study.get_trials(deepcopy=False))
    print(f"Study {name} ({storage}): {done} of {target} trials done or running, {sweep.method} search.")
    group = os.environ.get("WANDB_RUN_GROUP")
    os.environ["WANDB_RUN_GROUP"] = name  # every trial's W&B run, grouped under the study
    try:
        status = Runner(sweep, study, database, target, configs).run()
    finally:
        os.environ.pop("WANDB_RUN_GROUP")
        if group is not None:
            os.environ["WANDB_RUN_GROUP"] = group
    done = summarise(study, sweep, experiment, target)
    return status or (0 if done >= target else 1)


def trial_count(sweep: Sweep, trials: int | None) -> int:
    """How many trials the sweep runs: `--trials`, else the file's `run_cap`, else the grid's size."""
    if trials is not None and trials < 1:
        raise SweepError(f"--trials {trials}: give a positive number of trials.")
    target = trials or sweep.run_cap or (sweep.grid_size if sweep.method == "grid" else None)
    if target is None:
        raise SweepError(f"{sweep.path} has no run_cap: give the number of trials with --trials.")
    if sweep.method == "grid" and target > sweep.grid_size:
        print(f"The grid has {sweep.grid_size} points: running {sweep.grid_size} trials, not {target}.")
        return sweep.grid_size
    return target


def summarise(study: optuna.Study, sweep: Sweep, experiment: str, target: int) -> int:
    """How many of the `target` trials are done, and why any are not; the best of them. Gives
    the number done."""
    trials = [trial for trial in study.get_trials(deepcopy=False) if not trial.user_attrs.get("not_needed")]
    count = {state: sum(trial.state == state for trial in trials) for state in TrialState}
    done = count[TrialState.COMPLETE] + count[TrialState.PRUNED]
    pruned = f" ({count[TrialState.PRUNED]} pruned)" if count[TrialState.PRUNED] else ""
    line = f"{done} of {target} trials done{pruned}"
    if done < target:
        failed = failed_for_good(trials)
        why = [f"{len(failed)} failed" if failed else ""]
        why.append(
            f"{count[TrialState.RUNNING]} still running elsewhere" if count[TrialState.RUNNING] else ""
        )
        why.append(f"{count[TrialState.WAITING]} queued to run again" if count[TrialState.WAITING] else "")
        line += ": " + (", ".join(reason for reason in why if reason) or "stopped early")
    print(line + ".", file=sys.stdout if done >= target else sys.stderr, flush=True)
    finished = [trial for trial in trials if trial.state == TrialState.COMPLETE]
    if not finished:
        return done
    best = study.best_trial
    print(
        f"Best of {len(finished)} finished trials: trial {best.number}, {sweep.metric} {best.value:.4g}, "
        f"{' '.join(sweep.flags(best.params))} (in {best.user_attrs.get('run_dir')})"
    )
    print(
        f"Compare the runs: litproject compare runs/{experiment} --runs '{study.study_name}-*' "
        f"--metric {sweep.metric} --goal {sweep.goal}"
    )
    return done


def failed_for_good(trials: list[optuna.trial.FrozenTrial]) -> list[optuna.trial.FrozenTrial]:
    """Failed trials that no retry runs again (an interrupted or lost trial's retry names it), and
    that were not started only to find the sweep's trials all taken (`not_needed`)."""
    retried = {number for trial in trials for number in retry_history(trial)}
    return [
        trial
        for trial in trials
        if trial.state == TrialState.FAIL
        and trial.number not in retried
        and not trial.user_attrs.get("not_needed")
    ]


def process_exists(pid: int | None) -> bool:
    """Whether a live process of this id exists on this machine (one of another user's counts; a
    killed one that its parent has not reaped yet, a zombie, does not)."""
    if not isinstance(pid, int):
        return True  # unknown: leave it to the heartbeat
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # Linux says whether it is a zombie: the state after the command's name in /proc/<pid>/stat
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def main(args: list[str] | None = None, configs: tuple[Path, Path] | None = None) -> int:
    """`litproject sweep`: parse the options, run the sweep, give the exit status."""
    parser = ArgumentParser(
        prog="litproject sweep", description="Run a sweep file's trials with Optuna, in the project's folder."
    )
    parser.add_argument("sweep_file", type=Path, help="a sweep file, e.g. configs/sweeps/lr_batch.yaml")
    parser.add_argument("--trials", type=int | None, help="trials in all (default: run_cap, or the grid)")
    parser.add_argument("--resume", action=ActionYesNo, default=False, help="continue a study that exists")
    parser.add_argument("--storage", type=str | None, help="a database URL (default: SQLite in runs/)")
    parser.add_argument("--study_name", type=str | None, help="the study's name (default: the file's)")
    parser.add_argument("--seed", type=int | None, help="the sampler's seed (not for several workers)")
    parser.add_argument("--check", action=ActionYesNo, default=False, help="check the file; run nothing")
    options = parser.parse_args(args)
    try:
        configs = configs or project.configs()
        if options.check:
            sweep = Sweep.load(options.sweep_file)
            check_options(sweep, resolved_config(list(sweep.train_args), configs))
            count = trial_count(sweep, options.trials)
            searched = ", ".join(parameter.name for parameter in sweep.parameters)
            print(f"{sweep.path}: {sweep.method} search of {searched}, {count} trials: ok.")
            return 0
        return run_sweep(
            options.sweep_file,
            configs,
            options.trials,
            options.resume,
            options.storage,
            options.study_name,
            options.seed,
        )
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except SweepStoppedError as stopped:
        return stopped.exit_code
