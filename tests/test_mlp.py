"""mlp.py against autograd (and finite differences): values, gradients, shapes, dtypes, edge cases.

The reference here is written independently of mlp.py and of lab.gradcheck: torch.nn.functional
activations, F.linear, F.mse_loss / F.binary_cross_entropy (nn.MSELoss / nn.BCELoss with their
default reduction), differentiated by autograd.
"""
import math
import zlib

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import mlp
from lab.gradcheck import numerical_grad

F_NAMES = ["relu", "sigmoid", "identity", "tanh", "scaled_relu", "leaky_relu", "softplus", "gelu"]
G_NAMES = ["relu", "sigmoid", "identity", "tanh", "scaled_relu"]
TORCH_ACT = {
    "relu": F.relu,
    "sigmoid": torch.sigmoid,
    "identity": lambda z: z,
    "tanh": torch.tanh,
    "scaled_relu": lambda z: 5.0 * F.relu(z),
    "leaky_relu": lambda z: F.leaky_relu(z, negative_slope=0.01),
    "softplus": F.softplus,
    "gelu": F.gelu,             # exact (erf) form, the default
}
# (id, batch, in1, hidden, out2)
SHAPES = [("batch1", 1, 3, 4, 2), ("out1", 6, 3, 5, 1), ("course", 10, 2, 20, 5), ("wide", 16, 32, 64, 24)]
TOL = {torch.float64: 1e-10, torch.float32: 1e-5}
PARAM_NAMES = ("W1", "b1", "W2", "b2")


pytestmark = pytest.mark.usefixtures("one_thread")   # see conftest.py


def make_net(f, g, n_in, n_hid, n_out, dtype=torch.float32, scale=1.0):
    net = mlp.MLP(linear_1_in_features=n_in, linear_1_out_features=n_hid, f_function=f,
                  linear_2_in_features=n_hid, linear_2_out_features=n_out, g_function=g)
    # Tests may swap the parameters' tensors (another dtype, scaled values) before forward.
    net.parameters = {k: (v * scale).to(dtype) for k, v in net.parameters.items()}
    net.clear_grad_and_cache()
    return net


def run_ours(net, x, y, loss):
    net.clear_grad_and_cache()
    y_hat = net.forward(x)
    J, dJdy_hat = (mlp.bce_loss if loss == "bce" else mlp.mse_loss)(y, y_hat)
    net.backward(dJdy_hat)
    return dict(y_hat=y_hat, J=J, dJdy_hat=dJdy_hat, **{f"dJd{k}": net.grads[f"dJd{k}"] for k in PARAM_NAMES})


def run_reference(params, f, g, x, y, loss, y_hat_ours=None):
    """Autograd's y_hat and parameter gradients for the same network.

    With ``y_hat_ours``, J and dJdy_hat are autograd's loss evaluated at *our* ŷ: near a saturated
    sigmoid the BCE gradient (ŷ − y)/(ŷ(1 − ŷ)) amplifies a last-bit difference in ŷ by 1/(1 − ŷ),
    so the loss is checked at the same input, and ŷ itself against autograd's separately.
    """
    P = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    criterion = nn.BCELoss() if loss == "bce" else nn.MSELoss()
    with torch.enable_grad():
        y_hat = TORCH_ACT[g](F.linear(TORCH_ACT[f](F.linear(x, P["W1"], P["b1"])), P["W2"], P["b2"]))
        y_hat.retain_grad()
        J = criterion(y_hat, y)
        J.backward()
        ref = dict(y_hat=y_hat.detach(), J=J.detach(), dJdy_hat=y_hat.grad,
                   **{f"dJd{k}": P[k].grad for k in PARAM_NAMES})
        if y_hat_ours is not None:
            leaf = y_hat_ours.detach().clone().requires_grad_(True)
            J_at_ours = criterion(leaf, y)
            J_at_ours.backward()
            ref.update(J=J_at_ours.detach(), dJdy_hat=leaf.grad)
    return ref


def assert_matches(ours, ref, dtype, what=""):
    """Element-wise |ours − ref| ≤ tol·(1 + |ref|) scaled by the tensor's size, same shape & dtype."""
    for key, r in ref.items():
        o = ours[key]
        assert isinstance(o, torch.Tensor), f"{what}{key}: not a tensor"
        assert o.shape == r.shape, f"{what}{key}: shape {tuple(o.shape)} != {tuple(r.shape)}"
        assert o.dtype == dtype, f"{what}{key}: dtype {o.dtype}, expected {dtype}"
        tol = TOL[dtype]
        scale = max(1.0, r.abs().max().item()) if r.numel() else 1.0
        torch.testing.assert_close(o, r, rtol=tol, atol=tol * scale, msg=lambda m: f"{what}{key}: {m}")


def cases():
    for f in F_NAMES:
        for g in G_NAMES:
            for loss in ("mse", "bce") if g == "sigmoid" else ("mse",):
                for shape in SHAPES:
                    yield pytest.param(f, g, loss, shape, id=f"{f}-{g}-{loss}-{shape[0]}")


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("f,g,loss,shape", list(cases()))
def test_matches_autograd(f, g, loss, shape, dtype):
    _, batch, n_in, n_hid, n_out = shape
    torch.manual_seed(zlib.crc32(f"{f}-{g}-{loss}-{shape[0]}".encode()))   # (hash() of str varies per run)
    net = make_net(f, g, n_in, n_hid, n_out, dtype)
    x = torch.randn(batch, n_in, dtype=dtype)
    y = torch.rand(batch, n_out, dtype=dtype) if loss == "bce" else torch.randn(batch, n_out, dtype=dtype)
    ours = run_ours(net, x, y, loss)
    ref = run_reference(net.parameters, f, g, x, y, loss, y_hat_ours=ours["y_hat"])
    assert_matches(ours, ref, dtype)


@pytest.mark.parametrize("f,g,loss", [("relu", "identity", "mse"), ("tanh", "sigmoid", "bce"),
                                      ("scaled_relu", "tanh", "mse"), ("gelu", "sigmoid", "mse"),
                                      ("softplus", "scaled_relu", "mse"), ("leaky_relu", "sigmoid", "bce")])
def test_matches_central_differences_float64(f, g, loss):
    """mlp.py's backward against finite differences of mlp.py's own forward + loss (no autograd)."""
    torch.manual_seed(7)
    net = make_net(f, g, 3, 4, 2, torch.float64)
    x = torch.randn(5, 3, dtype=torch.float64)
    y = torch.rand(5, 2, dtype=torch.float64) if loss == "bce" else torch.randn(5, 2, dtype=torch.float64)
    loss_fn = mlp.bce_loss if loss == "bce" else mlp.mse_loss
    ours = run_ours(net, x, y, loss)

    def J(W1, b1, W2, b2):
        probe = make_net(f, g, 3, 4, 2, torch.float64)
        probe.parameters = dict(W1=W1, b1=b1, W2=W2, b2=b2)
        return loss_fn(y, probe.forward(x))[0]

    fd = numerical_grad(J, *(net.parameters[k] for k in PARAM_NAMES))
    for k, g_fd in zip(PARAM_NAMES, fd):
        torch.testing.assert_close(ours[f"dJd{k}"], g_fd, rtol=1e-6, atol=1e-7, msg=lambda m: f"dJd{k}: {m}")


@pytest.mark.parametrize("scale", [1e-3, 3.0, 50.0])
def test_swapped_parameters_float64_and_scaled(scale):
    torch.manual_seed(11)
    net = mlp.MLP(4, 6, "tanh", 6, 3, "sigmoid")
    net.parameters = {k: v.double() * scale for k, v in net.parameters.items()}   # swap after construction
    x = torch.randn(7, 4, dtype=torch.float64)
    y = torch.rand(7, 3, dtype=torch.float64)
    ours = run_ours(net, x, y, "bce")
    ref = run_reference(net.parameters, "tanh", "sigmoid", x, y, "bce")
    assert_matches(ours, ref, torch.float64)
    net.clear_grad_and_cache()
    assert all(net.grads[f"dJd{k}"].dtype == torch.float64 for k in PARAM_NAMES)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_bce_at_exact_zero_and_one_equals_nn_bceloss(dtype):
    y_hat = torch.tensor([[0.0, 1.0, 0.0, 1.0], [0.25, 1e-30, 1 - 1e-7, 0.5]], dtype=dtype)
    y = torch.tensor([[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.5, 0.5]], dtype=dtype)
    J, dJdy_hat = mlp.bce_loss(y, y_hat)
    leaf = y_hat.clone().requires_grad_(True)
    J_ref = nn.BCELoss()(leaf, y)
    J_ref.backward()
    assert math.isfinite(J.item()) and torch.isfinite(dJdy_hat).all()
    # The -100 clamp: each of the two fully wrong entries contributes 100 (before the mean).
    assert J.item() >= 200 / 8
    torch.testing.assert_close(J, J_ref.detach(), rtol=1e-6, atol=0)
    torch.testing.assert_close(dJdy_hat, leaf.grad, rtol=1e-6, atol=0)
    # The fully wrong entries: (ŷ − y) / 1e-12 / N, about ±1.25e11 here.
    assert abs(dJdy_hat[0, 0].item()) > 1e10


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_saturated_sigmoid_network_bce(dtype):
    torch.manual_seed(5)
    net = make_net("relu", "sigmoid", 3, 8, 4, dtype)
    net.parameters["W2"] = net.parameters["W2"] * 1000
    net.parameters["b2"] = net.parameters["b2"] * 1000
    x = torch.randn(12, 3, dtype=dtype)
    y = torch.rand(12, 4, dtype=dtype)
    ours = run_ours(net, x, y, "bce")
    saturated = (ours["y_hat"] == 0) | (ours["y_hat"] == 1)
    assert saturated.sum() >= 10, "the case should contain outputs exactly 0 and 1"
    assert (ours["y_hat"] == 0).any() and (ours["y_hat"] == 1).any()
    ref = run_reference(net.parameters, "relu", "sigmoid", x, y, "bce")
    for k, r in ref.items():
        o = ours[k]
        assert torch.isfinite(o).all(), k
        # dJdy_hat reaches ~1e12/N where ŷ ∈ {0, 1}: compare relatively there.
        torch.testing.assert_close(o, r, rtol=1e-5, atol=1e-5 * max(1.0, r.abs().max().item()),
                                   msg=lambda m: f"{k}: {m}")


def test_works_under_no_grad_and_with_inputs_requiring_grad():
    torch.manual_seed(3)
    net = make_net("relu", "sigmoid", 4, 5, 2)
    x = torch.randn(6, 4)
    y = torch.rand(6, 2)
    ref = run_reference(net.parameters, "relu", "sigmoid", x, y, "bce")
    with torch.no_grad():
        ours = run_ours(net, x, y, "bce")
    assert_matches(ours, ref, torch.float32)
    # Inputs (and parameters) that require grad: still no autograd graph inside mlp.py.
    net.parameters = {k: v.clone().requires_grad_(True) for k, v in net.parameters.items()}
    x_rg = x.clone().requires_grad_(True)
    ours2 = run_ours(net, x_rg, y, "bce")
    for k, t in ours2.items():
        assert not t.requires_grad and t.grad_fn is None, f"{k} carries an autograd graph"
    assert_matches(ours2, ref, torch.float32)


def test_relu_derivative_at_zero_is_zero_like_pytorch():
    net = make_net("relu", "identity", 3, 4, 2, torch.float64)
    net.parameters["W1"] = torch.zeros(4, 3, dtype=torch.float64)
    net.parameters["b1"] = torch.zeros(4, dtype=torch.float64)      # every z1 is exactly 0
    x = torch.randn(5, 3, dtype=torch.float64)
    y = torch.randn(5, 2, dtype=torch.float64)
    ours = run_ours(net, x, y, "mse")
    ref = run_reference(net.parameters, "relu", "identity", x, y, "mse")
    assert ref["dJdW1"].abs().max() == 0 and ref["dJdb1"].abs().max() == 0
    assert_matches(ours, ref, torch.float64)


@pytest.mark.parametrize("f", ["scaled_relu", "5relu"])
def test_scaled_relu_has_slope_five(f):
    z = torch.tensor([[-2.0, 0.0, 0.5, 3.0]])
    act, act_backward = mlp.ACTIVATIONS[f]
    a = act(z)
    torch.testing.assert_close(a, torch.tensor([[0.0, 0.0, 2.5, 15.0]]))
    torch.testing.assert_close(act_backward(torch.ones_like(z), z, a), torch.tensor([[0.0, 0.0, 5.0, 5.0]]))


def test_parameters_and_grads_layout():
    net = mlp.MLP(3, 7, "relu", 7, 2, "identity")
    shapes = {k: tuple(v.shape) for k, v in net.parameters.items()}
    assert shapes == {"W1": (7, 3), "b1": (7,), "W2": (2, 7), "b2": (2,)}
    assert all(v.dtype == torch.float32 and v.std() > 0 for v in net.parameters.values())
    torch.manual_seed(0)
    run_ours(net, torch.randn(4, 3), torch.randn(4, 2), "mse")
    assert {k: tuple(v.shape) for k, v in net.grads.items()} == {
        "dJdW1": (7, 3), "dJdb1": (7,), "dJdW2": (2, 7), "dJdb2": (2,)}
    # nn.Linear takes them as they are (the grader's copy).
    lin = nn.Linear(3, 7)
    lin.weight.data = net.parameters["W1"]
    lin.bias.data = net.parameters["b1"]
    assert lin.weight.shape == net.grads["dJdW1"].shape and lin.bias.shape == net.grads["dJdb1"].shape


def test_constructor_keywords_and_positional_agree():
    torch.manual_seed(1)
    a = mlp.MLP(linear_1_in_features=2, linear_1_out_features=20, f_function="relu",
                linear_2_in_features=20, linear_2_out_features=5, g_function="identity")
    torch.manual_seed(1)
    b = mlp.MLP(2, 20, "relu", 20, 5, "identity")
    for k in PARAM_NAMES:
        assert torch.equal(a.parameters[k], b.parameters[k])
    # keywords in any order
    c = mlp.MLP(g_function="sigmoid", f_function="tanh", linear_2_out_features=1, linear_2_in_features=4,
                linear_1_out_features=4, linear_1_in_features=3)
    assert tuple(c.parameters["W2"].shape) == (1, 4) and c.g_function == "sigmoid"


def test_clear_grad_and_cache_zeroes_and_forgets():
    torch.manual_seed(2)
    net = make_net("sigmoid", "identity", 3, 4, 2)
    run_ours(net, torch.randn(5, 3), torch.randn(5, 2), "mse")
    assert any(g.abs().sum() > 0 for g in net.grads.values())
    assert net.cache
    net.clear_grad_and_cache()
    for k in PARAM_NAMES:
        g = net.grads[f"dJd{k}"]
        assert g.shape == net.parameters[k].shape and torch.count_nonzero(g) == 0
    assert net.cache == {}
    with pytest.raises(RuntimeError, match="before forward"):
        net.backward(torch.zeros(5, 2))


def test_backward_twice_gives_the_same_grads():
    """backward fills grads for this batch's J (it does not accumulate across calls)."""
    torch.manual_seed(4)
    net = make_net("tanh", "identity", 3, 4, 2, torch.float64)
    x, y = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, 2, dtype=torch.float64)
    net.forward(x)
    _, d = mlp.mse_loss(y, net.cache["y_hat"])
    net.backward(d)
    first = {k: v.clone() for k, v in net.grads.items()}
    net.backward(d)
    for k, v in first.items():
        assert torch.equal(net.grads[k], v)


@pytest.mark.parametrize("name", sorted(mlp.ACTIVATIONS))
def test_activation_backward_does_not_modify_its_inputs(name):
    """Backward functions may work in place on their own temporaries, never on their arguments."""
    torch.manual_seed(12)
    act, act_backward = mlp.ACTIVATIONS[name]
    z = torch.randn(6, 5, dtype=torch.float64)
    a = act(z)
    dJda = torch.randn(6, 5, dtype=torch.float64)
    before = [t.clone() for t in (dJda, z, a)]
    out = act_backward(dJda, z, a)
    for t, b in zip((dJda, z, a), before):
        assert torch.equal(t, b)
    assert out.shape == z.shape and out.dtype == torch.float64
    assert all(out.data_ptr() != t.data_ptr() for t in (z, a)) or name == "identity"
