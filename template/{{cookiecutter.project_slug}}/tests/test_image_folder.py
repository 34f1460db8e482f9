"""A folder of real PNG files, one subfolder per class: listed, split, standardised, and refused
in one line when a file or folder is not as expected."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from litproject.data.images import open_image, pixels
from litproject.errors import DataError
from PIL import Image
from torchvision.transforms import v2

from {{ cookiecutter.package_name }}.data import ImageFolderDataModule

from .helpers.images import truncate, write_digit_images


def test_classes_and_sizes_come_from_the_folder_before_any_image_is_decoded(image_folder: Path):
    data = ImageFolderDataModule(str(image_folder), image_size=28)
    assert data.classes == [str(digit) for digit in range(10)] and data.num_classes == 10
    assert data.input_shape == (1, 28, 28) and data.channels == 1
    assert ImageFolderDataModule(str(image_folder)).input_shape == (1, 8, 8)  # the images' own size
    assert ImageFolderDataModule(str(image_folder), channels=3).input_shape[0] == 3
    assert not data.files and not data.splits


def test_seeded_split_and_training_statistics(image_folder: Path):
    data = ImageFolderDataModule(str(image_folder), image_size=28, batch_size=16, seed=3)
    data.setup("fit")
    files = data.files
    assert {split: len(samples) for split, samples in files.items()} == {"train": 210, "val": 45, "test": 45}
    everything = [path for samples in files.values() for path, _ in samples]
    assert len(set(everything)) == 300 and all(
        int(path.parent.name) == label for path, label in files["train"]
    )

    again = ImageFolderDataModule(str(image_folder), image_size=28, seed=3)
    again.setup("fit")
    assert again.files == files  # the same split from the same seed

    images, labels = next(iter(data.val_dataloader()))
    assert images.shape == (16, 1, 28, 28) and images.dtype == torch.float32 and labels.dtype == torch.int64
    # Statistics of the training images only (resized as served), used to standardise every split.
    pixels = torch.stack([resized(path) for path, _ in files["train"]])
    assert torch.allclose(data.standardize.mean, pixels.mean().reshape(1, 1, 1), atol=1e-5)
    assert torch.allclose(data.standardize.std, pixels.std(correction=0).reshape(1, 1, 1), atol=1e-5)
    train = torch.cat([batch for batch, _ in data.train_dataloader()])
    assert abs(train.mean().item()) < 1e-4 and abs(train.std().item() - 1) < 1e-3


def resized(path: Path) -> torch.Tensor:
    image = v2.functional.pil_to_tensor(Image.open(path).convert("L"))
    return v2.functional.resize(image, [28, 28], antialias=True).float() / 255


def test_val_and_test_folders_of_their_own(tmp_path: Path):
    for split, count in (("train", 20), ("val", 5), ("test", 3)):
        write_digit_images(tmp_path / split, per_class=count)
    data = ImageFolderDataModule(
        str(tmp_path / "train"), val_dir=str(tmp_path / "val"), test_dir=str(tmp_path / "test")
    )
    data.setup("fit")
    assert {split: len(samples) for split, samples in data.files.items()} == {
        "train": 200,
        "val": 50,
        "test": 30,
    }


def test_drop_last_and_augmentation_change_training_batches_only(image_folder: Path):
    rotate = v2.RandomRotation(degrees=(90, 90))
    data = ImageFolderDataModule(
        str(image_folder), image_size=28, batch_size=32, drop_last=True, augment=[rotate]
    )
    data.setup("fit")
    assert [len(labels) for _, labels in data.train_dataloader()] == [32] * 6  # 210 images: 10 left out
    assert [len(labels) for _, labels in data.val_dataloader()] == [32, 13]
    plain = ImageFolderDataModule(str(image_folder), image_size=28, batch_size=32)
    plain.setup("fit")
    assert torch.equal(next(iter(data.val_dataloader()))[0], next(iter(plain.val_dataloader()))[0])
    path, _ = data.files["train"][0]
    augmented = data.splits["train"][0][0]
    standardised = plain.splits["train"][0][0]
    assert data.files["train"][0] == plain.files["train"][0]
    raw = pixels(open_image(path), channels=1, convert=False)  # augmented as read, then preprocessed
    assert torch.equal(augmented, data.preprocess(v2.functional.rotate(raw, 90))), path
    assert torch.equal(standardised, plain.preprocess(raw))


def test_statistics_come_back_from_the_checkpoint_without_a_second_pass(image_folder: Path, monkeypatch):
    data = ImageFolderDataModule(str(image_folder), image_size=28)
    data.setup("fit")
    data.train_dataloader()
    saved = data.state_dict()
    assert set(saved) == {"mean", "std"}

    restored = ImageFolderDataModule(str(image_folder), image_size=28)
    restored.setup("test")
    restored.load_state_dict(saved)
    monkeypatch.setattr(ImageFolderDataModule, "_fit_statistics", lambda self: pytest.fail("computed again"))
    batch, _ = next(iter(restored.test_dataloader()))
    assert torch.equal(batch, next(iter(data.test_dataloader()))[0])


def test_a_served_image_file_becomes_what_training_read(image_folder: Path):
    """`serve` has the checkpoint's statistics and no setup: the same file gives the same input."""
    data = ImageFolderDataModule(str(image_folder), image_size=28)
    data.setup("fit")
    served = ImageFolderDataModule(str(image_folder), image_size=28)
    served.load_state_dict(data.state_dict())
    path, _ = data.files["test"][0]
    sample = served.read_image(open_image(path))
    assert sample.dtype == torch.uint8 and served.sample_shape == (1, None, None)
    assert torch.equal(served.preprocess(sample.unsqueeze(0))[0], data.dataset("test")[0][0])
    with pytest.raises(DataError, match="is colour .* this data's images are grayscale"):
        served.read_image(Image.new("RGB", (8, 8)))
    with pytest.raises(DataError, match="is 9x8 pixels, the training images 8x8"):
        ImageFolderDataModule(str(image_folder)).read_image(Image.new("L", (9, 8)))


def not_an_image(folder: Path) -> Path:
    path = folder / "5" / "notes.png"
    path.write_text("not an image")
    return path


def mixed_sizes(folder: Path) -> Path:
    path = folder / "7" / "big.png"
    Image.fromarray(np.zeros((12, 10), dtype=np.uint8)).save(path)
    return path


def mixed_channels(folder: Path) -> Path:
    path = folder / "9" / "colour.png"
    Image.fromarray(np.zeros((8, 8, 3), dtype=np.uint8)).save(path)
    return path


def empty_class(folder: Path) -> Path:
    shutil.rmtree(folder / "4")
    (folder / "4").mkdir()
    return folder / "4"


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (truncate, "{path} is damaged or cut short"),
        (not_an_image, "{path} is not an image Pillow can read"),
        (mixed_sizes, "{path} is 10x12 pixels, other images 8x8: set --data.image_size"),
        (mixed_channels, "{path} has 3 channels, other images 1: set --data.channels"),
        (empty_class, "{path} has no images (.jpg"),
    ],
)
def test_a_bad_file_is_named_before_training(image_folder: Path, damage, message: str):
    """Headers are read when the splits are listed, training images decoded for the statistics:
    both before the first step. (litproject prints a DataError as one line, exit status 2.)"""
    path = damage(image_folder)
    with pytest.raises(DataError) as error:
        ImageFolderDataModule(str(image_folder)).setup("fit")
    assert str(error.value).startswith(message.format(path=path))


@pytest.mark.parametrize(
    ("folders", "message"),
    [
        ({"train_dir": "missing"}, "--data.train_dir missing is not a folder"),
        ({"train_dir": "empty"}, "--data.train_dir empty has no class folders: put each class's images"),
        (
            {"train_dir": "one"},
            "--data.train_dir one has one class folder, 0: a classifier needs two or more",
        ),
        (
            {"val_dir": "other"},
            "--data.val_dir other has the class folders 0, 1, but --data.train_dir images has 0, 1, 2,",
        ),
    ],
)
def test_a_folder_without_the_expected_class_folders(image_folder: Path, monkeypatch, folders, message: str):
    monkeypatch.chdir(image_folder.parent)
    Path("empty").mkdir()
    write_digit_images(Path("other"), per_class=1)
    for digit in range(2, 10):
        shutil.rmtree(Path("other", str(digit)))
    write_digit_images(Path("one"), per_class=1)
    for digit in range(1, 10):
        shutil.rmtree(Path("one", str(digit)))
    with pytest.raises(DataError) as error:
        ImageFolderDataModule(**{"train_dir": "images", **folders}).setup("fit")
    assert str(error.value).startswith(message)
