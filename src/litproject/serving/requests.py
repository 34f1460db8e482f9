"""What a request holds, checked and turned into raw samples, and the model's outputs as JSON.

A request is either JSON, `{"inputs": [sample, ...]}`, each sample a (nested) list of numbers in
the data's own units (`sample_shape`, e.g. a row of a table's features, or an image's pixel
values), or an image file uploaded as the multipart field `file`. Every refusal names what is
wrong and what is expected, with an HTTP status of 4xx; nothing here raises anything else for a
client's mistake.
"""

import json
from typing import Any

import torch

from ..contract import ClassificationData, ImageData
from ..data.images import open_image
from ..errors import DataError


class RequestError(Exception):
    """A client's mistake: answered with `status` and `{"error": message}`."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def sample_dtype(data: Any) -> torch.dtype:
    """What numbers a raw sample holds: `torch.uint8` for pixel values 0..255, else float32."""
    return getattr(data, "sample_dtype", torch.float32)


def expected_sample(data: Any) -> str:
    """A sample as the data takes it, in words: `3 numbers (temperature, rainfall, humidity)`."""
    shape = tuple(data.sample_shape)
    sizes = " x ".join("N" if size is None else str(size) for size in shape)
    whole = sample_dtype(data) == torch.uint8
    what = f"{sizes} {'whole numbers from 0 to 255' if whole else 'numbers'}"
    if len(shape) > 1:
        what += " as nested lists"
    notes = [", ".join(getattr(data, "feature_names", None) or [])] + ["N: any size"] * (None in shape)
    notes = [note for note in notes if note]
    return f"{what} ({'; '.join(notes)})" if notes else what


def decode_json(body: Any, data: Any) -> torch.Tensor:
    """`{"inputs": [sample, ...]}` as one tensor of raw samples, or a `RequestError` that says why not."""
    usage = f'send {{"inputs": [sample, ...]}}, each sample {expected_sample(data)}'
    if not isinstance(body, dict) or "inputs" not in body:
        raise RequestError(f'the JSON has no "inputs": {usage}.', 422)
    inputs = body["inputs"]
    if not isinstance(inputs, list) or not inputs:
        given = "an empty list" if inputs == [] else type(inputs).__name__
        raise RequestError(f'"inputs" is {given}: {usage}.', 422)
    wanted = tuple(data.sample_shape)
    try:
        samples = torch.tensor(inputs, dtype=torch.float32)
    except (TypeError, ValueError, RuntimeError, OverflowError):
        samples = None
    shape = tuple(samples.shape[1:]) if samples is not None else None
    fits = shape is not None and len(shape) == len(wanted)
    if not fits or any(w not in (None, s) for w, s in zip(wanted, shape, strict=True)):
        found = (mistake(sample, wanted, f"inputs[{i}]") for i, sample in enumerate(inputs))
        reason = next((text for text in found if text), "the samples differ in size; send one size a request")
        raise RequestError(f"{reason}: {usage}.", 422)
    problem = ~torch.isfinite(samples)
    if sample_dtype(data) == torch.uint8:
        problem |= (samples != samples.round()) | (samples < 0) | (samples > 255)
    if problem.any():
        where = [int(i) for i in problem.nonzero()[0]]
        value = samples[tuple(where)].item()
        raise RequestError(f"inputs{''.join(f'[{i}]' for i in where)} is {value}: {usage}.", 422)
    return samples.to(sample_dtype(data))


def mistake(value: Any, shape: tuple[int | None, ...], where: str) -> str:
    """What is wrong with one sample, which should be `shape` numbers, as nested lists; "" if nothing."""
    if not shape:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{where} is {json.dumps(value)}, not a number"
        return ""
    if not isinstance(value, list):
        return f"{where} is {json.dumps(value)}, not a list"
    if shape[0] is not None and len(value) != shape[0]:
        return f"{where} has {len(value)} items, not {shape[0]}"
    if not value:
        return f"{where} is empty"
    found = (mistake(item, shape[1:], f"{where}[{i}]") for i, item in enumerate(value))
    return next((text for text in found if text), "")


def decode_file(content: bytes, data: Any) -> torch.Tensor:
    """An uploaded image file as a batch of one raw sample, read by the datamodule's `read_image`."""
    if not isinstance(data, ImageData):
        raise RequestError(
            f'{type(data).__name__} takes no files: send JSON, {{"inputs": [sample, ...]}}, '
            f"each sample {expected_sample(data)}.",
            415,
        )
    try:
        image = open_image(content, name="the file")
    except DataError as error:
        raise RequestError(f"{error} Send a PNG or JPEG image as the multipart field file.", 422) from None
    try:
        return data.read_image(image).unsqueeze(0)
    except DataError as error:
        raise RequestError(str(error), 422) from None


def encode_outputs(outputs: dict[str, torch.Tensor], data: Any) -> list[dict[str, Any]]:
    """The task's predictions, one JSON object per sample.

    For class labels: the `label` (the class's name where the data names its classes, else its
    number), its `class` number, and the `probabilities` by label. For numbers: each output under
    its target's name where the data names them. Any other output keeps its name, as numbers."""
    count = len(next(iter(outputs.values())))
    classes = names_of(data, "classes")
    targets = names_of(data, "target_names")
    results: list[dict[str, Any]] = [{} for _ in range(count)]
    for key, tensor in outputs.items():
        for result, value in zip(results, tensor.detach().cpu().tolist(), strict=True):
            if key == "class" and classes:
                result["label"], result["class"] = classes[value], value
            elif key == "probabilities" and classes:
                result["probabilities"] = dict(zip(classes, value, strict=True))
            elif key == "prediction" and targets and isinstance(value, list) and len(value) == len(targets):
                result["prediction"] = dict(zip(targets, value, strict=True))
            else:
                result[key] = value
    return results


def names_of(data: Any, attribute: str) -> list[str] | None:
    """The data's names of its classes (by default their numbers) or of its targets, if any."""
    names = getattr(data, attribute, None)
    if names:
        return [str(name) for name in names]
    if attribute == "classes" and isinstance(data, ClassificationData):
        return [str(number) for number in range(data.num_classes)]
    return None
