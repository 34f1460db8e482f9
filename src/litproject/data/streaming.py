"""Data bigger than memory, or on storage that several machines share: LitData's chunks, streamed.

`litproject convert OUTPUT [--config ...]` writes the splits of a project's datamodule, as it
serves them (resized, standardised), into LitData chunk folders with `litdata.optimize`;
`StreamingDataModule` trains from them with `StreamingDataset`: a few chunks in memory at a time,
shuffled per epoch, shared out between DDP processes, and resumable in the middle of an epoch.
Needs the streaming extra: `pip install -e ".[streaming]"` in the project.
"""

import json
import re
import shutil
import sys
import tempfile
from functools import partial
from importlib.metadata import version
from importlib.util import find_spec
from pathlib import Path

import torch
from jsonargparse.typing import NonNegativeInt, PositiveInt
from lightning.pytorch import LightningDataModule
from lightning.pytorch.accelerators import CUDAAccelerator
from torch.utils.data import DataLoader, Dataset

from ..contract import ClassificationData, RegressionData, SampleData
from ..errors import DataError

FORMAT = 1  # of the folder `litproject convert` writes; a folder of another format is refused
DESCRIPTION = "dataset.json"  # what the folder holds; written last, so it also marks a finished folder
SPLITS = ("train", "val", "test")
INSTALL = 'pip install -e ".[streaming]"'


def require_litdata() -> None:
    """LitData is imported only where it is used (it costs a third of a second and imports boto3)."""
    if find_spec("litdata") is None:
        raise DataError(f"streaming needs LitData, which is not installed: {INSTALL}")


class StreamingDataModule(LightningDataModule):
    """Trains from a folder (or bucket URL) that `litproject convert` wrote: one LitData chunk
    folder per split, and `dataset.json` with the sizes a network needs.

    Only a few chunks are in memory at a time, so a dataset of any size trains in constant
    memory. Training samples are shuffled in an order set by the run's seed and the epoch.
    Under DDP, LitData gives each process its own share of every split; each process gets the
    same number of whole batches, so up to `devices x batch_size - 1` samples of an epoch are
    left out. The loader's position is saved in every checkpoint, so a run resumed from a
    checkpoint taken in the middle of an epoch sees exactly the samples an unbroken run would.
    """

    def __init__(
        self,
        input_dir: str,
        batch_size: PositiveInt = 64,
        num_workers: NonNegativeInt = 0,
        max_cache_size: str = "50GB",
    ) -> None:
        super().__init__()
        require_litdata()
        self.save_hyperparameters()
        # Plain ints: checkpoints hold the loaders' states and are loaded with `weights_only=True`.
        self.batch_size, self.num_workers = int(batch_size), int(num_workers)
        self.input_dir = input_dir.rstrip("/")
        self.description = read_description(self.input_dir)
        self.input_shape = tuple(self.description["input_shape"])
        # One or the other, as on the datamodule that was converted (litproject.contract).
        if "num_classes" in self.description:
            self.num_classes = self.description["num_classes"]
        else:
            self.target_shape = tuple(self.description["target_shape"])

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val")

    def test_dataloader(self) -> DataLoader:
        return self._loader("test")

    def predict_dataloader(self) -> DataLoader:
        return self._loader("test")

    def _loader(self, split: str, shuffle: bool = False) -> DataLoader:
        # Made when Lightning asks, after DDP has started, so LitData sees every process.
        from litdata import StreamingDataset

        from ..compat import resumable_loader

        dataset = StreamingDataset(
            f"{self.input_dir}/{split}",
            shuffle=shuffle,
            seed=torch.initial_seed() % 2**32,  # the run's (seed_everything); LitData takes 32 bits
            transform=as_pair,
            max_cache_size=self.hparams.max_cache_size,
            # LitData's default decodes a run of stored items on each read, to serve the next
            # ones from: under shuffling they are thrown away (digits, batches of 64: 22 ms a
            # batch with it, 1.7 ms without).
            batch_decode=False,
        )
        on_cuda = self.trainer is not None and isinstance(self.trainer.accelerator, CUDAAccelerator)
        return resumable_loader(
            dataset, batch_size=self.batch_size, num_workers=self.num_workers, pin_memory=on_cuda
        )


def as_pair(sample: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """A stored sample as the (input, target) pair the tasks take."""
    return sample["x"], sample["y"]


def read_description(input_dir: str) -> dict:
    """The folder's `dataset.json`, checked: refused in one line when it is missing (the folder
    is not one `litproject convert` finished), of another format, or does not match the chunks."""
    text = read_text(f"{input_dir}/{DESCRIPTION}")
    if text is None:
        raise DataError(
            f"--data.input_dir {input_dir} has no {DESCRIPTION}: it is not a folder that "
            "`litproject convert` finished writing. Convert the data again into a new folder."
        )
    description = json.loads(text)
    if description.get("format") != FORMAT:
        raise DataError(
            f"--data.input_dir {input_dir} was written in format {description.get('format')} "
            f"(by {description.get('written_by', 'another program')}); this project reads format {FORMAT}. "
            "Convert the data again with `litproject convert`."
        )
    for split, count in description["splits"].items():
        index = read_text(f"{input_dir}/{split}/index.json")
        chunks = json.loads(index)["chunks"] if index else []
        if sum(chunk["chunk_size"] for chunk in chunks) != count:
            raise DataError(
                f"--data.input_dir {input_dir}: the {split} chunks do not hold the {count} samples "
                f"{DESCRIPTION} lists (missing or replaced files). Convert the data again into a new folder."
            )
    return description


def read_text(path: str) -> str | None:
    """A file of a local folder or of a bucket (s3://, gs://, r2://, through LitData's storage
    clients); None when it is not there."""
    if "://" not in path:
        return Path(path).read_text() if Path(path).is_file() else None
    from ..compat import storage_client  # imports LitData

    with tempfile.TemporaryDirectory() as folder:
        local = Path(folder, "file")
        try:
            storage_client(path).download_file(path, str(local))
        except Exception:  # noqa: BLE001  (each storage client has its own "not found")
            return None
        return local.read_text()


def write_text(path: str, text: str) -> None:
    if "://" not in path:
        Path(path).write_text(text)
        return
    from ..compat import storage_client  # imports LitData

    with tempfile.TemporaryDirectory() as folder:
        local = Path(folder, "file")
        local.write_text(text)
        storage_client(path).upload_file(str(local), path)


def write_chunks(data: LightningDataModule, output: str, chunk_bytes: str = "64MB", writers: int = 1) -> dict:
    """Write `data`'s splits, as its loaders serve them, to `output`/<split> as LitData chunks,
    then `output`/dataset.json. Returns the description."""
    require_litdata()
    from litdata import optimize

    output = output.rstrip("/")
    if isinstance(data, StreamingDataModule):
        raise DataError(
            f"--data.input_dir {data.hparams.input_dir} is chunks already: convert the data it came from."
        )
    if "://" not in output and Path(output).exists() and any(Path(output).iterdir()):
        raise DataError(f"{output} is not empty: give a new folder (nothing in it is replaced).")
    if not isinstance(data, SampleData):
        raise DataError(
            f"{type(data).__name__} has no dataset(split) giving each split's samples one by one, which "
            "convert writes: derive it from the project's data.base.DataModule, or add the method."
        )
    data.setup("fit")
    datasets = {split: data.dataset(split) for split in SPLITS}
    description = {
        "format": FORMAT,
        "written_by": f"litproject {version('litproject')} convert",
        "litdata": version("litdata"),
        "source": type(data).__name__,
        "input_shape": list(data.input_shape),
        "splits": {split: len(dataset) for split, dataset in datasets.items()},
    }
    if isinstance(data, ClassificationData):
        description["num_classes"] = data.num_classes
    elif isinstance(data, RegressionData):
        description["target_shape"] = list(data.target_shape)
    try:
        for split, dataset in datasets.items():
            optimize(
                fn=partial(sample, dataset),
                inputs=list(range(len(dataset))),
                output_dir=f"{output}/{split}",
                chunk_bytes=chunk_bytes,
                num_workers=writers,
                # Writer processes forked, not spawned: they need not import torch and this project
                # again (seconds per split). macOS's system libraries are not safe to fork.
                start_method="fork" if sys.platform == "linux" else None,
                verbose=False,
            )
    except RuntimeError as error:  # LitData's, around what a writer process raised
        if "://" not in output:
            shutil.rmtree(output, ignore_errors=True)  # new or empty before: only what this wrote
        found = re.search(r"DataError: (.+)", str(error))  # a damaged file, say
        if found:
            raise DataError(found[1]) from None
        raise
    write_text(f"{output}/{DESCRIPTION}", json.dumps(description, indent=2) + "\n")
    return description


def sample(dataset: Dataset, index: int) -> dict:
    """Sample `index` of `dataset` as stored: its position, input and target."""
    x, y = dataset[index]
    return {"index": index, "x": x, "y": torch.as_tensor(y)}
