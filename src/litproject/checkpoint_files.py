"""Checkpoint files: opened safely, checked against the model before they are used, and the random
generators' states that make a resumed run draw what an unbroken one would."""

import pickle
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch
from lightning.pytorch import LightningModule

from .errors import CheckpointError


def rng_states() -> dict[str, Any]:
    """The states of every random number generator, as plain values and tensors, so that
    checkpoints load with `torch.load(weights_only=True)`."""
    numpy_state = np.random.get_state()
    return {
        "python": random.getstate(),
        "numpy": [numpy_state[0], numpy_state[1].tolist(), *numpy_state[2:]],
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def set_rng_states(states: dict[str, Any]) -> None:
    random.setstate(states["python"])
    kind, keys, *rest = states["numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), *rest))
    torch.set_rng_state(states["torch"])
    if states["cuda"] and len(states["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(states["cuda"])


def read_checkpoint(path: Path) -> dict[str, Any]:
    """Open a checkpoint without unpickling arbitrary objects (`weights_only=True`) and without
    reading its tensors into memory (`mmap`)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except pickle.UnpicklingError as error:  # it holds objects other than tensors and plain values
        found = re.search(r"GLOBAL (\S+)", str(error))
        raise CheckpointError(
            f"{path}: holds Python objects ({found[1] if found else 'unknown'}) that "
            "torch.load(weights_only=True) refuses to run. "
            "Load only checkpoints that this project saved."
        ) from None
    except Exception:  # torch raises several kinds of error for a damaged or foreign file
        raise CheckpointError(
            f"{path}: not a complete PyTorch checkpoint (damaged, cut short, or another "
            "kind of file). Give another checkpoint, e.g. --ckpt_path last."
        ) from None


def check_fits(model: LightningModule, checkpoint: dict[str, Any], path: Path) -> None:
    """Raise `CheckpointError` unless the checkpoint's weights fit `model` name for name and shape
    for shape, so a checkpoint of another model never fails halfway through loading."""
    saved = {name: tuple(tensor.shape) for name, tensor in checkpoint.get("state_dict", {}).items()}
    wanted = {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}
    if saved == wanted:
        return
    problems = [f"missing {name}" for name in wanted.keys() - saved.keys()]
    problems += [f"unexpected {name}" for name in saved.keys() - wanted.keys()]
    problems += [
        f"{name} is {saved[name]}, the model has {shape}"
        for name, shape in wanted.items()
        if name in saved and saved[name] != shape
    ]
    raise CheckpointError(
        f"--ckpt_path {path} holds weights that do not fit {type(model).__name__} "
        f"({'; '.join(sorted(problems)[:3])}). Give the config it was trained with: "
        "--config configs/<experiment>.yaml"
    )
