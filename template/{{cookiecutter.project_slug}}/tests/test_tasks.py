from functools import partial

import pytest
import torch
from lightning.pytorch import LightningDataModule, Trainer, seed_everything
from litproject.contract import IncompatibleDataError, check_kind, check_outputs
from torch.utils.data import DataLoader

from {{ cookiecutter.package_name }}.data import (
    CropYieldsDataModule,
    DigitsDataModule,
    TeacherDataModule,
)
from {{ cookiecutter.package_name }}.models import (
    LinearRegression,
    MyNetwork,
    Net,
    TwoLayerNet,
)
from {{ cookiecutter.package_name }}.tasks import ClassificationTask, RegressionTask, Task


def overfit_one_batch(task: Task, dm: LightningDataModule, steps: int) -> tuple[float, float]:
    """Loss on the first training batch before and after `steps` optimizer steps on it alone."""
    seed_everything(0)
    dm.setup("fit")
    # overfit_batches=1 trains on the first batch of the unshuffled training split.
    x, y = next(iter(DataLoader(dm.splits["train"], batch_size=dm.batch_size)))
    with torch.no_grad():
        before = task.loss(task(x), y).item()
    trainer = Trainer(
        max_epochs=steps,
        overfit_batches=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(task, datamodule=dm)
    with torch.no_grad():
        return before, task.loss(task(x), y).item()


@pytest.mark.parametrize(
    ("make_task", "make_data", "steps"),
    [
        (lambda: ClassificationTask(Net()), lambda: DigitsDataModule(batch_size=32), 40),
        (
            lambda: RegressionTask(TwoLayerNet(), optimizer=partial(torch.optim.Adam, lr=1e-3)),
            lambda: TeacherDataModule(batch_size=64),
            60,
        ),
        (
            lambda: RegressionTask(MyNetwork(), optimizer=partial(torch.optim.Adam, lr=1e-2)),
            lambda: TeacherDataModule(in_features=20, out_features=40, batch_size=128),
            100,
        ),
        (
            lambda: RegressionTask(LinearRegression(), optimizer=partial(torch.optim.SGD, lr=0.1)),
            lambda: CropYieldsDataModule(),
            100,
        ),
    ],
    ids=["classification-cnn", "regression-two-layer-net", "regression-my-network", "regression-linear"],
)
def test_task_overfits_one_batch(make_task, make_data, steps: int):
    """The whole training path works: loss, backward and optimizer step drive the loss down."""
    before, after = overfit_one_batch(make_task(), make_data(), steps)
    assert after <= 0.1 * before


def test_classification_predicts_classes_and_probabilities():
    out = ClassificationTask(Net()).predict_step((torch.randn(4, 1, 28, 28), torch.zeros(4)), 0)
    assert out["class"].shape == (4,) and out["class"].dtype == torch.long
    assert out["probabilities"].shape == (4, 10)
    torch.testing.assert_close(out["probabilities"].sum(dim=1), torch.ones(4))
    assert torch.equal(out["class"], out["probabilities"].argmax(dim=1))


def test_regression_predicts_values():
    task = RegressionTask(LinearRegression())
    x = torch.randn(5, 3)
    torch.testing.assert_close(task.predict_step((x, torch.zeros(5, 2)), 0)["prediction"], task.net(x))


def test_summed_loss_is_batch_times_mean_loss():
    outputs, targets = torch.randn(64, 10), torch.randn(64, 10)
    summed = RegressionTask(TwoLayerNet(), loss_reduction="sum").loss(outputs, targets)
    mean = RegressionTask(TwoLayerNet()).loss(outputs, targets)
    torch.testing.assert_close(summed, mean * 640)


def test_each_task_takes_its_kind_of_targets_and_refuses_the_other():
    """The tasks follow litproject's data contract: a task that takes num_classes is one for class labels."""
    check_kind(ClassificationTask, DigitsDataModule())
    check_kind(RegressionTask, CropYieldsDataModule())
    with pytest.raises(IncompatibleDataError, match="needs class labels, but CropYieldsDataModule"):
        check_kind(ClassificationTask, CropYieldsDataModule())
    with pytest.raises(IncompatibleDataError, match="RegressionTask predicts numbers, but DigitsDataModule"):
        check_kind(RegressionTask, DigitsDataModule())


@pytest.mark.parametrize(
    ("task", "data", "message"),
    [
        (RegressionTask(Net()), CropYieldsDataModule(), "Net (in RegressionTask) cannot take the inputs of"),
        (
            ClassificationTask(Net(num_classes=5)),
            DigitsDataModule(),
            "outputs shaped (5,) but DigitsDataModule",
        ),
    ],
)
def test_a_network_that_does_not_fit_the_data_is_named(task: Task, data: LightningDataModule, message: str):
    data.setup("fit")
    inputs, _ = task.unpack(next(iter(data.val_dataloader())))
    with pytest.raises(IncompatibleDataError) as error:
        check_outputs(task, data, inputs[:2])
    assert message in str(error.value)
