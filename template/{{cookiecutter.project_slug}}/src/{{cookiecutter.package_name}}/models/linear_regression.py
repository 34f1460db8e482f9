"""Linear regression written by hand, `x @ w.t() + b`, as in the crop-yield tutorial."""

import torch
from torch import nn


class LinearRegression(nn.Module):
    """Weights `w` (outputs x inputs) and biases `b`, both started from `torch.randn`.

    With 3 inputs (temperature, rainfall, humidity) and 2 outputs (apple and orange yields), it
    predicts the crop-yield table. `nn.Parameter` stands in for a tensor made with
    `requires_grad=True`, and also lists `w` and `b` in `parameters()`, so an optimizer updates
    them.
    """

    def __init__(self, in_features: int = 3, out_features: int = 2) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(out_features, in_features))
        self.b = nn.Parameter(torch.randn(out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.w.t() + self.b
