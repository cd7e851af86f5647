"""Bad input to mlp.py gives a clear error: the right exception type, and a message that names
what was wrong and what is allowed (or expected vs got).

One row of BAD_INPUTS per case; see test_case_count for how many there are.
"""
import math

import pytest
import torch

import mlp


def net(f="relu", g="identity", n_in=2, n_hid=20, n_out=5):
    torch.manual_seed(0)
    return mlp.MLP(n_in, n_hid, f, n_hid, n_out, g)


def forwarded(batch=10):
    n = net()
    n.forward(torch.randn(batch, 2))
    return n


def x_with(value, position=(3, 1)):
    x = torch.randn(10, 2)
    x[position] = value
    return x


ALLOWED = ["relu", "sigmoid", "identity", "tanh", "scaled_relu"]

# (id, action, exception type, substrings that the message must contain)
BAD_INPUTS = [
    # --- constructor
    ("unknown f name", lambda: mlp.MLP(2, 20, "relu6", 20, 5, "identity"), ValueError,
     ["f_function", "'relu6'", "allowed", *ALLOWED]),
    ("unknown g name", lambda: mlp.MLP(2, 20, "relu", 20, 5, "softmax"), ValueError,
     ["g_function", "'softmax'", "allowed", *ALLOWED]),
    ("activation not a string", lambda: mlp.MLP(2, 20, torch.relu, 20, 5, "identity"), ValueError,
     ["f_function", "allowed", "relu"]),
    ("name with wrong case", lambda: mlp.MLP(2, 20, "ReLU", 20, 5, "identity"), ValueError,
     ["'ReLU'", "allowed", "relu"]),
    ("hidden sizes disagree", lambda: mlp.MLP(2, 20, "relu", 10, 5, "identity"), ValueError,
     ["linear_1_out_features (20)", "linear_2_in_features (10)"]),
    ("size zero", lambda: mlp.MLP(0, 20, "relu", 20, 5, "identity"), ValueError,
     ["linear_1_in_features", "positive int", "0"]),
    ("size not an int", lambda: mlp.MLP(2, 20.0, "relu", 20, 5, "identity"), ValueError,
     ["linear_1_out_features", "positive int", "20.0"]),
    # --- forward
    ("x 1-D", lambda: net().forward(torch.randn(2)), ValueError, ["(batch, 2)", "got (2,)"]),
    ("x 3-D", lambda: net().forward(torch.randn(4, 10, 2)), ValueError, ["(batch, 2)", "got (4, 10, 2)"]),
    ("x wrong feature count", lambda: net().forward(torch.randn(10, 3)), ValueError, ["(batch, 2)", "got (10, 3)"]),
    ("x transposed", lambda: net().forward(torch.randn(2, 10)), ValueError, ["(batch, 2)", "got (2, 10)"]),
    ("x has NaN", lambda: net().forward(x_with(math.nan)), ValueError, ["x", "NaN or inf", "1 of 20"]),
    ("x has +inf", lambda: net().forward(x_with(math.inf)), ValueError, ["x", "NaN or inf", "1 of 20"]),
    ("x has -inf and NaN", lambda: net().forward(x_with(-math.inf, (3, 0)) * torch.tensor([1.0, math.nan])),
     ValueError, ["x", "NaN or inf", "11 of 20"]),     # -inf at (3, 0), the whole column 1 NaN
    ("x is a list", lambda: net().forward([[0.0, 1.0]]), TypeError, ["torch.Tensor", "(batch, 2)", "list"]),
    ("x is a numpy array", lambda: net().forward(torch.randn(3, 2).numpy()), TypeError,
     ["torch.Tensor", "ndarray"]),
    ("x float64, parameters float32", lambda: net().forward(torch.randn(3, 2, dtype=torch.float64)), TypeError,
     ["torch.float64", "torch.float32"]),
    ("x integer", lambda: net().forward(torch.ones(3, 2, dtype=torch.long)), TypeError,
     ["torch.int64", "torch.float32"]),
    # --- backward
    ("backward before forward", lambda: net().backward(torch.zeros(10, 5)), RuntimeError,
     ["before forward", "net.forward(x)"]),
    ("backward after clear_grad_and_cache", lambda: (lambda n: (n.clear_grad_and_cache(),
                                                                n.backward(torch.zeros(10, 5))))(forwarded()),
     RuntimeError, ["before forward"]),
    ("dJdy_hat wrong shape", lambda: forwarded().backward(torch.zeros(10, 4)), ValueError,
     ["shape of y_hat (10, 5)", "got (10, 4)"]),
    ("dJdy_hat transposed", lambda: forwarded().backward(torch.zeros(5, 10)), ValueError,
     ["(10, 5)", "got (5, 10)"]),
    ("dJdy_hat flattened", lambda: forwarded().backward(torch.zeros(50)), ValueError, ["(10, 5)", "got (50,)"]),
    ("dJdy_hat not a tensor", lambda: forwarded().backward(0.5), TypeError, ["torch.Tensor", "(10, 5)", "float"]),
    ("dJdy_hat float64 for float32 net", lambda: forwarded().backward(torch.zeros(10, 5, dtype=torch.float64)),
     TypeError, ["torch.float64", "torch.float32"]),
    # --- losses
    ("mse shapes differ", lambda: mlp.mse_loss(torch.zeros(10, 5), torch.zeros(10, 4)), ValueError,
     ["same shape", "(10, 5)", "(10, 4)", "target first"]),
    ("mse target transposed", lambda: mlp.mse_loss(torch.zeros(5, 10), torch.zeros(10, 5)), ValueError,
     ["same shape", "(5, 10)", "(10, 5)"]),
    ("mse would broadcast (10,1) vs (10,)", lambda: mlp.mse_loss(torch.zeros(10), torch.zeros(10, 1)), ValueError,
     ["same shape", "(10,)", "(10, 1)"]),
    ("bce shapes differ", lambda: mlp.bce_loss(torch.zeros(3, 1), torch.full((3, 2), 0.5)), ValueError,
     ["same shape", "(3, 1)", "(3, 2)"]),
    ("mse NaN in y", lambda: mlp.mse_loss(torch.tensor([[math.nan, 0.0]]), torch.zeros(1, 2)), ValueError,
     ["y contains NaN or inf"]),
    ("mse inf in y_hat", lambda: mlp.mse_loss(torch.zeros(1, 2), torch.tensor([[0.0, math.inf]])), ValueError,
     ["y_hat contains NaN or inf"]),
    ("bce NaN in y_hat", lambda: mlp.bce_loss(torch.zeros(1, 2), torch.tensor([[math.nan, 0.5]])), ValueError,
     ["y_hat contains NaN or inf"]),
    ("bce target above 1", lambda: mlp.bce_loss(torch.tensor([[0.0, 2.0]]), torch.full((1, 2), 0.5)), ValueError,
     ["bce_loss needs y in [0, 1]", "0 to 2"]),
    ("bce target below 0 (labels -1/+1)", lambda: mlp.bce_loss(torch.tensor([[-1.0, 1.0]]), torch.full((1, 2), 0.5)),
     ValueError, ["y in [0, 1]", "-1 to 1"]),
    ("bce prediction above 1 (logits passed)", lambda: mlp.bce_loss(torch.zeros(1, 2), torch.tensor([[0.2, 3.5]])),
     ValueError, ["y_hat in [0, 1]", "0.2 to 3.5"]),
    ("bce prediction below 0", lambda: mlp.bce_loss(torch.zeros(1, 2), torch.tensor([[-0.25, 0.5]])), ValueError,
     ["y_hat in [0, 1]", "-0.25 to 0.5"]),
    ("mse y is a list", lambda: mlp.mse_loss([[0.0]], torch.zeros(1, 1)), TypeError, ["y must be a torch.Tensor", "list"]),
    ("bce y_hat is a float", lambda: mlp.bce_loss(torch.zeros(1, 1), 0.5), TypeError,
     ["y_hat must be a torch.Tensor", "float"]),
]


@pytest.mark.parametrize("action,exc,parts", [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_gives_a_clear_error(action, exc, parts):
    with pytest.raises(exc) as info:
        action()
    message = str(info.value)
    missing = [p for p in parts if p not in message]
    assert not missing, f"message {message!r} lacks {missing}"


def test_case_count():
    assert len(BAD_INPUTS) == 38
    assert len({c[0] for c in BAD_INPUTS}) == len(BAD_INPUTS)


def test_allowed_names_in_message_are_exactly_the_accepted_ones():
    with pytest.raises(ValueError) as info:
        mlp.MLP(2, 20, "nope", 20, 5, "identity")
    listed = str(info.value).split("allowed: ")[1].split(", ")
    assert sorted(listed) == sorted(mlp.ACTIVATIONS)
    for name in listed:     # every name the message offers really works
        mlp.MLP(2, 3, name, 3, 1, name).forward(torch.randn(2, 2))


def test_large_finite_input_is_not_mistaken_for_inf():
    """The finiteness check's fast path (a sum) overflows here; the exact check must still accept it."""
    n = net(n_in=4)
    x = torch.full((10, 4), 3e38)            # finite in float32, but its sum is inf
    assert math.isinf(x.sum().item()) and torch.isfinite(x).all()
    y_hat = n.forward(x)
    assert y_hat.shape == (10, 5)
    J, _ = mlp.mse_loss(torch.full((10, 5), 3e38), torch.full((10, 5), 3e38))
    assert J.item() == 0.0


def test_errors_leave_the_network_usable():
    n = net()
    with pytest.raises(ValueError):
        n.forward(torch.randn(10, 3))
    y_hat = n.forward(torch.randn(10, 2))
    with pytest.raises(ValueError):
        n.backward(torch.zeros(10, 4))
    _, d = mlp.mse_loss(torch.zeros_like(y_hat), y_hat)
    n.backward(d)
    assert n.grads["dJdW1"].shape == (20, 2)
