"""MNIST and Fashion-MNIST through torchvision's own dataset classes, served from memory."""

from pathlib import Path

import torch
from jsonargparse.typing import NonNegativeInt, PositiveInt
from litproject.data.images import pixels
from litproject.errors import DataError
from PIL import Image
from torchvision.datasets import MNIST, FashionMNIST
from torchvision.datasets.mnist import read_sn3_pascalvincent_tensor
from torchvision.transforms.v2.functional import resize

from .base import DataModule, Fraction, Standardize, split_indices

RAW_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


class MissingDataError(DataError):
    """Dataset files are not on disk and could not be downloaded."""


class MNISTDataModule(DataModule):
    """70,000 handwritten digits of 28x28 pixels: 60,000 to train (minus a validation part), 10,000 to test.

    torchvision's `MNIST` class reads (and, with `download=True`, fetches) the four IDX files in
    `<data_dir>/MNIST/raw/`. Its images are then converted to one float tensor, standardised with
    the training split's statistics and kept in memory, instead of decoding a PIL image for every
    sample in every epoch. The validation split is drawn from the training set with `seed`.
    A raw sample is an image as the IDX files hold it: 28 x 28 pixel values from 0 to 255.
    """

    dataset_class = MNIST
    num_classes = 10
    classes = None  # class names, where they are more than the digit (Fashion-MNIST's)
    sample_shape = (28, 28)
    sample_dtype = torch.uint8

    def __init__(
        self,
        data_dir: str = "data",
        download: bool = True,
        batch_size: PositiveInt = 64,
        val_fraction: Fraction = 1 / 12,
        num_workers: NonNegativeInt = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size, num_workers, seed)
        self.save_hyperparameters()
        self.input_shape = (1, 28, 28)
        self.standardize = Standardize()

    @property
    def raw_folder(self) -> Path:
        return Path(self.hparams.data_dir, self.dataset_class.__name__, "raw")

    def _dataset(self, train: bool, download: bool = False):
        name = self.dataset_class.__name__
        try:
            return self.dataset_class(self.hparams.data_dir, train=train, download=download)
        except OSError as error:  # the folder cannot be made or written (a download was needed)
            raise DataError(
                f"cannot write {name} to --data.data_dir {self.hparams.data_dir} "
                f"({error.strerror or error}): choose a folder you can write to."
            ) from None
        except (RuntimeError, ValueError) as error:  # torchvision: not found, failed download, bad file
            damaged = [file for file in RAW_FILES if not readable_idx(self.raw_folder / file)]
            if (self.raw_folder / RAW_FILES[0]).is_file() and damaged:
                raise DataError(
                    f"{self.raw_folder / damaged[0]} is damaged or cut short: replace it with the "
                    f"uncompressed original (or delete {self.raw_folder} to download {name} again)."
                ) from None
            reason = str(error).splitlines()[0]
            raise MissingDataError(
                f"{name} is not in {self.raw_folder} and could not be downloaded ({reason}). "
                f"Put the four uncompressed files {', '.join(RAW_FILES)} there, or set "
                f"--data.data_dir to the folder that holds {name}/raw/."
            ) from None

    def prepare_data(self) -> None:
        """Download once (Lightning calls this on one process only)."""
        self._dataset(train=True, download=self.hparams.download)
        self._dataset(train=False, download=self.hparams.download)

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        train, test = self._dataset(train=True), self._dataset(train=False)
        # Training and test images in one tensor; validation is drawn from the training part.
        images = torch.cat([train.data, test.data])  # N x 28 x 28, uint8
        labels = torch.cat([train.targets, test.targets])
        indices = split_indices(len(train.targets), self.hparams.val_fraction, 0.0, self.generator())
        indices["test"] = torch.arange(len(train.targets), len(labels))
        self.standardize.fit(scale(images[indices["train"]]))
        self.splits = self.preprocessed_splits(images, labels, indices)

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        return self.standardize(scale(images))

    def read_image(self, image: Image.Image) -> torch.Tensor:
        """A grayscale image file, light on dark as MNIST's -> a raw sample, resized to 28 x 28."""
        return resize(pixels(image, channels=1, convert=False), list(self.sample_shape))[0]


class FashionMNISTDataModule(MNISTDataModule):
    """Zalando's Fashion-MNIST: MNIST's format and sizes with 10 kinds of clothing instead of digits,
    read from `<data_dir>/FashionMNIST/raw/`."""

    dataset_class = FashionMNIST
    classes = FashionMNIST.classes  # T-shirt/top, Trouser, ...


def scale(images: torch.Tensor) -> torch.Tensor:
    """N x 28 x 28 pixel values 0..255 -> N x 1 x 28 x 28 in [0, 1]."""
    return images.unsqueeze(1).float() / 255


def readable_idx(path: Path) -> bool:
    """Whether torchvision can read `path` as a complete IDX file."""
    try:
        read_sn3_pascalvincent_tensor(str(path))
        return True
    except (OSError, RuntimeError, ValueError, AssertionError):  # torchvision asserts on its format
        return False
