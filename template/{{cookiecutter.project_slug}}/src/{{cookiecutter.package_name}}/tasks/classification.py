"""Classification: cross-entropy, accuracy, class predictions."""

import torch
import torch.nn.functional as F
from lightning.pytorch import LightningDataModule
from lightning.pytorch.cli import OptimizerCallable
from torch import nn
from torchmetrics import MetricCollection
from torchmetrics.classification import MulticlassAccuracy

from .base import IncompatibleDataError, Schedule, Task


class ClassificationTask(Task):
    """Train a network that gives one score per class.

    The network may return raw scores (logits) or log-probabilities like the tutorial's `Net`:
    cross-entropy applies `log_softmax`, which leaves log-probabilities unchanged, so both train
    alike. `num_classes` comes from the datamodule on the command line.
    """

    def __init__(
        self,
        net: nn.Module,
        num_classes: int = 10,
        optimizer: OptimizerCallable = torch.optim.Adam,
        schedule: Schedule | None = None,
        compile: bool = False,
    ):
        metrics = MetricCollection({"acc": MulticlassAccuracy(num_classes=num_classes)})
        super().__init__(net, optimizer, metrics, compile, schedule)

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(outputs, targets)

    def predict_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> dict[str, torch.Tensor]:
        """The predicted class of each input and the probability of every class."""
        probabilities = self(batch[0]).softmax(dim=1)
        return {"class": probabilities.argmax(dim=1), "probabilities": probabilities}

    def check_data(self, datamodule: LightningDataModule) -> None:
        data = type(datamodule).__name__
        if not hasattr(datamodule, "num_classes"):
            raise IncompatibleDataError(
                f"{type(self).__name__} needs class labels, but {data} has numeric targets: "
                "use --model=RegressionTask (or a config for that data)."
            )
        shape = self._try_forward(datamodule)
        if tuple(shape) != (2, datamodule.num_classes):
            raise IncompatibleDataError(
                f"{type(self.net).__name__} gives outputs shaped {tuple(shape[1:])} but {data} has "
                f"{datamodule.num_classes} classes: the network needs one output per class."
            )
