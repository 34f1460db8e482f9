"""Callbacks: what happens around training. Configs name them by their full path,
`litproject.callbacks.<Name>`, under `trainer.callbacks` (the project's `configs/trainer.yaml`).

`Checkpoint` is always on (the command line adds it as the `checkpoint:` group), and so are
`TrainingLog` and, unless a config lists a bar of its own, `ProgressBar`.
"""

from .checkpoint import Checkpoint
from .early_stopping import EarlyStopping
from .finite_loss import NonFiniteLossError, StopOnNonFiniteLoss
from .learning_curves import LearningCurves
from .network_summary import NetworkSummary
from .prediction_writer import PredictionWriter
from .progress_bar import ProgressBar
from .training_log import TrainingLog
from .wandb_media import ClassifierMedia, WatchGradients

__all__ = [
    "Checkpoint",
    "ClassifierMedia",
    "EarlyStopping",
    "LearningCurves",
    "TrainingLog",
    "NetworkSummary",
    "NonFiniteLossError",
    "PredictionWriter",
    "ProgressBar",
    "StopOnNonFiniteLoss",
    "WatchGradients",
]
