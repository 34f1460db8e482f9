"""`python train.py serve` under load, for the benchmark: requests per second and latency of the
served default experiment, with LitServe's batching on and off, beside the same model called in
this process (the ceiling: no HTTP, no JSON, no hand-offs between processes).

    python serving.py <project> [scale]      # rows as JSON to $BENCH_OUT

Trains the default experiment for 2 epochs in a temporary folder, then serves its `best`
checkpoint twice on the CPU: with the default flags (`--max_batch_size 16 --batch_timeout 0.005`)
and with `--max_batch_size 1`. Clients are threads of this process, each with one persistent HTTP
connection (http.client), each request one digit as JSON; they share the machine's cores with
the server, as a load generator on the same machine does. `scale` multiplies the number of
requests (the tests use a fraction).
"""

import contextlib
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np

LEVELS = {1: 300, 8: 960, 32: 960}  # concurrent clients: requests measured (a multiple of the clients)
WARM_UP = 64  # requests of each level sent before its clock starts, at least 2 a client
MODES = {"batched": [], "unbatched": ["--max_batch_size", "1"]}
CALLS = 300  # in-process calls of one sample each; of 32 samples, CALLS // 5


def digits() -> np.ndarray:
    from sklearn.datasets import load_digits

    return load_digits().images.astype(np.float32)  # 1,797 x 8 x 8, values 0..16


def environment(project: Path) -> dict[str, str]:
    """`python train.py` as a user runs it offline; the project's code from its own folder."""
    env = {**os.environ, "WANDB_MODE": "disabled", "WANDB_SILENT": "true", "PYTHONPATH": str(project / "src")}
    env.pop("WANDB_SERVICE", None)
    return env


def train(project: Path, folder: Path) -> Path:
    """The default experiment trained for 2 epochs in `folder`; its best checkpoint."""
    command = [sys.executable, str(project / "train.py"), "fit", "--trainer.max_epochs=2"]
    command.append("--trainer.enable_progress_bar=false")
    subprocess.run(command, cwd=folder, env=environment(project), check=True, capture_output=True)
    (checkpoint,) = folder.glob("runs/digits_cnn/*/checkpoints/best.ckpt")
    return checkpoint


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`python train.py serve --ckpt_path best` in its own process group, ready when /health says
    so; stopped with SIGTERM, which must end it with status 0."""

    def __init__(self, project: Path, folder: Path, flags: list[str]) -> None:
        self.port = free_port()
        self.log = folder / f"serve-{self.port}.log"
        command = [sys.executable, str(project / "train.py"), "serve", "--ckpt_path", "best"]
        command += ["--port", str(self.port), "--accelerator", "cpu", *flags]
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                command,
                cwd=folder,
                env=environment(project),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"the server stopped before it was ready:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=5) as answer:
                    if answer.read() == b"ok":
                        return
            except OSError:
                pass
            time.sleep(0.25)
        self.kill()
        sys.exit(f"the server was not ready in 120 s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> str:
        """SIGTERM, then wait; its log, which holds no traceback when all went well."""
        self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.kill()
            status = "none in 60 s"
        output = self.log.read_text()
        if status != 0 or "Traceback" in output:
            sys.exit(f"the server stopped with status {status}:\n{output[-3000:]}")
        return output

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def post(connection: http.client.HTTPConnection, body: bytes) -> int:
    """One POST /predict on a kept-alive connection; the X-Batch-Size of its answer."""
    connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
    answer = connection.getresponse()
    content = answer.read()
    if answer.status != 200:
        raise RuntimeError(f"POST /predict answered {answer.status}: {content[:300]!r}")
    return int(answer.getheader("X-Batch-Size"))


def load(port: int, bodies: list[bytes], clients: int, requests: int) -> dict:
    """`clients` threads send `requests` in all, each its next request once the last is answered.
    The clock runs from when all have warmed up (`WARM_UP` requests among them: connections
    opened, the worker's kernels run at the batch sizes this level makes) to the last answer."""
    each, warm_up = requests // clients, max(2, -(-WARM_UP // clients))
    latencies: list[list[float]] = [[] for _ in range(clients)]
    sizes: list[list[int]] = [[] for _ in range(clients)]
    errors: list[BaseException] = []
    ready = threading.Barrier(clients + 1)

    def client(k: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            for i in range(warm_up):
                post(connection, bodies[-(k * warm_up + i) % len(bodies)])
            ready.wait()
            for i in range(each):
                start = time.perf_counter()
                sizes[k].append(post(connection, bodies[(k * each + i) % len(bodies)]))
                latencies[k].append(time.perf_counter() - start)
        except threading.BrokenBarrierError:
            pass  # another client failed before the clock started
        except Exception as error:  # noqa: BLE001 (raised again below, in the main thread)
            errors.append(error)
            ready.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        ready.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    times = 1000 * np.concatenate(latencies)
    return {
        "clients": clients,
        "requests": len(times),
        "per_s": len(times) / elapsed,
        "p50_ms": float(np.percentile(times, 50)),
        "p99_ms": float(np.percentile(times, 99)),
        "mean_batch": statistics.fmean(size for client_sizes in sizes for size in client_sizes),
    }


def served(project: Path, folder: Path, scale: float) -> list[dict]:
    """Both modes at every level of clients, a server each."""
    bodies = [json.dumps({"inputs": [image.tolist()]}).encode() for image in digits()]
    rows = []
    for mode, flags in MODES.items():
        server = Server(project, folder, flags)
        try:
            load(server.port, bodies, 32, 4 * 32)  # batches of many sizes, before any level
            for clients, requests in LEVELS.items():
                measured = load(server.port, bodies, clients, max(clients, round(scale * requests)))
                rows.append({"mode": mode, **measured})
                print(f"{mode}, {clients} clients: {measured['per_s']:.0f} requests/s", flush=True)
        except BaseException:
            server.kill()
            raise
        server.stop()
    return rows


def in_process(project: Path, checkpoint: Path, scale: float) -> list[dict]:
    """The checkpoint's task and datamodule in this process, as a server's worker calls them
    (preprocess, then predict_step under inference mode): one sample a call, then 32."""
    import warnings

    import torch

    sys.path.insert(0, str(project / "src"))
    from lightning_project.data import DigitsDataModule
    from lightning_project.tasks import ClassificationTask

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    with warnings.catch_warnings():  # that `net`, a module, is among the saved hyperparameters
        warnings.simplefilter("ignore")
        task = ClassificationTask.load_from_checkpoint(checkpoint, map_location="cpu", weights_only=True)
        data = DigitsDataModule.load_from_checkpoint(checkpoint, weights_only=True)  # its statistics
    task.eval()
    images = torch.from_numpy(digits())
    rows = []
    for size, calls in ((1, max(10, round(scale * CALLS))), (32, max(10, round(scale * CALLS / 5)))):
        times = []
        for call in range(calls + 10):  # the first 10 warm up
            first = call * size % (len(images) - size)
            samples = images[first : first + size]
            start = time.perf_counter()
            with torch.inference_mode():
                task.predict_step((data.preprocess(samples), None), 0)
            times.append(time.perf_counter() - start)
        times = np.array(times[10:])
        rows.append({
            "mode": f"in-process, {size} a call",
            "clients": None,
            "requests": calls * size,
            "per_s": calls * size / times.sum(),
            "p50_ms": float(np.percentile(1000 * times, 50)),
            "p99_ms": float(np.percentile(1000 * times, 99)),
            "mean_batch": size,
        })  # fmt: skip
    return rows


def measure(project: Path, scale: float = 1.0) -> dict:
    """Every row, and the seconds the whole took (training and start-ups included)."""
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as folder:
        checkpoint = train(project, Path(folder))
        rows = served(project, Path(folder), scale) + in_process(project, checkpoint, scale)
    return {"rows": rows, "seconds": time.perf_counter() - began}


if __name__ == "__main__":
    arguments = sys.argv[1:]
    result = measure(Path(arguments[0]).resolve(), float(arguments[1]) if len(arguments) > 1 else 1.0)
    Path(os.environ["BENCH_OUT"]).write_text(json.dumps(result))
