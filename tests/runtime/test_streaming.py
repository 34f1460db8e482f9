"""Streaming: real LitData chunks written by `litproject convert`, trained from, under DDP, resumed."""

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from lightning.pytorch import Callback
from lightning_project.data import DigitsDataModule
from litdata import StreamingDataset

from litproject.contract import sizes
from litproject.data import StreamingDataModule
from litproject.errors import DataError

from .conftest import PROJECT, images, in_project

STREAM = ["--data=StreamingDataModule", "--trainer.enable_progress_bar=false", "--trainer.logger=false"]


def convert(*args: str) -> int:
    """`litproject convert <args>` in this process, in a folder that holds the project's train.py
    (its configs name the data); its exit status."""
    from litproject.__main__ import main

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "argv", ["litproject", "convert", *args])
        return main(["convert", *args])


@pytest.fixture(scope="session")
def digits_chunks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default experiment's digits, converted once per session."""
    folder = in_project(tmp_path_factory.mktemp("chunks"))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)  # to see that converting writes nothing else
        assert convert("digits") == 0
    assert sorted(path.name for path in folder.iterdir()) == ["configs", "digits", "train.py"]
    return folder / "digits"


class RecordInputs(Callback):
    """Appends a fingerprint of every training input a process sees to
    `folder`/rank<r>-epoch<e>.txt, in the order it sees them."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        x, _ = batch
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / f"rank{trainer.global_rank}-epoch{trainer.current_epoch}.txt").open("a") as file:
            file.writelines(f"{fingerprint(row)}\n" for row in x.flatten(1))


class CrashAt(Callback):
    """Fails the run when training step `step` + 1 begins."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        if trainer.global_step == self.step:
            raise RuntimeError(f"crash at step {self.step}")


def fingerprint(row: torch.Tensor) -> str:
    return hashlib.sha1(row.contiguous().numpy().tobytes()).hexdigest()[:16]


def seen(folder: Path, rank: int, epoch: int) -> list[str]:
    return (folder / f"rank{rank}-epoch{epoch}.txt").read_text().split()


def test_convert_writes_every_split_as_the_datamodule_serves_it(digits_chunks: Path):
    description = json.loads((digits_chunks / "dataset.json").read_text())
    assert description["splits"] == {"train": 1257, "val": 270, "test": 270}
    assert description["input_shape"] == [1, 28, 28] and description["num_classes"] == 10
    served = DigitsDataModule()
    served.setup()
    for split in ("train", "val", "test"):
        stored = StreamingDataset(str(digits_chunks / split))  # in order: no shuffle
        x, y = served.splits[split].tensors
        items = [stored[i] for i in range(len(stored))]
        assert [item["index"] for item in items] == list(range(len(x)))
        assert torch.equal(torch.stack([item["x"] for item in items]), x)
        assert torch.equal(torch.stack([item["y"] for item in items]), y)


def test_sizes_come_from_the_description_and_a_fit_runs(digits_chunks: Path, train, run_folder):
    data = StreamingDataModule(str(digits_chunks))
    assert (data.input_shape, data.num_classes) == ((1, 28, 28), 10)
    assert sizes(data) == {"in_features": 784, "in_channels": 1, "num_classes": 10, "out_features": 10}
    assert not hasattr(data, "target_shape")
    train("fit", *STREAM, f"--data.input_dir={digits_chunks}", "--trainer.fast_dev_run=true")
    assert (run_folder() / "checkpoints" / "last.ckpt").is_file()


@pytest.mark.slow  # three fits with a worker process each
class FolderAsBucket:
    """Stands in for LitData's storage client of a bucket, which cannot be reached from a test:
    `s3://bucket/<path>` is `<root>/<path>` on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def download_file(self, remote: str, local: str) -> None:
        shutil.copyfile(self.root / remote.removeprefix("s3://bucket/"), local)


def test_the_description_of_chunks_in_a_bucket_is_read_through_litdatas_storage_client(
    digits_chunks: Path, monkeypatch
):
    monkeypatch.setattr(
        "litdata.streaming.fs_provider._get_fs_provider", lambda url: FolderAsBucket(digits_chunks.parent)
    )
    data = StreamingDataModule("s3://bucket/digits")
    assert data.num_classes == 10 and data.description["splits"]["train"] == 1257
    with pytest.raises(DataError, match="s3://bucket/missing has no dataset.json"):
        StreamingDataModule("s3://bucket/missing")


def test_a_run_resumed_in_the_middle_of_an_epoch_sees_what_an_unbroken_run_sees(
    digits_chunks: Path, train, workdir: Path, run_folders
):
    """An unbroken run of two epochs, and one that crashes in step 8 of its 20 per epoch and is
    resumed from the checkpoint taken every 7 steps: the same samples, in the same order, and the
    same weights at the end (the loader's position is in the checkpoint)."""
    args = [*STREAM, f"--data.input_dir={digits_chunks}", "--data.num_workers=1", "--trainer.max_epochs=2"]
    args += ["--checkpoint.every_n_train_steps=7", f"--trainer.callbacks+={__name__}.RecordInputs"]
    train("fit", *args, f"--trainer.callbacks.folder={workdir / 'unbroken'}")
    crash = [f"--trainer.callbacks+={__name__}.CrashAt", "--trainer.callbacks.step=7"]
    with pytest.raises(RuntimeError, match="crash at step 7"):
        train("fit", *args, f"--trainer.callbacks.folder={workdir / 'broken'}", *crash)
    train("fit", *args, f"--trainer.callbacks.folder={workdir / 'resumed'}", "--ckpt_path=last")

    unbroken = [seen(workdir / "unbroken", 0, epoch) for epoch in (0, 1)]
    assert len(unbroken[0]) == len(unbroken[1]) == 1257 and unbroken[0] != unbroken[1]  # shuffled per epoch
    assert seen(workdir / "broken", 0, 0) == unbroken[0][: 8 * 64]  # the 8th batch: read, not trained on
    assert seen(workdir / "resumed", 0, 0) == unbroken[0][7 * 64 :]
    assert seen(workdir / "resumed", 0, 1) == unbroken[1]

    first, second = run_folders()
    weights = [
        torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)["state_dict"]
        for run in (first, second)
    ]
    assert all(torch.equal(weights[0][name], weights[1][name]) for name in weights[0])


@pytest.mark.slow  # two processes
def test_ddp_processes_share_out_every_sample_once_per_epoch(workdir: Path, process_env):
    """Random vectors (each one different), 384 to train on: 2 processes x 24 batches of 8."""
    chunks = workdir / "teacher"
    config = ["--config", str(PROJECT / "configs" / "random_mlp.yaml")]
    assert convert(str(in_project(workdir) / "teacher"), *config, "--data.num_samples=512") == 0
    training = StreamingDataset(str(chunks / "train"))
    everything = {fingerprint(training[i]["x"]) for i in range(len(training))}
    assert len(everything) == 384

    ddp = [
        "--trainer.accelerator=cpu",
        "--trainer.devices=2",
        "--trainer.strategy=ddp",
        "--data.batch_size=8",
    ]
    record = [
        f"--trainer.callbacks+={__name__}.RecordInputs",
        f"--trainer.callbacks.folder={workdir}",
    ]
    result = subprocess.run(
        [sys.executable, str(PROJECT / "train.py"), "fit", *config, *STREAM, f"--data.input_dir={chunks}"]
        + [*ddp, *record, "--trainer.max_epochs=2"],
        cwd=workdir,
        env={**process_env, "PYTHONPATH": f"{Path(__file__).parents[1]}:{process_env['PYTHONPATH']}"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for epoch in (0, 1):
        first, second = seen(workdir, 0, epoch), seen(workdir, 1, epoch)
        assert len(first) == len(second) == 192
        assert not set(first) & set(second) and set(first) | set(second) == everything
    assert seen(workdir, 0, 0) != seen(workdir, 0, 1)


def unfinished(folder: Path) -> None:
    (folder / "dataset.json").unlink()


def other_format(folder: Path) -> None:
    (folder / "dataset.json").write_text('{"format": 99, "written_by": "a later project"}')


def lost_chunks(folder: Path) -> None:
    (folder / "val" / "index.json").unlink()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (unfinished, " has no dataset.json: it is not a folder that `litproject convert` finished writing."),
        (other_format, " was written in format 99 (by a later project); this project reads format 1."),
        (lost_chunks, ": the val chunks do not hold the 270 samples dataset.json lists"),
    ],
)
def test_a_chunk_folder_that_is_not_complete_is_refused_before_training(
    refused, digits_chunks: Path, tmp_path: Path, run_folders, damage, message: str
):
    folder = shutil.copytree(digits_chunks, tmp_path / "chunks")
    damage(folder)
    err = refused("fit", *STREAM, f"--data.input_dir={folder}")
    assert err.splitlines()[-1].startswith(f"error: --data.input_dir {folder}{message}"), err
    assert not run_folders()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["chunks"], "chunks is not empty: give a new folder (nothing in it is replaced)."),
        (
            ["new", "--data=StreamingDataModule", "--data.input_dir={digits}"],
            "--data.input_dir {digits} is chunks already: convert the data it came from.",
        ),
    ],
)
def test_convert_refuses_and_keeps_what_is_there(
    capsys, workdir: Path, snapshot, digits_chunks: Path, args: list[str], message: str
):
    in_project(workdir)
    (workdir / "chunks").mkdir()
    (workdir / "chunks" / "notes.txt").write_text("mine")
    before = snapshot()
    assert convert(*(arg.format(digits=digits_chunks) for arg in args)) == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"error: {message.format(digits=digits_chunks)}"
    assert snapshot() == before


def test_convert_names_a_damaged_image_and_leaves_no_folder(capsys, workdir: Path, image_folder: Path):
    """Validation images are first decoded by LitData's writer processes: the damaged one is named
    all the same, and the half-written output is removed."""
    val_dir = images.write_digit_images(workdir / "val", per_class=2)
    path = images.truncate(val_dir)
    folders = [f"--data.train_dir={image_folder}", f"--data.val_dir={val_dir}"]
    in_project(workdir)
    assert convert("chunks", "--config", "configs/folder_cnn.yaml", *folders) == 2
    assert capsys.readouterr().err.splitlines()[-1].startswith(f"error: {path} is damaged or cut short")
    assert not (workdir / "chunks").exists()


def test_without_litdata_streaming_says_how_to_install_it(refused, digits_chunks: Path, monkeypatch):
    monkeypatch.setattr(f"{StreamingDataModule.__module__}.find_spec", lambda name: None)
    err = refused("fit", *STREAM, f"--data.input_dir={digits_chunks}")
    assert (
        err.splitlines()[-1]
        == 'error: streaming needs LitData, which is not installed: pip install -e ".[streaming]"'
    )


def test_convert_says_only_its_own_line(workdir: Path, process_env):
    """No line of Lightning's about the Trainer it builds (devices, seed) before the command's own."""
    in_project(workdir)
    (workdir / "chunks").mkdir()
    (workdir / "chunks" / "notes.txt").write_text("mine")
    result = subprocess.run(
        [sys.executable, "-m", "litproject", "convert", "chunks"],
        cwd=workdir, env=process_env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == "error: chunks is not empty: give a new folder (nothing in it is replaced).\n"
