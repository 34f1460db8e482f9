"""Stop a run whose validation metric has stopped improving."""

import torch
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import EarlyStopping as LightningEarlyStopping

from ..errors import OptionError


class EarlyStopping(LightningEarlyStopping):
    """Lightning's `EarlyStopping`, watching the experiment's metric unless told another: the one
    the checkpoint keeps the best of (`checkpoint.monitor`, `checkpoint.mode`). A metric the task
    never logs is refused when training starts, in one line; its state (the best value, the
    validations since) is kept in checkpoints, so a resumed run counts on; and `stopped` says
    why it stopped the run, for the run's last lines.

    Switched on by stacking `configs/recipes/early_stopping.yaml` after an experiment.
    """

    def __init__(
        self, monitor: str | None = None, mode: str | None = None, patience: int = 3, **kwargs
    ) -> None:
        super().__init__(monitor=monitor or "", mode=mode or "min", patience=patience, **kwargs)
        self._given = (monitor, mode)

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        super().setup(trainer, pl_module, stage)
        monitor, mode = self._given
        checkpoint = trainer.checkpoint_callback
        self.monitor = monitor or checkpoint.monitor
        metrics = dict(getattr(pl_module, "val_metrics", {}).items())  # e.g. {"val/acc": MulticlassAccuracy}
        if stage == "fit" and self.monitor not in {"val/loss", *metrics}:
            raise OptionError(
                f"--early_stopping.monitor {self.monitor}: the task never logs it; it logs "
                f"{', '.join(sorted({'val/loss', *metrics}))}."
            )
        # A metric of the task's own knows whether higher is better (torchmetrics says so).
        better = "max" if getattr(metrics.get(self.monitor), "higher_is_better", False) else "min"
        self.mode = mode or (better if monitor else checkpoint.mode)
        self.min_delta = abs(self.min_delta) * (1 if self.monitor_op == torch.gt else -1)
        self.best_score = torch.tensor(torch.inf if self.monitor_op == torch.lt else -torch.inf)

    @property
    def stopped(self) -> str | None:
        """Why this callback stopped the run, if it did."""
        if not self.stopping_reason_message:  # set only when it stops the run
            return None
        return f"Stopped early after epoch {self.stopped_epoch + 1}: {self.stopping_reason_message}"
