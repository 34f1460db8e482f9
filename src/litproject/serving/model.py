"""The task on raw samples, as `train.py predict` runs it: the datamodule's `preprocess`, then the
task's own `predict_step` (its forward, for a task without one)."""

from typing import Any

import torch
from lightning.pytorch import LightningModule
from lightning.pytorch.utilities.model_helpers import is_overridden

from ..errors import CheckpointError
from .requests import sample_dtype


def predictions(
    task: LightningModule, data: Any, batches: list[torch.Tensor], device: str
) -> dict[str, torch.Tensor]:
    """The outputs for every sample of `batches`, in one forward pass. Batches of different sizes
    (images that `preprocess` resizes) meet after preprocessing."""
    with torch.inference_mode():
        inputs = torch.cat([data.preprocess(batch) for batch in batches]).to(device)
        if is_overridden("predict_step", task, LightningModule):
            outputs = task.predict_step((inputs, None), 0)
        else:
            outputs = task(inputs)
    return outputs if isinstance(outputs, dict) else {"prediction": outputs}


def check_servable(task: LightningModule, data: Any, ckpt_path: str) -> None:
    """Refuse, before any worker starts, a checkpoint whose model and datamodule cannot answer
    a sample (one of zeros): rather than a server whose every answer is an error."""
    shape = [32 if size is None else size for size in data.sample_shape]
    sample = torch.zeros((1, *shape), dtype=sample_dtype(data))
    try:
        predictions(task.eval(), data, [sample], "cpu")
    except (RuntimeError, TypeError, ValueError, IndexError, AttributeError) as error:
        reason = " ".join(str(error).split())
        raise CheckpointError(
            f"--ckpt_path {ckpt_path}: {type(data).__name__}.preprocess and {type(task).__name__} fail on a "
            f"sample shaped {shape} ({reason}). A checkpoint saved before its datamodule kept its statistics "
            "has none: train on from it (fit --ckpt_path last) to save them."
        ) from None
