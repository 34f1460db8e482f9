"""Lightning's floor, for the benchmark (variant LB): the R1 workload (same network, loss, optimizer
and batches sliced from tensors) run by a minimal LightningModule, whose `training_step` is the
raw loop's body, under a Trainer with every extra off: no logger, progress bar, summary,
checkpointing, validation or metrics. What LB adds to R1 is Lightning's loop alone.

    python bare_lightning.py <workload> <epochs> <data_dir>     # writes JSON to $BENCH_OUT
"""

import os
import sys

import torch
from lightning.pytorch import LightningModule, Trainer
from raw_loop import workload
from step_timer import StepTimer
from torch.utils.data import DataLoader, IterableDataset


class Batches(IterableDataset):
    """R1's batch generator as a dataset the Trainer iterates (batch_size=None: already batched)."""

    def __init__(self, batches) -> None:
        self.batches = batches

    def __iter__(self):
        return self.batches()


class Bare(LightningModule):
    def __init__(self, net: torch.nn.Module, criterion: torch.nn.Module, optimizer) -> None:
        super().__init__()
        self.net, self.criterion, self.optimizer = net, criterion, optimizer

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        inputs, targets = batch
        return self.criterion(self.net(inputs), targets)

    def configure_optimizers(self):
        return self.optimizer


if __name__ == "__main__":
    torch.set_num_threads(int(os.environ["BENCH_THREADS"]))
    torch.manual_seed(0)
    name, epochs, data_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    net, criterion, optimizer, batches = workload(name, "R1", data_dir)
    trainer = Trainer(
        accelerator="auto",  # CUDA when present, as raw_loop.py and the generated project
        max_epochs=epochs,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[StepTimer()],
    )
    trainer.fit(Bare(net, criterion, optimizer), DataLoader(Batches(batches), batch_size=None))
