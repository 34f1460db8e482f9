"""The Trainer the command line builds: Lightning's, with two more commands, `lr_find` and
`serve`, and a profiler that costs nothing when none is asked for."""

import contextlib
from typing import Any, Literal

import lightning.pytorch as pl
from jsonargparse.typing import NonNegativeFloat, PositiveFloat, PositiveInt
from lightning.pytorch.profilers import PassThroughProfiler
from lightning.pytorch.tuner import Tuner


class Trainer(pl.Trainer):
    """Lightning's `Trainer`; `python train.py lr_find` calls `lr_find` (LightningCLI runs each
    subcommand as the Trainer method of that name, and reads its options from its signature)."""

    lr_finder: Any = None  # the last search (Lightning's finder), for its plot

    def lr_find(
        self,
        model: pl.LightningModule,
        datamodule: pl.LightningDataModule | None = None,
        min_lr: float = 1e-6,
        max_lr: float = 1.0,
        num_training: int = 100,
        mode: Literal["exponential", "linear"] = "exponential",
    ) -> float | None:
        """Search for a learning rate with Lightning's finder: `num_training` training steps with
        the rate rising from `min_lr` to `max_lr`; the suggestion is where the loss falls fastest.

        The finder sets the rate of the optimizer the config builds itself (and puts back the
        weights it had), so it works with any optimizer of the YAML and suggests the rate it
        measured; nothing is written into the model or the config.

        Args:
            model: the task to train (from the config).
            datamodule: its data (from the config).
            min_lr: the rate the search starts from.
            max_lr: the rate it stops at (or earlier, once the loss diverges).
            num_training: training steps of the search.
            mode: how the rate rises between them: exponential or linear.
        """
        self.lr_finder = Tuner(self).lr_find(
            model,
            datamodule=datamodule,
            min_lr=min_lr,
            max_lr=max_lr,
            num_training=num_training,
            mode=mode,
            update_attr=False,  # the rate is given back to the user, not set behind their back
        )
        return self.lr_finder.suggestion() if self.lr_finder else None

    def serve(
        self,
        model: pl.LightningModule,
        datamodule: pl.LightningDataModule | None = None,
        ckpt_path: str | None = None,
        port: int = 8000,
        host: str = "127.0.0.1",
        accelerator: Literal["auto", "cpu", "cuda", "mps"] = "auto",
        devices: PositiveInt | Literal["auto"] = "auto",
        workers_per_device: PositiveInt = 1,
        max_batch_size: PositiveInt = 16,
        batch_timeout: NonNegativeFloat = 0.005,
        max_request_mb: PositiveFloat = 16.0,
        timeout: PositiveFloat = 30.0,
    ) -> None:
        """Serve the checkpoint's model over HTTP with LitServe until SIGTERM or Ctrl-C:
        `POST /predict` takes JSON `{"inputs": [sample, ...]}` (samples as the data holds them,
        before preprocessing) or an image file as the multipart field `file`; `GET /health`.
        Requests are preprocessed by the datamodule, as in training. Needs the `serve` extra.

        Args:
            model: the task (from the config), given the checkpoint's weights.
            datamodule: its data (from the config), given the checkpoint's statistics.
            ckpt_path: the checkpoint: best, last, or a file.
            port: the port to listen on.
            host: 127.0.0.1 answers this machine only; 0.0.0.0 (or ::) every address.
            accelerator: where the model runs: auto (CUDA, else MPS, else CPU), cpu, cuda or mps.
            devices: how many devices, or auto (all).
            workers_per_device: model processes per device, each serving batches on its own.
            max_batch_size: at most this many requests share one forward pass (1: no batching).
            batch_timeout: seconds to wait for more requests to fill a batch.
            max_request_mb: requests larger than this are refused (413).
            timeout: seconds a request may wait for its answer before it is refused (504).
        """
        options = {
            name: value for name, value in locals().items() if name not in ("self", "model", "datamodule")
        }
        from .serving import serve

        serve(model, datamodule, **options)


class NoProfiler(PassThroughProfiler):
    """What the command line gives the Trainer when no profiler is asked for (Lightning's own
    stand-in, `PassThroughProfiler`, otherwise).

    Lightning wraps each of the dozens of hook calls of a training step in
    `trainer.profiler.profile(name)`, a generator-based context manager of about ten Python calls
    even when it measures nothing. This one hands back one shared empty context: the same
    nothing, for a third of the calls. A profiler asked for (`--trainer.profiler=simple`) is
    used as it is.
    """

    _nothing = contextlib.nullcontext()

    def profile(self, action_name: str) -> contextlib.nullcontext:
        return self._nothing
