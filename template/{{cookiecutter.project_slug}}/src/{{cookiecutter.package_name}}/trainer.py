"""The Trainer the command line builds: Lightning's, with one more command, `lr_find`, and
nothing in its steps that nobody asked for (`spare_every_step`)."""

import contextlib
from typing import Literal

import lightning.pytorch as pl
from lightning.pytorch.callbacks import RichProgressBar
from lightning.pytorch.profilers import PassThroughProfiler
from lightning.pytorch.tuner import Tuner
from lightning.pytorch.tuner.lr_finder import _LRFinder

from .callbacks import ProgressBar
from .lightning_internals import skip_unused_step_hooks


class Trainer(pl.Trainer):
    """Lightning's `Trainer`; `python train.py lr_find` calls `lr_find` (LightningCLI runs each
    subcommand as the Trainer method of that name, and reads its options from its signature)."""

    lr_finder: _LRFinder | None = None  # the last search, for its plot

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


def spare_every_step(trainer: pl.Trainer, keep_bar: bool = False) -> None:
    """Take out of every step what nobody asked for, changing nothing that is shown or saved:
    Lightning's default progress bar becomes one updated at the pace an eye can follow (unless
    `keep_bar`: the config lists a bar of its own), no profiler costs nothing (`NoProfiler`),
    and callbacks are not called for per-batch hooks they do not implement. (`make bench`
    counts what each saves; test_the_trainer_spares_each_step_what_nobody_asked_for)"""
    if not keep_bar:
        trainer.callbacks = [ProgressBar() if type(c) is RichProgressBar else c for c in trainer.callbacks]
    if type(trainer.profiler) is PassThroughProfiler:
        trainer.profiler = NoProfiler()
    for callback in trainer.callbacks:
        skip_unused_step_hooks(callback)


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
