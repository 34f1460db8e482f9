"""LightningDataModules: each owns one dataset's download, splits and DataLoaders."""

from {{ cookiecutter.package_name }}.data.digits import DigitsDataModule

__all__ = ["DigitsDataModule"]
