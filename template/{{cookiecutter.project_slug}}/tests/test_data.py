import torch

from {{ cookiecutter.package_name }}.data import DigitsDataModule


def test_digits_are_split_resized_and_standardised():
    dm = DigitsDataModule(batch_size=32)
    dm.setup("fit")
    sizes = {name: len(split) for name, split in dm.splits.items()}
    assert sum(sizes.values()) == 1797
    assert sizes == {"train": 1257, "val": 270, "test": 270}

    train_images = dm.splits["train"].tensors[0]
    assert abs(train_images.mean().item()) < 1e-4
    assert abs(train_images.std().item() - 1) < 1e-4

    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (32, *dm.dims) == (32, 1, 28, 28)
    assert x.dtype == torch.float32  # what MPS and mixed precision expect
    assert y.dtype == torch.long and set(y.tolist()) <= set(range(10))


def test_split_depends_only_on_the_seed():
    def test_labels(seed: int) -> torch.Tensor:
        dm = DigitsDataModule(seed=seed)
        dm.setup("test")
        return dm.splits["test"].tensors[1]

    assert torch.equal(test_labels(0), test_labels(0))
    assert not torch.equal(test_labels(0), test_labels(1))


def test_image_size_8_keeps_the_original_pixels():
    dm = DigitsDataModule(image_size=8)
    dm.setup("fit")
    assert dm.dims == (1, 8, 8)
    assert dm.splits["val"].tensors[0].shape[1:] == (1, 8, 8)
