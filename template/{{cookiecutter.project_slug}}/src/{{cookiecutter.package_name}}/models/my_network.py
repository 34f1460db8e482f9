"""The tutorial's first `nn.Module` (seed 003): three linear layers, no activations."""

import torch
from torch import nn


class MyNetwork(nn.Module):
    """Linear(20, 30) -> Linear(30, 30) -> Linear(30, 40), as in "An Honest-to-Goodness Neural
    Network".

    Without activations between them the three layers compose to one linear map, so this
    network can fit exactly the linear relations a single `nn.Linear(20, 40)` can.
    """

    def __init__(self, in_features: int = 20, hidden: int = 30, out_features: int = 40) -> None:
        # important: runs early calls to make sure that the module is correct
        super().__init__()
        # we declare our layers. We don't use them yet.
        self.m1 = nn.Linear(in_features, hidden)
        self.m2 = nn.Linear(hidden, hidden)
        self.m3 = nn.Linear(hidden, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # we want to pass our input through to every layer
        x = self.m1(x)
        x = self.m2(x)
        x = self.m3(x)
        return x
