"""Back to plain PyTorch: the network of a trained checkpoint, without Lightning around it.

    litproject export runs/digits_cnn/<run>/checkpoints/best.ckpt                       # best.pt
    litproject export runs/digits_cnn/<run>/checkpoints/best.ckpt --format onnx         # best.onnx
    litproject export runs/digits_cnn/<run>/checkpoints/best.ckpt --format torchscript  # best.torchscript.pt

- `state_dict`: the weights, loaded as the tutorials do: `net = Net(...);
  net.load_state_dict(torch.load(path))`. Needs the network's code.
- `onnx`: network and weights for ONNX Runtime and other ONNX tools, which need neither PyTorch
  nor this code. Needs the `export` extra (`pip install -e ".[export]"` in the project).
- `torchscript`: network and weights for `torch.jit.load`. PyTorch has deprecated TorchScript
  (`torch.jit` warns so): prefer ONNX.
"""

import importlib.util
import os
import pkgutil
import warnings
from pathlib import Path
from typing import Literal

import torch
from jsonargparse import CLI
from torch import nn

from .checkpoint_files import read_checkpoint
from .errors import CheckpointError

Format = Literal["state_dict", "onnx", "torchscript"]
SUFFIXES = {"state_dict": ".pt", "onnx": ".onnx", "torchscript": ".torchscript.pt"}


def export(
    checkpoint: Path, format: Format = "state_dict", output: Path | None = None, overwrite: bool = False
) -> Path:
    """Write the network of a checkpoint as a state_dict, an ONNX model or a TorchScript module.

    Args:
        checkpoint: a checkpoint of `python train.py fit`, e.g. runs/digits_cnn/<run>/checkpoints/best.ckpt.
        format: state_dict (weights, for `net.load_state_dict`), onnx, or torchscript.
        output: the file to write; by default beside the checkpoint, named after it.
        overwrite: replace `output` if it exists.
    """
    checkpoint = Path(checkpoint)
    output = Path(output) if output else checkpoint.with_name(checkpoint.stem + SUFFIXES[format])
    if output.exists() and not overwrite:
        raise CheckpointError(f"{output} exists; pass --overwrite=true to replace it, or choose --output.")
    if format == "onnx":
        for package in ("onnx", "onnxscript"):  # torch.onnx.export needs both; PyTorch installs neither
            if importlib.util.find_spec(package) is None:
                raise CheckpointError(f'--format onnx needs {package}: pip install -e ".[export]"')
    if not checkpoint.is_file():
        raise CheckpointError(f"{checkpoint}: no such file. Export a checkpoint of `python train.py fit`.")
    content = read_checkpoint(checkpoint)
    net = load_net(checkpoint, content)
    # Written to a hidden file, then renamed: an interrupted export never leaves half a file.
    partial = output.with_name(f".{output.name}.partial")
    output.parent.mkdir(parents=True, exist_ok=True)
    if format == "state_dict":
        torch.save(net.state_dict(), partial)
    else:
        example = torch.zeros(2, *input_shape(content))  # two: a batch of one could be taken as fixed
        (write_onnx if format == "onnx" else write_torchscript)(net, example, partial)
    os.replace(partial, output)
    print(f"Wrote {output}; load it with: {load_line(format, output, content['hyper_parameters'])}")
    return output


def load_net(checkpoint: Path, content: dict) -> nn.Module:
    """The trained network, on the CPU, in evaluation mode."""
    class_path = (content.get("hyper_parameters") or {}).get("_class_path")
    if not class_path:
        raise CheckpointError(f"{checkpoint} does not say which task it holds: export one of train.py.")
    try:
        with warnings.catch_warnings():
            # Lightning's hint that `net` is saved twice is about training code, not loading.
            warnings.filterwarnings("ignore", message=r".*is an instance of `nn\.Module`")
            # The task's own class: the base class would pass on only its own arguments.
            task_class = pkgutil.resolve_name(class_path)
            task = task_class.load_from_checkpoint(checkpoint, map_location="cpu", weights_only=True)
    except Exception as error:  # the code no longer builds what the checkpoint describes
        raise CheckpointError(
            f"cannot rebuild the network of {checkpoint} ({type(error).__name__}: {error}). Has the code "
            "of its network or task changed since it was trained?"
        ) from None
    return task.net.eval()


def input_shape(content: dict) -> tuple[int, ...]:
    """The shape of one input, from the datamodule the checkpoint recorded (it loads no data)."""
    config = dict(content.get("datamodule_hyper_parameters") or {})
    data_class = pkgutil.resolve_name(config.pop("_class_path"))
    return tuple(data_class(**{k: v for k, v in config.items() if not k.startswith("_")}).input_shape)


def write_onnx(net: nn.Module, example: torch.Tensor, path: Path) -> None:
    """ONNX through PyTorch's torch.export-based exporter, the default since PyTorch 2.9 (the older
    TorchScript-based one is deprecated). The batch dimension stays free: any batch size runs."""
    program = torch.onnx.export(
        net,
        (example,),
        dynamo=True,
        input_names=["input"],
        output_names=["output"],
        dynamic_shapes=({0: torch.export.Dim("batch")},),
        verbose=False,  # else it prints each of its steps
    )
    program.save(path)  # one file, weights inside (up to ONNX's 2 GB limit)


def write_torchscript(net: nn.Module, example: torch.Tensor, path: Path) -> None:
    """TorchScript by tracing: it records the operations of one forward pass, which takes any
    network of plain tensor code, as the tutorials' are (`torch.jit.script` refuses much Python)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning, message=r"`torch\.jit\.")
        with torch.no_grad():
            torch.jit.save(torch.jit.trace(net, example), str(path))


def load_line(format: Format, path: Path, hparams: dict) -> str:
    """The Python line that loads what was written."""
    if format == "onnx":
        return (
            f"import onnxruntime; session = onnxruntime.InferenceSession({str(path)!r}); "
            "outputs = session.run(None, dict(input=x))  # x: a float32 numpy batch"
        )
    if format == "torchscript":
        return f"import torch; net = torch.jit.load({str(path)!r})"
    module, _, name = hparams["net"]["class_path"].rpartition(".")
    args = ", ".join(f"{key}={value!r}" for key, value in hparams["net"].get("init_args", {}).items())
    build = f"from {module} import {name}; net = {name}({args})"
    return f"import torch; {build}; net.load_state_dict(torch.load({str(path)!r}))"


def main(args: list[str] | None = None) -> int:
    """`litproject export`: options and --help from `export`'s signature and docstring (jsonargparse)."""
    CLI(export, args=args, prog="litproject export")
    return 0
