"""Image files in the formats users bring: written from data that ships with scikit-learn."""

from pathlib import Path

import numpy as np
from PIL import Image


def write_digit_images(folder: Path, per_class: int | None = None) -> Path:
    """scikit-learn's handwritten digits as 8x8 grayscale PNG files, one subfolder per class
    (`folder/3/0042.png`): the first `per_class` images of each class, or all 1,797."""
    # Imported here: scikit-learn imported before the command line is built (as conftest's
    # imports would) makes jsonargparse read `--trainer.limit_train_batches=-1` as -1.0.
    from sklearn.datasets import load_digits

    digits = load_digits()
    written = dict.fromkeys(range(10), 0)
    for index, (image, label) in enumerate(zip(digits.images, digits.target, strict=True)):
        if per_class is not None and written[label] == per_class:
            continue
        (folder / str(label)).mkdir(parents=True, exist_ok=True)
        Image.fromarray((image * 255 / 16).astype(np.uint8)).save(folder / str(label) / f"{index:04d}.png")
        written[label] += 1
    return folder


def truncate(folder: Path) -> Path:
    """Cut the first image of class 3 short, as an interrupted copy leaves it."""
    path = next((folder / "3").iterdir())
    path.write_bytes(path.read_bytes()[:60])
    return path
