"""The table of the network that `fit` prints first."""

from typing import Any

from lightning.pytorch.callbacks import RichModelSummary


class NetworkSummary(RichModelSummary):
    """Lightning's summary table, without the rows of the task's metric collections (they hold
    no parameters). The task gives Lightning an example input shaped like the data's, so the
    table shows each layer's input and output sizes and the network's real FLOPs."""

    @staticmethod
    def summarize(summary_data: list[tuple[str, list[str]]], *args: Any, **kwargs: Any) -> None:
        types = dict(summary_data)["Type"]
        keep = [i for i, kind in enumerate(types) if not kind.endswith("MetricCollection")]  # and subclasses
        rows = [(column, [values[i] for i in keep]) for column, values in summary_data]
        RichModelSummary.summarize(rows, *args, **kwargs)
