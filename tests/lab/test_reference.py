"""lab.reference: each derivative against autograd, each loss against torch.nn."""
import pytest
import torch
from torch import nn

from lab import reference as ref


@pytest.mark.parametrize("name", sorted(ref.ACTIVATIONS))
def test_derivative_matches_autograd(name):
    torch.manual_seed(0)
    z = (torch.randn(7, 5, dtype=torch.float64) * 3).requires_grad_()
    a = ref.activation(name)(z)
    (auto,) = torch.autograd.grad(a.sum(), z)
    assert torch.allclose(ref.derivative(name)(z.detach()), auto, atol=1e-10), name


@pytest.mark.parametrize("name", sorted(ref.ACTIVATIONS))
def test_module_applies_the_activation(name):
    z = torch.linspace(-3, 3, 13)
    assert torch.allclose(ref.torch_module(name)(z), ref.activation(name)(z))


def test_aliases_and_unknown_names():
    assert ref.canonical("5relu") == "scaled_relu"
    assert ref.canonical(" ReLU ") == "relu"
    with pytest.raises(ValueError, match="no reference for activation 'swish'"):
        ref.canonical("swish")
    with pytest.raises(ValueError, match="known: mse, bce"):
        ref.loss("hinge")


@pytest.mark.parametrize("name,module", [("mse", nn.MSELoss()), ("bce", nn.BCELoss())])
def test_losses_match_torch(name, module):
    torch.manual_seed(1)
    y = torch.rand(6, 3, dtype=torch.float64)
    y_hat = torch.rand(6, 3, dtype=torch.float64).clamp(0.05, 0.95).requires_grad_()
    J_auto = module(y_hat, y)
    (g_auto,) = torch.autograd.grad(J_auto, y_hat)
    J, g = ref.loss(name)(y, y_hat.detach())
    assert torch.allclose(J, J_auto.detach()) and torch.allclose(g, g_auto)


def test_bce_clamps_like_torch_at_saturation():
    y = torch.tensor([1.0, 0.0])
    y_hat = torch.tensor([0.0, 1.0])
    J, _ = ref.bce(y, y_hat)
    assert J.item() == pytest.approx(nn.BCELoss()(y_hat, y).item()) == pytest.approx(100.0)
