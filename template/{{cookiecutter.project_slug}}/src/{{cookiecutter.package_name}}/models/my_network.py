"""`MyNetwork`: three stacked linear layers, 20 -> 30 -> 30 -> 40, the first `nn.Module` of a
getting-started tutorial."""

import torch
from torch import nn


class MyNetwork(nn.Module):
    """Linear(20, 30) -> Linear(30, 30) -> Linear(30, 40), applied one after the other.

    Without activations between them the three layers compose to one linear map, so this
    network can fit exactly the linear relations a single `nn.Linear(20, 40)` can.
    """

    def __init__(self, in_features: int = 20, hidden: int = 30, out_features: int = 40) -> None:
        # nn.Module's own set-up first: without it, assigning the layers below fails.
        super().__init__()
        # Assigned as attributes, the layers' weights become this module's parameters().
        self.m1 = nn.Linear(in_features, hidden)
        self.m2 = nn.Linear(hidden, hidden)
        self.m3 = nn.Linear(hidden, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Each layer takes the previous one's output: m3(m2(m1(x))).
        x = self.m1(x)
        x = self.m2(x)
        x = self.m3(x)
        return x
