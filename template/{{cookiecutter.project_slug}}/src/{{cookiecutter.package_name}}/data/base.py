"""What the datamodules here share: splits made once in `setup` from the raw samples through
`preprocess`, served by litproject's loaders."""

import torch
from jsonargparse.typing import restricted_number_type
from lightning.pytorch import LightningDataModule
from litproject.data import dataloader
from litproject.errors import OptionError
from torch.utils.data import DataLoader, Dataset, TensorDataset

# Restricted types in the datamodules' signatures: the command line refuses a value out of range
# in one line (`--data.val_fraction 1.5: must be at least 0 and less than 1`) before anything is built.
Fraction = restricted_number_type("Fraction", float, [(">=", 0), ("<", 1)])


class DataModule(LightningDataModule):
    """Base class: `setup` fills `self.splits` ("train", "val", "test") with datasets, which the
    loaders serve; `predict` runs on the test split.

    Data that fits in memory (MNIST's 60,000 images are 190 MB as float32) is loaded and
    normalised once into a `TensorDataset` per split, and batches are cut from the tensors: no
    per-sample decoding in the training loop. Any other `Dataset` (a folder of image files, say)
    is read as the tutorials read one, a sample at a time in `num_workers` processes. Training
    batches come in an order set by the run's seed and the epoch, so a resumed run sees what an
    unbroken one would (`litproject.data.dataloader`).

    A subclass sets, from its constructor arguments alone, `input_shape` and either `num_classes`
    (class labels) or `target_shape` (numbers): the command line passes these sizes to the
    network before any data is loaded (litproject's data contract).

    `preprocess` turns samples as the data holds them (`sample_shape`, in their own units: pixel
    values, temperatures) into the network's inputs. The splits are made of what it returns, and
    `python train.py serve` calls it on every request, with the statistics that training computed
    and the checkpoint kept: one code path, so what is served cannot drift from what was trained.
    """

    standardize: "Standardize | None" = None  # set by a datamodule whose inputs are standardised

    drop_last = False  # of a training split read a sample at a time
    persistent_workers = True  # keep worker processes between epochs (with num_workers > 0)

    def __init__(self, batch_size: int, num_workers: int, seed: int) -> None:
        super().__init__()
        # Plain ints, not jsonargparse's restricted types: the loaders' states in checkpoints hold
        # them, and checkpoints are loaded with `weights_only=True`.
        self.batch_size, self.num_workers, self.seed = int(batch_size), int(num_workers), seed
        self.splits: dict[str, Dataset] = {}

    @property
    def sample_shape(self) -> tuple[int | None, ...]:
        """The shape of one raw sample (None: any size); a subclass whose raw samples differ
        from the inputs (8 x 8 digits for 1 x 28 x 28 inputs) sets its own."""
        return tuple(self.input_shape)

    def preprocess(self, samples: torch.Tensor) -> torch.Tensor:
        """A batch of raw samples -> the network's inputs: standardised, if the data is."""
        return samples if self.standardize is None else self.standardize(samples)

    def preprocessed_splits(self, x: torch.Tensor, y: torch.Tensor, indices: dict) -> dict[str, Dataset]:
        """One `TensorDataset` per split of `indices`: the inputs `x[i]` through `preprocess`."""
        return {split: TensorDataset(self.preprocess(x[i]), y[i]) for split, i in indices.items()}

    def state_dict(self) -> dict:
        """Saved in checkpoints: the training split's statistics that inputs are standardised with."""
        if self.standardize is None or self.standardize.mean is None:
            return {}
        return {"mean": self.standardize.mean, "std": self.standardize.std}

    def load_state_dict(self, state_dict: dict) -> None:
        if state_dict:
            self.standardize.mean, self.standardize.std = state_dict["mean"], state_dict["std"]

    def generator(self) -> torch.Generator:
        """A random generator seeded with `seed`: the same splits and data in every run and process."""
        return torch.Generator().manual_seed(self.seed)

    def dataset(self, split: str) -> Dataset:
        """The split's samples, one (input, target) pair per index, as the loaders serve them."""
        return self.splits[split]

    def loader(self, split: str, shuffle: bool = False) -> DataLoader:
        return dataloader(
            self.dataset(split),
            self.batch_size,
            shuffle=shuffle,
            num_workers=self.num_workers,
            seed=self.seed,
            drop_last=shuffle and self.drop_last,
            persistent_workers=self.persistent_workers,
            trainer=self.trainer,
        )

    def train_dataloader(self) -> DataLoader:
        return self.loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self.loader("val")

    def test_dataloader(self) -> DataLoader:
        return self.loader("test")

    def predict_dataloader(self) -> DataLoader:
        return self.loader("test")


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


class Standardize:
    """`(x - mean) / std` with the mean and std of the training split only, so that nothing about
    validation or test data leaks into training: over all values, or per feature with `dim=0`.
    The datamodule's checkpointed state, so a test, a prediction or a server scales as training did."""

    def __init__(self, dim: int | None = None) -> None:
        self.dim = dim
        self.mean: torch.Tensor | None = None
        self.std: torch.Tensor | None = None

    def fit(self, x: torch.Tensor) -> None:
        dims = {} if self.dim is None else {"dim": self.dim}
        self.mean, self.std = x.mean(**dims), x.std(**dims)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std
