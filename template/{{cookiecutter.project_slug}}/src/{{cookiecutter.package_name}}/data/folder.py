"""Your own images: a folder with one subfolder per class, read a file at a time, as torchvision's
`ImageFolder` reads it."""

from pathlib import Path
from typing import Literal

import torch
from jsonargparse.typing import NonNegativeInt, PositiveInt
from litproject.data.images import BAD_IMAGE, channels_of, open_image, pixels
from litproject.errors import DataError
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision.datasets.folder import IMG_EXTENSIONS, make_dataset
from torchvision.transforms import v2

from .base import DataModule, Fraction, Standardize, check_split, split_indices

Sample = tuple[Path, int]  # an image file and its class index


class ImageFolderDataModule(DataModule):
    """Images sorted into one subfolder per class: `train_dir/cat/001.png`, `train_dir/dog/7.jpg`.

    For data that is files rather than arrays, and may not fit in memory: each image is decoded
    when a batch needs it, in `num_workers` worker processes. The classes are the subfolders'
    names in sorted order (the first is label 0), as in torchvision's `ImageFolder`. They are
    listed, and the first image's size read from its header, when the datamodule is built, so
    the network gets `num_classes` and `in_channels` before anything is decoded.

    Validation and test images come from `val_dir` and `test_dir` (with the same class folders)
    when given, otherwise from a `val_fraction` / `test_fraction` of `train_dir` drawn with
    `seed`. Images are resized to `image_size` x `image_size` when it is set (otherwise they
    must all have one size), converted to `channels` when it is set (otherwise they must all be
    grayscale or all colour), scaled to [0, 1] and standardised per channel with the mean and
    std of the training images. Those are computed in one pass before the first epoch and saved
    in the checkpoint, so a resumed run, a test, a prediction and a server standardise as
    training did. `augment` transforms (torchvision's `transforms.v2`, e.g. `RandomRotation`)
    change training images only, as they are read, before `preprocess`. A raw sample is an image's
    pixels, channels x height x width values from 0 to 255.
    """

    sample_dtype = torch.uint8

    def __init__(
        self,
        train_dir: str,
        val_dir: str | None = None,
        test_dir: str | None = None,
        image_size: PositiveInt | None = None,
        channels: Literal[1, 3] | None = None,
        augment: list[nn.Module] | None = None,
        batch_size: PositiveInt = 64,
        val_fraction: Fraction = 0.15,
        test_fraction: Fraction = 0.15,
        num_workers: NonNegativeInt = 0,
        persistent_workers: bool = True,
        drop_last: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size, num_workers, seed)
        check_split(0 if val_dir else val_fraction, 0 if test_dir else test_fraction)
        self.save_hyperparameters()
        self.persistent_workers, self.drop_last = persistent_workers, drop_last
        self.augment = augment or []  # the transforms themselves (hparams may hold their configs)
        self.classes = class_folders(Path(train_dir), "--data.train_dir")
        self.num_classes = len(self.classes)
        (width, height), mode = header(first_image(Path(train_dir), self.classes))
        size = (image_size, image_size) if image_size else (height, width)
        self.input_shape = (channels or channels_of(mode), *size)
        self.channels = self.input_shape[0]
        self.files: dict[str, list[Sample]] = {}
        self.standardize = Standardize()  # per channel: its mean and std are channels x 1 x 1

    @property
    def sample_shape(self) -> tuple[int | None, ...]:
        return (self.channels, None, None) if self.hparams.image_size else self.input_shape

    def setup(self, stage: str | None = None) -> None:
        """List every split's files and check their headers. To fit, also decode every training
        image once for the statistics, so that a damaged one stops the run before it starts (a
        resumed run then takes the checkpoint's, which are the same for the same files)."""
        if not self.files:
            self.files = self._list_files()
        if stage == "fit" and self.standardize.mean is None:
            self._fit_statistics()

    def _list_files(self) -> dict[str, list[Sample]]:
        hp = self.hparams
        files = {"train": self._files(hp.train_dir, "--data.train_dir")}
        for split, folder in (("val", hp.val_dir), ("test", hp.test_dir)):
            if folder:
                files[split] = self._files(folder, f"--data.{split}_dir")
        drawn = [split for split in ("val", "test") if split not in files]
        if drawn:  # the splits without a folder of their own come out of train_dir
            pool = files.pop("train")
            val, test = (0.0 if split in files else hp[f"{split}_fraction"] for split in ("val", "test"))
            indices = split_indices(len(pool), val, test, self.generator())
            files.update({split: [pool[i] for i in indices[split]] for split in ("train", *drawn)})
        for split in files.values():
            for path, _ in split:
                self._check_header(path)
        return files

    def _files(self, folder: str, option: str) -> list[Sample]:
        """The (image file, class index) pairs of a folder with this datamodule's class folders."""
        classes = class_folders(Path(folder), option)
        if classes != self.classes:
            raise DataError(
                f"{option} {folder} has the class folders {', '.join(classes)}, but --data.train_dir "
                f"{self.hparams.train_dir} has {', '.join(self.classes)}: give every split the same ones."
            )
        to_index = {name: index for index, name in enumerate(classes)}
        samples = make_dataset(folder, to_index, IMG_EXTENSIONS, allow_empty=True)
        empty = set(classes) - {classes[label] for _, label in samples}
        if empty:
            raise no_images(Path(folder, min(empty)))
        return sorted((Path(path), label) for path, label in samples)

    def _check_header(self, path: Path) -> None:
        """Refuse an image whose size or channels differ from the first's where no option changes them."""
        (width, height), mode = header(path)
        if not self.hparams.image_size and (height, width) != self.input_shape[1:]:
            rows, columns = self.input_shape[1:]
            raise DataError(
                f"{path} is {width}x{height} pixels, other images {columns}x{rows}: set --data.image_size "
                "to resize every image to one size."
            )
        if not self.hparams.channels and channels_of(mode) != self.channels:
            raise DataError(
                f"{path} has {channels_of(mode)} channels, other images {self.channels}: set "
                f"--data.channels to 1 (grayscale) or 3 (colour) to convert every image."
            )

    def dataset(self, split: str) -> "ImageFiles":
        if not self.splits:  # after a checkpoint's statistics are loaded, if there is one
            if self.standardize.mean is None:  # to test or predict without a checkpoint
                self._fit_statistics()
            preprocessing = self.preprocessing()
            augmented = v2.Compose([*self.augment, preprocessing])  # as read, before preprocessing
            self.splits = {
                name: ImageFiles(files, augmented if name == "train" else preprocessing, self.channels)
                for name, files in self.files.items()
            }
        return self.splits[split]

    def preprocessing(self, standardize: bool = True) -> v2.Compose:
        """Images (uint8, channels x height x width, or a batch of them) -> the network's inputs:
        resized to `image_size` if set, scaled to [0, 1], standardised per channel."""
        steps = [v2.Resize(self.input_shape[1:], antialias=True)] if self.hparams.image_size else []
        steps.append(v2.ToDtype(torch.float32, scale=True))
        return v2.Compose([*steps, self.standardize] if standardize else steps)

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        return self.preprocessing()(images)

    def read_image(self, image: Image.Image) -> torch.Tensor:
        """An image file -> a raw sample: its pixels, converted to `channels` if that is set; its
        size must be the training images' unless `image_size` resizes them all."""
        sample = pixels(image, self.channels, convert=bool(self.hparams.channels))
        if not self.hparams.image_size and tuple(sample.shape[1:]) != tuple(self.input_shape[1:]):
            rows, columns = self.input_shape[1:]
            size = f"{image.width}x{image.height}"
            raise DataError(f"the image is {size} pixels, the training images {columns}x{rows}.")
        return sample

    def sample_names(self, split: str) -> list[str]:
        return [str(path) for path, _ in self.files[split]]

    def _fit_statistics(self) -> None:
        """Per-channel mean and std of the training images, resized but not augmented: one pass
        over them in the datamodule's worker processes."""
        images = ImageFiles(self.files["train"], self.preprocessing(standardize=False), self.channels)
        loader = DataLoader(images, batch_size=self.batch_size, num_workers=self.num_workers)
        total = squares = torch.zeros(self.channels, dtype=torch.float64)
        for batch, _ in loader:
            pixels = batch.transpose(0, 1).reshape(self.channels, -1).double()
            total, squares = total + pixels.sum(1), squares + pixels.square().sum(1)
        count = len(images) * self.input_shape[1] * self.input_shape[2]
        mean = total / count
        std = (squares / count - mean.square()).clamp_min(1e-12).sqrt()
        self.standardize.mean, self.standardize.std = mean.float().view(-1, 1, 1), std.float().view(-1, 1, 1)

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        self.splits = {}  # made again with these statistics


class ImageFiles(Dataset):
    """(image, class index) pairs read from image files: a Dataset as the tutorials write one."""

    def __init__(self, samples: list[Sample], transform: nn.Module, channels: int) -> None:
        self.samples = samples
        self.transform = transform  # of the image's pixels (uint8, channels x height x width)
        self.channels = channels

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        path, label = self.samples[index]
        try:
            image = open_image(path, name=str(path))
        except DataError as error:
            raise DataError(f"{error} Replace or delete it.") from None
        return self.transform(pixels(image, self.channels, convert=True)), label


def class_folders(folder: Path, option: str) -> list[str]:
    """The class subfolders of `folder`, sorted."""
    if not folder.is_dir():
        raise DataError(
            f"{option} {folder} is not a folder: give the folder that holds one subfolder per class."
        )
    classes = sorted(
        entry.name for entry in folder.iterdir() if entry.is_dir() and not entry.name.startswith(".")
    )
    if not classes:
        raise DataError(
            f"{option} {folder} has no class folders: put each class's images in a subfolder named "
            f"after the class ({folder}/cat/1.png, {folder}/dog/2.png, ...)."
        )
    if len(classes) == 1:
        raise DataError(
            f"{option} {folder} has one class folder, {classes[0]}: a classifier needs two or more "
            f"classes, each in a subfolder of its own ({folder}/cat/1.png, {folder}/dog/2.png, ...)."
        )
    return classes


def first_image(folder: Path, classes: list[str]) -> Path:
    """The first image file of the first class folder, found as every split's files are."""
    images = make_dataset(str(folder), {classes[0]: 0}, IMG_EXTENSIONS, allow_empty=True)
    if not images:
        raise no_images(folder / classes[0])
    return Path(min(images)[0])


def no_images(folder: Path) -> DataError:
    return DataError(f"{folder} has no images ({', '.join(IMG_EXTENSIONS)}): add some or remove the folder.")


def header(path: Path) -> tuple[tuple[int, int], str]:
    """An image file's (width, height) and Pillow mode, read from its header alone."""
    try:
        with Image.open(path) as image:
            return image.size, image.mode
    except BAD_IMAGE as error:
        raise DataError(f"{path} is not an image Pillow can read ({error}): replace or delete it.") from None
