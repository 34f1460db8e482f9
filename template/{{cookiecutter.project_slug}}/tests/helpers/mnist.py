"""MNIST and Fashion-MNIST files in their own format, small enough for a test."""

import struct
from pathlib import Path

import numpy as np


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write `array` as an uncompressed IDX file of unsigned bytes, MNIST's own format:
    a zero short, the type code 0x08, the number of dimensions, each dimension as a
    big-endian int32, then the bytes."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def write_mnist(root: Path) -> Path:
    """A data_dir with tiny MNIST and Fashion-MNIST in the real IDX format (120 train, 40 test
    images), where each class is a bright square at its own place, so it can be learnt."""
    rng = np.random.default_rng(0)
    for name in ("MNIST", "FashionMNIST"):
        raw = root / name / "raw"
        raw.mkdir(parents=True)
        for prefix, count in (("train", 120), ("t10k", 40)):
            labels = rng.integers(0, 10, count)
            images = rng.integers(0, 60, (count, 28, 28))
            for image, label in zip(images, labels, strict=True):
                image[2 * label : 2 * label + 8, 4:12] = 255
            write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
            write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
    return root
