"""The tutorial's linear regression written by hand (seed 004): `x @ w.t() + b`."""

import torch
from torch import nn


class LinearRegression(nn.Module):
    """Weights `w` (outputs x inputs) and biases `b`, started from `torch.randn` like the tutorial.

    With 3 inputs (temperature, rainfall, humidity) and 2 outputs (apple and orange yields), it
    is the tutorial's crop-yield model. `nn.Parameter` is what `requires_grad=True` was there:
    it makes `w` and `b` show up in `parameters()`, so an optimizer updates them.
    """

    def __init__(self, in_features: int = 3, out_features: int = 2) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(out_features, in_features))
        self.b = nn.Parameter(torch.randn(out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.w.t() + self.b
