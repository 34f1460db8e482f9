"""LightningDataModules: each owns one dataset's download, splits and DataLoaders.

The shipped datasets are kept in memory as tensors; `ImageFolderDataModule` reads your own image
files one at a time (see `base.py`). Each says, before loading anything, what a network needs to
know: `input_shape`, and `num_classes` (class labels) or `target_shape` (numbers). The command
line passes the sizes a network takes (`in_channels`, `in_features`, `num_classes`,
`out_features`) from these, so one network trains on several datasets. For data bigger than
memory, `litproject convert` writes any of them as chunks that `--data=StreamingDataModule` streams.
"""

from .crop_yields import CropYieldsDataModule
from .digits import DigitsDataModule
from .folder import ImageFolderDataModule
from .mnist import FashionMNISTDataModule, MNISTDataModule
from .teacher import TeacherDataModule

__all__ = [
    "CropYieldsDataModule",
    "DigitsDataModule",
    "FashionMNISTDataModule",
    "ImageFolderDataModule",
    "MNISTDataModule",
    "TeacherDataModule",
]
