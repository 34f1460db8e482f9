"""Benchmark: Lightning's overhead against the tutorials' raw loop, the data path, and startup.

    make bench            # or: .venv/bin/python bench/run.py

Generates the default project into a temporary folder, installs it into this environment, writes
MNIST-shaped IDX files, and runs every variant of every workload in a fresh process with the same
random seed, network, batch size (64) and thread count, then prints a table and writes
docs/performance.md. Variants:
  R0      the tutorials' raw loop, over torchvision's per-sample DataLoader
  R1      the same loop over tensors in memory, shuffled with a permutation
  LB      R1's loop body as a bare LightningModule under a Trainer with every extra off: the
          cost of Lightning's loop itself
  P       the peer: R1's workload in a LightningModule and Trainer set up the way the most-used
          Lightning template sets them up (bench/peer.py)
  L       `python train.py fit` of the generated project as shipped (W&B offline, checkpoints,
          progress bar, every callback of configs/trainer.yaml)
  L-lean  the same with the docs' settings for speed (bench/lean.yaml)

Each variant also runs once with BENCH_COUNT=1, which counts the function calls of its steps
(bench/call_counter.py): a cost per step that the machine's noise does not move, and, part by
part, where L's calls beyond LB's go.

Last, `python train.py serve` of the default experiment under 1, 8 and 32 concurrent clients,
with LitServe's batching on and off, beside the same model called in one process
(bench/serving.py).
"""

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
THREADS = 2
N_TRAIN, N_TEST = 12_000, 2_000
ROUNDS = 3  # each variant runs this many times; the table gives medians
# workload: (epochs, L config, extra L flags)
WORKLOADS = {
    "cnn": (4, "mnist_cnn.yaml", ["--data.download=false"]),
    "mlp": (6, "random_mlp.yaml", []),
    "linear": (40, "crop_yields_linear.yaml", []),
}


def write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def write_mnist(root: Path) -> None:
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", N_TRAIN), ("t10k", N_TEST)):
        write_idx(raw / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", rng.integers(0, 10, n))


def run(command: list[str], cwd: Path, out: Path, count: bool = False) -> dict:
    """Run one variant in a fresh process; with `count`, its calls per step instead of its times."""
    env = {
        **os.environ,
        "BENCH_OUT": str(out),
        "OMP_NUM_THREADS": str(THREADS),
        "BENCH_THREADS": str(THREADS),
        "WANDB_MODE": "offline",
        "WANDB_SILENT": "true",
        "PYTHONPATH": str(BENCH),
    }
    env.pop("WANDB_SERVICE", None)
    if count:
        env["BENCH_COUNT"] = "1"
    env["BENCH_T0"] = repr(time.time())  # the process starts now: time to first step counts from here
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(
            f"benchmark command failed: {' '.join(command)}\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    return json.loads(out.read_text())


def ms_per_step(result: dict) -> float:
    """Median over the epochs after the first (warm-up) of the mean step time."""
    steady = result["epochs"][1:] or result["epochs"]
    return 1000 * statistics.median(epoch["seconds"] / epoch["steps"] for epoch in steady)


def wall(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        command, cwd=cwd, check=True, capture_output=True, env={**os.environ, "WANDB_MODE": "offline"}
    )
    return time.perf_counter() - start


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    python = sys.executable
    subprocess.run(
        [python, "-m", "cookiecutter", "--no-input", "-o", str(work), str(REPO)],
        check=True,
        capture_output=True,
    )
    project = work / "lightning-project"
    extras = "[sweeps,streaming,serve]"
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-build-isolation", "-e", f"{project}{extras}"],
        check=True,
    )
    data = work / "data"
    write_mnist(data)

    rows, attributions = [], {}
    for name, (epochs, config, extra) in WORKLOADS.items():
        flags = [
            "--config",
            f"configs/{config}",
            f"--data.data_dir={data}" if name == "cnn" else None,
            *extra,
            f"--trainer.max_epochs={epochs}",
        ]
        flags = [arg for arg in flags if arg]
        fit = [python, "train.py", "fit", *flags]
        commands = {
            variant: [python, str(BENCH / "raw_loop.py"), name, variant, str(epochs), str(data)]
            for variant in ("R0", "R1")
        }
        commands["LB"] = [python, str(BENCH / "bare_lightning.py"), name, str(epochs), str(data)]
        commands["P"] = [python, str(BENCH / "peer.py"), name, str(epochs), str(data)]
        commands["L"] = [*fit, "--trainer.callbacks+=step_timer.StepTimer"]
        commands["L-lean"] = [*fit, "--config", str(BENCH / "lean.yaml")]
        # Rounds of every variant in turn, so that a slow spell of a shared machine hits all alike.
        results = {variant: [] for variant in commands}
        for _ in range(ROUNDS):
            for variant, command in commands.items():
                results[variant].append(run(command, project, work / f"{name}-{variant}.json"))
        loading = run(
            [python, str(BENCH / "data_time.py"), str(epochs), *flags, "--trainer.logger=false"],
            project,
            work / f"{name}-data.json",
        )["ms_per_batch"]
        calls = {
            variant: run(command, project, work / f"{name}-{variant}-calls.json", count=True)["calls"]
            for variant, command in commands.items()
        }
        steps = {variant: statistics.median(map(ms_per_step, runs)) for variant, runs in results.items()}
        totals = {variant: sum(parts.values()) for variant, parts in calls.items()}
        for variant, runs in results.items():
            step = steps[variant]
            share = f"{100 * loading / step:.1f} %" if variant in ("L", "L-lean") else ""
            first = statistics.median(result["first_step_s"] for result in runs)
            rss = max(result["peak_rss_mb"] for result in runs)
            rows.append(
                (name, variant, step, step / steps["R1"], step / steps["LB"], totals[variant],
                 totals[variant] / totals["LB"], share, first, rss)
            )  # fmt: skip
        attributions[name] = attribute(calls)
        print(f"{name}: " + ", ".join(f"{v} {ms:.2f} ms {totals[v]:.0f} calls" for v, ms in steps.items()))

    help_s = min(wall([python, "train.py", "--help"], project) for _ in range(3))
    import_s = min(wall([python, "-c", "import litproject.cli"], project) for _ in range(3))
    sweep = sweep_overhead(project, python)
    start = startup(project, python, work)
    sources = data_sources(project, python, work)
    served = run([python, str(BENCH / "serving.py"), str(project)], project, work / "serving.json")
    report(rows, attributions, help_s, import_s, sweep, start, sources, served)


ONE_STEP = ["fit", "--trainer.max_steps=1", "--trainer.limit_val_batches=1"]


def startup(project: Path, python: str, work: Path, rounds: int = 5) -> dict:
    """A one-step run of the default experiment (W&B offline) beside `import lightning.pytorch`,
    in turn, `rounds` times each (medians); then where such a run's seconds go, by phase."""
    runs, imports = [], []
    for _ in range(rounds):
        imports.append(wall([python, "-c", "import lightning.pytorch"], project))
        runs.append(wall([python, "train.py", *ONE_STEP], project))
    began = time.time()
    marks = run([python, str(BENCH / "startup.py"), *ONE_STEP], project, work / "startup.json")
    marks["process exit"] = time.time() - began
    parts, previous = [], 0.0
    for phase, at in marks.items():
        parts.append((phase, at - previous))
        previous = at
    return {"run_s": statistics.median(runs), "import_s": statistics.median(imports), "parts": parts}


# A sweep of quick trials of the default experiment: what each trial costs outside its own fit.
SWEEP_FILE = """method: grid
metric: {name: val/acc, goal: maximize}
parameters:
  model.optimizer.lr: {values: [0.001, 0.002, 0.003, 0.004]}
program: train.py
command:
  - ${env}
  - ${interpreter}
  - ${program}
  - fit
  - --config
  - configs/digits_cnn.yaml
  - --trainer.max_epochs=1
  - --trainer.limit_train_batches=10
  - --trainer.limit_val_batches=2
  - ${args}
"""


def sweep_overhead(project: Path, python: str, trials: int = 4) -> dict[str, float]:
    """Run `litproject sweep` over `trials` quick trials (W&B offline); give the median seconds a
    trial spends outside its `fit` (building the CLI, model, data; W&B's finish) and the sweep's
    start-up (imports, opening the study), from the trials' own records in the study."""
    import optuna

    path = project / "bench_sweep.yaml"
    path.write_text(SWEEP_FILE)
    name = f"bench{time.time_ns()}"
    command = [python, "-m", "litproject", "sweep", str(path), "--trials", str(trials), "--study_name", name]
    start = time.perf_counter()
    subprocess.run(
        command, cwd=project, check=True, capture_output=True, env={**os.environ, "WANDB_MODE": "offline"}
    )
    total = time.perf_counter() - start
    storage = f"sqlite:///{project / 'runs' / 'digits_cnn' / 'sweeps' / name}.db"
    trials_done = optuna.load_study(study_name=name, storage=storage).get_trials()
    outside = [trial.user_attrs["outside_fit_s"] for trial in trials_done]
    inside = [trial.user_attrs["fit_s"] for trial in trials_done]
    return {
        "trials": len(trials_done),
        "outside_fit_s": statistics.median(outside),
        "fit_s": statistics.median(inside),
        "startup_s": total - sum(outside) - sum(inside),
    }


def data_sources(project: Path, python: str, work: Path, scales: tuple[int, ...] = (1, 10)) -> dict:
    """Loading time per batch of each data source on the same images, and peak memory of a process
    reading in-memory or streamed data as the dataset grows (bench/data_sources.py)."""
    folder, script = work / "data-sources", str(BENCH / "data_sources.py")
    times = run([python, script, "time", str(folder)], project, work / "sources-time.json")
    run([python, script, "prepare", str(folder), *map(str, scales)], project, work / "sources-prepare.json")
    memory = {
        (source, scale): run(
            [python, script, "memory", source, str(scale), str(folder)], project, work / f"rss-{source}.json"
        )
        for source in ("memory", "streaming")
        for scale in scales
    }
    return {"times": times, "memory": memory, "scales": scales}


def attribute(calls: dict[str, dict[str, float]], top: int = 10) -> list[tuple[str, float, float]]:
    """The parts of a step where L-lean and L make more (or fewer) calls than LB, largest first:
    (part, L-lean - LB, L - LB), then the rest summed."""
    base = calls["LB"]
    parts = set(base) | set(calls["L"]) | set(calls["L-lean"])
    gaps = {
        part: (calls["L-lean"].get(part, 0) - base.get(part, 0), calls["L"].get(part, 0) - base.get(part, 0))
        for part in parts
    }
    ranked = sorted(gaps.items(), key=lambda item: -abs(item[1][1]))
    shown = [(part, lean, full) for part, (lean, full) in ranked[:top]]
    rest = ranked[top:]
    shown.append(("(the rest)", sum(g[0] for _, g in rest), sum(g[1] for _, g in rest)))
    return shown


def report(
    rows: list[tuple],
    attributions: dict[str, list[tuple[str, float, float]]],
    help_s: float,
    import_s: float,
    sweep: dict[str, float],
    start: dict,
    sources: dict,
    served: dict,
) -> None:
    import lightning
    import torchmetrics
    import wandb

    table = [
        "| workload | variant | ms / step | / R1 | / LB | calls / step | / LB | data loading / step "
        "| first step (s) | peak RSS (MB) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    table += [
        f"| {w} | {v} | {ms:.2f} | {ratio:.2f} | {lb:.2f} | {calls:.0f} | {calls_lb:.2f} | {share} "
        f"| {first:.1f} | {rss:.0f} |"
        for w, v, ms, ratio, lb, calls, calls_lb, share, first, rss in rows
    ]
    for name, shown in attributions.items():
        table += [
            "",
            f"Where the calls of a `{name}` step beyond LB's go (calls per step, by part):",
            "",
            "| part | L-lean - LB | L - LB |",
            "|---|---|---|",
        ]
        table += [f"| `{part}` | {lean:+.1f} | {full:+.1f} |" for part, lean, full in shown]
    gpu = f"; GPU: {torch.cuda.get_device_name()}" if torch.cuda.is_available() else "; no GPU"
    cpu = f"{platform.machine()}, {os.cpu_count()} cores, {THREADS} threads"
    machine = f"{cpu}{gpu}; Python {platform.python_version()}"
    versions = ", ".join(f"{m.__name__} {m.__version__}" for m in (torch, lightning, torchmetrics, wandb))
    text = "\n".join(table)
    print(text)
    print(f"python train.py --help: {help_s:.2f} s; import litproject.cli: {import_s:.2f} s")
    print(f"sweep: {sweep['outside_fit_s']:.2f} s per trial outside fit, start-up {sweep['startup_s']:.1f} s")
    page = REPO / "docs" / "performance.md"
    _, _, notes = (page.read_text() if page.exists() else "").partition("<!-- measured -->")
    startup = f"`python train.py --help`: {help_s:.2f} s; `import litproject.cli`: {import_s:.2f} s"
    startup += " (best of 3)."
    startup += (
        f"\n\nSweeps (`litproject sweep`, {sweep['trials']} quick trials of the default experiment in one"
        f" process): {sweep['outside_fit_s']:.2f} s per trial outside its fit (median; the fit itself"
        f" {sweep['fit_s']:.2f} s), and {sweep['startup_s']:.1f} s once for the sweep's start-up, where"
        f" a process per trial would pay `import litproject.cli` ({import_s:.2f} s) every time."
    )
    gap = start["run_s"] - start["import_s"]
    startup += (
        f"\n\nA one-step run of the default experiment (`python train.py {' '.join(ONE_STEP)}`, W&B"
        f' offline): {start["run_s"]:.2f} s, against {start["import_s"]:.2f} s for `python -c "import'
        f" lightning.pytorch\"` (medians of 5, in turn): {gap:+.2f} s. Where such a run's seconds go:"
        "\n\n| phase (in order) | seconds |\n|---|---|\n"
        + "\n".join(f"| {phase} | {seconds:.2f} |" for phase, seconds in start["parts"])
    )
    print(f"one-step run {start['run_s']:.2f} s, import lightning.pytorch {start['import_s']:.2f} s")
    scales = sources["scales"]
    startup += (
        "\n\nData sources, on the same 1,797 digit images (batches of 64, no model; median of epochs"
        " 2-4): loading time per batch. In memory: `DigitsDataModule`; folder: the images as PNG files,"
        " decoded and resized per sample (`ImageFolderDataModule`); streaming: LitData chunks that"
        " `litproject convert` wrote (`StreamingDataModule`).\n\n| source | ms / batch |\n|---|---|\n"
        + "\n".join(f"| {source} | {ms:.2f} |" for source, ms in sources["times"].items())
        + "\n\nMemory (MB) of a process that reads one training epoch of "
        f"{' and '.join(f'{s} x 4,096' for s in scales)} random 1,000-feature vectors (16 MB per 4,096;"
        " imports included): peak resident memory, which counts the pages of chunk files read"
        " through memory maps (the system drops them when it needs the memory), and the process's"
        " own (anonymous) memory at the end of the epoch.\n\n| source | "
        + " | ".join(f"peak RSS {s}x" for s in scales)
        + " | "
        + " | ".join(f"own {s}x" for s in scales)
        + " |\n|---|"
        + "---|" * (2 * len(scales))
        + "\n"
        + "\n".join(
            f"| {source} | "
            + " | ".join(
                f"{sources['memory'][source, s][key]:.0f}"
                for key in ("peak_rss_mb", "anonymous_mb")
                for s in scales
            )
            + " |"
            for source in ("memory", "streaming")
        )
    )
    serving = serving_section(served)
    for row in served["rows"]:
        clients = f", {row['clients']} clients" if row["clients"] else ""
        print(f"serve {row['mode']}{clients}: {row['per_s']:.0f} / s, p50 {row['p50_ms']:.2f} ms")
    page.write_text(
        "# Performance\n\nRegenerated by `make bench` (bench/run.py); the notes below the table are "
        f"written by hand.\n\nMachine: {machine}. {versions}. Date: {time.strftime('%Y-%m-%d')}.\n\n"
        f"{text}\n\n{startup}\n\n{serving}\n\n<!-- measured -->{notes}"
    )


def serving_section(served: dict) -> str:
    """The serving figures of bench/serving.py: the table, and what it says in numbers."""
    rows = {(row["mode"], row["clients"]): row for row in served["rows"]}
    batched, unbatched = ({n: rows[mode, n] for n in (1, 8, 32)} for mode in ("batched", "unbatched"))
    one, many = rows["in-process, 1 a call", None], rows["in-process, 32 a call", None]
    table = "\n".join(
        f"| {row['mode']} | {row['clients'] or ''} | {row['per_s']:.0f} | {row['p50_ms']:.2f} "
        f"| {row['p99_ms']:.2f} | {row['mean_batch']:.1f} |"
        for row in served["rows"]
    )
    return (
        "## Serving\n\n`python train.py serve --ckpt_path best --accelerator cpu` of the default"
        " experiment (trained for 2 epochs; one worker), asked for one digit a request as JSON by 1, 8"
        " and 32 concurrent clients: threads of one process, each with a kept-alive HTTP connection,"
        f" {', '.join(str(batched[n]['requests']) for n in (1, 8))} and {batched[32]['requests']}"
        " requests after a warm-up (bench/serving.py). Batched: the default flags"
        " (`--max_batch_size 16 --batch_timeout 0.005`); unbatched: `--max_batch_size 1`. Mean batch:"
        " the answers' `X-Batch-Size`, the requests that shared a forward pass. In-process: the same"
        " checkpoint's task and datamodule called in one process (`preprocess`, then `predict_step`"
        " under `torch.inference_mode`), one digit and 32 digits a call; there, requests / s are"
        " digits a second and the latencies are per call. The serving part took"
        f" {served['seconds']:.0f} s, training and the servers' start included."
        "\n\n| mode | clients | requests / s | p50 (ms) | p99 (ms) | mean batch |"
        f"\n|---|---|---|---|---|---|\n{table}\n\n"
        "The clients share the 2 cores with the server's processes (the HTTP server, the worker and"
        " the queues between them), so these figures are a floor for a server with cores of its own."
        f" With 32 clients, batching answered {batched[32]['per_s']:.0f} requests a second against"
        f" {unbatched[32]['per_s']:.0f} without ({batched[32]['mean_batch']:.1f} requests a forward"
        f" pass); with 8, {batched[8]['per_s']:.0f} against {unbatched[8]['per_s']:.0f}. With 1 client,"
        " a request's batch waits out `batch_timeout` (5 ms) for others that never come: p50"
        f" {batched[1]['p50_ms']:.2f} ms against {unbatched[1]['p50_ms']:.2f} ms unbatched; for clients"
        " that send one request at a time, `--max_batch_size 1` (or a shorter `--batch_timeout`) saves"
        " that wait. The model is not the limit: in-process it answers"
        f" a digit in {one['p50_ms']:.2f} ms ({one['per_s']:.0f} a second) and {many['per_s']:.0f}"
        " digits a second 32 at a time, so most of a served request's time goes to HTTP, JSON and"
        " LitServe's hand-offs between processes."
    )


if __name__ == "__main__":
    main()
