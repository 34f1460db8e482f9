"""What every datamodule here shares: its splits, served in batches in a seeded, resumable order."""

import math
from collections.abc import Iterator, Sized

import torch
from jsonargparse.typing import NonNegativeInt, PositiveInt, restricted_number_type
from lightning.pytorch import LightningDataModule
from lightning.pytorch.accelerators import CUDAAccelerator
from torch.utils.data import DataLoader, Dataset, RandomSampler, TensorDataset

from ..errors import OptionError, UserError

# Restricted types in the datamodules' signatures: the command line refuses a value out of range
# in one line (`--data.batch_size 0: must be more than 0`) before anything is built.
Fraction = restricted_number_type("Fraction", float, [(">=", 0), ("<", 1)])

GPU_SHARE = 0.25  # of a GPU's memory that the splits may take to stay there (keep_on_gpu)


class DataError(UserError):
    """Dataset files that are missing, damaged or cannot be written: the user's to fix, reported
    in one line."""


class DataModule(LightningDataModule):
    """Base class: a subclass's `setup` fills `self.splits` ("train", "val", "test") with datasets.

    Most datasets here fit in memory (MNIST's 60,000 images are 190 MB as float32), so they are
    loaded and normalised once into a `TensorDataset` per split, and batches are cut from the
    tensors: no per-sample decoding in the training loop. Any other `Dataset` (a folder of image
    files, say) is read as the tutorials read one: `__getitem__` a sample at a time, in
    `num_workers` processes, stacked into batches by the DataLoader; `drop_last` leaves out a
    last, smaller training batch. `predict` runs on the test split.

    On a CUDA GPU, with `keep_on_gpu` and no worker processes, splits that together fit in a
    quarter of the GPU's memory are copied there once, and every batch is cut out of them on
    the GPU, as the fastest MNIST and CIFAR training scripts do: no copy of the data per step
    (only the batch's indices cross), no page-locked staging copy. Otherwise batches are cut in
    host memory and Lightning copies each to the device, through page-locked memory on CUDA.
    The samplers are the same either way, so DDP's `DistributedSampler`, `overfit_batches`
    and an exact resume serve the same samples in the same order.

    The sizes a network needs (`input_shape`, and `num_classes` or `target_shape`) are known
    from the constructor arguments alone, before any data is loaded, so the command line can
    pass them to the network and check the pairing before training starts.
    """

    input_shape: tuple[int, ...]
    drop_last = False  # of a per-sample training split
    persistent_workers = True  # keep worker processes between epochs (with num_workers > 0)

    def __init__(
        self, batch_size: PositiveInt, num_workers: NonNegativeInt, seed: int, keep_on_gpu: bool = True
    ) -> None:
        super().__init__()
        # Plain ints, not jsonargparse's restricted types: loaders' states saved in checkpoints
        # hold them, and checkpoints are loaded with `weights_only=True`.
        self.batch_size, self.num_workers = int(batch_size), int(num_workers)
        self.seed = seed
        self.keep_on_gpu = keep_on_gpu
        self.splits: dict[str, Dataset] = {}
        self._on_device: dict[str, tuple[torch.Tensor, ...]] = {}  # the splits copied to the GPU

    @property
    def in_features(self) -> int:
        """Number of input values, for networks that take flat vectors."""
        return math.prod(self.input_shape)

    def generator(self) -> torch.Generator:
        """A random generator seeded with `seed`: the same splits and data in every run and process."""
        return torch.Generator().manual_seed(self.seed)

    def _tensors(self, split: str, gpu: torch.device | None) -> tuple[torch.Tensor, ...]:
        """The split's tensors where batches are cut from them: on the `gpu`, or in host memory."""
        if gpu is None:
            return self.splits[split].tensors
        if not self._on_device and self.keep_on_gpu and self.num_workers == 0:
            memory = torch.cuda.get_device_properties(gpu).total_memory
            if fits_on_gpu(self.splits, memory):
                self._on_device = {
                    name: tuple(tensor.to(gpu) for tensor in data.tensors)
                    for name, data in self.splits.items()
                }
        return self._on_device.get(split, self.splits[split].tensors)

    @property
    def on_cuda(self) -> bool:
        """Whether the trainer runs on CUDA GPUs (then page-locked memory speeds up copies to them)."""
        return self.trainer is not None and isinstance(self.trainer.accelerator, CUDAAccelerator)

    def dataset(self, split: str) -> Dataset:
        """The split's samples, one `(input, target)` pair per index, as the loaders serve them."""
        return self.splits[split]

    def sample_names(self, split: str) -> list[str] | None:
        """What each sample of the split is called, where samples have names (files): predict's
        CSV gives them beside each row's index."""
        return None

    def _loader(self, split: str, shuffle: bool = False) -> DataLoader:
        on_cuda = self.on_cuda
        dataset = self.dataset(split)
        if isinstance(dataset, TensorDataset):
            tensors = self._tensors(split, self.trainer.strategy.root_device if on_cuda else None)
            dataset = TensorBatches(*tensors)
            batching = {"collate_fn": already_batched}
            on_cuda = on_cuda and tensors[0].device.type == "cpu"  # not kept on the GPU
        else:
            batching = {"drop_last": shuffle and self.drop_last}
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            sampler=EpochShuffler(dataset) if shuffle else None,
            # Its own generator, so loading data never draws from the global random state that
            # dropout uses (a resumed run then draws the same dropout masks as an unbroken one).
            generator=self.generator(),
            num_workers=self.num_workers,
            persistent_workers=self.persistent_workers and self.num_workers > 0,
            # Page-locked memory speeds up host-to-GPU copies; elsewhere it only costs a copy.
            pin_memory=on_cuda,
            **batching,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val")

    def test_dataloader(self) -> DataLoader:
        return self._loader("test")

    def predict_dataloader(self) -> DataLoader:
        return self._loader("test")


class TensorBatches(TensorDataset):
    """A `TensorDataset` the DataLoader reads a batch at a time: `__getitems__` cuts the batch out
    of each tensor with one indexing, as a hand-written loop does, instead of stacking 64 samples
    read one by one (about half the data time of a step). Samplers work as for any dataset, so
    Lightning's own (`DistributedSampler`, `overfit_batches`) still choose the indices."""

    def __getitems__(self, indices: list[int]) -> list[torch.Tensor]:
        index = torch.tensor(indices, device=self.tensors[0].device)
        return [tensor[index] for tensor in self.tensors]


def fits_on_gpu(splits: dict[str, TensorDataset], gpu_memory: int, share: float = GPU_SHARE) -> bool:
    """Whether every split together takes at most `share` of a GPU's `gpu_memory` bytes, leaving
    the rest to the network, its activations and the optimizer."""
    tensors = [tensor for data in splits.values() for tensor in data.tensors]
    size = sum(tensor.nelement() * tensor.element_size() for tensor in tensors)
    return size <= share * gpu_memory


def already_batched(batch: list[torch.Tensor]) -> list[torch.Tensor]:
    """The DataLoader's collate_fn for `TensorBatches`: the batch is made already."""
    return batch


class EpochShuffler(RandomSampler):
    """Shuffles in an order set by the run's seed and the epoch number alone.

    Lightning calls `set_epoch` before every epoch, so epoch k is served in the same order
    whether the run got there in one go or was resumed from a checkpoint.
    """

    def __init__(self, data_source: Sized, seed: int | None = None) -> None:
        super().__init__(data_source, generator=torch.Generator())
        self.seed = torch.initial_seed() if seed is None else seed  # set by `seed_everything`
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        self.generator.manual_seed((self.seed + epoch) % 2**64)

    def __iter__(self) -> Iterator[int]:
        # RandomSampler's order (its first permutation), served from a list rather than by a
        # generator that Python resumes once per sample.
        return iter(torch.randperm(len(self.data_source), generator=self.generator).tolist())


class ClassificationDataModule(DataModule):
    """Images (or vectors) with a class label each."""

    num_classes: int

    @property
    def in_channels(self) -> int:
        return self.input_shape[0]

    @property
    def out_features(self) -> int:
        """A vector network classifies by giving one score per class."""
        return self.num_classes


class RegressionDataModule(DataModule):
    """Vectors of inputs with a vector of numbers to predict each."""

    target_shape: tuple[int, ...]

    @property
    def out_features(self) -> int:
        return math.prod(self.target_shape)


def check_split(val_fraction: float, test_fraction: float) -> None:
    """The validation and test fractions must leave data to train on."""
    if val_fraction + test_fraction >= 1:
        raise OptionError(
            f"--data.val_fraction {val_fraction} and --data.test_fraction {test_fraction} leave no data to "
            "train on: their sum must be less than 1."
        )


def split_indices(n: int, val_fraction: float, test_fraction: float, generator: torch.Generator) -> dict:
    """A random, seeded split of range(n) into test, val and train indices."""
    order = torch.randperm(n, generator=generator)
    n_test, n_val = round(n * test_fraction), round(n * val_fraction)
    return {"test": order[:n_test], "val": order[n_test : n_test + n_val], "train": order[n_test + n_val :]}


def standardized_splits(
    x: torch.Tensor, y: torch.Tensor, indices: dict[str, torch.Tensor], dim: int | None = None
) -> dict[str, TensorDataset]:
    """One `TensorDataset` per split of `indices`, with `x` scaled to zero mean and unit std by
    the training split's statistics only, so nothing about validation or test data leaks into
    training. `dim=0` standardises each feature (column) separately."""
    train = x[indices["train"]]
    mean, std = (train.mean(), train.std()) if dim is None else (train.mean(dim=dim), train.std(dim=dim))
    return {split: TensorDataset((x[idx] - mean) / std, y[idx]) for split, idx in indices.items()}
