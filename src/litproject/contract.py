"""The contract between a project's data and its model, and the checks that hold them to it.

A datamodule tells the model about its data before loading any of it, from its constructor
arguments alone:

- `input_shape`: the shape of one input, without the batch dimension, e.g. `(1, 28, 28)`;
- `num_classes` when its targets are class labels (`ClassificationData`), or `target_shape`
  when they are numbers (`RegressionData`), e.g. `(2,)`.

From these the command line fills every constructor argument of the task and of its network
that bears one of the names of `sizes()` (`num_classes`, `in_channels`, `in_features`,
`out_features`), so one network trains on several datasets. A task that takes `num_classes`
trains on class labels; one that does not, on numbers.

A task says how a batch splits into the network's inputs and the targets (`Task.unpack`).
Before anything trains, the task's network runs on two samples of a real batch of the data:
integer token ids, dicts, images and vectors alike. A network that cannot take the inputs, or
whose outputs do not fit the targets, is refused in one line; the same samples give Lightning's
summary of the network its real sizes.
"""

import inspect
import math
from typing import Any, Protocol, runtime_checkable

import torch
from lightning.pytorch import Callback, LightningDataModule, LightningModule, Trainer
from lightning.pytorch.utilities.model_helpers import is_overridden

from .errors import UserError


@runtime_checkable
class ClassificationData(Protocol):
    """Data whose targets are class labels 0 .. num_classes - 1."""

    input_shape: tuple[int, ...]
    num_classes: int


@runtime_checkable
class RegressionData(Protocol):
    """Data whose targets are numbers, each target shaped `target_shape`."""

    input_shape: tuple[int, ...]
    target_shape: tuple[int, ...]


@runtime_checkable
class SampleData(Protocol):
    """Data whose splits ("train", "val", "test") can be read a sample at a time, each sample an
    `(input, target)` pair: what `litproject convert` writes as chunks."""

    def dataset(self, split: str) -> Any: ...


@runtime_checkable
class NamedSamples(Protocol):
    """Data whose samples have names (files): `predict` writes each one's name beside its row."""

    def sample_names(self, split: str) -> list[str] | None: ...


@runtime_checkable
class ServableData(Protocol):
    """Data that says how a raw sample becomes the network's input, so that `serve` can take
    samples as a user has them: `sample_shape` is one raw sample's shape (None: any size), and
    `preprocess` turns a batch of them into inputs, as training did. Optional attributes name
    things in the answers: `classes`, `target_names`, `feature_names`; `sample_dtype`
    (`torch.uint8` for pixel values 0..255) says what numbers a sample holds."""

    sample_shape: tuple[int | None, ...]

    def preprocess(self, samples: torch.Tensor) -> torch.Tensor: ...


@runtime_checkable
class ImageData(Protocol):
    """Data made of image files: `read_image` turns an opened image (Pillow's) into a raw sample,
    or raises `DataError` saying why it cannot (channels, size)."""

    def read_image(self, image: Any) -> torch.Tensor: ...


@runtime_checkable
class Task(Protocol):
    """A LightningModule that says how its batches split: `(inputs, targets) = task.unpack(batch)`,
    where `task(inputs)` gives the outputs its loss compares with the targets."""

    def unpack(self, batch: Any) -> tuple[Any, Any]: ...


class IncompatibleDataError(UserError):
    """A task and its network cannot train on the chosen data."""


def sizes(data: Any) -> dict[str, int]:
    """The sizes a network can take from `data`, by constructor argument name."""
    if not isinstance(data, ClassificationData | RegressionData):
        return {}
    shape = tuple(data.input_shape)
    found = {"in_features": math.prod(shape)}
    if len(shape) >= 2:  # images and other inputs with channels first
        found["in_channels"] = shape[0]
    if isinstance(data, ClassificationData):
        found.update(num_classes=data.num_classes, out_features=data.num_classes)
    else:
        found["out_features"] = math.prod(data.target_shape)
    return found


def takes_class_labels(task_class: type) -> bool:
    return "num_classes" in inspect.signature(task_class).parameters


def check_kind(task_class: type, data: Any) -> None:
    """Refuse a task for class labels on numeric targets, and the other way round."""
    task, name = task_class.__name__, type(data).__name__
    if takes_class_labels(task_class) and isinstance(data, RegressionData):
        raise IncompatibleDataError(
            f"{task} needs class labels, but {name} has numeric targets: "
            "use a task for numbers, e.g. --model=RegressionTask (or a config for that data)."
        )
    if not takes_class_labels(task_class) and isinstance(data, ClassificationData):
        raise IncompatibleDataError(
            f"{task} predicts numbers, but {name} has class labels: "
            "use a task that takes num_classes, e.g. --model=ClassificationTask (or a config for that data)."
        )


def first(inputs: Any, count: int) -> Any:
    """The first `count` samples of a batch's inputs: a tensor, or a dict, list or tuple of them."""
    if isinstance(inputs, torch.Tensor):
        return inputs[:count]
    if isinstance(inputs, dict):
        return {key: first(value, count) for key, value in inputs.items()}
    if isinstance(inputs, list | tuple):
        return type(inputs)(first(value, count) for value in inputs)
    return inputs


def shape_of(inputs: Any) -> str:
    if isinstance(inputs, torch.Tensor):
        return f"{tuple(inputs.shape)} {str(inputs.dtype).removeprefix('torch.')}"
    if isinstance(inputs, dict):
        return "{" + ", ".join(f"{key}: {shape_of(value)}" for key, value in inputs.items()) + "}"
    if isinstance(inputs, list | tuple):
        return "(" + ", ".join(shape_of(value) for value in inputs) + ")"
    return type(inputs).__name__


def check_outputs(task: LightningModule, data: LightningDataModule, inputs: Any, targets: Any = None) -> None:
    """Run the task on `inputs` (two samples) and refuse outputs that do not fit the data: for
    class labels a score per class in dimension 1 (as cross-entropy takes them; any further
    dimensions, a segmentation's pixels say, those of the `targets`), for numbers outputs shaped
    like a target."""
    net = getattr(task, "net", task)
    name = f"{type(net).__name__} (in {type(task).__name__})" if net is not task else type(task).__name__
    training = task.training
    try:
        with torch.no_grad():  # in evaluation mode: no batch-norm statistics, no dropout draws
            outputs = task.eval()(inputs)
    except (RuntimeError, TypeError, ValueError, IndexError) as error:
        reason = " ".join(str(error).split())
        raise IncompatibleDataError(
            f"{name} cannot take the inputs of {type(data).__name__}, {shape_of(inputs)}: {reason}. "
            "Choose a network for such inputs."
        ) from None
    finally:
        task.train(training)
    shape = tuple(outputs.shape[1:]) if isinstance(outputs, torch.Tensor) else None
    per_sample = tuple(targets.shape[1:]) if isinstance(targets, torch.Tensor) else shape[1:] if shape else ()
    if isinstance(data, ClassificationData) and shape != (data.num_classes, *per_sample):
        raise IncompatibleDataError(
            f"{type(net).__name__} gives outputs shaped {shape} but {type(data).__name__} has "
            f"{data.num_classes} classes: the network needs one output per class."
        )
    if isinstance(data, RegressionData) and shape != tuple(data.target_shape):
        raise IncompatibleDataError(
            f"{type(net).__name__} gives outputs shaped {shape} but {type(data).__name__} has "
            f"targets shaped {tuple(data.target_shape)}."
        )


LOADERS = {"fit": "val_dataloader", "validate": "val_dataloader", "test": "test_dataloader"}


class PairingCheck(Callback):
    """Before a run starts (once the data is set up, before anything is logged or trained): the
    task on two samples of a real batch of the stage's data, and the first of them as Lightning's
    example input (`example_input_array`) for the summary of the network. The command line adds it
    to every Trainer; a task that does not `unpack` its batches is left alone."""

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        data = trainer.datamodule
        if not isinstance(pl_module, Task) or data is None:
            return
        loader = LOADERS.get(stage, "predict_dataloader")
        if not is_overridden(loader, data, LightningDataModule):
            loader = "train_dataloader"
        batch = next(iter(getattr(data, loader)()), None)
        if batch is None:  # no data in that split
            return
        inputs, targets = pl_module.unpack(batch)
        check_outputs(pl_module, data, first(inputs, 2), first(targets, 2))
        # A tuple of one: Lightning calls forward(*example), so a dict stays one argument.
        pl_module.example_input_array = (first(inputs, 1),)
