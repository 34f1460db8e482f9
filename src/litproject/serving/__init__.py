"""`python train.py serve`: a checkpoint's model behind an HTTP endpoint, on LitServe.

Requests become the network's inputs through the datamodule's own `preprocess` (and, for image
files, its `read_image`), with the statistics that training computed and the checkpoint kept,
so what is served cannot drift from what was trained (`requests.py`). Requests from concurrent
clients are batched by LitServe (`server.py`). The `serve` extra installs LitServe.
"""

from pathlib import Path
from typing import Any

from ..checkpoint_files import read_checkpoint
from ..contract import ServableData
from ..errors import CheckpointError, UserError
from ..runs import shown
from .model import check_servable
from .requests import RequestError, decode_file, decode_json, encode_outputs

__all__ = ["RequestError", "decode_file", "decode_json", "encode_outputs", "serve"]


def serve(model: Any, datamodule: Any, ckpt_path: str | None, **options: Any) -> None:
    """Load the checkpoint's weights into the task and its statistics into the datamodule, then
    serve them (`server.run`) until SIGTERM or Ctrl-C."""
    if not isinstance(datamodule, ServableData):
        raise UserError(
            f"{type(datamodule).__name__} cannot be served: give it `sample_shape` and `preprocess` "
            "(the project's datamodules have them; see docs/runtime.md, Serving)."
        )
    try:
        from .server import check_options, run
    except ModuleNotFoundError as error:
        raise UserError(
            f"serving needs LitServe ({error.name} is not installed): "
            "pip install -e '.[serve]' in the project's folder."
        ) from None
    if not ckpt_path:  # the command line asks for one before this
        raise CheckpointError("serve needs a checkpoint: --ckpt_path best (or last, or a .ckpt file).")
    names = ("host", "port", "accelerator", "devices", "batch_timeout", "timeout")
    check_options(**{name: options[name] for name in names})
    checkpoint = read_checkpoint(Path(ckpt_path))
    model.on_load_checkpoint(checkpoint)
    model.load_state_dict(checkpoint["state_dict"])
    state = checkpoint.get(type(datamodule).__qualname__)  # where Lightning saves a datamodule's state
    if state:
        datamodule.load_state_dict(state)
    check_servable(model, datamodule, ckpt_path)
    url = f"http://{options['host']}:{options['port']}"
    print(
        f"Serving {shown(ckpt_path)} ({type(model).__name__} on {type(datamodule).__name__}): "
        f"POST {url}/predict, GET {url}/health. Ctrl-C or SIGTERM stops it.",
        flush=True,
    )
    run(model, datamodule, **options)
