"""lab/gradcheck.py: the checking tools must be able to fail.

cmp and check_mlp are run on right and deliberately wrong gradients; the printed line, the
rounding of errors, finite differences and the activations (taken from lab.reference) are
checked on values worked out by hand.
"""
import math

import pytest
import torch
import torch.nn.functional as F

import mlp
from lab import gradcheck, reference
from lab.gradcheck import Comparison, check_gradient, check_mlp, cmp, fmt_err, numerical_grad, torch_activation

pytestmark = pytest.mark.usefixtures("one_thread")   # see conftest.py


@pytest.fixture
def course_case():
    """The course's network (2-20-5, ReLU, identity, MSE) in float64, and autograd's gradients."""
    torch.manual_seed(9)
    net = mlp.MLP(2, 20, "relu", 20, 5, "identity")
    net.parameters = {k: v.double() for k, v in net.parameters.items()}
    net.clear_grad_and_cache()
    x, y = torch.randn(10, 2, dtype=torch.float64), torch.randn(10, 5, dtype=torch.float64)
    net.forward(x)
    J, dJdy_hat = mlp.mse_loss(y, net.cache["y_hat"])
    net.backward(dJdy_hat)
    W2 = net.parameters["W2"].clone().requires_grad_(True)
    with torch.enable_grad():
        z2 = F.relu(x @ net.parameters["W1"].T + net.parameters["b1"])
        F.mse_loss(z2 @ W2.T + net.parameters["b2"], y).backward()
    return net, x, y, net.grads["dJdW2"], W2.grad


def test_cmp_passes_the_right_gradient(course_case):
    *_, ours, ref = course_case
    verdict = cmp("dJdW2", ours, ref, verbose=False)
    assert isinstance(verdict, Comparison) and verdict


@pytest.mark.parametrize("mistake", ["transposed", "missing 1/N", "sign flipped", "off by 1e-3", "nan"])
def test_cmp_fails_a_wrong_gradient(course_case, mistake, capsys):
    *_, good, ref = course_case       # (5, 20)
    n = 10 * 5
    wrong = {"transposed": good.T, "missing 1/N": good * n, "sign flipped": -good,
             "off by 1e-3": good + 1e-3, "nan": good.clone().fill_(math.nan)}[mistake]
    verdict = cmp("dJdW2", wrong, ref)
    assert not verdict
    assert "MISMATCH" in capsys.readouterr().out


def test_check_mlp_fails_a_broken_backward(course_case, capsys):
    net, x, y, _, _ = course_case
    assert check_mlp(net, x, y, "mse", verbose=False)
    net.f_backward = lambda dJda, z, a: dJda            # the ReLU mask forgotten
    assert not check_mlp(net, x, y, "mse")
    out = capsys.readouterr().out
    assert "dJdW1" in out and "MISMATCH" in out


def test_check_mlp_with_finite_differences(course_case):
    net, x, y, _, _ = course_case
    assert check_mlp(net, x, y, "mse", finite_differences=True, verbose=False)


def test_check_mlp_rejects_an_unknown_loss(course_case):
    net, x, y, _, _ = course_case
    with pytest.raises(ValueError, match="loss must be one of"):
        check_mlp(net, x, y, "hinge")


def test_the_printed_line_is_rounded_up_to_a_power_of_ten(capsys):
    ours = torch.tensor([1.0, 2.0], dtype=torch.float64)
    cmp("dJdb2", ours, ours + torch.tensor([0.0, 3e-11], dtype=torch.float64))
    assert capsys.readouterr().out.split() == ["dJdb2", "ok", "max|Δ|", "<", "1e-10", "rel", "<", "1e-10",
                                               "shape", "(2,)"]
    cmp("dJdb2", ours, ours)
    assert "max|Δ| = 0" in capsys.readouterr().out
    cmp("dJdW1", torch.zeros(2, 3), torch.zeros(3, 2))
    assert capsys.readouterr().out.split()[:4] == ["dJdW1", "MISMATCH", "shape", "(2,"]


@pytest.mark.parametrize("err,floor,text", [(0, 0, "= 0"), (3.2e-8, 0, "< 1e-07"), (1e-7, 0, "< 1e-06"),
                                            (5e-20, 1e-12, "< 1e-12"), (math.inf, 0, "= inf"),
                                            (math.nan, 0, "= nan"), (0.5, 0, "< 1e+00")])
def test_fmt_err(err, floor, text):
    assert fmt_err(err, floor) == text


def test_numerical_grad_of_a_known_function():
    x = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    (g,) = numerical_grad(lambda t: (t ** 3).sum(), x)
    torch.testing.assert_close(g, 3 * x ** 2, rtol=1e-8, atol=1e-8)


def test_check_gradient_catches_a_wrong_derivative():
    x = torch.linspace(-2, 2, 7, dtype=torch.float64)
    fn = lambda t: torch.sin(t).sum()                  # noqa: E731
    assert check_gradient("cos", torch.cos(x), fn, x, method="both", verbose=False)
    assert not check_gradient("-cos", -torch.cos(x), fn, x, method="fd", verbose=False)
    with pytest.raises(ValueError, match="method must be"):
        check_gradient("cos", torch.cos(x), fn, x, method="exact")


@pytest.mark.parametrize("name", sorted(mlp.ACTIVATIONS))
def test_torch_activation_is_lab_reference(name):
    """No second table: every mlp.py activation name is answered by lab.reference."""
    assert torch_activation(name) is reference.activation(name)
    assert not hasattr(gradcheck, "_TORCH_ACTIVATIONS")


def test_torch_activation_rejects_an_unknown_name():
    with pytest.raises(ValueError, match="relu6"):
        torch_activation("relu6")
