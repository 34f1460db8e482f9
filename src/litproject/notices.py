"""What a run prints: upstream notices that no user of this project can act on are left out,
each by its message and the module that sends it (never a blanket filter), so that every other
warning still shows. Each one was seen with lightning 2.6 and wandb 0.31.
"""

import logging
import warnings


class _DropLightningTips(logging.Filter):
    """Lightning's advertisements for its cloud products ("💡 Tip: ... litlogger", "... litmodels"),
    and its note that it will not add a second model summary (configs/trainer.yaml has one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        return not message.startswith(("💡 Tip:", "Trainer already configured with model summary callbacks"))


def leave_out_upstream_notices() -> None:
    """Install the filters; calling it again changes nothing."""
    rank_zero = logging.getLogger("lightning.pytorch.utilities.rank_zero")  # Lightning's rank_zero_info
    if not any(isinstance(f, _DropLightningTips) for f in rank_zero.filters):
        rank_zero.addFilter(_DropLightningTips())
    # configs/debug/overfit.yaml asks for it; Lightning turns shuffling off by itself.
    warnings.filterwarnings(
        "ignore",
        "You requested to overfit but enabled train dataloader shuffling",
        module=r"lightning\.pytorch",
    )
    # StreamingDataModule's LitData datasets give each worker process its own samples, which is
    # what this warning asks a dataset with a length to do.
    warnings.filterwarnings(
        "ignore", "Your `IterableDataset` has `__len__` defined", module=r"lightning\.pytorch"
    )
    # Lightning's own code calls an API that PyTorch deprecated; nothing in this project does.
    warnings.filterwarnings(
        "ignore",
        r"`isinstance\(treespec, LeafSpec\)` is deprecated",
        module=r"lightning\.pytorch\.utilities\._pytree",
    )
