"""Random tensors with a learnable target, for the tutorials' networks that train on random data."""

import torch
from jsonargparse.typing import NonNegativeFloat, NonNegativeInt, PositiveInt
from torch.utils.data import TensorDataset

from .base import DataModule, Fraction, check_split, split_indices


class TeacherDataModule(DataModule):
    """Random inputs `x ~ N(0, 1)` and targets `y = teacher(x) + noise`, all drawn from `seed`.

    The tutorials train on `torch.randn` inputs and targets: pure noise, which a network can
    only memorise. Here the targets come from a fixed random linear map (the "teacher") plus a
    little noise, so the validation loss falls as the network learns the map, down to the
    noise floor (`noise_std` squared). The defaults fit the 1000-100-10 two-layer
    network (1000 -> 10); the three stacked linear layers of `MyNetwork` take 20 -> 40.
    """

    def __init__(
        self,
        in_features: PositiveInt = 1000,
        out_features: PositiveInt = 10,
        num_samples: PositiveInt = 4096,
        noise_std: NonNegativeFloat = 0.1,
        batch_size: PositiveInt = 64,
        val_fraction: Fraction = 0.125,
        test_fraction: Fraction = 0.125,
        num_workers: NonNegativeInt = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size, num_workers, seed)
        check_split(val_fraction, test_fraction)
        self.save_hyperparameters()
        self.input_shape = (in_features,)
        self.target_shape = (out_features,)

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        hp = self.hparams
        generator = self.generator()
        teacher = torch.randn(hp.out_features, hp.in_features, generator=generator) / hp.in_features**0.5
        x = torch.randn(hp.num_samples, hp.in_features, generator=generator)
        y = x @ teacher.t() + hp.noise_std * torch.randn(hp.num_samples, hp.out_features, generator=generator)
        indices = split_indices(hp.num_samples, hp.val_fraction, hp.test_fraction, generator)
        self.splits = {split: TensorDataset(x[idx], y[idx]) for split, idx in indices.items()}
