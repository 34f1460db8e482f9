"""The data path alone, for the benchmark: the generated project's training DataLoader, built from
the same configs and flags as `python train.py fit`, iterated with no model.

    python data_time.py <epochs> <train.py flags...>     # in the project; writes JSON to $BENCH_OUT
"""

import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch

from litproject.cli import main

sys.path.insert(0, os.getcwd())  # the project folder: its train.py names the default configs
from train import BASE_CONFIG, DEFAULT_EXPERIMENT  # noqa: E402


def epoch_ms_per_batch(loader) -> float:
    start, batches = time.perf_counter(), 0
    for _ in loader:
        batches += 1
    return 1000 * (time.perf_counter() - start) / batches


if __name__ == "__main__":
    torch.set_num_threads(int(os.environ["BENCH_THREADS"]))
    epochs, flags = int(sys.argv[1]), sys.argv[2:]
    cli = main(flags, [BASE_CONFIG], DEFAULT_EXPERIMENT, run=False)
    cli.datamodule.setup("fit")
    times = []
    for epoch in range(epochs):
        loader = cli.datamodule.train_dataloader()
        loader.sampler.set_epoch(epoch)
        times.append(epoch_ms_per_batch(loader))
    result = {"ms_per_batch": statistics.median(times[1:] or times)}  # the first epoch warms up
    Path(os.environ["BENCH_OUT"]).write_text(json.dumps(result))
