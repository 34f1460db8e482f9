"""Regression: mean squared error, predicted values."""

from typing import Literal

import torch
import torch.nn.functional as F
from lightning.pytorch.cli import OptimizerCallable
from litproject.metrics import BatchedMetricCollection
from litproject.schedules import Schedule
from torch import nn
from torchmetrics import MeanAbsoluteError, MeanSquaredError

from .base import Task


class RegressionTask(Task):
    """Train a network to predict numbers, with the mean squared error as the loss.

    `loss_reduction="sum"` sums the squared errors instead of averaging them, as the two-layer
    network's tutorial does with `MSELoss(size_average=False)`. The mean divides by every element
    of the batch, so the summed loss and its gradient are batch size x outputs times larger (640
    for 64 samples of 10 outputs): with plain SGD the learning rate must be that much smaller
    (Adam's steps hardly change, as it divides by the gradient's scale). The reported `mse`
    metric is always the mean.
    """

    def __init__(
        self,
        net: nn.Module,
        loss_reduction: Literal["mean", "sum"] = "mean",
        optimizer: OptimizerCallable = torch.optim.Adam,
        schedule: Schedule | None = None,
        compile: bool = False,
    ) -> None:
        metrics = BatchedMetricCollection({"mse": MeanSquaredError(), "mae": MeanAbsoluteError()})
        super().__init__(net, optimizer, metrics, schedule, compile)
        self.loss_reduction = loss_reduction

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(outputs, targets, reduction=self.loss_reduction)

    def predict_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> dict[str, torch.Tensor]:
        inputs, _ = self.unpack(batch)
        return {"prediction": self(inputs)}
