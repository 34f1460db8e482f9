"""What W&B shows beyond the logged numbers: gradients, a confusion matrix, sample predictions.

Both callbacks do nothing unless the logger is W&B (`--trainer.logger=false`, TensorBoard or CSV
runs are unaffected).
"""

from typing import Any, Literal

import torch
from jsonargparse.typing import PositiveInt
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.loggers import WandbLogger
from torchmetrics.classification import MulticlassConfusionMatrix

from ..contract import ClassificationData, Task


class WatchGradients(Callback):
    """Histograms of the network's gradients (or parameters, or both) in W&B, every
    `log_every_n_steps` optimizer steps, named as `wandb.watch` names them
    (`gradients/net.conv1.weight`); with `log_graph`, also W&B's drawing of the network's modules.

    The histograms are taken here, on the steps that log them, once the gradients are complete
    (and unscaled under mixed precision). `wandb.watch` would hook every parameter tensor
    instead, and each hook runs at every step: a cost that grows with the network (a few Python
    calls per tensor and step; 8 tensors in the CNN, hundreds in a ResNet), where this costs one
    check per step.
    """

    def __init__(
        self,
        log: Literal["gradients", "parameters", "all"] = "gradients",
        log_every_n_steps: PositiveInt = 100,
        log_graph: bool = False,
        bins: PositiveInt = 64,
    ) -> None:
        self.what = log
        self.log_every_n_steps = log_every_n_steps
        self.log_graph = log_graph
        self.bins = bins
        self._step = 0  # the optimizer step about to be taken (trainer.global_step, kept here cheaply)

    def on_fit_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self.log_graph and isinstance(trainer.logger, WandbLogger):
            trainer.logger.watch(pl_module, log=None, log_graph=True)  # the drawing only, no hooks

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._step = trainer.global_step  # after a resume, the checkpoint's

    def on_before_optimizer_step(
        self, trainer: Trainer, pl_module: LightningModule, optimizer: torch.optim.Optimizer
    ) -> None:
        step, self._step = self._step, self._step + 1
        if step % self.log_every_n_steps or not trainer.is_global_zero:
            return
        if not isinstance(trainer.logger, WandbLogger):
            return
        histograms = {}
        for name, parameter in pl_module.named_parameters():
            if self.what != "parameters" and parameter.grad is not None:
                histograms[f"gradients/{name}"] = histogram(parameter.grad, self.bins)
            if self.what != "gradients":
                histograms[f"parameters/{name}"] = histogram(parameter, self.bins)
        trainer.logger.log_metrics(histograms, step=trainer.global_step)


def histogram(tensor: torch.Tensor, bins: int) -> Any:
    """A `wandb.Histogram` of the tensor's finite values, counted on its device."""
    import wandb  # imported here: half a second of every start-up otherwise

    values = tensor.detach().flatten().float()
    values = values[values.isfinite()]
    low, high = (values.min().item(), values.max().item()) if values.numel() else (0.0, 0.0)
    if low == high:  # one value: a bin around it
        low, high = low - 0.5, high + 0.5
    counts = torch.histc(values, bins=bins, min=low, max=high)
    edges = torch.linspace(low, high, bins + 1)
    return wandb.Histogram(np_histogram=(counts.tolist(), edges.tolist()))


class ClassifierMedia(Callback):
    """After each validation on class labels (`contract.ClassificationData`): the confusion matrix
    (over the whole validation set, and every process under DDP; drawn by W&B as its
    confusion-matrix chart) and the first `num_samples` validation images captioned with their
    predicted and true class. It reads the class scores from what the task's `validation_step`
    returns, `{"loss": ..., "outputs": scores}`, and the batch through the task's `unpack`."""

    def __init__(self, num_samples: int = 16) -> None:
        self.num_samples = num_samples
        self.samples: list[tuple[torch.Tensor, int, int]] = []
        self.matrix: MulticlassConfusionMatrix | None = None

    def _active(self, trainer: Trainer, pl_module: LightningModule) -> bool:
        return (
            isinstance(trainer.logger, WandbLogger)
            and isinstance(trainer.datamodule, ClassificationData)
            and isinstance(pl_module, Task)
            and not trainer.sanity_checking
        )

    def on_validation_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self._active(trainer, pl_module):
            self.matrix = MulticlassConfusionMatrix(trainer.datamodule.num_classes).to(pl_module.device)
            self.samples = []

    def on_validation_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        outputs: dict[str, torch.Tensor],
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if not self._active(trainer, pl_module):
            return
        images, targets = pl_module.unpack(batch)
        predicted = outputs["outputs"].argmax(dim=1)
        self.matrix.update(predicted, targets)
        if len(self.samples) < self.num_samples and getattr(images, "ndim", 0) == 4:  # images, not vectors
            for image, guess, truth in zip(images, predicted.tolist(), targets.tolist(), strict=True):
                self.samples.append((image.cpu(), guess, truth))
            del self.samples[self.num_samples :]

    def on_validation_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not self._active(trainer, pl_module):
            return
        matrix = self.matrix.compute()  # every process takes part in the sum
        if not trainer.is_global_zero:
            return
        import wandb  # imported here: half a second of every start-up otherwise

        # W&B's own confusion-matrix chart (a table of counts it draws itself): nothing to render here.
        rows = matrix.tolist()
        counts = wandb.Table(
            columns=["Actual", "Predicted", "nPredictions"],
            data=[[str(a), str(p), n] for a, row in enumerate(rows) for p, n in enumerate(row)],
        )
        chart = wandb.plot_table(
            "wandb/confusion_matrix/v1",
            counts,
            {"Actual": "Actual", "Predicted": "Predicted", "nPredictions": "nPredictions"},
            {"title": "Confusion matrix (validation)"},
        )
        trainer.logger.log_metrics({"val/confusion_matrix": chart}, step=trainer.global_step)
        if self.samples:
            images, guesses, truths = zip(*self.samples, strict=True)
            captions = [f"predicted {g}, true {t}" for g, t in zip(guesses, truths, strict=True)]
            trainer.logger.log_image("val/samples", list(images), step=trainer.global_step, caption=captions)
