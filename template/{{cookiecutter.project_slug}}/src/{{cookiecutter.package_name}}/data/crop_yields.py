"""The crop-yield table (temperature, rainfall, humidity -> apples, oranges) that tutorials of
linear regression by hand train on, shipped as a CSV."""

import csv
from importlib.resources import files
from pathlib import Path

import torch
from jsonargparse.typing import NonNegativeInt, PositiveInt
from litproject.errors import DataError

from .base import DataModule, Fraction, Standardize, check_split, split_indices

FEATURES = ("temperature", "rainfall", "humidity")
TARGETS = ("apples", "oranges")


class CropYieldsDataModule(DataModule):
    """Temperature, rainfall and humidity of 15 regions -> their apple and orange yields.

    Features are standardised with the training split's mean and std per column (on raw values
    gradient descent needs a learning rate of about 1e-5; standardised, plain SGD converges with
    a rate of about 0.1). Targets stay in their units, so the MSE reads in yield units squared.
    `csv_path` takes any CSV with the same five columns; by default the 15-row table shipped
    here.
    """

    input_shape = (len(FEATURES),)
    target_shape = (len(TARGETS),)
    feature_names, target_names = FEATURES, TARGETS  # a served prediction names its values

    def __init__(
        self,
        csv_path: str | None = None,
        batch_size: PositiveInt = 16,
        val_fraction: Fraction = 0.2,
        test_fraction: Fraction = 0.2,
        num_workers: NonNegativeInt = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size, num_workers, seed)
        check_split(val_fraction, test_fraction)
        self.save_hyperparameters()
        self.standardize = Standardize(dim=0)  # each feature by its own mean and std

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        path = self.hparams.csv_path or files(__package__) / "crop_yields.csv"
        x, y = read_table(Path(str(path)))
        indices = split_indices(
            len(x), self.hparams.val_fraction, self.hparams.test_fraction, self.generator()
        )
        self.standardize.fit(x[indices["train"]])
        self.splits = self.preprocessed_splits(x, y, indices)


def read_table(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """Features and targets of a crop-yield CSV, as float32 tensors."""
    columns = (*FEATURES, *TARGETS)
    try:
        with path.open(newline="") as file:
            reader = csv.DictReader(file)
            missing = [column for column in columns if column not in (reader.fieldnames or [])]
            if missing:
                raise DataError(f"{path} has no column {missing[0]!r}: it needs {', '.join(columns)}.")
            values = [[number(row, column, path, reader.line_num) for column in columns] for row in reader]
    except OSError as error:
        raise DataError(f"cannot read --data.csv_path {path} ({error.strerror or error}).") from None
    table = torch.tensor(values, dtype=torch.float32)
    return table[:, : len(FEATURES)], table[:, len(FEATURES) :]


def number(row: dict[str, str], column: str, path: Path, line: int) -> float:
    try:
        return float(row[column])
    except (TypeError, ValueError):
        raise DataError(f"{path} line {line}: {column} {row[column]!r} is not a number.") from None
