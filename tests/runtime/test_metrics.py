"""`BatchedMetricCollection`: torchmetrics' metrics updated ten batches at a time give the values
of an update per batch."""

import torch
from torchmetrics import MeanAbsoluteError, MeanSquaredError, MetricCollection
from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score

from litproject.metrics import BatchedMetricCollection


def test_the_values_are_those_of_an_update_per_batch_whatever_the_count_of_batches():
    generator = torch.Generator().manual_seed(0)
    for make, batches in (
        (
            lambda: {"acc": MulticlassAccuracy(num_classes=5), "f1": MulticlassF1Score(num_classes=5)},
            "labels",
        ),
        (lambda: {"mse": MeanSquaredError(), "mae": MeanAbsoluteError()}, "numbers"),
    ):
        plain, batched = (
            MetricCollection(make(), prefix="val/"),
            BatchedMetricCollection(make(), prefix="val/"),
        )
        for epoch in range(2):  # the second after a reset, as at each epoch's end
            for _ in range(23 + epoch):  # not a multiple of ten: the rest is updated by compute
                outputs = torch.randn(8, 5, generator=generator)
                if batches == "labels":
                    targets = torch.randint(0, 5, (8,), generator=generator)
                else:
                    outputs, targets = outputs[:, :2].contiguous(), torch.randn(8, 2, generator=generator)
                plain.update(outputs, targets)
                batched.update(outputs, targets)
            expected, found = plain.compute(), batched.compute()
            assert found.keys() == expected.keys()
            for name, value in expected.items():
                torch.testing.assert_close(found[name], value)
            plain.reset()
            batched.reset()
    clone = batched.clone(prefix="test/")
    assert clone.gathered == [] and set(clone.keys()) == {"test/mse", "test/mae"}
