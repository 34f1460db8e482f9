"""Sweeps: the shipped sweep files, the command a W&B agent builds from them, and the Optuna
engine (`litproject sweep`) running real fits: grid, resume after an interruption, two workers on
one study, pruning, and every bad input refused before a trial runs.

No W&B server can be reached here: W&B's own agent never runs. Its command is built with W&B's
own functions, and run as the agent would run it.
"""

import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import optuna
import pytest
import sqlalchemy
import yaml
from wandb.sdk.launch.sweeps.utils import create_sweep_command, create_sweep_command_args

from litproject.sweeps.spec import Sweep
from litproject.sweeps.study import connect

from .conftest import PROJECT
from .conftest import in_project as project_folder
from .helpers.wandb_run import load_runs

SWEEPS = sorted((PROJECT / "configs" / "sweeps").glob("*.yaml"))
QUICK = [
    "--trainer.limit_train_batches=4",
    "--trainer.limit_val_batches=2",
    "--trainer.enable_progress_bar=false",
]
# The keys of W&B's sweep configuration.
WANDB_KEYS = {"method", "metric", "parameters", "early_terminate", "run_cap", "program", "command"}
WANDB_KEYS |= {"name", "description", "project", "entity"}


def write_sweep(path: Path, parameters: dict, method: str = "grid", epochs: int = 2, **more) -> Path:
    """A sweep file for the default experiment's CNN, with quick trials."""
    command = ["${env}", "${interpreter}", "${program}", "fit", "--config", "configs/digits_cnn.yaml"]
    command += [f"--trainer.max_epochs={epochs}", *QUICK, *more.pop("flags", []), "${args}"]
    content = {
        "method": method,
        "metric": {"name": "val/acc", "goal": "maximize"},
        "parameters": parameters,
        "program": "train.py",
        "command": command,
        **more,
    }
    path.write_text(yaml.safe_dump(content, sort_keys=False))
    return path


@pytest.fixture
def sweep(monkeypatch: pytest.MonkeyPatch):
    """Run `litproject sweep <args>` in this process, as a user types it in the project; give back
    its exit status (what it printed stays for capsys)."""
    from litproject.__main__ import main

    def run(*args: str) -> int:
        with monkeypatch.context() as patch:
            patch.setattr(sys, "argv", ["litproject", "sweep", *args])
            return main(["sweep", *args])

    return run


@pytest.fixture
def in_project(workdir: Path) -> Path:
    """The test's folder set up as a user's project folder (train.py and configs/), so that the
    sweep files' relative paths work and runs land here."""
    return project_folder(workdir)


def study_of(workdir: Path, name: str) -> optuna.Study:
    url = f"sqlite:///{workdir / 'runs' / 'digits_cnn' / 'sweeps' / name}.db"
    return optuna.load_study(study_name=name, storage=url)


def test_the_shipped_sweep_files_are_wandb_sweeps_of_real_options(sweep, in_project, capsys):
    assert [path.stem for path in SWEEPS] == ["lr_batch", "seeds"]
    for path in SWEEPS:
        content = yaml.safe_load(path.read_text())
        assert set(content) <= WANDB_KEYS, path
        assert sweep(str(path), "--check") == 0, capsys.readouterr().err
        assert capsys.readouterr().out.endswith(": ok.\n")
    lr_batch, seeds = (Sweep.load(path) for path in SWEEPS)
    assert {p.name for p in lr_batch.parameters} == {"model.optimizer.lr", "data.batch_size"}
    assert lr_batch.method == "bayes" and lr_batch.early_terminate["type"] == "hyperband"
    assert "seed_everything" in {p.name for p in seeds.parameters} and seeds.method == "grid"


@pytest.mark.slow
def test_the_wandb_agent_command_runs_a_fit_with_the_trial_values(in_project: Path, process_env, run_folder):
    """The shipped learning-rate sweep's command, expanded by W&B's own functions as its agent
    expands it (`${env} ${interpreter} ${program} ... ${args}`), with a trial's values, and run
    with the variables the agent sets. (The shipped epochs are cut to a quick one, before `${args}`;
    the agent's `python` is this interpreter.)"""
    content = yaml.safe_load(SWEEPS[0].read_text())
    command = content["command"]
    command[command.index("${args}") : command.index("${args}")] = ["--trainer.max_epochs=1", *QUICK]
    trial = {"model.optimizer.lr": 0.0042, "data.batch_size": 32}
    variables = create_sweep_command_args({"args": {key: {"value": value} for key, value in trial.items()}})
    variables.update(env=["/usr/bin/env"], interpreter=[sys.executable], program=[content["program"]])
    line = []
    for part in create_sweep_command(command):  # the agent's loop: a ${...} part becomes its list
        line += variables[part[2:-1]] if part.startswith("${") else [part]
    assert line[-2:] == ["--model.optimizer.lr=0.0042", "--data.batch_size=32"]

    env = {**process_env, "WANDB_SWEEP_ID": "swp12345", "WANDB_RUN_ID": "trial0001"}
    result = subprocess.run(line, cwd=in_project, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    # The trial's own run folder, named after its W&B run id, holding the trial's values; its W&B
    # run is the agent's, in the sweep.
    run = run_folder()
    assert run.name == "trial0001"
    (saved,) = (run / "configs").glob("*-fit.yaml")
    config = yaml.safe_load(saved.read_text())
    assert config["model"]["init_args"]["optimizer"]["init_args"]["lr"] == 0.0042
    assert config["data"]["init_args"]["batch_size"] == 32
    (wandb_run,) = load_runs(in_project / "wandb")
    assert (wandb_run.run_id, wandb_run.sweep_id) == ("trial0001", "swp12345")
    assert wandb_run.config["run_dir"] == "runs/digits_cnn/trial0001"


@pytest.mark.slow  # several fits: run by `pytest -m slow` and CI
def test_a_grid_sweep_runs_each_point_once_as_its_own_run(
    wandb_offline, sweep, in_project: Path, run_folders
):
    grid = {"model.optimizer.lr": {"values": [0.001, 0.003]}, "data.batch_size": {"values": [32, 64]}}
    path = write_sweep(in_project / "grid.yaml", grid)
    assert sweep(str(path)) == 0

    study = study_of(in_project, "grid")
    trials = study.get_trials()
    assert [trial.state for trial in trials] == [optuna.trial.TrialState.COMPLETE] * 4
    assert sorted((t.params["model.optimizer.lr"], t.params["data.batch_size"]) for t in trials) == [
        (0.001, 32),
        (0.001, 64),
        (0.003, 32),
        (0.003, 64),
    ]
    assert [run.name for run in run_folders()] == [f"grid-{n:03d}" for n in range(4)]
    wandb_runs = {run.run_id: run for run in load_runs(in_project / "wandb")}
    for trial in trials:
        run = in_project / trial.user_attrs["run_dir"]
        assert run.name == f"grid-{trial.number:03d}"
        (saved,) = (run / "configs").glob("*-fit.yaml")
        config = yaml.safe_load(saved.read_text())
        assert (
            config["model"]["init_args"]["optimizer"]["init_args"]["lr"] == trial.params["model.optimizer.lr"]
        )
        assert config["data"]["init_args"]["batch_size"] == trial.params["data.batch_size"]
        # The trial's value is its run's val/acc after the last validation, as W&B scores a run.
        last_epoch = (run / "metrics.csv").read_text().splitlines()[-1].split(",")
        header = (run / "metrics.csv").read_text().splitlines()[0].split(",")
        assert trial.value == pytest.approx(float(last_epoch[header.index("val/acc")]))
        wandb_run = wandb_runs[yaml.safe_load((run / "run.yaml").read_text())["wandb_run_id"]]
        assert wandb_run.group == "grid"  # every trial's W&B run, grouped by the sweep
        assert 0 <= trial.user_attrs["outside_fit_s"] < trial.user_attrs["fit_s"] + 30


def finished(database: Path) -> int:
    """Trials of the study that finished, read from its SQLite file as another process sees it."""
    if not database.exists():
        return 0
    with sqlite3.connect(database, timeout=30) as connection:
        try:
            return connection.execute("SELECT COUNT(*) FROM trials WHERE state = 'COMPLETE'").fetchone()[0]
        except sqlite3.OperationalError:  # the tables are not made yet
            return 0


@pytest.mark.slow
def test_an_interrupted_sweep_resumes_without_running_a_finished_trial_again(in_project: Path, process_env):
    grid = {"model.optimizer.lr": {"values": [0.001, 0.002]}, "data.batch_size": {"values": [32, 64]}}
    path = write_sweep(in_project / "four.yaml", grid, epochs=3)
    database = in_project / "runs" / "digits_cnn" / "sweeps" / "four.db"
    command = [sys.executable, "-m", "litproject", "sweep", str(path), "--trials", "4"]
    worker = subprocess.Popen(
        command, cwd=in_project, env=process_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    third = in_project / "runs" / "digits_cnn" / "four-002"  # made once the third trial is in train.py
    deadline = time.monotonic() + 240
    while not (finished(database) == 2 and third.exists()) and time.monotonic() < deadline:
        assert worker.poll() is None, worker.communicate()[0][-3000:]
        time.sleep(0.1)
    worker.send_signal(signal.SIGINT)  # while the third trial runs
    output, _ = worker.communicate(timeout=120)
    assert worker.returncode == 130, output[-3000:]
    assert "Interrupted: trial 2 will run again with the same command and --resume." in output

    study = study_of(in_project, "four")
    states = [trial.state.name for trial in study.get_trials()]
    assert states == ["COMPLETE", "COMPLETE", "FAIL", "WAITING"]  # the interrupted trial, queued again
    first_two = {
        n: (in_project / "runs" / "digits_cnn" / f"four-{n:03d}" / "metrics.csv").read_text() for n in (0, 1)
    }

    result = subprocess.run(
        [*command, "--resume"], cwd=in_project, env=process_env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    trials = study_of(in_project, "four").get_trials()
    complete = [trial for trial in trials if trial.state.name == "COMPLETE"]
    assert len(complete) == 4
    assert sorted(tuple(t.params.values()) for t in complete) == [
        (0.001, 32),
        (0.001, 64),
        (0.002, 32),
        (0.002, 64),
    ]
    # The finished trials were not run again; the interrupted one continued its own run folder.
    for n, metrics in first_two.items():
        assert (in_project / "runs" / "digits_cnn" / f"four-{n:03d}" / "metrics.csv").read_text() == metrics
    retried = next(trial for trial in trials if trial.number == 3)
    assert retried.params == trials[2].params and retried.user_attrs["run_dir"].endswith("four-002")
    assert not (in_project / "runs" / "digits_cnn" / "four-003").exists()


@pytest.mark.slow
def test_two_workers_on_one_study_run_the_grid_once_between_them(in_project: Path, process_env):
    grid = {"model.optimizer.lr": {"values": [0.001, 0.002, 0.003]}, "data.batch_size": {"values": [32, 64]}}
    path = write_sweep(in_project / "shared.yaml", grid, flags=["--trainer.logger=false"])
    command = [sys.executable, "-m", "litproject", "sweep", str(path)]
    workers = [
        subprocess.Popen(
            command,
            cwd=in_project,
            env=process_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [worker.communicate(timeout=300)[0] for worker in workers]
    for worker, output in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, output[-3000:]
    assert all("Trial" in output for output in outputs)  # both took part

    trials = study_of(in_project, "shared").get_trials()
    complete = [trial for trial in trials if trial.state.name == "COMPLETE"]
    assert sorted(tuple(t.params.values()) for t in complete) == sorted(
        (lr, batch) for lr in (0.001, 0.002, 0.003) for batch in (32, 64)
    )
    assert all(trial.user_attrs.get("not_needed") for trial in trials if trial.state.name != "COMPLETE")


RANDOM = {
    "model.optimizer.lr": {"distribution": "log_uniform_values", "min": 0.0005, "max": 0.005},
    "model.optimizer.weight_decay": {"distribution": "log_uniform_values", "min": 1e-6, "max": 1e-3},
}


def start_worker(folder: Path, env: dict, path: Path, *options: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "litproject", "sweep", str(path), *options]
    return subprocess.Popen(
        command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def wait_until(condition, worker: subprocess.Popen, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert worker.poll() is None, worker.communicate()[0][-3000:]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.mark.slow
def test_a_sweep_killed_outright_and_resumed_at_once_runs_every_trial_asked_for(
    in_project: Path, process_env
):
    """SIGKILL (a laptop that sleeps, the OOM killer, a lost node) while the second of 3 trials
    trains, then `--resume` at once, long before the killed trial's heartbeat goes stale: the
    trial's worker was on this machine and its process is gone, so it runs again at once, in its
    own run folder; the sweep ends with the 3 trials asked for and none left running."""
    path = write_sweep(in_project / "killed.yaml", RANDOM, method="random", epochs=3, run_cap=3)
    path.write_text(
        path.read_text().replace("--trainer.max_epochs=3", "--trainer.max_epochs=3\n- --trainer.logger=false")
    )
    worker = start_worker(in_project, process_env, path)
    database = in_project / "runs" / "digits_cnn" / "sweeps" / "killed.db"
    second = in_project / "runs" / "digits_cnn" / "killed-001"
    wait_until(lambda: finished(database) == 1 and list(second.glob("checkpoints/last.ckpt")), worker)
    worker.kill()
    worker.communicate(timeout=60)
    assert [t.state.name for t in study_of(in_project, "killed").get_trials()] == ["COMPLETE", "RUNNING"]

    resumed = subprocess.run(
        [sys.executable, "-m", "litproject", "sweep", str(path), "--resume"],
        cwd=in_project, env=process_env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    host = socket.gethostname()
    assert f"Trial 1 was lost ({host}, process {worker.pid} is gone): it will run again." in resumed.stdout
    assert "3 of 3 trials done." in resumed.stdout
    trials = study_of(in_project, "killed").get_trials()
    states = [trial.state.name for trial in trials]
    assert states.count("COMPLETE") == 3 and "RUNNING" not in states and "WAITING" not in states
    retry = next(trial for trial in trials if trial.number == 2)
    assert retry.params == trials[1].params and retry.user_attrs["run_dir"].endswith("killed-001")
    assert not (in_project / "runs" / "digits_cnn" / "killed-002").exists()


@pytest.mark.slow
def test_two_workers_on_one_study_one_killed_end_with_every_trial_done(in_project: Path, process_env):
    """The surviving worker, with no new trial left to start, does not end while the killed
    worker's trial is still marked running: it finds that worker's process gone and runs the
    trial again. Then it says so and ends with the 4 trials done."""
    path = write_sweep(in_project / "pair.yaml", RANDOM, method="random", epochs=2, run_cap=4)
    path.write_text(
        path.read_text().replace("--trainer.max_epochs=2", "--trainer.max_epochs=2\n- --trainer.logger=false")
    )
    first, second = (start_worker(in_project, process_env, path) for _ in range(2))  # together

    def both_in_a_trial() -> bool:
        try:  # the first worker may not have made the study yet
            trials = study_of(in_project, "pair").get_trials()
        except (KeyError, sqlalchemy.exc.OperationalError):
            return False
        running = [t for t in trials if t.state.name == "RUNNING"]
        return {t.user_attrs.get("worker", {}).get("pid") for t in running} == {first.pid, second.pid}

    wait_until(both_in_a_trial, second)
    first.kill()  # in a trial
    output = second.communicate(timeout=300)[0]
    first.communicate(timeout=60)
    assert second.returncode == 0, output[-3000:]
    trials = study_of(in_project, "pair").get_trials()
    (lost,) = [t for t in trials if t.state.name == "FAIL" and t.user_attrs["worker"]["pid"] == first.pid]
    assert f"Trial {lost.number} was lost ({socket.gethostname()}, process {first.pid} is gone)" in output
    (retry,) = [t for t in trials if t.system_attrs.get("retry_history") == [lost.number]]
    assert retry.state.name == "COMPLETE" and retry.user_attrs["worker"]["pid"] == second.pid
    assert "4 of 4 trials done." in output
    states = [trial.state.name for trial in study_of(in_project, "pair").get_trials()]
    assert states.count("COMPLETE") == 4 and "RUNNING" not in states and "WAITING" not in states


def test_a_sweep_waits_for_a_trial_running_elsewhere_and_says_so(
    sweep, in_project: Path, capsys, monkeypatch
):
    """A trial of a worker on another machine (as the study records it), whose heartbeat has
    stopped: the worker names it and waits; once the heartbeat is older than the grace period,
    Optuna fails it and it runs here. (The grace period is cut short to keep the test quick.)"""
    from litproject.sweeps import study as engine

    path = write_sweep(
        in_project / "far.yaml",
        {"model.optimizer.lr": {"values": [0.003]}},
        flags=["--trainer.logger=false"],
        epochs=1,
    )
    database = in_project / "runs" / "digits_cnn" / "sweeps"
    database.mkdir(parents=True)
    storage = engine.connect(f"sqlite:///{database / 'far.db'}")
    far = optuna.create_study(study_name="far", storage=storage, direction="maximize")
    trial = far.ask({"model.optimizer.lr": optuna.distributions.CategoricalDistribution([0.003])})
    trial.set_user_attr("worker", {"host": "elsewhere", "pid": 1})
    study_id = storage.get_study_id_from_name("far")
    storage.record_heartbeat(storage.get_trial_id_from_study_id_trial_number(study_id, trial.number))
    monkeypatch.setattr(engine, "GRACE_S", 1)
    monkeypatch.setattr(engine, "WAIT_S", 0.5)
    assert sweep(str(path), "--resume") == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert re.search(r"Waiting for trial 0, running in elsewhere, process 1 \(heartbeat \d+ s ago\)", out), (
        out
    )
    assert "1 of 1 trials done." in out
    states = [t.state.name for t in study_of(in_project, "far").get_trials()]
    assert states == ["FAIL", "COMPLETE"]


def test_workers_starting_together_on_a_new_database_all_open_it(tmp_path: Path):
    """Each worker finds the new database empty and writes its schema; all but the first used to fail
    on the other's rows (seen in CI as 'UNIQUE constraint failed: alembic_version.version_num')."""
    for round_ in range(3):
        url = f"sqlite:///{tmp_path}/race-{round_}.db"
        start = threading.Barrier(4)
        errors = []

        def worker(url=url, start=start, errors=errors):
            start.wait()
            try:
                connect(url)
            except Exception as error:
                errors.append(repr(error).splitlines()[0])

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert optuna.get_all_study_names(connect(url)) == []  # one sound, empty database


@pytest.mark.slow  # several fits: run by `pytest -m slow` and CI
def test_a_hopeless_trial_is_pruned(sweep, in_project: Path):
    """Hyperband with one bracket: after the second validation, a trial that is not the best so far
    stops. With lr 0 the network never learns; the seeded grid runs it after a learning one."""
    grid = {"model.optimizer.lr": {"values": [0.003, 0.0]}}
    terminate = {"type": "hyperband", "min_iter": 1, "max_iter": 1}
    path = write_sweep(
        in_project / "prune.yaml", grid, epochs=4, early_terminate=terminate, flags=["--trainer.logger=false"]
    )
    assert sweep(str(path), "--seed", "1") == 0
    trials = {
        trial.params["model.optimizer.lr"]: trial for trial in study_of(in_project, "prune").get_trials()
    }
    assert trials[0.0].state.name == "PRUNED" and trials[0.003].state.name == "COMPLETE"
    pruned_run = in_project / "runs" / "digits_cnn" / f"prune-{trials[0.0].number:03d}"
    assert len((pruned_run / "metrics.csv").read_text().splitlines()) == 1 + 2  # stopped after 2 of 4 epochs


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"parameters": {"model.optimizer.lrr": {"values": [0.1]}}},
            "parameter model.optimizer.lrr is not an option of train.py fit; did you mean "
            "model.optimizer.lr?",
        ),
        ({"method": "hyperopt"}, "method 'hyperopt' is not one of grid, random, bayes."),
        ({"run_caps": 3}, "unknown key 'run_caps': did you mean run_cap?"),
        (
            {
                "method": "random",
                "parameters": {"model.optimizer.lr": {"distribution": "normal", "min": 0, "max": 1}},
            },
            "distribution 'normal' is not one of",
        ),
        (
            {"method": "random", "parameters": {"model.optimizer.lr": {"min": 0.1, "max": 0.01}}},
            "parameter model.optimizer.lr: min 0.1 is greater than max 0.01.",
        ),
        (
            {"parameters": {"model.optimizer.lr": {"min": 0.001, "max": 0.01}}},
            "method grid needs a list of values for every parameter",
        ),
        ({"command": ["${env}", "${interpreter}", "${program}", "fit"]}, "command lacks ${args}"),
    ],
)
def test_a_bad_sweep_file_is_one_line_and_runs_nothing(
    sweep, in_project: Path, capsys, change: dict, message: str
):
    path = write_sweep(in_project / "bad.yaml", {"model.optimizer.lr": {"values": [0.001]}})
    content = {**yaml.safe_load(path.read_text()), **change}
    path.write_text(yaml.safe_dump(content))
    assert sweep(str(path)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1, err
    assert not (in_project / "runs").exists() and not (in_project / "wandb").exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--resume"], "error: --resume: there is no study bad in sqlite:///"),
        (
            ["--storage", "sqlite:////no/such/folder/study.db"],
            "error: --storage sqlite:////no/such/folder/study.db: cannot open the database",
        ),
        (["--storage", "nosuchdb://host/x"], "error: --storage nosuchdb://host/x: cannot open the database"),
        (["--trials", "0"], "error: --trials 0: give a positive number of trials."),
    ],
)
def test_a_bad_sweep_option_is_one_line_and_runs_nothing(
    sweep, in_project: Path, capsys, options: list, message: str
):
    path = write_sweep(in_project / "bad.yaml", {"model.optimizer.lr": {"values": [0.001]}})
    assert sweep(str(path), *options) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1, err
    assert not list(in_project.glob("runs/*/bad-*")) and not (in_project / "wandb").exists()


def test_a_metric_the_task_never_logs_stops_the_sweep_at_the_first_validation(
    sweep, in_project: Path, capsys
):
    path = write_sweep(
        in_project / "f1.yaml",
        {"model.optimizer.lr": {"values": [0.001, 0.003]}},
        flags=["--trainer.logger=false"],
    )
    content = yaml.safe_load(path.read_text())
    content["metric"]["name"] = "val/f1"
    path.write_text(yaml.safe_dump(content))
    assert sweep(str(path)) == 2
    err = capsys.readouterr().err
    assert "error: metric val/f1 is never logged; the task logs val/acc, val/loss." in err
    assert "Traceback" not in err
    assert len(study_of(in_project, "f1").get_trials()) == 1  # the sweep stopped at its first trial
