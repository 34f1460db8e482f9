"""`Net`: the two-convolution CNN for 28x28 MNIST digits, known from PyTorch's classic MNIST
example."""

import torch
import torch.nn.functional as F
from torch import nn


class Net(nn.Module):
    """Two 5x5 convolutions, each followed by 2x2 max-pooling and ReLU, then one linear layer.

    On a 28x28 image the convolutions leave 20 maps of 4x4 = 320 features, which is why the
    linear layer takes 320 inputs: feed it 28x28 images (MNIST, or digits resized to 28x28).
    As in the MNIST example it returns log-probabilities (`log_softmax`); the classification
    task's cross-entropy accepts them as they are.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.mp = nn.MaxPool2d(2)
        self.fc = nn.Linear(320, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        in_size = x.size(0)
        x = F.relu(self.mp(self.conv1(x)))
        x = F.relu(self.mp(self.conv2(x)))
        x = x.view(in_size, -1)  # 20 maps of 4x4 -> one row of 320 per image
        x = self.fc(x)
        return F.log_softmax(x, dim=1)
