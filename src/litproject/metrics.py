"""Metrics for a task: torchmetrics' own, updated a group of batches at a time."""

from typing import Any

import torch
from torchmetrics import MetricCollection


class BatchedMetricCollection(MetricCollection):
    """torchmetrics' `MetricCollection`, which gathers the batches `update` is given and updates
    its metrics with `every` of them at once, and with the rest before `compute`.

    A torchmetrics update costs a couple of hundred Python calls whatever the batch's size (about
    as much as a small network's whole forward pass and loss). The metrics' states add up over
    samples (every classification and regression metric of torchmetrics: counts and sums), so
    their values are those of an update per batch (docs/performance.md counts what it saves).
    """

    def __init__(self, metrics: Any, *args: Any, every: int = 10, **kwargs: Any) -> None:
        super().__init__(metrics, *args, **kwargs)
        self.every = every
        self.gathered: list[tuple[torch.Tensor, torch.Tensor]] = []

    def update(self, preds: torch.Tensor, target: torch.Tensor) -> None:
        self.gathered.append((preds.detach(), target))
        if len(self.gathered) >= self.every:
            self.update_gathered()

    def update_gathered(self) -> None:
        if self.gathered:
            preds, target = zip(*self.gathered, strict=True)
            self.gathered = []
            super().update(torch.cat(preds), torch.cat(target))

    def compute(self) -> dict[str, Any]:
        self.update_gathered()
        return super().compute()

    def reset(self) -> None:
        self.gathered = []
        super().reset()
