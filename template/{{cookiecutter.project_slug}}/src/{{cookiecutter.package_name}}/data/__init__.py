"""LightningDataModules: each owns one dataset's download, splits and DataLoaders.

The shipped datasets are kept in memory as tensors; `ImageFolderDataModule` reads your own image
files one at a time (see `base.py`). Each says which sizes it gives a network:
`num_classes` and image `in_channels` for classification, `in_features` / `out_features` for
vectors. The command line passes these to the network, so one network trains on several datasets.
"""

from .base import DataError
from .crop_yields import CropYieldsDataModule
from .digits import DigitsDataModule
from .folder import ImageFolderDataModule
from .mnist import FashionMNISTDataModule, MNISTDataModule
from .streaming import StreamingDataModule
from .teacher import TeacherDataModule

__all__ = [
    "CropYieldsDataModule",
    "DataError",
    "DigitsDataModule",
    "FashionMNISTDataModule",
    "ImageFolderDataModule",
    "MNISTDataModule",
    "StreamingDataModule",
    "TeacherDataModule",
]
