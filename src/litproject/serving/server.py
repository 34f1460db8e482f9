"""The server: LitServe's, with the task and datamodule of a checkpoint as its API.

    POST /predict   JSON {"inputs": [sample, ...]}, or an image file as the multipart field `file`
    GET  /health    "ok" once a worker is ready

Each of the `workers_per_device` x devices inference workers (processes LitServe starts) holds
the model. LitServe collects the requests that arrive within `batch_timeout` seconds, up to
`max_batch_size` of them, and hands them to a worker as one batch; each answer says in its
`X-Batch-Size` header how many requests shared its batch. A bad request is answered 4xx on its
own: the others of its batch are answered as if it had not been there.
"""

import json
import logging
import os
import signal
import socket
import warnings
from collections.abc import Callable
from typing import Any

import litserve as ls
import torch
from fastapi.responses import JSONResponse
from lightning.pytorch import LightningModule
from starlette.datastructures import FormData
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import OptionError
from .model import predictions
from .requests import RequestError, decode_file, decode_json, encode_outputs

PATH = "/predict"


class Predictor(ls.LitAPI):
    """The task's `predict_step` (or its forward) on the raw samples of a batch of requests, each
    preprocessed by the datamodule. Made in the command's process, sent to each worker."""

    def __init__(
        self, task: LightningModule, data: Any, max_batch_size: int, batch_timeout: float, threads: int
    ) -> None:
        with warnings.catch_warnings():  # that `batch` is there for nothing when max_batch_size is 1
            warnings.filterwarnings("ignore", "The LitServer has both batch and unbatch", UserWarning)
            super().__init__(max_batch_size=max_batch_size, batch_timeout=batch_timeout, api_path=PATH)
        self.task = task
        self.data = data
        self.threads = threads  # for a worker on the CPU

    def setup(self, device: str) -> None:
        # Ctrl-C reaches every process of the terminal: the command's own stops the workers, in order.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if device == "cpu":
            torch.set_num_threads(self.threads)
        self.task = self.task.to(device).eval()
        self.device = device
        print(f"Worker (process {os.getpid()}) ready on {device}.", flush=True)

    def decode_request(self, request) -> torch.Tensor | RequestError:
        """A request's raw samples, or the reason it has none (answered when its batch is). The
        request is LitServe's: the parsed JSON, or the form (`request` has no type: LitServe
        would take one as the type of the body to parse)."""
        try:
            if isinstance(request, FormData):
                upload = request.get("file")
                if not hasattr(upload, "read"):
                    fields = ", ".join(request.keys()) or "none"
                    raise RequestError(
                        f"the form has no field file (it has {fields}): upload the image as the field file.",
                        422,
                    )
                return decode_file(upload.file.read(), self.data)
            return decode_json(request, self.data)
        except RequestError as error:
            return error

    def batch(self, inputs: list) -> list:
        return inputs  # of different lengths: `predict` puts the good ones into one tensor

    def predict(self, inputs: Any) -> Any:
        if self.max_batch_size == 1:  # LitServe's loop without batching: one request at a time
            return self.answer([inputs])[0]
        return self.answer(inputs)

    def answer(self, inputs: list) -> list:
        """The outputs for every request of a batch, from one forward pass over all their samples;
        a refused request keeps its refusal."""
        good = [samples for samples in inputs if isinstance(samples, torch.Tensor)]
        if not good:
            return inputs
        outputs = predictions(self.task, self.data, good, self.device)
        answers, start = [], 0
        for samples in inputs:
            if isinstance(samples, RequestError):
                answers.append(samples)
                continue
            end = start + len(samples)
            answers.append(({key: value[start:end] for key, value in outputs.items()}, len(inputs)))
            start = end
        return answers

    def unbatch(self, outputs: list) -> list:
        return outputs

    def encode_response(self, answer: Any) -> JSONResponse:
        if isinstance(answer, RequestError):
            return JSONResponse({"error": str(answer)}, status_code=answer.status)
        outputs, batch_size = answer
        return JSONResponse(
            {"predictions": encode_outputs(outputs, self.data)}, headers={"X-Batch-Size": str(batch_size)}
        )


class CheckedBody:
    """Refuses, in the HTTP server's process, what never reaches a worker: a body over
    `max_bytes` (413) and one that is neither JSON nor a multipart upload (400). A JSON body is
    passed on as JSON whatever its Content-Type (curl -d sends form-urlencoded)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        limit = f"the limit is {self.max_bytes / 2**20:g} MiB (serve --max_request_mb)"
        chunks, size, more = [], 0, True
        while more:  # read to the end, so that the client hears the answer before it stops sending
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size <= self.max_bytes:  # beyond the limit, read and dropped
                chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if size > self.max_bytes:
            await answer(send, 413, f"the request is {size} bytes; {limit}.")
            return
        if not headers.get(b"content-type", b"").startswith(b"multipart/form-data"):
            try:
                json.loads(body)
            except (ValueError, UnicodeDecodeError) as error:
                await answer(
                    send,
                    400,
                    f'the body is not JSON ({error}): send {{"inputs": [sample, ...]}} as JSON, '
                    "or an image file as the multipart field file.",
                )
                return
            others = [(key, value) for key, value in scope["headers"] if key != b"content-type"]
            scope = {**scope, "headers": [(b"content-type", b"application/json"), *others]}
        sent = False

        async def replay() -> dict:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def answer(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def check_options(
    host: str, port: int, accelerator: str, devices: int | str, batch_timeout: float, timeout: float
) -> None:
    """Refuse, before any worker starts, what LitServe would refuse with a traceback or not at all:
    a port out of range or in use, a host it cannot bind, a device this machine lacks."""
    if not 1024 <= port <= 65535:
        raise OptionError(f"--port {port}: must be from 1024 to 65535.")
    if host not in ("127.0.0.1", "0.0.0.0", "::"):
        raise OptionError(
            f"--host {host}: must be 127.0.0.1 (this machine only), 0.0.0.0 or :: (every address)."
        )
    available = {"cuda": torch.cuda.device_count(), "mps": int(torch.backends.mps.is_available())}
    if accelerator in available and not available[accelerator]:
        raise OptionError(f"--accelerator {accelerator}: this machine has none; use auto or cpu.")
    if accelerator == "cuda" and isinstance(devices, int) and devices > available["cuda"]:
        raise OptionError(f"--devices {devices}: this machine has {available['cuda']} CUDA device(s).")
    if batch_timeout >= timeout:
        raise OptionError(
            f"--batch_timeout {batch_timeout}: must be less than --timeout {timeout}, "
            "the longest a request may wait."
        )
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds it
        try:
            probe.bind((host, port))
        except OSError as error:
            raise OptionError(
                f"--port {port}: cannot listen on {host}:{port} ({error.strerror or error}); it is in use: "
                "choose another --port, or stop the program that holds it."
            ) from None


def stop_on(main_process: int) -> Callable[[int, Any], None]:
    """SIGTERM (a scheduler's, `docker stop`, `kill`) stops the server as Ctrl-C does: the main
    process stops its workers and HTTP servers in order. The processes LitServe forks inherit the
    handler; there it does nothing, as a signal may reach them all at once (Ctrl-C, `kill -- -PID`,
    systemd): uvicorn's servers handle it themselves and then end quietly, without a traceback."""

    def handler(signum: int, frame: Any) -> None:
        if os.getpid() == main_process:
            for output in logging.getLogger("litserve").handlers:  # set up by LitServer.run
                output.addFilter(quiet_while_stopping)
            raise KeyboardInterrupt

    return handler


def quiet_while_stopping(record: logging.LogRecord) -> bool:
    """Leave out LitServe's errors once the server is asked to stop: the thread that watches its
    workers reports, with a traceback, the workers and queues that stopping takes down."""
    return record.levelno < logging.ERROR


def run(
    task: LightningModule,
    data: Any,
    host: str,
    port: int,
    accelerator: str,
    devices: int | str,
    workers_per_device: int,
    max_batch_size: int,
    batch_timeout: float,
    max_request_mb: float,
    timeout: float,
) -> None:
    """Serve until SIGTERM or Ctrl-C, then stop every process it started and return."""
    # On the CPU, the workers share its cores rather than each taking them all.
    threads = max(1, torch.get_num_threads() // workers_per_device)
    api = Predictor(task, data, max_batch_size=max_batch_size, batch_timeout=batch_timeout, threads=threads)
    server = ls.LitServer(
        api,
        accelerator=accelerator,
        devices=devices,
        workers_per_device=workers_per_device,
        timeout=timeout,
        middlewares=[(CheckedBody, {"max_bytes": int(max_request_mb * 2**20)})],
    )
    handler = stop_on(os.getpid())
    # SIGINT is left alone where it is ignored (a command started with `&` or nohup).
    stops = [signal.SIGTERM] + [signal.SIGINT] * (
        signal.getsignal(signal.SIGINT) is signal.default_int_handler
    )
    previous = {stop: signal.signal(stop, handler) for stop in stops}
    try:
        server.run(host=host, port=port, generate_client_file=False, log_level="warning")
    finally:
        for stop, earlier in previous.items():
            signal.signal(stop, earlier)
