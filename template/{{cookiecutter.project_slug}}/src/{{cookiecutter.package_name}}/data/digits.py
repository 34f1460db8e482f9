"""scikit-learn's handwritten digits: real data that ships with scikit-learn, so no download."""

import torch
import torch.nn.functional as F
from jsonargparse.typing import NonNegativeInt, PositiveInt
from sklearn.datasets import load_digits

from .base import DataModule, Fraction, check_split, split_indices, standardized_splits


class DigitsDataModule(DataModule):
    """1,797 scanned digits of 8x8 pixels in 10 classes, split into train / val / test.

    The images are resized once to `image_size` x `image_size` (28 by default) so that networks
    written for MNIST, like the two-convolution CNN `Net`, run on them unchanged, and
    standardised with the training split's mean and std. The split is drawn from `seed`.
    """

    num_classes = 10

    def __init__(
        self,
        batch_size: PositiveInt = 64,
        image_size: PositiveInt = 28,
        val_fraction: Fraction = 0.15,
        test_fraction: Fraction = 0.15,
        num_workers: NonNegativeInt = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size, num_workers, seed)
        check_split(val_fraction, test_fraction)
        self.save_hyperparameters()
        self.input_shape = (1, image_size, image_size)

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        digits = load_digits()
        images = torch.from_numpy(digits.images).float().unsqueeze(1)  # N x 1 x 8 x 8, values 0..16
        if self.input_shape[1:] != images.shape[2:]:
            images = F.interpolate(images, size=self.input_shape[1:], mode="bilinear", align_corners=False)
        labels = torch.from_numpy(digits.target).long()

        indices = split_indices(
            len(labels), self.hparams.val_fraction, self.hparams.test_fraction, self.generator()
        )
        self.splits = standardized_splits(images, labels, indices)
