"""The contract between data and model (litproject.contract): sizes from the data, and the network
tried on a real batch before training, so that any inputs a network takes train through
`python train.py`: integer token ids, and batches that are dicts."""

import re

import torch
from lightning.pytorch import LightningDataModule
from lightning_project.tasks import ClassificationTask
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

from litproject.history import read_rows


class TokenData(LightningDataModule):
    """Sequences of 12 token ids from a vocabulary of 50, labelled 1 when token 7 is in them.

    As (ids, label) pairs, or with `dicts` as {"ids": ..., "label": ...}, the form text datasets
    often take."""

    def __init__(self, batch_size: int = 32, dicts: bool = False) -> None:
        super().__init__()
        self.batch_size, self.dicts = batch_size, dicts
        self.input_shape = (12,)  # the contract: one input's shape, and the number of classes
        self.num_classes = 2

    def setup(self, stage: str) -> None:
        generator = torch.Generator().manual_seed(0)
        ids = torch.randint(0, 50, (768, 12), generator=generator)
        ids[::2, 0] = 7  # half the sequences hold token 7 for sure
        labels = (ids == 7).any(dim=1).long()
        self.splits = {"train": (ids[:512], labels[:512]), "val": (ids[512:], labels[512:])}

    def loader(self, split: str, shuffle: bool = False) -> DataLoader:
        ids, labels = self.splits[split]
        data = DictPairs(ids, labels) if self.dicts else TensorDataset(ids, labels)
        return DataLoader(data, batch_size=self.batch_size, shuffle=shuffle)

    def train_dataloader(self) -> DataLoader:
        return self.loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self.loader("val")


class DictPairs(Dataset):
    def __init__(self, ids: torch.Tensor, labels: torch.Tensor) -> None:
        self.ids, self.labels = ids, labels

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {"ids": self.ids[index], "label": self.labels[index]}


class BagOfEmbeddings(nn.Module):
    """Each token's embedding, averaged over the sequence, then a linear classifier."""

    def __init__(self, vocab_size: int = 50, dim: int = 16, num_classes: int = 2) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim)
        self.classify = nn.Linear(dim, num_classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.classify(self.embedding(ids).mean(dim=1))


class DictTask(ClassificationTask):
    """The project's classification task, for batches that are dicts: its one extension point."""

    def unpack(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        return batch["ids"], batch["label"]


TRAIN = ["--trainer.max_epochs=8", "--trainer.enable_progress_bar=false", "--trainer.logger=false"]
TOKENS = [f"--data={__name__}.TokenData", f"--model.net={__name__}.BagOfEmbeddings"]


def test_a_network_of_token_ids_trains_and_is_summarised_from_a_real_batch(train, run_folder, capsys):
    train("fit", "--experiment=tokens", *TOKENS, *TRAIN, "--model.optimizer.lr=0.05")
    out = capsys.readouterr().out
    summary = next(line for line in out.splitlines() if "BagOfEmbeddings" in line)
    assert re.search(r"\[1, 12\]\s*│\s*\[1, 2\]", summary), summary  # in and out sizes of one real input
    epochs = read_rows(run_folder("tokens") / "metrics.csv")
    assert max(row["val/acc"] for row in epochs) >= 0.9


def test_batches_that_are_dicts_train_through_the_tasks_unpack(train, run_folder):
    dicts = [f"--model={__name__}.DictTask", f"--model.net={__name__}.BagOfEmbeddings"]
    train("fit", "--experiment=dicts", f"--data={__name__}.TokenData", "--data.dicts=true", *dicts, *TRAIN)
    assert len(read_rows(run_folder("dicts") / "metrics.csv")) == 8


def test_a_network_that_cannot_take_the_real_inputs_is_one_line_before_a_run_starts(refused, workdir):
    """The CNN on token ids: refused with the inputs' shape and type, before any file is kept."""
    # By its full path: Lightning's demo classes, which another test imports, have a `Net` too.
    net = "--model.net=lightning_project.models.Net"
    err = refused("fit", "--experiment=tokens", f"--data={__name__}.TokenData", net)
    assert "error: Net (in ClassificationTask) cannot take the inputs of TokenData, (2, 12) int64:" in err
    assert "Choose a network for such inputs." in err
    assert not (workdir / "runs").exists() and not (workdir / "wandb").exists()
