"""What litproject gives a project's datamodules: loaders that serve their splits fast and in an
order that resumes exactly (`dataloader`), and training from LitData chunks (`StreamingDataModule`,
written by `litproject convert`)."""

from .loaders import EpochShuffler, dataloader
from .streaming import StreamingDataModule

__all__ = ["EpochShuffler", "StreamingDataModule", "dataloader"]
