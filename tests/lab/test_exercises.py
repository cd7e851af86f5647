"""lab.exercises: every worked answer passes its check, every catalogued wrong answer is named,
an unanswered exercise says so, and anything else gets a plain 'wrong' or the shape line.

The worked answers live here (and in the notebooks' solution cells), never in lab/exercises.py.
"""
import math

import pytest
import sympy as sp
import torch
import torch.nn.functional as F

import mlp
from lab import exercises as ex
from lab import mistakes

torch.set_default_dtype(torch.float32)   # the checks must not depend on the caller's default dtype


# =============================================================================
# Worked answers
# =============================================================================
def _K(v):
    return v.shape[0] if v.dim() == 2 and v.shape[1] == 1 else v.numel()


def fw_12(x, y, W1, b1, W2, b2):
    z1 = W1 @ x + b1
    z2 = 5 * torch.relu(z1)
    z3 = W2 @ z2 + b2
    return z1, z2, z3, z3, ((z3 - y) ** 2).sum()


def fw_13(x, y, W1, b1, W2, b2):
    z1 = W1 @ x + b1
    z2 = torch.tanh(z1)
    z3 = W2 @ z2 + b2
    y_hat = torch.sigmoid(z3)
    return z1, z2, z3, y_hat, ((y_hat - y) ** 2).sum()


def fw_13b(x, y, W1, b1, W2, b2):
    z1, z2, z3, y_hat, _ = fw_13(x, y, W1, b1, W2, b2)
    return z1, z2, z3, y_hat, -(y * torch.log(y_hat) + (1 - y) * torch.log(1 - y_hat)).mean()


GRADS = dict(
    dl_dW1=lambda x, W2, dl_dyhat, dz2_dz1, dyhat_dz3: x @ (dl_dyhat @ dyhat_dz3 @ W2 @ dz2_dz1),
    dl_db1=lambda W2, dl_dyhat, dz2_dz1, dyhat_dz3: dl_dyhat @ dyhat_dz3 @ W2 @ dz2_dz1,
    dl_dW2=lambda x, W1, b1, dl_dyhat, dyhat_dz3: 5 * torch.relu(W1 @ x + b1) @ (dl_dyhat @ dyhat_dz3),
    dl_db2=lambda dl_dyhat, dyhat_dz3: dl_dyhat @ dyhat_dz3,
)
GRADS_13 = {**GRADS, "dl_dW2": lambda x, W1, b1, dl_dyhat, dyhat_dz3: torch.tanh(W1 @ x + b1) @ (dl_dyhat @ dyhat_dz3)}
JAC_12 = dict(dz2_dz1=lambda z1: torch.diag(5.0 * (z1.flatten() > 0)),
              dyhat_dz3=lambda z3: torch.eye(z3.shape[0]),
              dl_dyhat=lambda y_hat, y: 2 * (y_hat - y).T)
_s = lambda v: torch.sigmoid(v.flatten())
JAC_13 = dict(dz2_dz1=lambda z1: torch.diag(1 - torch.tanh(z1.flatten()) ** 2),
              dyhat_dz3=lambda z3: torch.diag(_s(z3) * (1 - _s(z3))),
              dl_dyhat=lambda y_hat, y: 2 * (y_hat - y).T)
BCE = dict(dl_dyhat=lambda y_hat, y: ((y_hat - y) / (y_hat * (1 - y_hat))).T / _K(y),
           dl_dz3=lambda y_hat, y: (y_hat - y).T / _K(y))
z, y = sp.symbols("z y")
LOSSES = {"perceptron": sp.Max(0, -y * z), "adaline": (y - z) ** 2 / 2, "logistic": sp.log(sp.cosh(z)) - y * z}
OPS = {"m1": "*", "p1": "+", "p2": "+", "m2": "*", "m3": "*"}
EDGES = [("x", "m1"), ("y", "m1"), ("m1", "p1"), ("z", "p1"), ("p1", "a"), ("x", "p2"), ("x", "p2"),
         ("p2", "m2"), ("a", "m2"), ("m2", "b"), ("a", "m3"), ("b", "m3"), ("m3", "w")]
_phi = lambda v: torch.exp(-v * v / 2) / math.sqrt(2 * math.pi)
_Phi = lambda v: 0.5 * (1 + torch.erf(v / math.sqrt(2)))
DERIVS = dict(relu=lambda v: (v > 0).to(v.dtype), leaky_relu=lambda v: torch.where(v > 0, 1.0, 0.01).to(v.dtype),
              softplus=torch.sigmoid, gelu=lambda v: _Phi(v) + v * _phi(v))


def objective(F_, theta, D, Y):
    return sum(((F_(theta, x) - t) ** 2).sum() for x, t in zip(D, Y)) / len(D)


# One row per item: (id, the check called with an answer). Worked answers: all must be correct.
WORKED = [
    ("1.2a steps", lambda: ex.check_steps(["forward", "loss", "zero_grad", "backward", "step"])),
    ("1.2a steps, zero first", lambda: ex.check_steps(["zero_grad", "forward", "loss", "backward", "step"])),
    ("1.2a batch loss", lambda: ex.check_batch_loss(lambda yh, Y: ((yh - Y) ** 2).sum(dim=1).mean())),
    ("1.2a nn.MSELoss (a factor to note)", lambda: ex.check_batch_loss(lambda yh, Y: F.mse_loss(yh, Y))),
    ("1.2b", lambda: ex.check_forward(fw_12)),
    ("1.2c", lambda: ex.check_gradients(**GRADS)),
    ("1.2d", lambda: ex.check_jacobians(**JAC_12)),
    ("1.3a forward", lambda: ex.check_forward(fw_13, question="1.3a")),
    ("1.3a gradients", lambda: ex.check_gradients(**GRADS_13, question="1.3a")),
    ("1.3a", lambda: ex.check_jacobians(**JAC_13, question="1.3a")),
    ("1.3b forward", lambda: ex.check_forward(fw_13b, question="1.3b")),
    ("1.3b forward, F.binary_cross_entropy", lambda: ex.check_forward(
        lambda x, y, W1, b1, W2, b2: fw_13(x, y, W1, b1, W2, b2)[:4]
        + (F.binary_cross_entropy(fw_13(x, y, W1, b1, W2, b2)[3], y),), question="1.3b")),
    ("1.3b", lambda: ex.check_bce_gradient(**BCE)),
    ("1.3c", lambda: ex.check_deep_gradients({"relu"})),
    ("1.4 perceptron", lambda: ex.check_loss("perceptron", LOSSES["perceptron"])),
    ("1.4 perceptron |z| - yz", lambda: ex.check_loss("perceptron", sp.Abs(z) - y * z)),
    ("1.4 adaline", lambda: ex.check_loss("adaline", LOSSES["adaline"])),
    ("1.4 adaline, no 1/2", lambda: ex.check_loss("adaline", (y - z) ** 2)),
    ("1.4 logistic", lambda: ex.check_loss("logistic", LOSSES["logistic"])),
    ("1.4 logistic softplus", lambda: ex.check_loss("logistic", sp.log(1 + sp.exp(-2 * y * z)))),
    ("1.5a", lambda: ex.check_softmax_limit(lambda v: F.one_hot(v.argmax(), v.numel()).to(v.dtype))),
    ("1.5b", lambda: ex.check_graph(EDGES, OPS)),
    ("1.5c", lambda: ex.check_derivatives(**DERIVS)),
    ("1.5d kinds", lambda: ex.check_linear_kinds(["rotation", "reflection", "scaling", "shear"])),
    ("1.5d collapse", lambda: ex.check_collapse(lambda W1, b1, W2, b2, W3, b3: (W3 @ W2 @ W1, W3 @ (W2 @ b1 + b2) + b3))),
    ("1.5e", lambda: ex.check_objective(objective)),
    ("1.5e sum", lambda: ex.check_objective(lambda F_, th, D, Y: sum(((F_(th, x) - t) ** 2).sum() for x, t in zip(D, Y)))),
    ("mlp.py, whole network", lambda: ex.check_network(mlp)),
] + [(f"mlp.{name}", (lambda name=name: getattr(ex, f"check_{name}")(getattr(mlp, name))))
     for name in ["linear", "linear_backward", "relu", "relu_backward", "sigmoid", "sigmoid_backward",
                  "mse_loss", "bce_loss"]]


@pytest.mark.parametrize("call", [c for _, c in WORKED], ids=[i for i, _ in WORKED])
def test_worked_answer_is_correct(call, capsys):
    v = call()
    out = capsys.readouterr().out
    assert v.status == "correct", v.line
    assert out == v.line + "\n" and out.startswith("correct")


# =============================================================================
# Catalogued wrong answers: (id, call, expected key(s))
# =============================================================================
def _fw(change):
    def fw(x, y, W1, b1, W2, b2):
        z1 = W1 @ x + b1
        z2 = 5 * torch.relu(z1) if change != "no5" else torch.relu(z1)
        z3 = W2 @ z2 + b2
        ell = ((z3 - y) ** 2).sum() if change != "mean" else ((z3 - y) ** 2).mean()
        if change == "sqrt":
            ell = (z3 - y).norm()
        return (z1.T if change == "row" else z1), z2, z3, z3, ell
    return fw


def _fw13_sigmoid(x, y, W1, b1, W2, b2):
    z1 = W1 @ x + b1
    z2 = torch.sigmoid(z1)                                     # σ where f = tanh
    z3 = W2 @ z2 + b2
    return z1, z2, z3, torch.sigmoid(z3), ((torch.sigmoid(z3) - y) ** 2).sum()


def _fw13(f=torch.tanh, loss="sse"):
    """1.3's forward with the hidden activation ``f`` and a loss: 'sse', 'bce', 'bce_sum', 'bce_flipped'."""
    def fw(x, y, W1, b1, W2, b2):
        z1 = W1 @ x + b1
        z2 = f(z1)
        z3 = W2 @ z2 + b2
        y_hat = torch.sigmoid(z3)
        terms = y * torch.log(y_hat) + (1 - y) * torch.log(1 - y_hat)
        ell = {"sse": ((y_hat - y) ** 2).sum(), "bce": -terms.mean(), "bce_sum": -terms.sum(),
               "bce_flipped": terms.mean()}[loss]
        return z1, z2, z3, y_hat, ell
    return fw


def _g(**changes):
    return lambda: ex.check_gradients(**{**GRADS, **changes})


def _g13(f):
    """1.3(a)'s gradients with ``f`` in place of tanh where ∂ℓ/∂W⁽²⁾ needs the value z₂ = f(z₁)."""
    dW2 = lambda x, W1, b1, dl_dyhat, dyhat_dz3: f(W1 @ x + b1) @ (dl_dyhat @ dyhat_dz3)
    return lambda: ex.check_gradients(**{**GRADS_13, "dl_dW2": dW2}, question="1.3a")


def _j(question="1.2", **changes):
    base = JAC_12 if question == "1.2" else JAC_13
    return lambda: ex.check_jacobians(**{**base, **changes}, question=question)


relu_slope1 = lambda z1: torch.diag(1.0 * (z1.flatten() > 0))
sig_slope = lambda z1: torch.diag(_s(z1) * (1 - _s(z1)))
flipped_bce = lambda y_hat, y: ((y - y_hat) / (y_hat * (1 - y_hat))).T / _K(y)


def mse_no_mean(y, y_hat):
    return ((y_hat - y) ** 2).mean(), 2 * (y_hat - y)


def bce_flipped(y, y_hat):
    return F.binary_cross_entropy(y_hat, y), (y - y_hat) / (y_hat * (1 - y_hat)) / y_hat.numel()


def _patched_mlp(**functions):
    """A fresh copy of the project's mlp module with some functions replaced."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("mlp_patched_copy", mlp.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, fn in functions.items():
        setattr(module, name, fn)
    return module


def _starter_mlp():
    import importlib.util
    from pathlib import Path
    path = Path(mlp.__file__).parent / "student" / "mlp.py"
    spec = importlib.util.spec_from_file_location("mlp_starter_copy", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


t_ = (1 + y) / 2
s_ = 1 / (1 + sp.exp(-z))
th = sp.tanh(z)

CATALOGUED = [
    # 1.2(a)
    ("steps: no zero_grad", lambda: ex.check_steps(["forward", "loss", "backward", "step"]), "grad_not_zeroed"),
    ("steps: zero after backward", lambda: ex.check_steps(["forward", "loss", "backward", "zero_grad", "step"]),
     "zero_grad_after_backward"),
    ("steps: step before backward", lambda: ex.check_steps(["forward", "loss", "zero_grad", "step", "backward"]),
     "step_before_backward"),
    ("steps: loss before forward", lambda: ex.check_steps(["loss", "forward", "zero_grad", "backward", "step"]),
     "order_invalid"),
    ("batch loss: norm", lambda: ex.check_batch_loss(lambda yh, Y: (yh - Y).norm(dim=1).mean()), "norm_not_squared"),
    ("batch loss: sign", lambda: ex.check_batch_loss(lambda yh, Y: -((yh - Y) ** 2).sum(dim=1).mean()), "sign_flipped"),
    # 1.2(b)
    ("forward: 5 dropped (nb05 #1)", lambda: ex.check_forward(_fw("no5")), "relu5_forward_missing_5"),
    ("forward: mean for sum", lambda: ex.check_forward(_fw("mean")), "factor_1_over_K"),
    ("forward: norm not squared", lambda: ex.check_forward(_fw("sqrt")), "norm_not_squared"),
    ("forward: a row for a column", lambda: ex.check_forward(_fw("row")), "transpose"),
    ("forward 1.3: sigma for tanh (nb05 #2)", lambda: ex.check_forward(_fw13_sigmoid, question="1.3a"), "sigmoid_for_tanh"),
    ("forward 1.3: 5ReLU of 1.2 kept", lambda: ex.check_forward(_fw13(lambda v: 5 * torch.relu(v)), question="1.3a"),
     "kept_from_1_2"),
    # 1.3(a), gradients: the value z2 = f(z1) in dl/dW2 is the one place 1.3 changes
    ("dW2 1.3: sigma for tanh", _g13(torch.sigmoid), "sigmoid_for_tanh"),
    ("dW2 1.3: 5ReLU of 1.2 kept", _g13(lambda v: 5 * torch.relu(v)), "kept_from_1_2"),
    # 1.3(b), forward: the loss row
    ("forward 1.3b: squared error kept", lambda: ex.check_forward(_fw13(loss="sse"), question="1.3b"), "mse_kept_for_bce"),
    ("forward 1.3b: sum over K, no mean", lambda: ex.check_forward(_fw13(loss="bce_sum"), question="1.3b"), "factor_K"),
    ("forward 1.3b: BCE without its minus", lambda: ex.check_forward(_fw13(loss="bce_flipped"), question="1.3b"),
     "bce_minus_missing"),
    ("forward 1.3b: sigma for tanh", lambda: ex.check_forward(_fw13(torch.sigmoid, "bce"), question="1.3b"),
     "sigmoid_for_tanh"),
    # 1.2(c)
    ("dW2 denominator layout (nb05 #4)",
     _g(dl_dW2=lambda x, W1, b1, dl_dyhat, dyhat_dz3: (5 * torch.relu(W1 @ x + b1) @ (dl_dyhat @ dyhat_dz3)).T),
     "transpose"),
    ("dW2 without the 5", _g(dl_dW2=lambda x, W1, b1, dl_dyhat, dyhat_dz3: torch.relu(W1 @ x + b1) @ (dl_dyhat @ dyhat_dz3)),
     "relu5_forward_missing_5"),
    ("dW2 factors in a non-multiplying order (nb05 #6)",
     _g(dl_dW2=lambda x, W1, b1, dl_dyhat, dyhat_dz3: (dl_dyhat @ dyhat_dz3) @ (5 * torch.relu(W1 @ x + b1))),
     "sizes_dont_multiply"),
    ("dW1 with x on the right (nb05 #6)",
     _g(dl_dW1=lambda x, W2, dl_dyhat, dz2_dz1, dyhat_dz3: (dl_dyhat @ dyhat_dz3 @ W2 @ dz2_dz1) @ x),
     "sizes_dont_multiply"),
    ("db1 mixing layouts (nb05 #4)",
     _g(dl_db1=lambda W2, dl_dyhat, dz2_dz1, dyhat_dz3: (W2.T @ (dl_dyhat @ dyhat_dz3).T) @ dz2_dz1),
     "sizes_dont_multiply"),
    ("db1 with I_K (nb05 #5)",
     _g(dl_db1=lambda W2, dl_dyhat, dz2_dz1, dyhat_dz3: dl_dyhat @ dyhat_dz3 @ W2 @ dz2_dz1 @ torch.eye(W2.shape[0])),
     "wrong_identity_size"),
    ("db2 sign flipped", _g(dl_db2=lambda dl_dyhat, dyhat_dz3: -(dl_dyhat @ dyhat_dz3)), "sign_flipped"),
    ("db2 a mean for the sum", _g(dl_db2=lambda dl_dyhat, dyhat_dz3: dl_dyhat @ dyhat_dz3 / dl_dyhat.shape[1]),
     "factor_1_over_K"),
    # 1.2(d)
    ("5ReLU' as 1/0 (nb05 #1)", _j(dz2_dz1=relu_slope1), "relu5_slope_one"),
    ("diagonal as a vector", _j(dz2_dz1=lambda z1: 5.0 * (z1.flatten() > 0)), "diagonal_as_vector"),
    ("dl/dŷ as a column (nb05 #4)", _j(dl_dyhat=lambda y_hat, y: 2 * (y_hat - y)), "transpose"),
    ("dl/dŷ without the 2", _j(dl_dyhat=lambda y_hat, y: (y_hat - y).T), "factor_half"),
    ("dl/dŷ as a mean", _j(dl_dyhat=lambda y_hat, y: 2 * (y_hat - y).T / _K(y)), "factor_1_over_K"),
    ("dŷ/dz3 as I_h", _j(dyhat_dz3=lambda z3: torch.eye({5: 4, 4: 3, 3: 5}[z3.shape[0]])),
     "wrong_identity_size"),                    # h for each K of the three draws: (n, h, K) = (3, 4, 5), (5, 3, 4), (4, 5, 3)
    # 1.3(a)
    ("σ' where f = tanh (nb05 #2)", _j("1.3a", dz2_dz1=sig_slope), "sigmoid_for_tanh"),
    ("1.2's Jacobian kept", _j("1.3a", dz2_dz1=lambda z1: torch.diag(5.0 * (z1.flatten() > 0))), "kept_from_1_2"),
    ("1.2's I_K kept", _j("1.3a", dyhat_dz3=lambda z3: torch.eye(z3.shape[0])), "kept_from_1_2"),
    ("tanh' at the output", _j("1.3a", dz2_dz1=lambda z1: torch.diag(1 - torch.tanh(torch.tanh(z1.flatten())) ** 2)),
     "activation_derivative_of_output"),
    # 1.3(b)
    ("BCE sign flipped", lambda: ex.check_bce_gradient(dl_dyhat=flipped_bce), "bce_sign_flipped"),
    ("BCE 1/K missing (nb05 #3)", lambda: ex.check_bce_gradient(
        dl_dyhat=lambda y_hat, y: ((y_hat - y) / (y_hat * (1 - y_hat))).T), "factor_K"),
    ("BCE flipped, no 1/K, K×K (nb05 #3)", lambda: ex.check_bce_gradient(
        dl_dyhat=lambda y_hat, y: torch.diag(((y - y_hat) / (y_hat * (1 - y_hat))).flatten())),
     ("bce_sign_flipped", "factor_K", "row_as_diagonal")),
    ("dl/dz3 without 1/K", lambda: ex.check_bce_gradient(dl_dz3=lambda y_hat, y: (y_hat - y).T), "factor_K"),
    ("BCE: dl/dŷ of the squared error kept", lambda: ex.check_bce_gradient(dl_dyhat=lambda y_hat, y: 2 * (y_hat - y).T),
     "mse_kept_for_bce"),
    # 1.3(c)
    ("tanh at Xavier's scale kept too", lambda: ex.check_deep_gradients({"tanh", "relu"}), "per_layer_gain_misjudged"),
    # 1.4
    ("perceptron -yz", lambda: ex.check_loss("perceptron", -y * z), "perceptron_no_hinge"),
    ("perceptron sign", lambda: ex.check_loss("perceptron", y * z - sp.Abs(z)), "sign_flipped"),
    ("adaline gradient given", lambda: ex.check_loss("adaline", z - y), "gradient_given_not_loss"),
    ("logistic slip (nb05 #8)", lambda: ex.check_loss(
        "logistic", -(1 + th) * sp.log(1 + th) / 2 - (1 - th) * sp.log(1 - th) / 2), "label_lost_in_integration"),
    ("logistic with σ(z)", lambda: ex.check_loss("logistic", -(t_ * sp.log(s_) + (1 - t_) * sp.log(1 - s_))),
     "logit_scale_missing"),
    # 1.5
    ("softmax → max", lambda: ex.check_softmax_limit(lambda v: v.max()), "softmax_is_soft_max"),
    ("softmax → uniform", lambda: ex.check_softmax_limit(lambda v: torch.ones_like(v) / v.numel()),
     "temperature_limits_swapped"),
    ("graph: x+x with one edge", lambda: ex.check_graph([e for i, e in enumerate(EDGES) if i != 6], OPS),
     "double_edge_missing"),
    ("graph: a drawn twice", lambda: ex.check_graph(
        EDGES[:8] + [("x", "m4"), ("y", "m4"), ("m4", "p3"), ("z", "p3"), ("p3", "m2")] + EDGES[9:],
        {**OPS, "m4": "*", "p3": "+"}), "shared_node_duplicated"),
    ("GELU' without product rule", lambda: ex.check_derivatives(gelu=_Phi), "gelu_product_rule"),
    ("softplus itself", lambda: ex.check_derivatives(softplus=F.softplus), "function_not_derivative"),
    ("translation is linear?", lambda: ex.check_linear_kinds(["rotation", "translation", "scaling", "shear"]),
     "not_linear"),
    ("collapse in the wrong order", lambda: ex.check_collapse(
        lambda W1, b1, W2, b2, W3, b3: (W1 @ W2 @ W3, b3)), "sizes_dont_multiply"),
    ("objective maximised", lambda: ex.check_objective(lambda *a: -objective(*a)), "sign_flipped"),
    ("objective with norms", lambda: ex.check_objective(
        lambda F_, th, D, Y: sum((F_(th, x) - t).norm() for x, t in zip(D, Y))), "norm_not_squared"),
    # notebook 06
    ("linear_backward dJdW transposed", lambda: ex.check_linear_backward(lambda G, x, W: (G @ W, x.T @ G, G.sum(0))),
     "transpose"),
    ("linear_backward dJdb not summed", lambda: ex.check_linear_backward(lambda G, x, W: (G @ W, G.T @ x, G)),
     "bias_grad_not_summed"),
    ("linear_backward dJdb mean (issue 15: not 'divided by N twice')",
     lambda: ex.check_linear_backward(lambda G, x, W: (G @ W, G.T @ x, G.mean(0))), "bias_grad_averaged"),
    ("linear x @ W", lambda: ex.check_linear(lambda x, W, b: x @ W + b), "sizes_dont_multiply"),
    ("relu_backward passes dJda", lambda: ex.check_relu_backward(lambda G, z, a: G), "activation_derivative_missing"),
    ("sigmoid_backward σ'(a)", lambda: ex.check_sigmoid_backward(
        lambda G, z, a: G * torch.sigmoid(a) * (1 - torch.sigmoid(a))), "activation_derivative_of_output"),
    ("mse_loss no 1/(NK)", lambda: ex.check_mse_loss(mse_no_mean), "factor_NK"),
    ("bce_loss sign", lambda: ex.check_bce_loss(bce_flipped), "bce_sign_flipped"),
    ("network: mse without 1/(NK)", lambda: ex.check_network(_patched_mlp(mse_loss=mse_no_mean)), "factor_NK"),
    ("network: bce sign", lambda: ex.check_network(_patched_mlp(bce_loss=bce_flipped)), "bce_sign_flipped"),
]


@pytest.mark.parametrize("call, key", [(c, k) for _, c, k in CATALOGUED if k],
                         ids=[i for i, _, k in CATALOGUED if k])
def test_catalogued_mistake_is_named(call, key, capsys):
    v = call()
    out = capsys.readouterr().out
    keys = key if isinstance(key, tuple) else (key,)
    assert v.status == "wrong" and v.key == keys[0], v.line
    assert v.mistake_keys == keys, v.line
    assert v.mistake_key == keys[0]
    assert out == v.line + "\n" and out.startswith("wrong: ")
    for k in keys:                                  # the line carries each mistake's name and hint
        assert mistakes.get(k).name in out and mistakes.get(k).hint in out


def test_every_mistake_of_notebook_05_is_named():
    """The eight mistakes notebook 05 reproduces from written answers, each named by a check."""
    nb05 = {"relu5_slope_one", "relu5_forward_missing_5", "sigmoid_for_tanh", "bce_sign_flipped", "factor_K",
            "row_as_diagonal", "transpose", "sizes_dont_multiply", "wrong_identity_size", "factor_1_over_K",
            "label_lost_in_integration"}
    named = set()
    for _, _, key in CATALOGUED:
        if key:
            named.update(key if isinstance(key, tuple) else (key,))
    assert nb05 <= named, nb05 - named


# =============================================================================
# Not answered, generic wrong, wrong shape
# =============================================================================
def _raise_not_implemented(*args, **kwargs):
    raise NotImplementedError


UNANSWERED = [
    lambda: ex.check_steps(None), lambda: ex.check_batch_loss(None), lambda: ex.check_forward(None),
    lambda: ex.check_gradients(), lambda: ex.check_jacobians(), lambda: ex.check_jacobians(question="1.3a"),
    lambda: ex.check_bce_gradient(), lambda: ex.check_deep_gradients(None),
    lambda: ex.check_forward(None, question="1.3a"), lambda: ex.check_forward(None, question="1.3b"),
    lambda: ex.check_forward(lambda x, y, W1, b1, W2, b2: None, question="1.3b"),     # the exercise's stub
    lambda: ex.check_gradients(question="1.3a"),
    lambda: ex.check_gradients(lambda x, W2, dl_dyhat, dz2_dz1, dyhat_dz3: None, lambda W2, dl_dyhat, dz2_dz1: None,
                               lambda x, W1, b1, dl_dyhat, dyhat_dz3: None, lambda dl_dyhat, dyhat_dz3: None,
                               question="1.3a"),                                     # the exercise's stubs
    lambda: ex.check_loss("perceptron", None), lambda: ex.check_loss("adaline", None),
    lambda: ex.check_loss("logistic", None), lambda: ex.check_softmax_limit(None), lambda: ex.check_graph(None, None),
    lambda: ex.check_derivatives(), lambda: ex.check_linear_kinds(None), lambda: ex.check_collapse(None),
    lambda: ex.check_objective(None),
    lambda: ex.check_softmax_limit(lambda v: None),                      # a stub returning None
    lambda: ex.check_network(None),
    lambda: ex.check_network(_starter_mlp()),                            # the student edition's starter
] + [(lambda name=name: getattr(ex, f"check_{name}")(None)) for name in
     ["linear", "linear_backward", "relu", "relu_backward", "sigmoid", "sigmoid_backward", "mse_loss", "bce_loss"]] \
  + [(lambda name=name: getattr(ex, f"check_{name}")(_raise_not_implemented)) for name in
     ["linear", "linear_backward", "relu", "relu_backward", "sigmoid", "sigmoid_backward", "mse_loss", "bce_loss"]]


@pytest.mark.parametrize("call", UNANSWERED)
def test_unanswered_prints_not_answered_yet(call, capsys):
    v = call()
    assert v.status == "unanswered" and not v
    assert capsys.readouterr().out == "not answered yet\n"


def test_partly_answered_lists_what_is_left(capsys):
    v = ex.check_gradients(dl_db2=GRADS["dl_db2"])
    assert v.status == "unanswered"
    assert capsys.readouterr().out.startswith("not answered yet: dl_dW1, dl_db1, dl_dW2 (correct so far: dl_db2)")


GENERIC_WRONG = [
    lambda: ex.check_gradients(**{**GRADS, "dl_dW2": lambda x, W1, b1, dl_dyhat, dyhat_dz3:
                                  torch.relu(W1 @ x + b1) @ dl_dyhat + 1.0}),
    lambda: ex.check_jacobians(**{**JAC_12, "dl_dyhat": lambda y_hat, y: torch.randn(1, y.shape[0])}),
    lambda: ex.check_forward(lambda x, y, W1, b1, W2, b2: (W1 @ x, W1 @ x, W2 @ W1 @ x, W2 @ W1 @ x, (x ** 2).sum())),
    lambda: ex.check_loss("adaline", z ** 3 - y),
    lambda: ex.check_loss("perceptron", y * z ** 2),
    lambda: ex.check_softmax_limit(lambda v: torch.softmax(v, 0)),
    lambda: ex.check_graph([("x", "m3"), ("y", "m3"), ("m3", "w")], {"m3": "*"}),
    lambda: ex.check_derivatives(relu=lambda v: torch.sigmoid(v)),
    lambda: ex.check_collapse(lambda W1, b1, W2, b2, W3, b3: (W3 @ W2 @ W1 + 1, b3)),
    lambda: ex.check_objective(lambda F_, th, D, Y: (Y ** 2).sum()),
    lambda: ex.check_batch_loss(lambda yh, Y: (yh - Y).abs().mean()),
    lambda: ex.check_relu(torch.sigmoid),
    lambda: ex.check_mse_loss(lambda y, yh: (torch.tensor(0.0), yh)),
    lambda: ex.check_gradients(**{**GRADS, "dl_db1": lambda W2: 1 / 0}),     # raises: a verdict, not a crash
    lambda: ex.check_steps(["forward", "loss", "backward", "step", "jump"]),
    lambda: ex.check_linear_kinds(["rotation", "rotation", "scaling", "shear"]),
    lambda: ex.check_gradients(**{**GRADS, "dl_db1": lambda z1: z1.T}),     # a variable 1.2(c) does not allow
    lambda: ex.check_jacobians(dz2_dz1=lambda z1: z1[10]),                  # an IndexError is no size mistake
]


@pytest.mark.parametrize("call", GENERIC_WRONG)
def test_other_wrong_answers_get_a_plain_wrong(call, capsys):
    v = call()
    out = capsys.readouterr().out
    assert v.status == "wrong" and v.mistake_key is None, v.line
    assert out == v.line + "\n" and out.startswith("wrong: ")
    assert not any(m.name in out for m in mistakes.CATALOGUE.values())


SHAPES = [
    (lambda: ex.check_jacobians(**{**JAC_12, "dyhat_dz3": lambda z3: torch.eye(z3.shape[0] + 1)}), "(5, 5)", "(6, 6)"),
    (lambda: ex.check_gradients(**{**GRADS, "dl_db2": lambda dl_dyhat: dl_dyhat.flatten()}), "(1, 5)", "(5,)"),
    (lambda: ex.check_softmax_limit(lambda v: v.argmax()), "(5,)", "()"),
    (lambda: ex.check_linear(lambda x, W, b: (x @ W.T + b)[:, :1]), "(5, 4)", "(5, 1)"),
    (lambda: ex.check_objective(lambda F_, th, D, Y: Y), "()", "(6, 4)"),
    (lambda: ex.check_collapse(lambda W1, b1, W2, b2, W3, b3: ((W3 @ W2 @ W1).T, b3)), "(2, 3)", "(3, 2)"),
]


@pytest.mark.parametrize("call, want, got", SHAPES)
def test_wrong_shape_gets_the_shape_line(call, want, got, capsys):
    v = call()
    out = capsys.readouterr().out
    assert v.status == "shape", v.line
    assert out.startswith(f"wrong shape: expected {want}, got {got}") or \
        out.startswith(f"wrong shape: expected a scalar {want}, got {got}")


def test_kink_is_reported_separately(capsys):
    half = lambda v: torch.where(v > 0, 1.0, torch.where(v < 0, 0.0, 0.5)).to(v.dtype)
    v = ex.check_derivatives(**{**DERIVS, "relu": half})
    assert v.status == "correct" and "relu′(0) = 0.5 (PyTorch: 0)" in v.line
    v = ex.check_derivatives(**{**DERIVS, "relu": lambda t: torch.where(t == 0, 3.0, DERIVS["relu"](t))})
    assert v.status == "wrong" and "relu′(0) = 3, outside [0, 1]" in v.line


def test_constant_factors_are_reported():
    assert "step η/0.5" in ex.check_loss("perceptron", LOSSES["perceptron"], verbose=False).line
    assert "step η/2" in ex.check_loss("adaline", (y - z) ** 2, verbose=False).line
    assert "nn.MSELoss()" in ex.check_batch_loss(lambda yh, Y: F.mse_loss(yh, Y), verbose=False).line


def test_checks_leave_the_default_dtype_alone():
    ex.check_gradients(**GRADS, verbose=False)
    ex.check_gradients(**{**GRADS, "dl_db1": lambda W2: 1 / 0}, verbose=False)
    assert torch.get_default_dtype() == torch.float32


def test_wrong_calls_of_a_check_raise():
    with pytest.raises(ValueError, match="allowed: perceptron, adaline, logistic"):
        ex.check_loss("svm", z)
    with pytest.raises(ValueError, match="unknown question"):
        ex.check_jacobians(question="1.9")


def test_new_mistake_keys_are_in_the_catalogue():
    for key in ["relu5_forward_missing_5", "kept_from_1_2", "diagonal_as_vector", "row_as_diagonal",
                "norm_not_squared", "grad_not_zeroed", "label_lost_in_integration", "shared_node_duplicated",
                "mse_kept_for_bce"]:
        assert mistakes.get(key).key == key


def test_no_closed_form_in_the_check_library():
    """The checks compute the truth from forward definitions; the worked closed forms stay out."""
    source = open(ex.__file__, encoding="utf-8").read()
    for closed_form in ["y_hat - y) / (y_hat * (1 - y_hat)", "1 - torch.tanh(z1", "x @ (dl_dyhat",
                        "torch.diag(5", "log(sp.cosh", "(z1.flatten() > 0)", "W3 @ W2 @ W1"]:
        assert closed_form not in source, closed_form
