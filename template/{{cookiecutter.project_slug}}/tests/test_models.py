import pytest
import torch

from {{ cookiecutter.package_name }}.models import (
    LinearRegression,
    MyNetwork,
    Net,
    TwoLayerNet,
)


def test_net_maps_28x28_images_to_log_probabilities_per_class():
    out = Net()(torch.randn(8, 1, 28, 28))
    assert out.shape == (8, 10)
    torch.testing.assert_close(out.exp().sum(dim=1), torch.ones(8))


@pytest.mark.parametrize(
    ("net", "inputs", "output_shape"),
    [
        (Net(in_channels=3, num_classes=5), (2, 3, 28, 28), (2, 5)),
        (TwoLayerNet(), (64, 1000), (64, 10)),  # the tutorial's batch of 64, 1000 -> 100 -> 10
        (TwoLayerNet(in_features=784), (4, 1, 28, 28), (4, 10)),  # images are flattened
        (MyNetwork(), (128, 20), (128, 40)),  # 128 inputs of 20 features, as in its tutorial
        (MyNetwork(in_features=3, hidden=8, out_features=2), (5, 3), (5, 2)),
        (LinearRegression(), (15, 3), (15, 2)),  # crop yields: 3 inputs -> 2 yields
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, torch.nn.Module) else None,
)
def test_network_output_shapes(net: torch.nn.Module, inputs: tuple, output_shape: tuple):
    assert net(torch.randn(*inputs)).shape == output_shape


def test_linear_regression_is_x_times_w_transposed_plus_b():
    model = LinearRegression()
    x = torch.randn(4, 3)
    torch.testing.assert_close(model(x), x @ model.w.t() + model.b)
    assert {name for name, _ in model.named_parameters()} == {"w", "b"}
