"""Callbacks: what happens around training, switched on in `configs/trainer.yaml`.

`Checkpoint` is always on (the command line adds it as the `checkpoint:` group); the others are
listed under `trainer.callbacks`.
"""

from .checkpoint import Checkpoint
from .early_stopping import EarlyStopping
from .finite_loss import NonFiniteLossError, StopOnNonFiniteLoss
from .learning_curves import LearningCurves
from .network_summary import NetworkSummary
from .prediction_writer import PredictionWriter
from .progress_bar import ProgressBar
from .wandb_media import ClassifierMedia, WatchGradients

__all__ = [
    "Checkpoint",
    "ClassifierMedia",
    "EarlyStopping",
    "LearningCurves",
    "NetworkSummary",
    "NonFiniteLossError",
    "PredictionWriter",
    "ProgressBar",
    "StopOnNonFiniteLoss",
    "WatchGradients",
]
