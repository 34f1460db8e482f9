"""Classification: cross-entropy, accuracy, class predictions."""

import torch
import torch.nn.functional as F
from lightning.pytorch import LightningModule
from lightning.pytorch.cli import OptimizerCallable
from torch import nn
from torchmetrics import MetricCollection
from torchmetrics.classification import MulticlassAccuracy


class ClassificationTask(LightningModule):
    """Train a network that maps inputs to one score per class.

    The network may return raw scores (logits) or log-probabilities like the tutorial's
    `Net`: cross-entropy applies `log_softmax`, and `log_softmax` of log-probabilities
    changes nothing, so both train the same way.

    Args:
        net: the network to train, e.g. `Net()`; chosen in the config with `class_path`.
        num_classes: how many classes the data has.
        optimizer: builds the optimizer from the parameters, e.g. `torch.optim.Adam`.
    """

    def __init__(
        self,
        net: nn.Module,
        num_classes: int = 10,
        optimizer: OptimizerCallable = torch.optim.Adam,
    ) -> None:
        super().__init__()
        # Through the CLI, `net` and `optimizer` are saved as their config (class_path and
        # init_args): plain values, so a checkpoint alone can rebuild the model.
        self.save_hyperparameters()
        self.net = net
        self.optimizer = optimizer
        # One metric object per stage, so training batches never leak into validation scores.
        metrics = MetricCollection({"acc": MulticlassAccuracy(num_classes=num_classes)})
        self.train_metrics = metrics.clone(prefix="train/")
        self.val_metrics = metrics.clone(prefix="val/")
        self.test_metrics = metrics.clone(prefix="test/")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def _step(self, batch: tuple[torch.Tensor, torch.Tensor], stage: str) -> torch.Tensor:
        x, y = batch
        scores = self(x)
        loss = F.cross_entropy(scores, y)
        metrics = getattr(self, f"{stage}_metrics")
        metrics.update(scores, y)
        # Metric objects are logged as objects: Lightning computes them once per epoch,
        # accumulated over every batch (and every process), not averaged batch scores.
        self.log(f"{stage}/loss", loss, prog_bar=True, on_step=stage == "train", on_epoch=True)
        self.log_dict(metrics, prog_bar=stage != "train", on_step=False, on_epoch=True)
        return loss

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        self._step(batch, "val")

    def test_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        self._step(batch, "test")

    def predict_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> dict[str, torch.Tensor]:
        """The predicted class of each input and the probability of every class."""
        probabilities = self(batch[0]).softmax(dim=1)
        return {"class": probabilities.argmax(dim=1), "probabilities": probabilities}

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return self.optimizer(self.parameters())
