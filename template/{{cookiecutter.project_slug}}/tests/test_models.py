import torch

from {{ cookiecutter.package_name }}.models import Net


def test_net_maps_28x28_images_to_log_probabilities_per_class():
    net = Net()
    out = net(torch.randn(8, 1, 28, 28))
    assert out.shape == (8, 10)
    torch.testing.assert_close(out.exp().sum(dim=1), torch.ones(8))


def test_net_sizes_are_constructor_arguments():
    net = Net(in_channels=3, num_classes=5)
    assert net(torch.randn(2, 3, 28, 28)).shape == (2, 5)
