"""DataLoaders for a project's splits: batches cut fast from tensors, or read a sample at a time,
in a shuffled order that a resumed run serves again exactly."""

from collections.abc import Iterator, Sized

import torch
from lightning.pytorch import Trainer
from lightning.pytorch.accelerators import CUDAAccelerator
from torch.utils.data import DataLoader, Dataset, RandomSampler, TensorDataset


def dataloader(
    dataset: Dataset,
    batch_size: int,
    shuffle: bool = False,
    num_workers: int = 0,
    seed: int = 0,
    drop_last: bool = False,
    persistent_workers: bool = True,
    trainer: Trainer | None = None,
) -> DataLoader:
    """A DataLoader of `dataset` in batches of `batch_size`.

    A `TensorDataset` (data held in memory) is served a batch at a time: each batch is cut out of
    every tensor with one indexing, as a hand-written loop cuts it, instead of stacking samples
    read one by one (`TensorBatches`). Any other dataset is read as the tutorials read one,
    `__getitem__` a sample at a time in `num_workers` processes, stacked by the default collate;
    `drop_last` leaves out a last, smaller batch. Shuffled batches follow `EpochShuffler`. The
    loader's own generator is seeded with `seed`, so loading never draws from the global random
    state that dropout uses. Memory is page-locked when `trainer` runs on CUDA, for faster copies.
    """
    if isinstance(dataset, TensorDataset):
        dataset = TensorBatches(*dataset.tensors)
        batching = {"collate_fn": already_batched}
    else:
        batching = {"drop_last": drop_last}
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=EpochShuffler(dataset) if shuffle else None,
        generator=torch.Generator().manual_seed(seed),
        num_workers=num_workers,
        persistent_workers=persistent_workers and num_workers > 0,
        pin_memory=trainer is not None and isinstance(trainer.accelerator, CUDAAccelerator),
        **batching,
    )


class TensorBatches(TensorDataset):
    """A `TensorDataset` the DataLoader reads a batch at a time: `__getitems__` cuts the batch out
    of each tensor with one indexing. Samplers work as for any dataset, so Lightning's own
    (`DistributedSampler`, `overfit_batches`) still choose the indices."""

    def __getitems__(self, indices: list[int]) -> list[torch.Tensor]:
        index = torch.tensor(indices)
        return [tensor[index] for tensor in self.tensors]


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
