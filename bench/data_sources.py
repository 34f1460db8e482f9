"""The generated project's data sources side by side, for the benchmark: no model, only loading.

    python data_sources.py time <folder>                     # in the project; JSON to $BENCH_OUT
    python data_sources.py prepare <folder> <scale>...       # the chunks `memory` streams
    python data_sources.py memory <memory|streaming> <scale> <folder>

`time`: milliseconds of loading per training batch (64) of the same 1,797 digit images, served
from memory (DigitsDataModule), decoded from PNG files (ImageFolderDataModule, 0, 1 and 2
workers) and streamed from LitData chunks (StreamingDataModule, 0 and 1 workers); the median of
epochs 2 to 4 (the first starts the workers).
`memory`: resident memory of a process that loads `scale` x 4,096 random 1,000-feature
vectors (TeacherDataModule's data, 16 MB per 4,096) and reads one training epoch, in memory or
streamed from the chunks `prepare` wrote beforehand in another process.
"""

import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import torch
from lightning_project.data import DigitsDataModule, ImageFolderDataModule, TeacherDataModule

from litproject.data import StreamingDataModule
from litproject.data.streaming import write_chunks

sys.path.insert(0, os.getcwd())  # the project folder: its tests write the PNG files
from tests.helpers.images import write_digit_images  # noqa: E402

EPOCHS = 4
TEACHER = 4096  # samples at scale 1


def ms_per_batch(loader, epochs: int = EPOCHS) -> float:
    times = []
    for epoch in range(epochs):
        if hasattr(loader.sampler, "set_epoch"):
            loader.sampler.set_epoch(epoch)
        start, batches = time.perf_counter(), 0
        for _ in loader:
            batches += 1
        times.append(1000 * (time.perf_counter() - start) / batches)
    return statistics.median(times[1:])


def loading_times(folder: Path) -> dict[str, float]:
    images = write_digit_images(folder / "images")
    memory = DigitsDataModule()
    memory.setup("fit")
    chunks = folder / "digit-chunks"
    write_chunks(DigitsDataModule(), str(chunks))
    result = {"memory": ms_per_batch(memory.train_dataloader())}
    for workers in (0, 1, 2):
        files = ImageFolderDataModule(str(images), image_size=28, num_workers=workers)
        files.setup("fit")
        result[f"folder, {workers} workers"] = ms_per_batch(files.train_dataloader())
    for workers in (0, 1):
        streamed = StreamingDataModule(str(chunks), num_workers=workers)
        result[f"streaming, {workers} workers"] = ms_per_batch(streamed.train_dataloader())
    return result


def prepare(folder: Path, scales: list[int]) -> None:
    """The teacher data's chunks at each scale, written before any memory is measured."""
    for scale in scales:
        write_chunks(TeacherDataModule(num_samples=TEACHER * scale), str(folder / f"teacher-x{scale}"))


def memory_mb(source: str, scale: int, folder: Path) -> dict[str, float]:
    """Peak resident memory (with the pages of chunk files read through memory maps, which the
    system can drop at any time) and, at the end of the epoch, the process's own (anonymous)."""
    if source == "memory":
        data = TeacherDataModule(num_samples=TEACHER * scale)
        data.setup("fit")
    else:
        data = StreamingDataModule(str(folder / f"teacher-x{scale}"))
    for _ in data.train_dataloader():
        pass
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return {
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # KiB on Linux
        "anonymous_mb": int(status["RssAnon"].split()[0]) / 1024,
    }


if __name__ == "__main__":
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    command, *args = sys.argv[1:]
    if command == "time":
        result = loading_times(Path(args[0]))
    elif command == "prepare":
        prepare(Path(args[0]), [int(scale) for scale in args[1:]])
        result = {}
    else:
        result = memory_mb(args[0], int(args[1]), Path(args[2]))
    Path(os.environ["BENCH_OUT"]).write_text(json.dumps(result))
