"""scikit-learn's handwritten digits: real data that ships with scikit-learn, so no download."""

import torch
import torch.nn.functional as F
from lightning.pytorch import LightningDataModule
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset


class DigitsDataModule(LightningDataModule):
    """1,797 scanned digits of 8x8 pixels in 10 classes, split into train / val / test.

    The images are resized once to `image_size` x `image_size` (28 by default) so that networks
    written for MNIST, like the tutorial's CNN, run on them unchanged. Pixels are standardised
    with the mean and std of the training split only, then every split is kept in memory as a
    tensor: the dataset is 5 MB, and building batches from memory keeps the GPU (or CPU) busy.
    The split is drawn from `seed`, so it is the same in every run and every process.
    """

    num_classes = 10

    def __init__(
        self,
        batch_size: int = 64,
        image_size: int = 28,
        val_fraction: float = 0.15,
        test_fraction: float = 0.15,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.splits: dict[str, TensorDataset] = {}

    @property
    def dims(self) -> tuple[int, int, int]:
        """Shape of one image: channels, height, width."""
        return (1, self.hparams.image_size, self.hparams.image_size)

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        digits = load_digits()
        images = torch.from_numpy(digits.images).float().unsqueeze(1)  # N x 1 x 8 x 8, values 0..16
        if self.hparams.image_size != images.shape[-1]:
            images = F.interpolate(images, size=self.hparams.image_size, mode="bilinear", align_corners=False)
        labels = torch.from_numpy(digits.target).long()

        order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(self.hparams.seed))
        n_val = round(len(order) * self.hparams.val_fraction)
        n_test = round(len(order) * self.hparams.test_fraction)
        indices = {
            "test": order[:n_test],
            "val": order[n_test : n_test + n_val],
            "train": order[n_test + n_val :],
        }
        train_images = images[indices["train"]]
        mean, std = train_images.mean(), train_images.std()
        self.splits = {
            name: TensorDataset((images[idx] - mean) / std, labels[idx]) for name, idx in indices.items()
        }

    def _loader(self, split: str, shuffle: bool = False) -> DataLoader:
        return DataLoader(
            self.splits[split],
            batch_size=self.hparams.batch_size,
            shuffle=shuffle,
            num_workers=self.hparams.num_workers,
            persistent_workers=self.hparams.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val")

    def test_dataloader(self) -> DataLoader:
        return self._loader("test")

    def predict_dataloader(self) -> DataLoader:
        return self._loader("test")
