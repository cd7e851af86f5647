"""Property tests (hypothesis) for mlp.py over random shapes, activations and magnitudes.

Deterministic: derandomize=True (the same examples on every run), no deadline, a bounded number
of examples so that the whole file runs in a few seconds.
"""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

import mlp

SETTINGS = settings(derandomize=True, deadline=None, max_examples=40, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
F_NAMES = ["relu", "sigmoid", "identity", "tanh", "scaled_relu", "leaky_relu", "softplus", "gelu"]
G_NAMES = ["relu", "sigmoid", "identity", "tanh", "scaled_relu"]
TORCH_ACT = {"relu": F.relu, "sigmoid": torch.sigmoid, "identity": lambda z: z, "tanh": torch.tanh,
             "scaled_relu": lambda z: 5 * F.relu(z), "leaky_relu": lambda z: F.leaky_relu(z, 0.01),
             "softplus": F.softplus, "gelu": F.gelu}
PARAMS = ("W1", "b1", "W2", "b2")
f64 = torch.float64


pytestmark = pytest.mark.usefixtures("one_thread")   # see conftest.py


@st.composite
def problems(draw, loss=None):
    """A network, data and loss: sizes 1..16, parameter and input scales 1e-3..1e2 (float64)."""
    batch, n_in, n_hid = (draw(st.integers(1, 16)) for _ in range(3))
    n_out = draw(st.integers(1, 8))
    f = draw(st.sampled_from(F_NAMES))
    loss = loss or draw(st.sampled_from(["mse", "bce"]))
    g = "sigmoid" if loss == "bce" else draw(st.sampled_from(G_NAMES))
    w_scale = 10 ** draw(st.floats(-3, 2))
    x_scale = 10 ** draw(st.floats(-3, 2))
    seed = draw(st.integers(0, 2**16))
    gen = torch.Generator().manual_seed(seed)
    net = mlp.MLP(n_in, n_hid, f, n_hid, n_out, g)
    net.parameters = {k: torch.randn(v.shape, generator=gen, dtype=f64) * w_scale
                      for k, v in net.parameters.items()}
    x = torch.randn(batch, n_in, generator=gen, dtype=f64) * x_scale
    if loss == "bce":
        y = torch.rand(batch, n_out, generator=gen, dtype=f64)
    else:
        y = torch.randn(batch, n_out, generator=gen, dtype=f64) * x_scale
    return net, x, y, loss


def step(net, x, y, loss):
    net.clear_grad_and_cache()
    y_hat = net.forward(x)
    J, dJdy_hat = (mlp.bce_loss if loss == "bce" else mlp.mse_loss)(y, y_hat)
    net.backward(dJdy_hat)
    return y_hat, J, dJdy_hat, {k: v.clone() for k, v in net.grads.items()}


def close(a, b, rtol=1e-9):
    """|a − b| ≤ rtol·(max|b| + tiny), element-wise: a relative check that survives any magnitude."""
    scale = b.abs().max().item() if b.numel() else 0.0
    return a.shape == b.shape and bool(((a - b).abs() <= rtol * scale + 1e-300).all())


@SETTINGS
@given(problems())
def test_matches_autograd_at_any_shape_and_scale(problem):
    net, x, y, loss = problem
    y_hat, J, dJdy_hat, grads = step(net, x, y, loss)
    P = {k: v.clone().requires_grad_(True) for k, v in net.parameters.items()}
    criterion = nn.BCELoss() if loss == "bce" else nn.MSELoss()
    with torch.enable_grad():
        ref_y_hat = TORCH_ACT[net.g_function](
            F.linear(TORCH_ACT[net.f_function](F.linear(x, P["W1"], P["b1"])), P["W2"], P["b2"]))
        criterion(ref_y_hat, y).backward()
        leaf = y_hat.clone().requires_grad_(True)     # the loss at our ŷ (see test_mlp.run_reference)
        ref_J = criterion(leaf, y)
        ref_J.backward()
    assert close(y_hat, ref_y_hat.detach())
    assert close(J, ref_J.detach())
    assert close(dJdy_hat, leaf.grad)
    for k in PARAMS:
        g = grads[f"dJd{k}"]
        assert g.shape == net.parameters[k].shape and g.dtype == f64
        assert torch.isfinite(g).all()
        assert close(g, P[k].grad, rtol=1e-7), k


@SETTINGS
@given(problems())
def test_duplicating_the_batch_leaves_the_mean_loss_and_gradients_unchanged(problem):
    """J is a mean over every element: stacking the batch twice changes neither J nor the grads.
    (A sum instead of a mean, or a missing 1/N, doubles them.)"""
    net, x, y, loss = problem
    _, J1, _, g1 = step(net, x, y, loss)
    _, J2, _, g2 = step(net, torch.cat([x, x]), torch.cat([y, y]), loss)
    assert close(J2, J1)
    for k in g1:
        assert close(g2[k], g1[k], rtol=1e-7), k


@SETTINGS
@given(problems(), st.data())
def test_batch_order_does_not_matter(problem, data):
    net, x, y, loss = problem
    perm = torch.tensor(data.draw(st.permutations(range(x.shape[0]))))
    _, J1, d1, g1 = step(net, x, y, loss)
    _, J2, d2, g2 = step(net, x[perm], y[perm], loss)
    assert close(J2, J1)
    assert close(d2, d1[perm])
    for k in g1:
        assert close(g2[k], g1[k], rtol=1e-7), k


@SETTINGS
@given(st.integers(1, 16), st.integers(1, 16), st.floats(-3, 3), st.integers(0, 2**16))
def test_mse_loss_formula(n, m, log_scale, seed):
    gen = torch.Generator().manual_seed(seed)
    y = torch.randn(n, m, generator=gen, dtype=f64) * 10 ** log_scale
    y_hat = torch.randn(n, m, generator=gen, dtype=f64) * 10 ** log_scale
    J, d = mlp.mse_loss(y, y_hat)
    assert J >= 0
    assert close(J, ((y_hat - y) ** 2).sum() / (n * m))
    assert close(d, 2 * (y_hat - y) / (n * m))
    J0, d0 = mlp.mse_loss(y, y.clone())
    assert J0 == 0 and torch.count_nonzero(d0) == 0


@SETTINGS
@given(st.integers(1, 12), st.integers(1, 6), st.integers(0, 2**16),
       st.sampled_from([torch.float32, torch.float64]))
def test_bce_finite_and_equal_to_nn_bceloss_including_0_and_1(n, m, seed, dtype):
    gen = torch.Generator().manual_seed(seed)
    y = torch.rand(n, m, generator=gen, dtype=dtype)
    y_hat = torch.rand(n, m, generator=gen, dtype=dtype)
    pick = torch.rand(n, m, generator=gen)
    y_hat[pick < 0.2] = 0.0          # exactly 0 and exactly 1 in about 40% of the entries
    y_hat[pick > 0.8] = 1.0
    y[torch.rand(n, m, generator=gen) < 0.3] = 1.0
    J, d = mlp.bce_loss(y, y_hat)
    leaf = y_hat.clone().requires_grad_(True)
    with torch.enable_grad():
        ref = nn.BCELoss()(leaf, y)
        ref.backward()
    assert torch.isfinite(J) and torch.isfinite(d).all()
    rtol = 1e-12 if dtype == f64 else 1e-5
    assert close(J, ref.detach(), rtol)
    assert close(d, leaf.grad, rtol)
