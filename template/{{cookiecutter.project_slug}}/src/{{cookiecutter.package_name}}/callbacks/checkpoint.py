"""Checkpoints that a run can always resume from exactly, and the checks before one is used."""

import pickle
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import WandbLogger
from lightning.pytorch.utilities import rank_zero_info
from lightning.pytorch.utilities.exceptions import SIGTERMException

from ..errors import CheckpointError
from ..lightning_internals import saves_at_train_epoch_end, write_last_checkpoint


class Checkpoint(ModelCheckpoint):
    """Lightning's `ModelCheckpoint` (best and last), plus what a resumed run needs to carry on
    as if it had never stopped.

    - The random number generators' states, which Lightning does not save: after a resume,
      dropout draws the same masks as in a run that never stopped.
    - The W&B run id, so that a resumed `fit` (or a later `test`) continues the same W&B run.
    - On Ctrl-C or SIGTERM (a cluster's time limit) it saves the last checkpoint before the run
      ends, so `--ckpt_path last` carries on from there (the interrupted epoch starts again).

    - `last` after every validation, as Lightning did before 2.6 (2.6 writes it only when the
      best checkpoint changes).

    Lightning writes each checkpoint to a temporary file and then renames it: a crash during a
    save leaves the previous `last.ckpt` whole.
    """

    def on_save_checkpoint(self, trainer: Trainer, pl_module: LightningModule, checkpoint: dict) -> None:
        checkpoint["rng_states"] = rng_states()
        if isinstance(trainer.logger, WandbLogger) and trainer.logger.version:
            checkpoint["wandb_run_id"] = trainer.logger.version

    def on_load_checkpoint(self, trainer: Trainer, pl_module: LightningModule, checkpoint: dict) -> None:
        if "rng_states" in checkpoint:
            set_rng_states(checkpoint["rng_states"])

    # Lightning 2.6 writes `last` only at steps where it also writes a best checkpoint: a run
    # resumed from `last` would lose every epoch since the metric last improved. So after
    # Lightning's own save (at the end of the training epoch, or of validation when it runs
    # several times per epoch), `last` is written if it was not.
    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        if self.save_last and saves_at_train_epoch_end(self, trainer):
            write_last_checkpoint(self, trainer, unless_saved_at_this_step=True)

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        super().on_validation_end(trainer, pl_module)
        if self.save_last and not saves_at_train_epoch_end(self, trainer):
            write_last_checkpoint(self, trainer, unless_saved_at_this_step=True)

    def on_exception(self, trainer: Trainer, pl_module: LightningModule, exception: BaseException) -> None:
        # Only an interruption: after an error the weights may be broken, and the last good
        # checkpoint must stay as it is.
        if isinstance(exception, KeyboardInterrupt | SIGTERMException) and not trainer.sanity_checking:
            write_last_checkpoint(self, trainer)
            rank_zero_info(
                f"Interrupted at epoch {trainer.current_epoch}, step {trainer.global_step}: saved "
                f"{self.last_model_path}. Resume with the same command and --ckpt_path last"
            )


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
