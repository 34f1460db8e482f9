"""Learning-rate schedules as a task takes them from the configs."""

from dataclasses import dataclass
from typing import Any, Literal

import torch
from lightning.pytorch import Trainer
from lightning.pytorch.cli import LRSchedulerCallable

from .errors import OptionError


@dataclass
class Schedule:
    """A learning-rate schedule, as the configs write it:

        schedule:
          scheduler:
            class_path: torch.optim.lr_scheduler.CosineAnnealingLR
            init_args: {T_max: 15}
          interval: epoch        # or step: the scheduler steps after every optimizer step
          monitor: val/loss      # what ReduceLROnPlateau watches (other schedulers ignore it)

    Lightning steps the scheduler and keeps its state in checkpoints, so a resumed run
    continues the schedule where it stopped. `OneCycleLR` without `total_steps` (or `epochs`)
    gets the run's number of optimizer steps.
    """

    scheduler: LRSchedulerCallable
    interval: Literal["epoch", "step"] = "epoch"
    monitor: str = "val/loss"

    def build(self, optimizer: torch.optim.Optimizer, trainer: Trainer, logged: set[str]) -> dict[str, Any]:
        """The scheduler and its settings, as Lightning's `configure_optimizers` returns them;
        `logged` are the metrics a plateau scheduler may watch."""
        given = getattr(self.scheduler, "keywords", {})  # jsonargparse builds it as a partial
        if given.get("total_steps", 0) is None and given.get("epochs") is None:  # OneCycleLR
            scheduler = self.scheduler(optimizer, total_steps=trainer.estimated_stepping_batches)
        else:
            scheduler = self.scheduler(optimizer)
        settings = {"scheduler": scheduler, "interval": self.interval}
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            if self.monitor not in logged:
                raise OptionError(
                    f"--model.schedule.monitor {self.monitor}: the task never logs it; "
                    f"ReduceLROnPlateau can watch {', '.join(sorted(logged))}."
                )
            settings["monitor"] = self.monitor
        return settings
