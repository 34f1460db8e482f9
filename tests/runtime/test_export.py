"""`litproject export ...`: a trained network as a state_dict, ONNX or TorchScript, giving the same
outputs; a bad path or file ends in one `error:` line."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from lightning_project.data import DigitsDataModule
from lightning_project.models import Net
from lightning_project.tasks import ClassificationTask

pytestmark = [
    # Lightning's hint when a task is rebuilt with its network; TorchScript's own deprecation.
    pytest.mark.filterwarnings("ignore:Attribute 'net' is an instance of `nn.Module`"),
    pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning"),
]


@pytest.fixture
def export(litproject_command):
    """Run `litproject export <args>` in this process; give back its exit status and output."""

    def run(*args: str) -> tuple[int, str]:
        status, out, err = litproject_command("export", *args)
        return status, out + err

    return run


@pytest.mark.parametrize(
    "format", ["state_dict", pytest.param("onnx", marks=pytest.mark.slow), "torchscript"]
)
def test_exported_network_gives_the_trained_networks_outputs(trained: Path, export, format: str):
    checkpoint = trained / "checkpoints" / "best.ckpt"
    if format == "onnx":
        pytest.importorskip("onnxscript", reason='ONNX export needs pip install -e ".[export]"')
        pytest.importorskip("onnxruntime", reason='running ONNX needs pip install -e ".[export]"')
    data = DigitsDataModule()
    data.setup()
    images = data.splits["test"].tensors[0][:16]  # a batch size other than the one traced
    net = ClassificationTask.load_from_checkpoint(checkpoint, map_location="cpu", weights_only=True).net
    with torch.no_grad():
        expected = net.eval()(images)

    status, output = export(str(checkpoint), f"--format={format}")
    assert status == 0, output
    # The printed line is what a user copies: run it.
    loaded = {"x": images.numpy()}
    (line,) = [line for line in output.splitlines() if "load it with: " in line]
    exec(line.split("load it with: ", 1)[1], loaded)

    if format == "state_dict":
        # As the tutorials load weights: into a fresh network, with no trace of Lightning.
        assert (checkpoint.parent / "best.pt").is_file()
        net = Net(in_channels=1, num_classes=10)
        net.load_state_dict(torch.load(checkpoint.parent / "best.pt"))
        net.eval()
        with torch.no_grad():
            assert torch.equal(net(images), expected)
            assert torch.equal(loaded["net"].eval()(images), expected)
    elif format == "onnx":
        (outputs,) = loaded["outputs"]
        assert outputs.shape == (16, 10)
        torch.testing.assert_close(torch.from_numpy(np.asarray(outputs)), expected)
    else:
        net = torch.jit.load(checkpoint.parent / "best.torchscript.pt")
        with torch.no_grad():
            torch.testing.assert_close(net(images), expected)
            torch.testing.assert_close(loaded["net"](images), expected)


def test_existing_output_is_kept_without_overwrite(trained: Path, export):
    checkpoint = trained / "checkpoints" / "best.ckpt"
    exported = checkpoint.parent / "best.pt"
    exported.write_bytes(b"an earlier export")

    status, output = export(str(checkpoint))
    assert status == 2
    assert f"error: {exported} exists; pass --overwrite=true" in output
    assert "Traceback" not in output
    assert exported.read_bytes() == b"an earlier export"

    status, output = export(str(checkpoint), "--overwrite=true")
    assert status == 0, output
    Net(in_channels=1, num_classes=10).load_state_dict(torch.load(exported))
    assert [path.name for path in exported.parent.iterdir() if path.name.startswith(".")] == []


def test_missing_checkpoint_is_one_clear_error(export):
    status, output = export("runs/nothing/best.ckpt")
    assert status == 2
    assert output.startswith("error: runs/nothing/best.ckpt: no such file")
    assert "Traceback" not in output


def test_corrupt_checkpoint_is_one_clear_error(export, workdir: Path):
    broken = workdir / "broken.ckpt"
    broken.write_bytes(np.random.default_rng(0).bytes(4096))
    status, output = export(str(broken), "--format=torchscript")
    assert status == 2
    assert output.startswith(f"error: {broken}: not a complete PyTorch checkpoint")
    assert "Traceback" not in output
    assert not (workdir / "broken.torchscript.pt").exists()


def test_onnx_without_its_packages_names_the_extra(export, workdir: Path, monkeypatch):
    (workdir / "any.ckpt").write_bytes(b"")  # the packages are checked before the file is read
    monkeypatch.setitem(sys.modules, "onnxscript", None)  # as if not installed: importing it fails
    status, output = export("any.ckpt", "--format=onnx")
    assert status == 2
    assert "onnxscript" in output and 'pip install -e ".[export]"' in output
    assert "Traceback" not in output
