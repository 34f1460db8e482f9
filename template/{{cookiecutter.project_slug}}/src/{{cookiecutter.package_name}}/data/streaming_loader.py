"""LitData's loader with one fix for Lightning's mid-epoch resume (imported only when streaming)."""

from collections.abc import Iterator

from litdata import StreamingDataLoader


class ResumableLoader(StreamingDataLoader):
    """LitData's loader, whose position Lightning saves in checkpoints (`state_dict`) and restores.

    After a restore, LitData serves the rest of the interrupted epoch, but keeps its `restore`
    flag until an epoch is read to its very end, which Lightning never does (it stops after the
    epoch's last batch): the next epoch would replay the resumed one. So the flag is cleared
    when the epoch after the resumed one begins (LitData 0.2.76).
    """

    def __iter__(self) -> Iterator:
        if getattr(self, "_served_restored_epoch", False):
            self.restore = False
        self._served_restored_epoch = self.restore
        return super().__iter__()
