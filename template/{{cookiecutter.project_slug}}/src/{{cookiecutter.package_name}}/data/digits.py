"""scikit-learn's handwritten digits: real data that ships with scikit-learn, so no download."""

import torch
import torch.nn.functional as F
from jsonargparse.typing import NonNegativeInt, PositiveInt
from litproject.data.images import pixels
from PIL import Image
from sklearn.datasets import load_digits

from .base import DataModule, Fraction, Standardize, check_split, split_indices


class DigitsDataModule(DataModule):
    """1,797 scanned digits of 8x8 pixels in 10 classes, split into train / val / test.

    The images are resized once to `image_size` x `image_size` (28 by default) so that networks
    written for MNIST, like the two-convolution CNN `Net`, run on them unchanged, and
    standardised with the training split's mean and std. The split is drawn from `seed`.
    A raw sample is a digit as scikit-learn holds it: 8 x 8 pixel values from 0 (paper) to 16 (ink).
    """

    num_classes = 10
    sample_shape = (8, 8)

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
        self.standardize = Standardize()

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        digits = load_digits()
        images = torch.from_numpy(digits.images).float()  # N x 8 x 8, values 0..16
        labels = torch.from_numpy(digits.target).long()
        indices = split_indices(
            len(labels), self.hparams.val_fraction, self.hparams.test_fraction, self.generator()
        )
        self.standardize.fit(self.resize(images[indices["train"]]))
        self.splits = self.preprocessed_splits(images, labels, indices)

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        return self.standardize(self.resize(images))

    def resize(self, images: torch.Tensor) -> torch.Tensor:
        """N x 8 x 8 digits -> N x 1 x image_size x image_size, as networks written for MNIST take them."""
        images = images.unsqueeze(1)
        if self.input_shape[1:] != images.shape[2:]:
            images = F.interpolate(images, size=self.input_shape[1:], mode="bilinear", align_corners=False)
        return images

    def read_image(self, image: Image.Image) -> torch.Tensor:
        """A grayscale image file of a digit, light on dark as MNIST's -> a raw sample: shrunk to
        8 x 8 by averaging blocks of pixels (as scikit-learn's digits were made from 32 x 32
        scans) and scaled from 0..255 to 0..16."""
        ink = pixels(image, channels=1, convert=False).float()
        return F.interpolate(ink.unsqueeze(0), size=self.sample_shape, mode="area")[0, 0] * 16 / 255
