"""The networks: plain `nn.Module`s, written the way the PyTorch tutorials write them.

They know nothing about training; a task in `tasks/` trains any of them. Their sizes are
constructor arguments, which the command line fills from the data (litproject's data contract).
"""

from .cnn import Net
from .linear_regression import LinearRegression
from .my_network import MyNetwork
from .two_layer_net import TwoLayerNet

__all__ = ["LinearRegression", "MyNetwork", "Net", "TwoLayerNet"]
