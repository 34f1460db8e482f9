"""Image files as a datamodule reads them: the same code for training files and for the images a
server receives, so both become the same pixels."""

import io

import torch
from PIL import Image, UnidentifiedImageError
from torchvision.transforms.v2.functional import pil_to_tensor

from ..errors import DataError

GRAYSCALE = {"1", "L", "LA", "I", "I;16", "F"}  # Pillow's modes of one-channel images
# What Pillow raises for a damaged, cut-short or foreign file, or one too large to decode safely.
BAD_IMAGE = (OSError, SyntaxError, ValueError, Image.DecompressionBombError)


def channels_of(mode: str) -> int:
    """1 for a grayscale image, 3 for colour (RGB, palette, CMYK: converted to RGB)."""
    return 1 if mode in GRAYSCALE else 3


def open_image(file: str | bytes, name: str = "the image") -> Image.Image:
    """An image file (a path, or its bytes), decoded whole: a damaged or cut-short one is refused
    here, in one line, rather than halfway through a batch."""
    try:
        with Image.open(io.BytesIO(file) if isinstance(file, bytes) else file) as image:
            image.load()
            return image
    except UnidentifiedImageError:
        raise DataError(f"{name} is not an image Pillow can read (no known image format).") from None
    except BAD_IMAGE as error:
        raise DataError(f"{name} is damaged or cut short ({error}).") from None


def pixels(image: Image.Image, channels: int, convert: bool, name: str = "the image") -> torch.Tensor:
    """An image's pixels as a `channels x height x width` uint8 tensor. With `convert`, colour
    becomes grayscale or the other way round; without it, an image of other channels is refused
    (the data has a fixed number, and guessing would feed the network something it never saw)."""
    if not convert and channels_of(image.mode) != channels:
        kinds = {1: "grayscale (1 channel)", 3: "colour (3 channels)"}
        raise DataError(
            f"{name} is {kinds[channels_of(image.mode)]}, but this data's images are {kinds[channels]}: "
            f"send a {kinds[channels].split(' ')[0]} image."
        )
    return pil_to_tensor(image.convert("L" if channels == 1 else "RGB"))
