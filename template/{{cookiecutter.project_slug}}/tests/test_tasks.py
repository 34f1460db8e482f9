import torch
import torch.nn.functional as F
from lightning.pytorch import Trainer, seed_everything
from torch.utils.data import DataLoader

from {{ cookiecutter.package_name }}.data import DigitsDataModule
from {{ cookiecutter.package_name }}.models import Net
from {{ cookiecutter.package_name }}.tasks import ClassificationTask


def test_classification_task_overfits_one_batch():
    """The whole training path works: loss, backward and optimizer step drive the loss down."""
    seed_everything(0)
    dm = DigitsDataModule(batch_size=32)
    task = ClassificationTask(Net())
    dm.setup("fit")
    # overfit_batches=1 trains on the first batch of the unshuffled training split.
    x, y = next(iter(DataLoader(dm.splits["train"], batch_size=32)))
    first_loss = F.cross_entropy(task(x), y).item()

    trainer = Trainer(
        max_epochs=40,
        overfit_batches=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(task, datamodule=dm)
    final_loss = F.cross_entropy(task(x), y).item()
    assert final_loss <= 0.1 * first_loss


def test_predict_step_returns_classes_and_probabilities():
    task = ClassificationTask(Net())
    out = task.predict_step((torch.randn(4, 1, 28, 28), torch.zeros(4, dtype=torch.long)), 0)
    assert out["class"].shape == (4,) and out["class"].dtype == torch.long
    assert out["probabilities"].shape == (4, 10)
    torch.testing.assert_close(out["probabilities"].sum(dim=1), torch.ones(4))
    assert torch.equal(out["class"], out["probabilities"].argmax(dim=1))
