"""Issue 15: the exercise checks made fair (each defect of the issue's list, one test each), the one
answer protocol, and the LaTeX hook (tested with a small fake reader, so these tests do not depend on
lab.latex's grammar; tests/lab/test_latex_*.py test the real one).

Each test here failed on the code before issue 15 (see the issue's "Why" list)."""
import math
import re
import sys
import types

import pytest
import sympy as sp
import torch
import torch.nn.functional as F

from lab import exercises as ex
from lab import mistakes

z, y = sp.symbols("z y")


def _key(v):
    return v.keys if len(v.keys) > 1 else v.key


# =============================================================================
# Correct answers that were rejected
# =============================================================================
def test_perceptron_loss_with_sign_is_accepted():
    """-(y - sign z)·z differentiates to a DiracDelta term, zero away from the kink."""
    v = ex.check_loss("perceptron", -(y - sp.sign(z)) * z, verbose=False)
    assert v.status == "correct", v.line


def test_perceptron_loss_with_heaviside_is_accepted():
    v = ex.check_loss("perceptron", sp.Max(0, -y * z) + 0 * sp.Heaviside(z), verbose=False)
    assert v.status == "correct", v.line


def _gelu_tanh_prime(t):
    c = math.sqrt(2 / math.pi)
    u = c * (t + 0.044715 * t ** 3)
    return 0.5 * (1 + torch.tanh(u)) + 0.5 * t * (1 - torch.tanh(u) ** 2) * c * (1 + 3 * 0.044715 * t ** 2)


def test_gelu_tanh_approximation_is_named():
    v = ex.check_derivatives(gelu=_gelu_tanh_prime, verbose=False)
    assert v.status == "wrong" and v.key == "gelu_tanh_approximation", v.line
    assert "tanh approximation" in v.line


# =============================================================================
# Wrong answers that were accepted: 06's layers modifying their inputs
# =============================================================================
def _relu_in_place(z):
    z[z < 0] = 0
    return z


def _relu_backward_in_place(dJda, z, a):
    dJda[z <= 0] = 0
    return dJda


def _linear_backward_clearing_its_input(dJdz, x, W):
    grads = dJdz @ W, dJdz.T @ x, dJdz.sum(0)
    dJdz.zero_()                                        # "used up": clears the caller's gradient
    return grads


@pytest.mark.parametrize("check, answer", [
    (ex.check_relu, _relu_in_place),
    (ex.check_relu_backward, _relu_backward_in_place),
    (ex.check_sigmoid, lambda z: z.sigmoid_()),
    (ex.check_linear_backward, _linear_backward_clearing_its_input),
])
def test_layer_modifying_its_input_is_caught(check, answer):
    v = check(answer, verbose=False)
    assert v.status == "wrong" and v.key == "inputs_modified_in_place", v.line


# =============================================================================
# Misdiagnoses
# =============================================================================
def test_no_size_is_two_where_a_factor_is_diagnosed():
    for sizes in ex.DRAW_SIZES + ex._LAYER_SIZES:
        assert len(set(sizes)) == 3 and 2 not in sizes, sizes
    assert 2 not in ex._OBJECTIVE_SIZES.values()


def test_mse_gradient_divided_by_N_only_is_factor_K():
    """Before: K = 2, so the missing 1/K read '2 × the reference'."""
    def mse(y, y_hat):
        return F.mse_loss(y_hat, y), 2 * (y_hat - y) / y.shape[0]
    v = ex.check_mse_loss(mse, verbose=False)
    assert v.key == "factor_K", v.line


def test_bias_gradient_averaged_is_its_own_mistake():
    v = ex.check_linear_backward(lambda G, x, W: (G @ W, G.T @ x, G.mean(0)), verbose=False)
    assert v.key == "bias_grad_averaged" and "divided by N twice" not in v.line, v.line


def test_half_convention_is_named():
    def mse_half(y, y_hat):
        return F.mse_loss(y_hat, y) / 2, (y_hat - y) / y.numel()
    v = ex.check_mse_loss(mse_half, verbose=False)
    assert v.key == "loss_half_convention", v.line

    def fw_half(x, y, W1, b1, W2, b2):
        z1 = W1 @ x + b1
        z2 = 5 * torch.relu(z1)
        z3 = W2 @ z2 + b2
        return z1, z2, z3, z3, ((z3 - y) ** 2).sum() / 2
    v = ex.check_forward(fw_half, verbose=False)
    assert v.key == "loss_half_convention", v.line


def test_bce_loss_without_minus_is_not_a_flipped_derivative():
    def bce_no_minus(y, y_hat):
        J = (y * torch.log(y_hat) + (1 - y) * torch.log(1 - y_hat)).mean()
        return J, (y_hat - y) / (y_hat * (1 - y_hat)) / y.numel()
    v = ex.check_bce_loss(bce_no_minus, verbose=False)
    assert v.key == "bce_minus_missing", v.line
    assert mistakes.get("bce_sign_flipped").name not in v.line


def test_logistic_loss_with_sign_and_scale_wrong_names_both():
    s = 1 / (1 + sp.exp(-z))
    t = (1 + y) / 2
    v = ex.check_loss("logistic", t * sp.log(s) + (1 - t) * sp.log(1 - s), verbose=False)   # no minus, σ(z)
    assert v.status == "wrong" and set(v.keys) == {"logit_scale_missing", "sign_flipped"}, v.line


def test_perceptron_without_hinge_and_sign_names_both():
    v = ex.check_loss("perceptron", y * z, verbose=False)
    assert set(v.keys) == {"perceptron_no_hinge", "sign_flipped"}, v.line


# =============================================================================
# Common slips now diagnosed
# =============================================================================
def _s(v):
    return torch.sigmoid(v.flatten())


JAC_13 = dict(dz2_dz1=lambda z1: torch.diag(1 - torch.tanh(z1.flatten()) ** 2),
              dyhat_dz3=lambda z3: torch.diag(_s(z3) * (1 - _s(z3))),
              dl_dyhat=lambda y_hat, y: 2 * (y_hat - y).T)


@pytest.mark.parametrize("change", [
    dict(dz2_dz1=lambda z1: torch.diag(1 - z1.flatten() ** 2)),                       # tanh′ as 1 − z²
    dict(dyhat_dz3=lambda z3: torch.diag(z3.flatten() * (1 - z3.flatten()))),        # σ′ as z(1 − z)
])
def test_output_form_at_the_input_is_named(change):
    v = ex.check_jacobians(**{**JAC_13, **change}, question="1.3a", verbose=False)
    assert v.key == "output_form_at_input", v.line


def test_sigmoid_backward_with_z_one_minus_z_is_named():
    v = ex.check_sigmoid_backward(lambda G, z, a: G * z * (1 - z), verbose=False)
    assert v.key == "output_form_at_input", v.line


def test_fused_bce_gradient_is_named():
    def bce_fused(y, y_hat):
        return F.binary_cross_entropy(y_hat, y), (y_hat - y) / y.numel()
    v = ex.check_bce_loss(bce_fused, verbose=False)
    assert v.key == "bce_fused_gradient", v.line
    v = ex.check_bce_gradient(dl_dyhat=lambda y_hat, y: (y_hat - y).T / y.shape[0], verbose=False)
    assert v.key == "bce_fused_gradient", v.line


def test_relu_backward_returning_the_mask_is_named():
    v = ex.check_relu_backward(lambda G, z, a: (z > 0).to(G.dtype), verbose=False)
    assert v.key == "local_derivative_only", v.line


def test_new_mistake_keys_are_in_the_catalogue():
    for key in ["gelu_tanh_approximation", "bias_grad_averaged", "bce_minus_missing", "output_form_at_input",
                "bce_fused_gradient", "local_derivative_only", "loss_half_convention", "inputs_modified_in_place"]:
        m = mistakes.get(key)
        assert m.key == key and m.name and m.hint


# =============================================================================
# Hints point the way without the answer (lab/mistakes.py ships in the student edition)
# =============================================================================
ANSWERS_IN_HINTS = ["is 5 where z > 0", "is I_h", "2σ(2z)", "logit is 2z", "σ(1 − σ)", "put the slopes on its diagonal",
                    "a term in y·z", "everything but the largest entry vanishes", "two edges from x",
                    "two outgoing edges", "He's weight gain is 2", "adds up the rows", "1×K row", "1 − a²",
                    "a translation or a ReLU does not", "without zero_grad() before it", "by f′(z) element-wise"]


@pytest.mark.parametrize("fragment", ANSWERS_IN_HINTS)
def test_no_hint_hands_over_the_answer(fragment):
    for m in mistakes.CATALOGUE.values():
        assert fragment not in m.hint, (m.key, m.hint)


# =============================================================================
# 1.3(c): one experiment, one story, no numbers in the verdict
# =============================================================================
def test_deep_gradients_verdict_prints_no_measured_numbers():
    for answer in ({"relu"}, {"tanh", "relu"}, {"sigmoid"}):
        v = ex.check_deep_gradients(answer, verbose=False)
        assert not re.search(r"\d\.\d|\de[-+]?\d|\d ?%", v.line), v.line        # no measured ratio


def test_deep_gradients_check_uses_the_notebooks_experiment(monkeypatch):
    """The check judges on exercises.deep_gradient_experiment, the function the notebook calls."""
    real = ex.deep_gradient_experiment()
    assert ex.keeps_scale(real) == {"relu"}                 # what the notebook's figure shows (seed 0)
    assert ex.check_deep_gradients({"relu"}, verbose=False).status == "correct"
    fake = {name: dict(signal=[1.0] * 19 + [1.0 if name == "tanh" else 1e3]) for name in ("sigmoid", "tanh", "relu")}
    monkeypatch.setattr(ex, "deep_gradient_experiment", lambda: fake)
    assert ex.check_deep_gradients({"tanh"}, verbose=False).status == "correct"
    assert ex.check_deep_gradients({"relu"}, verbose=False).status == "wrong"


# =============================================================================
# The protocol: written once
# =============================================================================
def test_protocol_is_written_once():
    source = open(ex.__file__, encoding="utf-8").read()
    assert source.count("except _NotAnswered") == 1                     # in _answer
    assert source.count('"not answered yet"') == 1                      # NOT_ANSWERED
    assert source.count('["sizes_dont_multiply"]') == 2                 # _answer, _size_confusion


def test_verdict_fields():
    v = ex.check_gradients(dl_db2=lambda dl_dyhat, dyhat_dz3: -(dl_dyhat @ dyhat_dz3), verbose=False)
    assert (v.status, v.key, v.reading) == ("wrong", "sign_flipped", None)
    assert v.mistake_key == "sign_flipped" and v.mistake_keys == ("sign_flipped",)
    assert set(ex.STATUSES) == {"correct", "wrong", "shape", "unanswered", "unread"}


def test_partly_answered_keeps_correct_so_far():
    v = ex.check_derivatives(relu=lambda t: (t > 0).to(t.dtype), verbose=False)
    assert v.status == "unanswered"
    assert v.line == "not answered yet: leaky_relu, softplus, gelu (correct so far: relu)"


def test_forward_values_as_keywords_alone_or_together():
    z1 = lambda x, W1, b1: W1 @ x + b1
    z2 = lambda z1: 5 * torch.relu(z1)
    z3 = lambda z2, W2, b2: W2 @ z2 + b2
    v = ex.check_forward(z2=z2, verbose=False)
    assert v.line == "not answered yet: z1, z3, y_hat, ell (correct so far: z2)"
    v = ex.check_forward(z1=z1, z2=z2, z3=z3, y_hat=lambda z3: z3, ell=lambda y_hat, y: ((y_hat - y) ** 2).sum(),
                         verbose=False)
    assert v.status == "correct", v.line
    v = ex.check_forward(z2=lambda z1: torch.relu(z1), verbose=False)
    assert v.key == "relu5_forward_missing_5", v.line
    with pytest.raises(TypeError, match="not both"):
        ex.check_forward(lambda x, y, W1, b1, W2, b2: None, z1=z1)


# =============================================================================
# The LaTeX hook, with a fake reader
# =============================================================================
class _FakeUnread(Exception):
    pass


class _FakeReading:
    def __init__(self, fn=None, expr=None, text=""):
        self.fn, self.expr, self.text = fn, expr, text

    def line(self):
        return f"read as: {self.text}"


FAKE_FORMULAS = {
    "x DL W2 J": lambda **v: v["x"] @ (v["dl_dyhat"] @ v["dyhat_dz3"] @ v["W2"] @ v["dz2_dz1"]),
    "(x DL W2 J)^T": lambda **v: (v["x"] @ (v["dl_dyhat"] @ v["dyhat_dz3"] @ v["W2"] @ v["dz2_dz1"])).T,
    "relu'": lambda z: (z > 0).to(z.dtype),
}


@pytest.fixture
def fake_latex(monkeypatch):
    calls = []

    def read(text, *, quantity, allowed, kind, dims):
        calls.append(dict(text=text, quantity=quantity, allowed=allowed, kind=kind, dims=dims))
        if "\\mathcal" in text:
            raise _FakeUnread("could not read `\\mathcal{D}` at column 3: write a variable the question allows")
        if kind == "sympy":
            return _FakeReading(expr=sp.sympify(text), text=text)
        return _FakeReading(fn=FAKE_FORMULAS[text], text=text)

    module = types.ModuleType("lab.latex")
    module.read, module.Unread = read, _FakeUnread
    monkeypatch.setitem(sys.modules, "lab.latex", module)
    return calls


def test_latex_answer_is_judged_like_code(fake_latex, capsys):
    v = ex.check_gradients(dl_dW1="x DL W2 J")
    assert v.status == "unanswered" and v.line.startswith("not answered yet: dl_db1, dl_dW2, dl_db2 (correct so far: dl_dW1)")
    assert v.reading == "read as: x DL W2 J" and v.line.endswith(" — read as: x DL W2 J")
    assert capsys.readouterr().out == v.line + "\n"
    call = fake_latex[0]
    assert call["quantity"] == "dl_dW1" and call["kind"] == "tensor"
    assert call["allowed"] == ex.VARIABLES["check_gradients"]["dl_dW1"]
    assert set(call["allowed"]) == set(ex._GRAD_ARGS)          # the names a code answer's parameters use
    assert call["dims"] == dict(zip("nhK", ex.DRAW_SIZES[0]))


def test_latex_mistake_gets_the_same_diagnosis(fake_latex):
    v = ex.check_gradients(dl_dW1="(x DL W2 J)^T", verbose=False)
    assert v.status == "wrong" and v.key == "transpose" and v.line.endswith("read as: (x DL W2 J)^T"), v.line


def test_unreadable_latex_is_unread_not_wrong(fake_latex):
    v = ex.check_gradients(dl_dW1=r"x \mathcal{D}", verbose=False)
    assert (v.status, v.key) == ("unread", None)
    assert v.line == "unread: dl_dW1: could not read `\\mathcal{D}` at column 3: write a variable the question allows"


def test_latex_sympy_and_elementwise_kinds(fake_latex):
    v = ex.check_loss("adaline", "(y - z)**2/2", verbose=False)
    assert v.status == "correct" and fake_latex[-1]["kind"] == "sympy" and fake_latex[-1]["quantity"] == "L"
    v = ex.check_derivatives(relu="relu'", verbose=False)
    assert v.status == "unanswered" and "correct so far: relu" in v.line
    assert fake_latex[-1]["kind"] == "elementwise"


def test_latex_without_a_reader_is_unread(monkeypatch):
    monkeypatch.setitem(sys.modules, "lab.latex", None)            # import fails
    v = ex.check_jacobians(dl_dyhat=r"2(\hat y - y)^T", verbose=False)
    assert v.status == "unread" and "lab.latex" in v.line


def test_every_formula_item_accepts_latex():
    """Issue 15 item 1's list: each check has its allowed-variables table."""
    for check, params in {"check_forward": ["z1", "z2", "z3", "y_hat", "ell"],
                          "check_gradients": ["dl_dW1", "dl_db1", "dl_dW2", "dl_db2"],
                          "check_jacobians": ["dz2_dz1", "dyhat_dz3", "dl_dyhat"],
                          "check_bce_gradient": ["dl_dyhat", "dl_dz3"], "check_loss": ["L"],
                          "check_softmax_limit": ["limit"],
                          "check_derivatives": ["relu", "leaky_relu", "softplus", "gelu"],
                          "check_objective": ["objective"], "check_linear": ["linear"], "check_relu": ["relu"],
                          "check_relu_backward": ["relu_backward"], "check_sigmoid": ["sigmoid"],
                          "check_sigmoid_backward": ["sigmoid_backward"]}.items():
        assert sorted(ex.FORMULAS[check]) == sorted(params), check
        for p in params:
            assert ex.FORMULAS[check][p]["kind"] in ("tensor", "elementwise", "sympy")


def test_an_answer_writing_into_its_arguments_leaves_the_kept_draws_alone():
    """The network draws are computed once and kept: the learner's code gets copies."""
    def vandal(dl_dyhat, dyhat_dz3):
        out = dl_dyhat @ dyhat_dz3
        dl_dyhat.zero_()
        return out
    assert ex.check_gradients(dl_db2=vandal, verbose=False).line.startswith("not answered yet: dl_dW1")
    v = ex.check_gradients(dl_db2=lambda dl_dyhat, dyhat_dz3: dl_dyhat @ dyhat_dz3, verbose=False)
    assert "correct so far: dl_db2" in v.line


def test_forward_given_as_one_latex_string_says_where_it_goes():
    v = ex.check_forward(r"z_1 = W^{(1)} x + b^{(1)}", verbose=False)
    assert v.status == "unread" and "check_forward(z1=" in v.line
