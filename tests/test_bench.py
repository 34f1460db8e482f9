"""The benchmark's parts run against a generated project and report what `bench/run.py` reads.

The timings themselves are for `make bench` to report, not for tests to assert.
"""

import importlib.util
import sys
from pathlib import Path

from conftest import REPO

BENCH = REPO / "bench"


def load_bench_runner():
    """bench/run.py as a module (imported here: it needs torch, which the first bake installs)."""
    spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_benchmark_variant_runs_and_reports_its_steps(default_project: Path, tmp_path: Path):
    bench = load_bench_runner()
    data = tmp_path / "data"
    bench.write_mnist(data)
    python, epochs = sys.executable, "2"
    linear = ["--config", "configs/crop_yields_linear.yaml", f"--trainer.max_epochs={epochs}"]
    commands = {
        "cnn-R0": [python, BENCH / "raw_loop.py", "cnn", "R0", "1", data],  # torchvision reads the IDX files
        "R0": [python, BENCH / "raw_loop.py", "linear", "R0", epochs, data],
        "R1": [python, BENCH / "raw_loop.py", "linear", "R1", epochs, data],
        "LB": [python, BENCH / "bare_lightning.py", "linear", epochs, data],
        "P": [python, BENCH / "peer.py", "linear", epochs, data],
        "L-lean": [python, "train.py", "fit", *linear, "--config", BENCH / "lean.yaml"],
    }
    for variant, command in commands.items():
        result = bench.run([str(part) for part in command], default_project, tmp_path / f"{variant}.json")
        if variant == "cnn-R0":
            assert [epoch["steps"] for epoch in result["epochs"]] == [188]  # 12,000 images in 64s
        else:
            assert [epoch["steps"] for epoch in result["epochs"]] == [1, 1]  # 9 rows: one batch an epoch
        assert bench.ms_per_step(result) > 0 and result["first_step_s"] > 0 and result["peak_rss_mb"] > 100

    data_time = [python, str(BENCH / "data_time.py"), epochs, *linear, "--trainer.logger=false"]
    assert bench.run(data_time, default_project, tmp_path / "data.json")["ms_per_batch"] > 0


def test_counted_calls_are_the_same_in_every_run_and_add_up_by_part(default_project: Path, tmp_path: Path):
    """The counted cost is what make bench offers instead of noisy times: it must not move from
    run to run, and the parts of L - LB must add up to the difference of the totals."""
    bench = load_bench_runner()
    python, epochs = sys.executable, "3"
    linear = ["--config", "configs/crop_yields_linear.yaml", f"--trainer.max_epochs={epochs}"]
    commands = {
        "LB": [python, str(BENCH / "bare_lightning.py"), "linear", epochs, str(tmp_path)],
        "L-lean": [python, "train.py", "fit", *linear, "--config", str(BENCH / "lean.yaml")],
        "L": [python, "train.py", "fit", *linear, "--trainer.callbacks+=step_timer.StepTimer"],
    }
    calls = {}
    for variant, command in commands.items():
        result = bench.run(command, default_project, tmp_path / f"{variant}.json", count=True)
        calls[variant] = result["calls"]
        assert sum(calls[variant].values()) > 100  # a Lightning step makes hundreds of calls
    again = bench.run(commands["L-lean"], default_project, tmp_path / "again.json", count=True)["calls"]
    assert again == calls["L-lean"]
    assert "module.training_step" in calls["LB"] and "module.training_step" in calls["L"]
    shown = bench.attribute(calls, top=3)
    assert len(shown) == 4 and shown[-1][0] == "(the rest)"
    total = sum(calls["L"].values()) - sum(calls["LB"].values())
    assert abs(sum(full for _, _, full in shown) - total) < 1e-6


def test_the_start_up_figure_times_a_one_step_run_by_phase(default_project: Path, tmp_path: Path):
    figures = load_bench_runner().startup(default_project, sys.executable, tmp_path, rounds=1)
    assert figures["run_s"] > figures["import_s"] > 0
    phases = dict(figures["parts"])
    assert list(phases)[0].startswith("W&B's Launch client") and list(phases)[-1] == "process exit"
    assert "W&B run started" in phases and "training step, checkpoint, learning curves" in phases
    assert all(seconds >= 0 for seconds in phases.values())


def test_the_sweep_figure_comes_from_the_trials_records(default_project: Path):
    figures = load_bench_runner().sweep_overhead(default_project, sys.executable, trials=2)
    assert figures["trials"] == 2
    assert 0 < figures["outside_fit_s"] < figures["startup_s"] and figures["fit_s"] > 0


def test_the_data_sources_figure_times_every_source_and_measures_memory(
    default_project: Path, tmp_path: Path
):
    figures = load_bench_runner().data_sources(default_project, sys.executable, tmp_path, scales=(1, 2))
    assert list(figures["times"]) == [
        "memory",
        "folder, 0 workers",
        "folder, 1 workers",
        "folder, 2 workers",
        "streaming, 0 workers",
        "streaming, 1 workers",
    ]
    assert all(ms > 0 for ms in figures["times"].values())
    assert set(figures["memory"]) == {(s, n) for s in ("memory", "streaming") for n in (1, 2)}
    assert all(m["peak_rss_mb"] >= m["anonymous_mb"] > 100 for m in figures["memory"].values())  # torch: more
    assert (tmp_path / "data-sources" / "teacher-x2" / "dataset.json").is_file()


def test_the_serving_figures_come_from_requests_to_real_servers(default_project: Path, tmp_path: Path):
    bench = load_bench_runner()
    command = [sys.executable, str(BENCH / "serving.py"), str(default_project), "0.05"]  # few requests
    figures = bench.run(command, default_project, tmp_path / "serving.json")
    rows = {(row["mode"], row["clients"]): row for row in figures["rows"]}
    served = [(mode, clients) for mode in ("batched", "unbatched") for clients in (1, 8, 32)]
    assert list(rows) == [*served, ("in-process, 1 a call", None), ("in-process, 32 a call", None)]
    assert all(row["per_s"] > 0 and 0 < row["p50_ms"] <= row["p99_ms"] for row in rows.values())
    assert all(rows["unbatched", clients]["mean_batch"] == 1 for clients in (1, 8, 32))
    assert rows["batched", 1]["mean_batch"] == 1 and rows["batched", 32]["mean_batch"] > 1
    section = bench.serving_section(figures)
    assert section.startswith("## Serving") and "| batched | 32 |" in section
