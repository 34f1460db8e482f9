"""The 1000-100-10 two-layer network of PyTorch's "Learning PyTorch with Examples" tutorials:
Linear(1000, 100) -> ReLU -> Linear(100, 10), trained there on random tensors."""

from torch import nn


class TwoLayerNet(nn.Sequential):
    """The tutorials' `torch.nn.Sequential(Linear(D_in, H), ReLU(), Linear(H, D_out))`, an MLP.

    It starts with `nn.Flatten()`, which leaves (N, 1000) vectors as they are and turns images
    into vectors, so the same network also trains on MNIST (in_features=784).
    """

    def __init__(self, in_features: int = 1000, hidden: int = 100, out_features: int = 10) -> None:
        super().__init__(
            nn.Flatten(),
            nn.Linear(in_features, hidden),
            nn.ReLU(),
            nn.Linear(hidden, out_features),
        )
