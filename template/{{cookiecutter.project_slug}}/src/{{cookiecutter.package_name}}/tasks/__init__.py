"""Tasks: LightningModules that hold the training logic and receive a network to train.

The tutorial's loop (`net.train()`, `optimizer.zero_grad()`, `loss.backward()`,
`optimizer.step()`, `net.eval()` for evaluation) is what Lightning runs around a task's
`training_step` and `validation_step`; a task only says how to compute the loss and metrics.
"""

from {{ cookiecutter.package_name }}.tasks.classification import ClassificationTask

__all__ = ["ClassificationTask"]
