"""LightningDataModules: each owns one dataset's download, splits and DataLoaders.

Every one keeps its splits in memory (see `base.py`) and says which sizes it gives a network:
`num_classes` and image `in_channels` for classification, `in_features` / `out_features` for
vectors. The command line passes these to the network, so one network trains on several datasets.
"""

from .base import DataError
from .crop_yields import CropYieldsDataModule
from .digits import DigitsDataModule
from .mnist import FashionMNISTDataModule, MNISTDataModule
from .teacher import TeacherDataModule

__all__ = [
    "CropYieldsDataModule",
    "DataError",
    "DigitsDataModule",
    "FashionMNISTDataModule",
    "MNISTDataModule",
    "TeacherDataModule",
]
