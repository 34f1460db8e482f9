"""The tutorials' raw training loop, for the benchmark: R0 (over torchvision's per-sample
DataLoader with ToTensor + Normalize, the way the classic MNIST tutorials feed it) and R1 (the
same loop over tensors in memory).

    python raw_loop.py <workload> <variant> <epochs> <data_dir>     # writes JSON to $BENCH_OUT
"""

import json
import os
import resource
import sys
import time

import torch
from call_counter import CallCounter
from lightning_project.models import LinearRegression, Net, TwoLayerNet
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torchvision import transforms
from torchvision.datasets import MNIST

BATCH = 64
# On a GPU machine the loop runs on CUDA, as the generated project does (accelerator: auto).
DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def workload(name: str, variant: str, data_dir: str):
    """Network, loss, optimizer and a batch iterator factory for one workload."""
    generator = torch.Generator().manual_seed(0)
    if name == "cnn":
        net, loss, lr = Net(), nn.CrossEntropyLoss(), 1e-3
        if variant == "R0":
            mnist = MNIST(
                data_dir,
                train=True,
                transform=transforms.Compose(
                    [transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))]
                ),
            )
            loader = DataLoader(mnist, batch_size=BATCH, shuffle=True, generator=generator)
            net.to(DEVICE)
            return net, loss, torch.optim.Adam(net.parameters(), lr), lambda: iter(loader)
        mnist = MNIST(data_dir, train=True)
        x, y = ((mnist.data.float() / 255 - 0.1307) / 0.3081).unsqueeze(1), mnist.targets
    elif name == "mlp":
        net, loss, lr = TwoLayerNet(1000, 100, 10), nn.MSELoss(reduction="sum"), 1e-4
        x, y = torch.randn(3072, 1000, generator=generator), torch.randn(3072, 10, generator=generator)
    else:  # linear regression, crop yields' shape: 9 training rows of 3 features, 2 targets
        net, loss, lr = LinearRegression(3, 2), nn.MSELoss(), 0.1
        x, y = torch.randn(9, 3, generator=generator), torch.randn(9, 2, generator=generator)
    net.to(DEVICE)
    optimizer = (
        torch.optim.Adam(net.parameters(), lr) if name != "linear" else torch.optim.SGD(net.parameters(), lr)
    )
    if variant == "R0":  # per-sample indexing and collation, as a DataLoader over a Dataset does
        loader = DataLoader(TensorDataset(x, y), batch_size=BATCH, shuffle=True, generator=generator)
        return net, loss, optimizer, lambda: iter(loader)

    x, y = x.to(DEVICE), y.to(DEVICE)  # R1 keeps the whole data set on the device

    def batches():  # R1: one permutation per epoch, batches sliced from tensors
        order = torch.randperm(len(x), generator=generator).to(DEVICE)
        for start in range(0, len(x), BATCH):
            index = order[start : start + BATCH]
            yield x[index], y[index]

    return net, loss, optimizer, batches


def main(name: str, variant: str, epochs: int, data_dir: str) -> None:
    torch.manual_seed(0)
    net, criterion, optimizer, batches = workload(name, variant, data_dir)
    first_step_at, results = None, []
    counter, counted_steps = CallCounter() if os.environ.get("BENCH_COUNT") else None, 0
    for epoch in range(epochs):
        net.train()
        start, steps = None, 0
        for inputs, targets in batches():
            if start is None:
                start = time.perf_counter()
                first_step_at = first_step_at or time.time()
                if counter and epoch > 0:  # the first epoch warms up
                    counter.start()
            inputs, targets = inputs.to(DEVICE), targets.to(DEVICE)  # no-op for R1 and on the CPU
            optimizer.zero_grad()
            loss = criterion(net(inputs), targets)
            loss.backward()
            optimizer.step()
            steps += 1
        if counter and epoch > 0:
            counter.stop()
            counted_steps += steps
        if DEVICE.type == "cuda":
            torch.cuda.synchronize()  # only at the end of an epoch, as the Lightning variants
        results.append({"seconds": time.perf_counter() - start, "steps": steps})
    result = {
        "epochs": results,
        "first_step_s": first_step_at - float(os.environ["BENCH_T0"]),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if counter:
        result["calls"] = counter.per_step(counted_steps)
    with open(os.environ["BENCH_OUT"], "w") as file:
        json.dump(result, file)


if __name__ == "__main__":
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
