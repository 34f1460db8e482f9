"""Classification: cross-entropy, accuracy, class predictions."""

import torch
import torch.nn.functional as F
from lightning.pytorch.cli import OptimizerCallable
from litproject.metrics import BatchedMetricCollection
from litproject.schedules import Schedule
from torch import nn
from torchmetrics.classification import MulticlassAccuracy

from .base import Task


class ClassificationTask(Task):
    """Train a network that gives one score per class.

    The network may return raw scores (logits) or log-probabilities like the tutorial's `Net`:
    cross-entropy applies `log_softmax`, which leaves log-probabilities unchanged, so both train
    alike. `num_classes` comes from the datamodule on the command line; taking it marks this
    task as one for class labels.
    """

    def __init__(
        self,
        net: nn.Module,
        num_classes: int = 10,
        optimizer: OptimizerCallable = torch.optim.Adam,
        schedule: Schedule | None = None,
        compile: bool = False,
    ) -> None:
        metrics = BatchedMetricCollection({"acc": MulticlassAccuracy(num_classes=num_classes)})
        super().__init__(net, optimizer, metrics, schedule, compile)

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(outputs, targets)

    def predict_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> dict[str, torch.Tensor]:
        """The predicted class of each input and the probability of every class."""
        inputs, _ = self.unpack(batch)
        probabilities = self(inputs).softmax(dim=1)
        return {"class": probabilities.argmax(dim=1), "probabilities": probabilities}
