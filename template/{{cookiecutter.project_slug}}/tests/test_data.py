from pathlib import Path

import pytest
import torch
from litproject.contract import sizes
from litproject.errors import DataError
from PIL import Image
from sklearn.datasets import load_digits
from torchvision.datasets import MNIST

from {{ cookiecutter.package_name }}.data import (
    CropYieldsDataModule,
    DigitsDataModule,
    FashionMNISTDataModule,
    MNISTDataModule,
    TeacherDataModule,
    crop_yields,
)
from {{ cookiecutter.package_name }}.data.base import split_indices
from {{ cookiecutter.package_name }}.data.crop_yields import read_table
from {{ cookiecutter.package_name }}.data.mnist import (
    RAW_FILES,
    MissingDataError,
)


def test_digits_are_split_resized_and_standardised():
    dm = DigitsDataModule(batch_size=32)
    dm.setup("fit")
    sizes = {name: len(split) for name, split in dm.splits.items()}
    assert sizes == {"train": 1257, "val": 270, "test": 270}

    train_images = dm.splits["train"].tensors[0]
    assert abs(train_images.mean().item()) < 1e-4
    assert abs(train_images.std().item() - 1) < 1e-4

    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (32, *dm.input_shape) == (32, 1, 28, 28)
    assert x.dtype == torch.float32  # what MPS and mixed precision expect
    assert y.dtype == torch.long and set(y.tolist()) <= set(range(10))


def test_split_depends_only_on_the_seed():
    def test_labels(seed: int) -> torch.Tensor:
        dm = DigitsDataModule(seed=seed)
        dm.setup("test")
        return dm.splits["test"].tensors[1]

    assert torch.equal(test_labels(0), test_labels(0))
    assert not torch.equal(test_labels(0), test_labels(1))


def test_sizes_are_known_before_any_data_is_loaded():
    """What the command line gives a network (litproject's data contract) comes from the
    constructor's arguments alone."""
    digits = DigitsDataModule(image_size=8)
    assert (digits.input_shape, digits.num_classes) == ((1, 8, 8), 10)
    assert sizes(digits) == {"in_features": 64, "in_channels": 1, "num_classes": 10, "out_features": 10}
    teacher = TeacherDataModule(in_features=20, out_features=40)
    assert teacher.target_shape == (40,) and sizes(teacher) == {"in_features": 20, "out_features": 40}
    assert not digits.splits and not teacher.splits


@pytest.mark.parametrize("module", [MNISTDataModule, FashionMNISTDataModule])
def test_mnist_style_files_load_through_torchvision(module, mnist_dir: Path):
    dm = module(data_dir=str(mnist_dir), download=False, batch_size=16, val_fraction=0.25)
    dm.prepare_data()
    dm.setup("fit")
    assert {name: len(split) for name, split in dm.splits.items()} == {"train": 90, "val": 30, "test": 40}
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (16, 1, 28, 28) and x.dtype == torch.float32
    assert y.dtype == torch.long
    assert abs(dm.splits["train"].tensors[0].mean().item()) < 1e-4


def test_missing_mnist_files_name_the_folder_and_the_files(tmp_path: Path):
    dm = MNISTDataModule(data_dir=str(tmp_path / "nowhere"), download=False)
    with pytest.raises(MissingDataError) as error:
        dm.prepare_data()
    message = str(error.value)
    assert str(tmp_path / "nowhere" / "MNIST" / "raw") in message
    assert all(name in message for name in RAW_FILES)
    assert "\n" not in message


def test_crop_yields_are_the_tutorials_table_with_standardised_features():
    dm = CropYieldsDataModule()
    dm.setup("fit")
    assert {name: len(split) for name, split in dm.splits.items()} == {"train": 9, "val": 3, "test": 3}
    x_train, y_train = dm.splits["train"].tensors
    torch.testing.assert_close(x_train.mean(dim=0), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(x_train.std(dim=0), torch.ones(3), atol=1e-5, rtol=0)
    all_targets = torch.cat([split.tensors[1] for split in dm.splits.values()])
    assert sorted(all_targets[:, 0].tolist())[:3] == [20.0, 21.0, 22.0]  # apples, unscaled


def test_crop_yields_read_any_csv_with_the_same_columns(tmp_path: Path):
    csv = tmp_path / "yields.csv"
    rows = [
        f"{t},{r},{h},{t + r},{h}" for t, r, h in zip(range(10), range(10, 20), range(20, 30), strict=True)
    ]
    csv.write_text("temperature,rainfall,humidity,apples,oranges\n" + "\n".join(rows) + "\n")
    dm = CropYieldsDataModule(csv_path=str(csv), val_fraction=0.2, test_fraction=0.2)
    dm.setup("fit")
    assert sum(len(split) for split in dm.splits.values()) == 10


def test_teacher_targets_are_learnable_not_noise():
    """The best possible predictor (the teacher itself) leaves only the noise: MSE = noise_std**2."""
    dm = TeacherDataModule(in_features=20, out_features=40, num_samples=2048, noise_std=0.1)
    dm.setup("fit")
    x, y = dm.splits["train"].tensors
    solution = torch.linalg.lstsq(x, y).solution
    assert torch.mean((x @ solution - y) ** 2).item() < 0.011
    assert torch.mean(y**2).item() > 0.5  # while the targets themselves vary a lot


def served(dm):
    """A datamodule as `serve` has it: built from the same arguments, given the checkpoint's
    state (the training statistics), never set up."""
    copy = type(dm)(**dm.hparams)
    copy.load_state_dict(dm.state_dict())
    return copy


def test_served_digits_are_preprocessed_as_training_did():
    dm = DigitsDataModule()
    dm.setup("fit")
    raw = torch.from_numpy(load_digits().images).float()
    test = split_indices(len(raw), 0.15, 0.15, dm.generator())["test"]
    server = served(dm)
    assert server.sample_shape == (8, 8)
    assert torch.equal(server.preprocess(raw[test]), dm.splits["test"].tensors[0])
    # An image file of a digit, as 8-bit pixels: the same sample, to the 8 bits' precision.
    image = Image.fromarray((raw[test[0]] * 255 / 16).round().byte().numpy())
    torch.testing.assert_close(server.read_image(image), raw[test[0]], atol=16 / 255, rtol=0)
    with pytest.raises(DataError, match="is colour .* grayscale"):
        server.read_image(image.convert("RGB"))


def test_served_crop_yields_are_standardised_with_the_training_statistics():
    dm = CropYieldsDataModule()
    dm.setup("fit")
    x, _ = read_table(Path(crop_yields.__file__).with_name("crop_yields.csv"))
    test = split_indices(len(x), 0.2, 0.2, dm.generator())["test"]
    assert torch.equal(served(dm).preprocess(x[test]), dm.splits["test"].tensors[0])


def test_served_mnist_images_are_preprocessed_as_training_did(mnist_dir: Path):
    dm = MNISTDataModule(data_dir=str(mnist_dir), download=False)
    dm.setup("fit")
    test_images = MNIST(str(mnist_dir), train=False).data
    server = served(dm)
    assert torch.equal(server.preprocess(test_images), dm.splits["test"].tensors[0])
    image = Image.fromarray(test_images[0].numpy())
    assert torch.equal(server.read_image(image), test_images[0])
    assert server.read_image(image.resize((56, 56))).shape == (28, 28)
