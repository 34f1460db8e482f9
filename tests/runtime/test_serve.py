"""`python train.py serve`: a real LitServe server on a free port, asked by a real HTTP client.

The quick tests check requests and refusals in this process (what a worker does with a request,
and the flags refused before any server starts); the slow ones start the server as a user does,
in its own process, and stop it with SIGTERM or Ctrl-C."""

import asyncio
import csv
import io
import json
import os
import runpy
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch
from lightning.pytorch import LightningDataModule
from lightning_project.data import CropYieldsDataModule, DigitsDataModule
from lightning_project.data.base import split_indices
from lightning_project.data.crop_yields import read_table
from PIL import Image
from sklearn.datasets import load_digits

from litproject.errors import UserError
from litproject.serving import RequestError, decode_file, decode_json, encode_outputs, serve
from litproject.serving.server import CheckedBody

from .conftest import PROJECT, QUICK_FIT

CROP_YIELDS = PROJECT / "src" / "lightning_project" / "data" / "crop_yields.csv"


def digits_test_split() -> tuple[np.ndarray, np.ndarray]:
    """The default experiment's test digits as scikit-learn holds them (8 x 8, values 0..16)."""
    digits = load_digits()
    test = split_indices(len(digits.target), 0.15, 0.15, DigitsDataModule().generator())["test"]
    return digits.images[test.numpy()], digits.target[test.numpy()]


def png(pixels: np.ndarray, mode: str = "L") -> bytes:
    file = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).convert(mode).save(file, "PNG")
    return file.getvalue()


# In this process: requests as a worker decodes them ------------------------------------------


SAMPLE = 'send {"inputs": [sample, ...]}, each sample 8 x 8 numbers as nested lists.'
ROW, X = [1.0] * 8, [[1.0] * 8] * 7  # a row of a digit, and a digit but for its last row


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"samples": []}, 'the JSON has no "inputs"'),
        ([1, 2], 'the JSON has no "inputs"'),
        ({"inputs": []}, '"inputs" is an empty list'),
        ({"inputs": 3}, '"inputs" is int'),
        ({"inputs": [X]}, "inputs[0] has 7 items, not 8"),
        ({"inputs": [[1.0] * 64]}, "inputs[0] has 64 items, not 8"),
        ({"inputs": [[*X, ROW], X]}, "inputs[1] has 7 items, not 8"),
        ({"inputs": [[*X, ROW], [*X, [1.0] * 9]]}, "inputs[1][7] has 9 items, not 8"),
        ({"inputs": [[*X, [*ROW[:7], "x"]]]}, 'inputs[0][7][7] is "x", not a number'),
        ({"inputs": [[*X, [*ROW[:7], None]]]}, "inputs[0][7][7] is null, not a number"),
        ({"inputs": [[*X, 1.0]]}, "inputs[0][7] is 1.0, not a list"),
        ({"inputs": [[*X, [*ROW[:7], float("nan")]]]}, "inputs[0][7][7] is nan"),
        ({"inputs": [[*X, [*ROW[:7], float("inf")]]]}, "inputs[0][7][7] is inf"),
    ],
)
def test_a_bad_json_request_says_what_is_wrong_and_what_a_sample_is(body, reason: str):
    with pytest.raises(RequestError) as error:
        decode_json(body, DigitsDataModule())
    assert error.value.status == 422
    assert str(error.value) == f"{reason}: {SAMPLE}"


def test_a_json_request_is_its_samples_as_the_data_holds_them():
    samples, _ = digits_test_split()
    decoded = decode_json({"inputs": samples[:3].tolist()}, DigitsDataModule())
    assert decoded.dtype == torch.float32 and torch.equal(decoded, torch.from_numpy(samples[:3]).float())
    rows = decode_json({"inputs": [[20.5, 70, 40]]}, CropYieldsDataModule())
    assert rows.tolist() == [[20.5, 70.0, 40.0]]
    row = r"3 numbers \(temperature, rainfall, humidity\)\.$"
    with pytest.raises(RequestError, match=rf"inputs\[0\] has 2 items, not 3: .* {row}"):
        decode_json({"inputs": [[20.5, 70]]}, CropYieldsDataModule())


def test_pixel_values_must_be_whole_numbers_from_0_to_255_where_the_data_holds_bytes(image_folder: Path):
    from lightning_project.data import ImageFolderDataModule

    data = ImageFolderDataModule(str(image_folder), image_size=12)
    sample = [[[0, 255, 7]] * 5]  # 1 channel, any size: resized as training resized
    assert decode_json({"inputs": [sample]}, data).dtype == torch.uint8
    for bad, shown in ((256, "256.0"), (-1, "-1.0"), (0.5, "0.5")):
        with pytest.raises(
            RequestError, match=rf"inputs\[0\]\[0\]\[0\]\[0\] is {shown}: .*whole numbers from 0 to 255"
        ):
            decode_json({"inputs": [[[[bad, 1, 2]]]]}, data)
    expected = r"1 x N x N whole numbers from 0 to 255 as nested lists \(N: any size\)"
    with pytest.raises(RequestError, match=rf"has 3 items, not 1: .* {expected}"):
        decode_json({"inputs": [[[[1, 2, 3]]] * 3]}, data)


def test_an_uploaded_file_must_be_an_image_of_the_data_s_channels():
    data = DigitsDataModule()
    samples, _ = digits_test_split()
    image = png(samples[0] * 255 / 16)
    decoded = decode_file(image, data)
    assert decoded.shape == (1, 8, 8)
    refusals = {
        b"garbage bytes": "the file is not an image Pillow can read (no known image format)",
        image[: len(image) // 2]: "the file is damaged or cut short",
        png(
            samples[0] * 255 / 16, "RGB"
        ): "the image is colour (3 channels), but this data's images are grayscale",
    }
    for content, message in refusals.items():
        with pytest.raises(RequestError) as error:
            decode_file(content, data)
        assert str(error.value).startswith(message) and error.value.status == 422, str(error.value)
    with pytest.raises(RequestError, match="CropYieldsDataModule takes no files: send JSON") as error:
        decode_file(image, CropYieldsDataModule())
    assert error.value.status == 415


def test_answers_name_classes_and_targets():
    outputs = {"class": torch.tensor([1]), "probabilities": torch.tensor([[0.25, 0.75]])}
    data = DigitsDataModule()
    data.num_classes = 2
    assert encode_outputs(outputs, data) == [
        {"label": "1", "class": 1, "probabilities": {"0": 0.25, "1": 0.75}}
    ]
    data.classes = ["cat", "dog"]
    assert encode_outputs(outputs, data)[0]["label"] == "dog"
    answer = encode_outputs({"prediction": torch.tensor([[56.5, 70.25]])}, CropYieldsDataModule())
    assert answer == [{"prediction": {"apples": 56.5, "oranges": 70.25}}]


def asgi(app, body: bytes, content_type: bytes = b"application/json") -> tuple[int, dict]:
    """One POST /predict through an ASGI app, sent in 1 KiB chunks as a server receives it."""
    chunks = [body[i : i + 1024] for i in range(0, len(body), 1024)] or [b""]
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)
    ]
    sent = []

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "path": "/predict",
        "method": "POST",
        "headers": [(b"content-type", content_type)],
    }
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], json.loads(sent[1]["body"]) if len(sent) > 1 else {}


def test_a_body_over_the_limit_or_not_json_never_reaches_a_worker():
    reached = []

    async def worker(scope, receive, send):  # what LitServe's endpoint would be
        reached.append((dict(scope["headers"])[b"content-type"], (await receive())["body"]))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    checked = CheckedBody(worker, max_bytes=4096)
    status, answer = asgi(checked, b"x" * 5000)
    assert status == 413 and answer["error"] == (
        "the request is 5000 bytes; the limit is 0.00390625 MiB (serve --max_request_mb)."
    )
    status, answer = asgi(checked, b"{not json")
    assert status == 400 and answer["error"].startswith("the body is not JSON (")
    assert not reached
    body = json.dumps({"inputs": [[1, 2, 3]] * 100}).encode()
    assert asgi(checked, body, b"application/x-www-form-urlencoded")[0] == 200  # curl -d's type
    assert reached == [(b"application/json", body)]


# In this process: flags refused before a server starts -------------------------------------


def test_serve_needs_a_checkpoint(refused):
    assert "serve needs a checkpoint: --ckpt_path best" in refused("serve")
    assert "--ckpt_path best" in refused("serve", "--ckpt_path", "best")  # no run has one


def test_a_port_in_use_or_out_of_range_is_refused(refused, trained: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        err = refused("serve", "--ckpt_path", "best", "--port", str(port))
    assert f"--port {port}: cannot listen on 127.0.0.1:{port}" in err and "choose another --port" in err
    assert "--port 80: must be from 1024 to 65535" in refused("serve", "--ckpt_path", "best", "--port", "80")
    serve = ["serve", "--ckpt_path", "best"]
    assert "--host 10.0.0.1: must be 127.0.0.1" in refused(*serve, "--host", "10.0.0.1")
    err = refused(*serve, "--batch_timeout", "2", "--timeout", "1")
    assert "--batch_timeout 2.0: must be less than --timeout 1.0" in err
    assert "--workers_per_device 0: must be more than 0" in refused(*serve, "--workers_per_device", "0")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_a_device_this_machine_lacks_is_refused(refused, trained: Path):
    err = refused("serve", "--ckpt_path", "best", "--accelerator", "cuda")
    assert "--accelerator cuda: this machine has none; use auto or cpu." in err


def test_a_checkpoint_without_the_data_s_statistics_is_refused_before_serving(refused, trained: Path):
    """As a checkpoint of a datamodule that kept no statistics (litproject 1.0's digits) is."""
    checkpoint = torch.load(trained / "checkpoints" / "best.ckpt", weights_only=True)
    assert checkpoint.pop("DigitsDataModule")  # where Lightning keeps the datamodule's state
    torch.save(checkpoint, trained / "checkpoints" / "old.ckpt")
    err = refused("serve", "--ckpt_path", str(trained / "checkpoints" / "old.ckpt"))
    assert "DigitsDataModule.preprocess and ClassificationTask fail on a sample shaped [8, 8]" in err
    assert "train on from it (fit --ckpt_path last)" in err


def test_data_that_cannot_say_what_a_raw_sample_is_cannot_be_served():
    """Streamed chunks, say: already preprocessed, by a datamodule the server does not have."""
    with pytest.raises(UserError, match="LightningDataModule cannot be served: give it `sample_shape` and"):
        serve(None, LightningDataModule(), "best.ckpt", host="127.0.0.1", port=8000)


def test_without_the_serve_extra_it_says_how_to_install_it(refused, trained: Path, monkeypatch):
    # LitServe is installed here; a module set to None in sys.modules is one Python cannot import.
    monkeypatch.setitem(sys.modules, "litserve", None)
    monkeypatch.delitem(sys.modules, "litproject.serving.server", raising=False)
    err = refused("serve", "--ckpt_path", "best")
    assert "serving needs LitServe (litserve is not installed): pip install -e '.[serve]'" in err


# Real servers in their own processes --------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def descendants(pid: int) -> set[int]:
    """Every process started by `pid`, and by those, from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    gone = {"Z", "X"}  # zombies are dead, waiting to be reaped
    living = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in gone:
            living.add(pid)
    return living


class Server:
    """`python train.py serve ...` in its own process group, as a terminal starts it."""

    def __init__(self, folder: Path, env: dict[str, str], *args: str) -> None:
        self.port = free_port()
        self.log = folder / f"serve-{self.port}.log"
        self.process = subprocess.Popen(
            [sys.executable, str(PROJECT / "train.py"), "serve", "--port", str(self.port), *args],
            cwd=folder,
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            try:
                if self.get("/health") == (200, b"ok"):
                    return
            except OSError:
                pass
            time.sleep(0.25)
        raise AssertionError(f"not ready in 120 s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text()

    def get(self, path: str) -> tuple[int, bytes]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as answer:
            return answer.status, answer.read()

    def post(self, body: bytes, content_type: str = "application/json") -> tuple[int, dict, dict]:
        """Status, JSON answer and headers of POST /predict."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/predict", data=body, headers={"Content-Type": content_type}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.status, json.loads(answer.read()), dict(answer.headers)
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read()), dict(error.headers)

    def predict(self, samples) -> list[dict]:
        status, answer, _ = self.post(json.dumps({"inputs": np.asarray(samples).tolist()}).encode())
        assert status == 200, answer
        return answer["predictions"]

    def upload(self, content: bytes, field: str = "file") -> tuple[int, dict, dict]:
        boundary = "litproject-test"
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="digit.png"\r\n'
                f"Content-Type: image/png\r\n\r\n"
            ).encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return self.post(body, f"multipart/form-data; boundary={boundary}")

    def stop(self, sig: int) -> tuple[int, set[int]]:
        """Send `sig` as a user does (Ctrl-C reaches the whole group); its exit status, and the
        processes it started that are still alive."""
        started = descendants(self.process.pid)
        assert started, "LitServe starts its workers as processes"
        if sig == signal.SIGINT:
            os.killpg(self.process.pid, sig)
        else:
            self.process.send_signal(sig)
        status = self.process.wait(timeout=60)
        deadline = time.monotonic() + 10
        while alive(started) and time.monotonic() < deadline:
            time.sleep(0.1)
        return status, alive(started)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def predictions_csv(run: Path) -> list[dict[str, str]]:
    (path,) = run.glob("predictions-*.csv")
    with path.open() as file:
        return list(csv.DictReader(file))


def train_in(folder: Path, *args: str) -> None:
    """`python train.py <args>` in `folder`, in this process (a server is what needs its own)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setenv("WANDB_MODE", "disabled")
        patch.setattr(sys, "argv", ["train.py", *args])
        runpy.run_path(str(PROJECT / "train.py"), run_name="__main__")


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    env = {**os.environ, "WANDB_MODE": "disabled", "PYTHONPATH": str(PROJECT / "src")}
    env.pop("WANDB_SERVICE", None)
    return env


@pytest.fixture(scope="module")
def digits_server(tmp_path_factory, server_env) -> Iterator[tuple[Server, Path]]:
    """The default experiment, trained a little and predicted on, served from its best checkpoint."""
    folder = tmp_path_factory.mktemp("served")
    train_in(folder, *QUICK_FIT)
    train_in(folder, "predict", "--ckpt_path", "best", "--trainer.enable_progress_bar=false")
    server = Server(folder, server_env, "--ckpt_path", "best")
    (run,) = (folder / "runs" / "digits_cnn").iterdir()
    yield server, run
    server.kill()


@pytest.mark.slow
def test_served_digits_equal_train_py_predict(digits_server):
    server, run = digits_server
    samples, labels = digits_test_split()
    rows = predictions_csv(run)
    answers = server.predict(samples)
    assert len(answers) == len(rows) == len(labels)
    for row, answer, label in zip(rows, answers, labels, strict=True):
        assert (
            int(row["target"]) == label
            and answer["class"] == int(row["class"])
            and answer["label"] == row["class"]
        )
        served = [answer["probabilities"][str(k)] for k in range(10)]
        written = [float(row[f"probabilities_{k}"]) for k in range(10)]
        np.testing.assert_allclose(served, written, rtol=1e-6, atol=1e-7)  # the CSV keeps 7 digits


@pytest.mark.slow
def test_an_uploaded_png_digit_is_answered_as_its_pixels_are(digits_server):
    server, _ = digits_server
    samples, _ = digits_test_split()
    pixels = (samples[:4] * 255 / 16).round()
    for image in pixels:
        status, answer, headers = server.upload(png(image))
        assert status == 200, answer
        # The PNG's 8-bit pixels, scaled back to the digits' 0..16, sent as JSON: the same answer.
        (expected,) = server.predict([(image / 255 * 16).astype(np.float32)])
        assert answer["predictions"] == [expected]


@pytest.mark.slow
def test_32_concurrent_clients_are_answered_in_shared_batches(digits_server):
    server, _ = digits_server
    samples, _ = digits_test_split()
    bodies = [json.dumps({"inputs": [samples[i].tolist()]}).encode() for i in range(32)]
    alone = [server.post(body)[1]["predictions"] for body in bodies[:3]]
    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(server.post, bodies))
    assert [status for status, _, _ in results] == [200] * 32
    sizes = [int(headers["x-batch-size"]) for _, _, headers in results]
    assert max(sizes) > 1, sizes
    for (_, answer, _), single in zip(results, alone, strict=False):  # batched or not, the same answer
        assert answer["predictions"][0]["class"] == single[0]["class"]
        np.testing.assert_allclose(
            list(answer["predictions"][0]["probabilities"].values()),
            list(single[0]["probabilities"].values()),
            rtol=1e-5,
            atol=1e-7,
        )


@pytest.mark.slow
def test_each_bad_request_is_answered_4xx_and_the_server_stays_up(digits_server):
    server, _ = digits_server
    samples, _ = digits_test_split()
    image = png(samples[0] * 255 / 16)
    bad = {
        "not JSON": (lambda: server.post(b"{'inputs': [1, 2"), 400, "the body is not JSON"),
        "no inputs": (lambda: server.post(b'{"input": [1]}'), 422, 'the JSON has no "inputs"'),
        "empty list": (lambda: server.post(b'{"inputs": []}'), 422, '"inputs" is an empty list'),
        "wrong shape": (lambda: server.post(b'{"inputs": [[1, 2, 3]]}'), 422, "inputs[0] has 3 items, not 8"),
        "a non-number": (
            lambda: server.post(json.dumps({"inputs": [[["x"] * 8] * 8]}).encode()),
            422,
            'inputs[0][0][0] is "x", not a number',
        ),
        "undecodable image": (lambda: server.upload(b"\x89PNG garbage"), 422, "the file is not an image"),
        "truncated image": (
            lambda: server.upload(image[: len(image) // 2]),
            422,
            "the file is damaged or cut short",
        ),
        "colour image": (
            lambda: server.upload(png(samples[0], "RGB")),
            422,
            "the image is colour (3 channels)",
        ),
        "no file field": (lambda: server.upload(image, field="picture"), 422, "the form has no field file"),
        "over the size limit": (
            lambda: server.post(b"[" + b"0," * 9_000_000 + b"0]"),
            413,
            "the request is 18000003 bytes; the limit is 16 MiB",
        ),
    }
    for name, (send, status, message) in bad.items():
        got, answer, _ = send()
        assert (got, answer["error"][: len(message)]) == (status, message), name
        assert server.get("/health") == (200, b"ok"), name
        assert server.predict(samples[:1])[0]["class"] in range(10), name


@pytest.mark.slow
def test_ctrl_c_stops_the_server_and_every_process_it_started(digits_server):
    server, _ = digits_server
    status, left = server.stop(signal.SIGINT)  # to every process of the group, as a terminal sends it
    assert status == 0 and not left, server.output()
    assert "Traceback" not in server.output()


@pytest.mark.slow
def test_crop_yields_regression_is_served_by_name_without_batching_and_stops_on_sigterm(tmp_path, server_env):
    experiment = ["--config", str(PROJECT / "configs" / "crop_yields_linear.yaml")]
    quiet = "--trainer.enable_progress_bar=false"
    train_in(tmp_path, "fit", *experiment, "--trainer.max_epochs=5", quiet)
    train_in(tmp_path, "predict", *experiment, "--ckpt_path", "best", quiet)
    server = Server(tmp_path, server_env, *experiment, "--ckpt_path", "best", "--max_batch_size", "1")
    try:
        x, _ = read_table(CROP_YIELDS)
        test = split_indices(len(x), 0.2, 0.2, CropYieldsDataModule().generator())["test"]
        (run,) = (tmp_path / "runs" / "crop_yields_linear").iterdir()
        rows = predictions_csv(run)
        status, answer, headers = server.post(json.dumps({"inputs": x[test].tolist()}).encode())
        assert status == 200 and headers["x-batch-size"] == "1", answer
        for row, served in zip(rows, answer["predictions"], strict=True):
            assert set(served["prediction"]) == {"apples", "oranges"}
            written = [float(row["prediction_0"]), float(row["prediction_1"])]
            np.testing.assert_allclose(list(served["prediction"].values()), written, rtol=1e-6)
        assert server.upload(b"anything")[0] == 415
        status, left = server.stop(signal.SIGTERM)  # to the command's process, as `kill PID` sends it
        assert status == 0 and not left, server.output()
        assert "Traceback" not in server.output()
    finally:
        server.kill()
