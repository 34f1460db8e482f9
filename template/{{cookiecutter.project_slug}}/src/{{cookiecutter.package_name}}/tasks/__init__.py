"""Tasks: LightningModules that hold the training logic and receive a network to train.

`base.Task` holds the steps, logging, metrics and optimizer once; a task says only what its
loss, metrics and predictions are.
"""

from .base import Task
from .classification import ClassificationTask
from .regression import RegressionTask

__all__ = ["ClassificationTask", "RegressionTask", "Task"]
