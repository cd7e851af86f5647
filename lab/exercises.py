"""Checks for the notebooks' exercises: the learner writes an answer as code or as LaTeX, a check
judges it.

Every check

* evaluates the answer **numerically** (on several random draws, with sizes n, h, K (and N) all
  different and none equal to 2, so that a transpose, an identity of the wrong size or a factor K
  cannot hide), never by comparing text;
* compares it with a truth computed **independently**, from the forward definition of the network
  (autograd, ``torch.func.jacrev``, sympy's ``diff``, a simulated training step), so reading this
  file does not give the closed-form answers away;
* prints ONE verdict line and returns a :class:`Verdict` (``status``, ``key``, ``line``, ``reading``):

  - ``not answered yet``              unanswered  (None, a stub returning None, NotImplementedError;
    a partly answered exercise: ``not answered yet: <parts left> (correct so far: <parts right>)``)
  - ``correct ...``                   correct
  - ``wrong: <mistake name> — <hint>`` wrong, ``key`` set (a mistake of :mod:`lab.mistakes`, found by
    building the value the answer would have with that mistake and comparing numbers)
  - ``wrong shape: expected (a, b), got (c, d) ...``   shape
  - ``wrong: <what differs>``         wrong, ``key`` None (anything else)
  - ``unread: <quantity>: <where and why>``   unread (a LaTeX answer lab.latex could not read: never
    a guess, never 'wrong')

The answer protocol is written once: :func:`_answer` calls the learner's code (not answered, raised,
a torch size error), :func:`_each_part` judges an exercise of several parts, :func:`_check` prints
and returns the verdict and reads LaTeX answers first. A check never raises on a wrong or absent
answer (Run All does not stop on an exercise); it raises only when the notebook calls it wrongly (an
unknown question name, say).

Answer forms. Jacobians and gradients are *functions* of the variables the question allows (the
check passes exactly the arguments the function names, and refuses a name the question does not
allow); losses of question 1.4 are sympy expressions in ``z`` and ``y``; derivatives are functions
of a tensor; the order of the training steps is a list of names from :data:`STEP_MENU`; the graph
of 1.5(b) is an edge list; 1.3(c) is a prediction the check verifies by running the notebook's
experiment (:func:`deep_gradient_experiment`).

LaTeX. Wherever the answer is a formula (:data:`FORMULAS` lists the checks, their answer
parameters, the kind of answer and the variables each may use, with their shapes), a Python ``str``
is read as LaTeX by ``lab.latex.read`` and the same check judges the reading; the verdict line ends
with how it was read (``— read as: …``).

Rule for constant factors. Where the question fixes the function (the loss ℓ = ‖ŷ − y‖², the
Jacobians, the layers of mlp.py), a constant factor is a mistake and is named (K ×, ½ ×, ...).
Where only the minimiser matters (a loss derived from an update rule, 1.4; the training objective,
1.5(e); the batch loss of 1.2(a)), any positive constant factor is accepted — gradient descent with
the learning rate divided by that factor takes the same steps — and the verdict says which factor
it found; a negative factor is named ``sign_flipped``.
"""
from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import itertools
import math
import re
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from lab import mistakes

__all__ = [
    "Verdict", "STEP_MENU", "LINEAR_MENU", "QUESTIONS",
    "check_steps", "check_batch_loss", "check_forward", "check_gradients", "check_jacobians",
    "check_bce_gradient", "check_deep_gradients", "check_loss", "check_softmax_limit",
    "check_graph", "check_derivatives", "check_linear_kinds", "check_collapse", "check_objective",
    "check_linear", "check_linear_backward", "check_relu", "check_relu_backward", "check_sigmoid",
    "check_sigmoid_backward", "check_mse_loss", "check_bce_loss", "check_network",
]

UNANSWERED, CORRECT, SHAPE, WRONG, UNREAD = "unanswered", "correct", "shape", "wrong", "unread"
MISTAKE = WRONG          # a catalogued mistake is a wrong answer whose ``key`` names it
STATUSES = (CORRECT, WRONG, SHAPE, UNANSWERED, UNREAD)
RTOL, ATOL = 1e-6, 1e-9


@dataclass(frozen=True)
class Verdict:
    """What a check decided.

    ``status`` is 'correct', 'wrong', 'shape', 'unanswered' or 'unread' (a LaTeX answer that could
    not be read: never a wrong verdict); ``key`` names the :mod:`lab.mistakes` entry when the
    answer is a catalogued mistake (``keys`` all of them when several combine); ``line`` is the
    printed line; ``reading`` says how a LaTeX answer was read (None for a code answer).
    Truthy only when correct."""

    status: str
    key: str | None
    line: str
    reading: str | None = None
    keys: tuple = field(default=())

    @property
    def mistake_key(self):          # the name notebook 05 and older callers use
        return self.key

    @property
    def mistake_keys(self):
        return self.keys

    def __bool__(self):
        return self.status == CORRECT

    def _ipython_display_(self):   # the check printed the line already: show nothing more
        pass


def _verdict(status, line, keys=()):
    """A verdict, not yet printed: the @_check wrapper prints it once."""
    keys = tuple(keys)
    return Verdict(status, keys[0] if keys else None, line, None, keys)


def _mistake_line(keys, where=""):
    ms = [mistakes.get(k) for k in keys]
    lead = f"{where}: " if where else ""
    return f"wrong: {lead}{' and '.join(m.name for m in ms)} — {'; '.join(m.hint for m in ms)}"


def _mistake(keys, where="", note=""):
    """The verdict for a catalogued mistake (or several combined)."""
    keys = tuple(keys)
    return _verdict(WRONG, _mistake_line(keys, where) + note, keys)


# =============================================================================
# The answer protocol: calling the learner's code, written once
# =============================================================================
class _NotAnswered(Exception):
    pass


class _Stop(Exception):
    """Ends a check early with a verdict (not answered, raised, sizes). Raised by :func:`_answer`
    and caught once, by :func:`_check`."""

    def __init__(self, verdict):
        super().__init__(verdict.line)
        self.verdict = verdict


NOT_ANSWERED = "not answered yet"


def _unanswered(left=(), done=()):
    """'not answered yet', or for a partly answered exercise what is left and what is right so far."""
    if not left or not done:
        return _verdict(UNANSWERED, NOT_ANSWERED)
    return _verdict(UNANSWERED, f"{NOT_ANSWERED}: {', '.join(left)} (correct so far: {', '.join(done)})")


class _Raised(Exception):
    """The learner's function raised; ``shape`` is True for a shape error of torch."""

    def __init__(self, err):
        super().__init__(str(err))
        self.err = err
        text = str(err)
        self.shape = (isinstance(err, RuntimeError)
                      and "dtype" not in text
                      and re.search(r"shape|size|dimension|broadcast", text, re.I) is not None)

    def describe(self):
        first = str(self.err).strip().splitlines()[0] if str(self.err).strip() else ""
        return f"{type(self.err).__name__}: {first}"[:160]


@contextlib.contextmanager
def _float64():
    """Learner code runs with float64 as the default dtype (torch.eye(K) then matches the data)."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def _call(fn, *args, **kwargs):
    """Run the learner's function; None or NotImplementedError means 'not answered yet'."""
    if fn is None:
        raise _NotAnswered
    try:
        with _float64(), torch.no_grad():
            out = fn(*args, **kwargs)
    except NotImplementedError:
        raise _NotAnswered from None
    except Exception as err:   # a learner's bug is a verdict, not a crash of the notebook
        raise _Raised(err) from None
    if out is None:
        raise _NotAnswered
    return out


def _answer(label, fn, *args, sizes=True, **kwargs):
    """The learner's answer called once, the one place that turns what can go wrong into a
    verdict: not answered (None, a stub returning None, NotImplementedError) stops the check with
    'not answered yet'; a torch size error with the ``sizes_dont_multiply`` mistake (when
    ``sizes`` is True; when it is a function of the error, with the verdict it returns); any other
    exception with 'wrong: <label> raised ...'."""
    try:
        return _call(fn, *args, **kwargs)
    except _NotAnswered:
        raise _Stop(_unanswered()) from None
    except _Raised as raised:
        if raised.shape and callable(sizes):
            raise _Stop(sizes(raised)) from None
        if raised.shape and sizes:
            raise _Stop(_mistake(["sizes_dont_multiply"], label, f" (torch: {raised.describe()})")) from None
        raise _Stop(_verdict(WRONG, f"wrong: {label} raised {raised.describe()}")) from None


def _check(fn):
    """Make a check: it prints its verdict once (unless ``verbose=False``) and returns it; a
    learner's answer that stops early (:class:`_Stop`) becomes that verdict; answers given as
    LaTeX strings are read first (:func:`_read_formulas`) and the reading joins the line."""
    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def check(*args, verbose=True, **kwargs):
        bound = sig.bind(*args, **kwargs)
        readings = []
        try:
            readings = _read_formulas(fn.__name__, bound)
            v = fn(*bound.args, **bound.kwargs)
        except _Stop as stop:
            v = stop.verdict
        if readings and v.status != UNREAD:
            reading = "; ".join(readings)
            v = Verdict(v.status, v.key, f"{v.line} — {reading}", reading, v.keys)
        if verbose:
            print(v.line)
        return v

    params = list(sig.parameters.values())
    params.append(inspect.Parameter("verbose", inspect.Parameter.KEYWORD_ONLY, default=True))
    check.__signature__ = sig.replace(parameters=params)
    return check


# =============================================================================
# Answers written in LaTeX: which variables each formula may use, read by lab.latex
# =============================================================================
_COL = {"x": ("n", 1), "y": ("K", 1), "W1": ("h", "n"), "b1": ("h", 1), "W2": ("K", "h"), "b2": ("K", 1)}
_NET_VALUES = {"z1": ("h", 1), "z2": ("h", 1), "z3": ("K", 1), "y_hat": ("K", 1)}
_JACOBIANS = {"dl_dyhat": (1, "K"), "dz2_dz1": ("h", "h"), "dyhat_dz3": ("K", "K")}
_GRAD_ALLOWED = {**_COL, **_JACOBIANS}
_LAYER = {"x": ("N", "n"), "W": ("h", "n"), "b": ("h",)}
_ACT_IN = {"dJda": ("N", "h"), "z": ("N", "h"), "a": ("N", "h")}


def _formula(kind, allowed):
    return {"kind": kind, "allowed": dict(allowed)}


# check name -> answer parameter -> {"kind": 'tensor' | 'elementwise' | 'sympy', "allowed": {name: shape}}.
# Shapes are written in the sizes n, h, K (the network of 1.2/1.3) and N (a batch); DIMS gives
# them for the first draw. The names are the ones a code answer's parameters use.
FORMULAS = {
    "check_forward": {
        "z1": _formula("tensor", _COL),
        "z2": _formula("tensor", {**_COL, "z1": _NET_VALUES["z1"]}),
        "z3": _formula("tensor", {**_COL, "z1": _NET_VALUES["z1"], "z2": _NET_VALUES["z2"]}),
        "y_hat": _formula("tensor", {**_COL, **{k: _NET_VALUES[k] for k in ("z1", "z2", "z3")}}),
        "ell": _formula("tensor", {**_COL, **_NET_VALUES}),
    },
    "check_gradients": {q: _formula("tensor", _GRAD_ALLOWED) for q in ("dl_dW1", "dl_db1", "dl_dW2", "dl_db2")},
    "check_jacobians": {"dz2_dz1": _formula("tensor", {"z1": ("h", 1), "z2": ("h", 1)}),
                        "dyhat_dz3": _formula("tensor", {"z3": ("K", 1), "y_hat": ("K", 1)}),
                        "dl_dyhat": _formula("tensor", {"y_hat": ("K", 1), "y": ("K", 1)})},
    "check_bce_gradient": {"dl_dyhat": _formula("tensor", {"y_hat": ("K", 1), "y": ("K", 1)}),
                           "dl_dz3": _formula("tensor", {"y_hat": ("K", 1), "y": ("K", 1)})},
    "check_loss": {"L": _formula("sympy", {"z": (), "y": ()})},
    "check_softmax_limit": {"limit": _formula("tensor", {"z": ("K",)})},
    "check_derivatives": {q: _formula("elementwise", {"z": ("N",)})
                          for q in ("relu", "leaky_relu", "softplus", "gelu")},
    "check_objective": {"objective": _formula("tensor", {"F": "function", "theta": "parameters",
                                                          "D": ("N", "n"), "Y": ("N", "K")})},
    "check_linear": {"linear": _formula("tensor", _LAYER)},
    "check_relu": {"relu": _formula("elementwise", {"z": ("N", "h")})},
    "check_sigmoid": {"sigmoid": _formula("elementwise", {"z": ("N", "h")})},
    "check_relu_backward": {"relu_backward": _formula("tensor", _ACT_IN)},
    "check_sigmoid_backward": {"sigmoid_backward": _formula("tensor", _ACT_IN)},
}
VARIABLES = {check: {q: f["allowed"] for q, f in formulas.items()} for check, formulas in FORMULAS.items()}


def _dims(check_name):
    """The sizes of the first draw of a check, for lab.latex to settle an ambiguous product."""
    if check_name in ("check_forward", "check_gradients", "check_jacobians", "check_bce_gradient"):
        n, h, K = DRAW_SIZES[0]
        return {"n": n, "h": h, "K": K}
    if check_name in ("check_linear", "check_relu", "check_sigmoid", "check_relu_backward",
                      "check_sigmoid_backward"):
        N, n, h = _LAYER_SIZES[0]
        return {"N": N, "n": n, "h": h}
    if check_name == "check_objective":
        return dict(_OBJECTIVE_SIZES)
    if check_name == "check_softmax_limit":
        return {"K": _SOFTMAX_SIZES[0]}
    return {}


def _as_function(reading, names):
    """A code answer made of a reading: called positionally (in ``names`` order) or by keyword."""
    def answer(*args, **kwargs):
        return reading.fn(**{**dict(zip(names, args)), **kwargs})
    return answer


def _read_formulas(check_name, bound):
    """Every LaTeX string among a check's answers read in place (into a function, or a sympy
    expression for kind 'sympy'); returns the reading lines. Stops the check with an 'unread'
    verdict when lab.latex cannot read one: never a guess, never 'wrong'."""
    formulas = FORMULAS.get(check_name, {})
    texts = {q: v for q, v in bound.arguments.items() if q in formulas and isinstance(v, str)}
    if not texts:
        return []
    try:
        latex = importlib.import_module("lab.latex")
    except ImportError as err:
        raise _Stop(_verdict(UNREAD, f"unread: a LaTeX answer needs lab.latex, which cannot be imported "
                                     f"({type(err).__name__}: {err})")) from None
    lines = []
    for q, text in texts.items():
        spec = formulas[q]
        try:
            reading = latex.read(text, quantity=q, allowed=spec["allowed"], kind=spec["kind"],
                                 dims=_dims(check_name))
        except latex.Unread as err:
            raise _Stop(_verdict(UNREAD, f"unread: {q}: {err}")) from None
        bound.arguments[q] = reading.expr if spec["kind"] == "sympy" else _as_function(reading, list(spec["allowed"]))
        line = reading.line()
        lines.append(line if len(texts) == 1 else f"{q} {line}")
    return lines


def _as_tensor(value):
    if isinstance(value, torch.Tensor):
        return value.detach().to(torch.float64)
    try:
        return torch.as_tensor(value, dtype=torch.float64)
    except Exception:
        return None


def _close(got, want):
    return mistakes.matches(got, want, rtol=RTOL, atol=ATOL)


def _shape(t):
    return tuple(t.shape)


# =============================================================================
# Diagnosis: which catalogued mistake (or combination) does the answer equal?
# =============================================================================
def _scaled(c):
    return lambda t: t * c


def _layout_group(truth):
    """Layout mistakes for a matrix/row/column answer."""
    t = torch.as_tensor(truth)
    group = []
    if t.dim() == 2:
        group.append(("transpose", lambda v: v.T))
        if t.shape[0] == 1 and t.shape[1] > 1:
            group.append(("row_as_diagonal", lambda v: torch.diag(v.flatten())))
    return group


def _factor_group(N=None, K=None):
    generic = mistakes.generic_variants(torch.ones(1), N=N, K=K)
    return [(key, _scaled(float(v.item()))) for key, v in generic.items() if key.startswith("factor_")]


def _variants(bases, groups):
    """All (keys, value) pairs: each base (truth or a context variant) combined with at most one
    transformation from each group. Fewer mistakes come first."""
    out = []
    for base_keys, base in bases:
        for choice in itertools.product(*[[None] + g for g in groups]):
            keys, value = list(base_keys), base
            for item in choice:
                if item is not None:
                    keys.append(item[0])
                    value = item[1](value)
            if keys:
                out.append((tuple(keys), value, 0 if base_keys else 1))
    # fewer mistakes first; for as many, a mistake of this context before a generic one
    out.sort(key=lambda kv: (len(kv[0]), kv[2]))
    return [(keys, value) for keys, value, _ in out]


def _matching(got, truth, variants):
    """Every key tuple whose variant ``got`` equals (variants equal to the truth are skipped)."""
    found = []
    for keys, value in variants:
        if _close(value, truth):
            continue
        if _close(got, value):
            found.append(keys)
    return found


def _diagnose_draws(per_draw):
    """``per_draw``: list of (ok, matching key tuples) for the draws where the answer was wrong.
    A mistake is named only when it explains every wrong draw."""
    common = None
    for keys in per_draw:
        common = list(keys) if common is None else [k for k in common if k in keys]
    return common[0] if common else None


# =============================================================================
# The network of questions 1.2 and 1.3, defined once; everything else is derived by autograd
# =============================================================================
def _five_relu(z):
    return 5 * torch.relu(z)


_ACT = {"5relu": _five_relu, "relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
        "identity": lambda z: z}


def _sse(y_hat, y):
    return ((y_hat - y) ** 2).sum()


def _bce(y_hat, y):
    return F.binary_cross_entropy(y_hat, y)          # the mean over the K outputs, as in 1.3(b)


_LOSS = {"sse": _sse, "bce": _bce}

# The derivative written for the activation's output (1 − a² for tanh, a(1 − a) for σ), fed the
# pre-activation z instead: the commonest slip in written answers to 1.3.
_OUTPUT_FORMS = {"tanh": lambda v: 1 - v * v, "sigmoid": lambda v: v * (1 - v)}

QUESTIONS = {
    "1.2": dict(f="5relu", g="identity", loss="sse"),
    "1.3a": dict(f="tanh", g="sigmoid", loss="sse"),
    "1.3b": dict(f="tanh", g="sigmoid", loss="bce"),
}
DRAW_SIZES = [(3, 4, 5), (5, 3, 4), (4, 5, 3)]            # (n, h, K): n ≠ h ≠ K ≠ n, none 2 (a factor K ≠ 2)
PROBE_SIZES = [(3, 4, 4), (4, 4, 2)]                      # h = K, then n = h: size confusions pass here


def _slope(f, z):
    """f′(z) element-wise for an element-wise f, by autograd."""
    return torch.func.grad(lambda t: f(t).sum())(z)


def _surrogate(value_fn, slope_fn):
    """An activation whose value is value_fn(z) but whose derivative is slope_fn(z)."""
    def act(z):
        zd = z.detach()
        return value_fn(zd) + slope_fn(zd) * (z - zd)
    return act


def _question(question):
    if question not in QUESTIONS:
        raise ValueError(f"unknown question {question!r}; allowed: {', '.join(QUESTIONS)}")
    return QUESTIONS[question]


def _net_variants(question):
    """(keys, f, g, loss, w2_input): the true network first, then the networks a catalogued mistake
    computes. ``w2_input`` (None for most) is the activation whose value a mistaken ∂ℓ/∂W⁽²⁾ uses
    for the input of Linear₂, everything else being the true network's."""
    spec = _question(question)
    f, g, loss = _ACT[spec["f"]], _ACT[spec["g"]], _LOSS[spec["loss"]]
    out = [((), f, g, loss)]
    if spec["f"] == "5relu":
        out.append((("relu5_slope_one",), _surrogate(f, lambda z: _slope(torch.relu, z)), g, loss))
        out.append((("relu5_forward_missing_5",), torch.relu, g, loss))
    if spec["f"] in _OUTPUT_FORMS:             # 1 − z² for tanh′: the output's form fed the input
        out.append((("output_form_at_input",), _surrogate(f, _OUTPUT_FORMS[spec["f"]]), g, loss))
    if spec["g"] in _OUTPUT_FORMS:
        out.append((("output_form_at_input",), f, _surrogate(g, _OUTPUT_FORMS[spec["g"]]), loss))
    if spec["f"] == "tanh":
        out.append((("sigmoid_for_tanh",), torch.sigmoid, g, loss))
        out.append((("sigmoid_for_tanh",), _surrogate(f, lambda z: _slope(torch.sigmoid, z)), g, loss))
        out.append((("sigmoid_for_tanh",), f, g, loss, torch.sigmoid))
    out.append((("activation_derivative_of_output",), _surrogate(f, lambda z: _slope(f, f(z))), g, loss))
    if spec["g"] != "identity":
        out.append((("activation_derivative_of_output",), f, _surrogate(g, lambda z: _slope(g, g(z))), loss))
    if spec["loss"] == "bce":
        out.append((("bce_sign_flipped",), f, g, lambda y_hat, y: -loss(y_hat, y)))
        out.append((("mse_kept_for_bce",), f, g, _sse))
    if question != "1.2":
        old = QUESTIONS["1.2"]
        f12, g12 = _ACT[old["f"]], _ACT[old["g"]]
        out += [(("kept_from_1_2",), f12, g, loss), (("kept_from_1_2",), f, g12, loss),
                (("kept_from_1_2",), f12, g12, loss), (("kept_from_1_2",), f, g, loss, f12)]
    return [v if len(v) == 5 else v + (None,) for v in out]


def _draw(question, sizes, seed):
    """Random data and parameters (column vectors) with active and inactive hidden units."""
    spec = _question(question)
    n, h, K = sizes
    gen = torch.Generator().manual_seed(seed)
    for _ in range(100):
        r = lambda *s: torch.randn(*s, generator=gen, dtype=torch.float64)
        W1, b1, W2, b2, x = r(h, n), r(h, 1), r(K, h), r(K, 1), r(n, 1)
        active = (W1 @ x + b1) > 0
        if 0 < int(active.sum()) < h:                    # some hidden units on, some off
            break
    if spec["loss"] == "bce":
        y = torch.randint(0, 2, (K, 1), generator=gen).to(torch.float64)
    else:
        y = torch.randn(K, 1, generator=gen, dtype=torch.float64)
    return dict(x=x, y=y, W1=W1, b1=b1, W2=W2, b2=b2)


def _quantities(d, f, g, loss, w2_input=None):
    """Forward values, the three Jacobians and the four gradients (numerator layout) of one
    network on one draw — all from the forward definition, by autograd. With ``w2_input``, the
    values are the true ones but the gradient with respect to W⁽²⁾ takes w2_input(z1) as the input
    of Linear₂ (a term that is zero in value and only changes that derivative)."""
    x, y, W1, b1, W2, b2 = (d[k] for k in ("x", "y", "W1", "b1", "W2", "b2"))

    def forward(W1, b1, W2, b2):
        z1 = F.linear(x.T, W1, b1.T).T
        z2 = f(z1)
        z3 = F.linear(z2.T, W2, b2.T).T
        if w2_input is not None:
            z3 = z3 + (W2 - W2.detach()) @ (w2_input(z1) - z2).detach()
        y_hat = g(z3)
        return z1, z2, z3, y_hat

    z1, z2, z3, y_hat = forward(W1, b1, W2, b2)
    ell = loss(y_hat, y)
    grads = torch.func.grad(lambda *p: loss(forward(*p)[3], y), argnums=(0, 1, 2, 3))(W1, b1, W2, b2)
    K = y.shape[0]
    J_f = torch.func.jacrev(f)(z1.flatten())
    J_g = torch.func.jacrev(g)(z3.flatten())
    J_l = torch.func.jacrev(lambda v: loss(v.reshape(-1, 1), y))(y_hat.flatten()).reshape(1, K)
    q = dict(z1=z1, z2=z2, z3=z3, y_hat=y_hat, ell=ell.reshape(()),
             dz2_dz1=J_f, dyhat_dz3=J_g, dl_dyhat=J_l,
             dl_dz3=torch.func.jacrev(lambda v: loss(g(v.reshape(-1, 1)), y))(z3.flatten()).reshape(1, K),
             dl_dW1=grads[0].T, dl_db1=grads[1].T, dl_dW2=grads[2].T, dl_db2=grads[3].T)
    return {k: v.detach() for k, v in q.items()}


def _sizes_note(sizes):
    n, h, K = sizes
    return f"(n, h, K) = ({n}, {h}, {K})"


def _copies(values, names):
    """Copies of the values a learner's function receives: the draws are computed once and kept
    (:func:`_network_draws`), so an answer that writes into its arguments must not change them."""
    return {k: values[k].clone() if isinstance(values[k], torch.Tensor) else values[k] for k in names}


def _arguments(fn, allowed, values):
    """The keyword arguments the learner's function asks for, all of them allowed."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return _copies(values, allowed)
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return _copies(values, allowed)
    names = [p.name for p in params.values() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    bad = [nm for nm in names if nm not in allowed]
    if bad:
        raise ValueError(f"uses {', '.join(bad)}, which the question does not allow; "
                         f"name your arguments from: {', '.join(allowed)}")
    return _copies(values, names)


def _judge_parts(parts, draws, question):
    """Judge several named answer functions over the draws.

    ``parts``: list of (label, fn, allowed argument names, quantity key). ``draws``: list of
    (sizes, learner-visible values, {keys: quantities of each net variant}). Returns a Verdict
    (unprinted)."""
    verdict = _each_part([(label, fn) for label, fn, _, _ in parts],
                         {label: (lambda fn, a=allowed, k=key, lb=label: _judge_one(lb, fn, a, k, draws, question))
                          for label, _, allowed, key in parts})
    if verdict is not None:                     # (a Verdict is falsy unless correct: test for None)
        return verdict
    return _verdict(CORRECT, f"correct: {', '.join(p[0] for p in parts)} agree with autograd on {len(draws)} "
                             "random draws (sizes n, h, K all different)")


def _each_part(parts, judges):
    """An exercise of several parts, each answer judged by ``judges[label](answer)``: the first part
    that is wrong gives the verdict; else, when some part is not answered, 'not answered yet: <the
    parts left> (correct so far: <the others>)'; None when every part is correct."""
    left, done = [], []
    for label, fn in parts:
        if fn is None:
            left.append(label)
            continue
        try:
            v = judges[label](fn)
        except _Stop as stop:
            if stop.verdict.status != UNANSWERED:
                raise
            left.append(label)
            continue
        if v.status != CORRECT:
            return v
        done.append(label)
    if left:
        return _unanswered([p[0] for p in parts if p[0] in left], done)
    return None


def _judge_one(label, fn, allowed, key, draws, question):
    """One answer function over the draws: correct, a catalogued mistake, a shape or a plain wrong."""
    results = []
    for sizes, values, nets in draws:
        try:
            kwargs = _arguments(fn, allowed, values)
        except ValueError as err:                          # a forbidden argument name
            return _verdict(WRONG, f"wrong: {label} {err}")
        got = _answer(label, fn, sizes=lambda raised: _size_confusion(label, fn, allowed, key, question, raised),
                      **kwargs)
        results.append((sizes, got, nets))
    return _judge_values(label, key, results, question)


def _judge_values(label, key, results, question):
    """The values an answer gave on the draws, ``results`` = [(sizes, value, nets)], judged against
    the true network's ``key``: correct, a mistake that explains every wrong draw, a shape, or wrong."""
    wrong_draws = []
    for sizes, got, nets in results:
        got_t = _as_tensor(got)
        truth = nets[0][1][key]
        if got_t is None:
            return _verdict(WRONG, f"wrong: {label} is a {type(got).__name__}, not a tensor")
        if key == "ell" and got_t.numel() == 1:
            got_t = got_t.reshape(())
        if _close(got_t, truth):
            continue
        wrong_draws.append((sizes, got_t, truth, nets))
    if not wrong_draws:
        return _verdict(CORRECT, "")
    extra = []
    if key == "ell" and _question(question)["loss"] == "sse":
        extra = [("norm_not_squared", lambda v: v.sqrt())]
    per_draw = []
    for sizes, got_t, truth, nets in wrong_draws:
        bases = [(k, q[key]) for k, q in nets]
        if truth.dim() == 2 and truth.shape[0] == truth.shape[1] and _close(truth, torch.eye(truth.shape[0])):
            m = truth.shape[0]
            bases += [(("wrong_identity_size",), torch.eye(s, dtype=truth.dtype)) for s in sorted(set(sizes)) if s != m]
        if key == "dl_dyhat" and _question(question)["loss"] == "bce":    # ∂ℓ/∂z₃ given for ∂ℓ/∂ŷ
            bases.append((("bce_fused_gradient",), nets[0][1]["dl_dz3"]))
        if _question(question)["f"] == "5relu":         # a 5 lost on paper, with the given Jacobians
            lost = {"dl_dW2": "relu5_forward_missing_5", "dl_dW1": "relu5_slope_one", "dl_db1": "relu5_slope_one"}
            if key in lost:
                bases.append(((lost[key],), truth / 5))
        K = sizes[2]
        groups = [[("sign_flipped", lambda v: -v)], _factor_group(K=K) + extra, _layout_group(truth)]
        if key in ("dz2_dz1", "dyhat_dz3"):
            groups[2] = groups[2] + [("diagonal_as_vector", lambda v: torch.diagonal(v)),
                                     ("diagonal_as_vector", lambda v: torch.diagonal(v).reshape(-1, 1)),
                                     ("diagonal_as_vector", lambda v: torch.diagonal(v).reshape(1, -1))]
        per_draw.append(_matching(got_t, truth, _variants(bases, groups)))
    keys = _diagnose_draws(per_draw)
    sizes, got_t, truth, _ = wrong_draws[0]
    if keys:
        return _mistake(_renamed(keys, key), label)
    if _shape(got_t) != _shape(truth):
        return _verdict(SHAPE, f"wrong shape: expected {_shape(truth)}, got {_shape(got_t)} for {label}, "
                               f"{_sizes_note(sizes)}")
    return _verdict(WRONG, f"wrong: {label} {_differs(got_t, truth)}, {_sizes_note(sizes)}")


# A mistake of the network named for the quantity it shows in: a BCE whose every derivative has
# the wrong sign is, in the loss's own value, a BCE that lost its minus sign; a ½ in front of the
# loss is the ½ convention where the value of the loss is asked for.
_VALUE_NAMES = {"ell": {"bce_sign_flipped": "bce_minus_missing", "factor_half": "loss_half_convention"},
                "J": {"bce_sign_flipped": "bce_minus_missing", "factor_half": "loss_half_convention"}}


def _renamed(keys, quantity):
    names = _VALUE_NAMES.get(quantity, {})
    return tuple(names.get(k, k) for k in keys)


def _differs(got, truth):
    err = (got - truth).abs().max().item()
    scale = truth.abs().max().item()
    return f"differs from autograd (max |Δ| {err:.2g}, largest entry {scale:.2g})"


def _size_confusion(label, fn, allowed, key, question, raised):
    """The answer's product fails on the sizes. If it runs and is right when h = K (or n = h), it
    confused two sizes (typically I_K for I_h); otherwise its factors don't multiply."""
    for i, sizes in enumerate(PROBE_SIZES):
        d = _draw(question, sizes, seed=900 + i)
        spec = _question(question)
        q = _quantities(d, _ACT[spec["f"]], _ACT[spec["g"]], _LOSS[spec["loss"]])
        try:
            got = _as_tensor(_call(fn, **_arguments(fn, allowed, {**d, **q})))
        except (_Raised, _NotAnswered):
            continue
        if got is not None and _close(got, q[key]):
            return _mistake(["wrong_identity_size"], label)
    return _mistake(["sizes_dont_multiply"], label, f" (torch: {raised.describe()})")


@functools.lru_cache(maxsize=None)
def _network_draws(question, visible):
    """Per draw: the sizes, the values the learner's function may ask for (the data, the parameters
    and the ``visible`` true quantities), and [(keys, quantities)] for the true network (keys ())
    and each mistaken one. Seeded, so computed once per question (a write-up judged equation by
    equation asks for the same draws many times); the learner's code only ever sees copies."""
    draws = []
    for i, sizes in enumerate(DRAW_SIZES):
        d = _draw(question, sizes, seed=100 + i)
        nets = []
        for keys, f, g, loss, w2_input in _net_variants(question):
            try:
                nets.append((keys, _quantities(d, f, g, loss, w2_input)))
            except RuntimeError:         # e.g. BCE of an identity output outside [0, 1]: no such variant
                if not keys:
                    raise
        values = {**d, **{k: nets[0][1][k] for k in visible}}
        draws.append((sizes, values, nets))
    return draws


# =============================================================================
# 1.2(a): the five steps, and the batch loss
# =============================================================================
def _menu_answer(answer, menu, what):
    """The list of names from ``menu``; stops the check when it is not answered yet, not a list of
    names, or holds a name that is not on the menu."""
    if answer is None:
        raise _Stop(_unanswered())
    if isinstance(answer, str) or not all(isinstance(a, str) for a in answer):
        raise _Stop(_verdict(WRONG, f"wrong: give a list of {what} from {list(menu)}"))
    unknown = [a for a in answer if a not in menu]
    if unknown:
        raise _Stop(_verdict(WRONG, f"wrong: {unknown[0]!r} is not on the menu {list(menu)}"))
    return list(answer)


STEP_MENU = ("backward", "forward", "loss", "step", "zero_grad")    # alphabetical: the menu must not be the answer


@_check
def check_steps(order):
    """1.2(a): ``order`` lists the five step names of :data:`STEP_MENU` in the order you run them.
    The check runs that order on a small model whose ``.grad`` still holds a gradient from an
    earlier batch, and compares the parameters with one SGD step θ − η∇L(θ)."""
    order = _menu_answer(order, STEP_MENU, "step names")
    missing = [s for s in STEP_MENU if s not in order and s != "zero_grad"]
    if missing:
        return _verdict(WRONG, f"wrong: {', '.join(repr(s) for s in missing)} missing: five steps, each once")
    twice = sorted({s for s in order if order.count(s) > 1})
    if twice:
        return _verdict(WRONG, f"wrong: {', '.join(repr(s) for s in twice)} more than once: five steps, each once")

    gen = torch.Generator().manual_seed(12)
    n, h, K, B, eta = 3, 4, 2, 6, 0.1
    r = lambda *s: torch.randn(*s, generator=gen, dtype=torch.float64)
    X, Y = r(B, n), r(B, K)
    theta0 = [r(h, n), r(h), r(K, h), r(K)]
    stale = [r(*p.shape) for p in theta0]

    def batch_loss(W1, b1, W2, b2):
        y_hat = F.linear(_five_relu(F.linear(X, W1, b1)), W2, b2)
        return F.mse_loss(y_hat, Y, reduction="sum") / B

    grad = torch.func.grad(batch_loss, argnums=(0, 1, 2, 3))(*theta0)
    want = torch.cat([(p - eta * g).flatten() for p, g in zip(theta0, grad)])

    params = [p.clone().requires_grad_(True) for p in theta0]
    for p, s in zip(params, stale):
        p.grad = s.clone()
    opt = torch.optim.SGD(params, lr=eta)
    state = {}

    class _Order(Exception):
        pass

    try:
        with torch.enable_grad():
            for s in order:
                if s == "forward":
                    state["y_hat"] = F.linear(_five_relu(F.linear(X, params[0], params[1])), params[2], params[3])
                elif s == "loss":
                    if "y_hat" not in state:
                        raise _Order("'loss' needs ŷ, which 'forward' computes")
                    state["loss"] = F.mse_loss(state["y_hat"], Y, reduction="sum") / B
                elif s == "backward":
                    if "loss" not in state:
                        raise _Order("'backward' needs the loss, which 'loss' computes")
                    state["loss"].backward()
                elif s == "zero_grad":
                    opt.zero_grad(set_to_none=False)
                else:
                    opt.step()
    except _Order as err:
        return _verdict(MISTAKE, f"{_mistake_line(['order_invalid'])} ({err})", ["order_invalid"])
    except RuntimeError:            # autograd refuses (a step changed θ between forward and backward)
        pass
    got = torch.cat([p.detach().flatten() for p in params])
    if _close(got, want):
        return _verdict(CORRECT, "correct: this order makes exactly one SGD step θ ← θ − η∇L(θ), "
                                 "even with an old gradient left in .grad")
    pos = {s: i for i, s in enumerate(order)}
    if pos["step"] < pos["backward"]:
        key = "step_before_backward"
    elif "zero_grad" in pos and pos["backward"] < pos["zero_grad"] < pos["step"]:
        key = "zero_grad_after_backward"
    else:
        key = "grad_not_zeroed"
    return _verdict(MISTAKE, _mistake_line([key]), [key])


@_check
def check_batch_loss(batch_loss):
    """1.2(a), step 2: ``batch_loss(y_hat, Y)`` for a batch (one row per example) of the homework's
    ℓ = ‖ŷ − y‖². Any positive constant factor is accepted (the learning rate absorbs it): the
    batch mean, the batch sum, nn.MSELoss() — the verdict names the factor."""
    names = []
    for i, (B, K) in enumerate([(6, 3), (4, 5), (5, 4)]):          # no size 2: ½ and 1/K must differ
        gen = torch.Generator().manual_seed(20 + i)
        y_hat = torch.randn(B, K, generator=gen, dtype=torch.float64)
        Y = torch.randn(B, K, generator=gen, dtype=torch.float64)
        mean = torch.stack([_sse(y_hat[b], Y[b]) for b in range(B)]).mean()   # batch mean of ℓ
        got = _as_tensor(_answer("batch_loss", batch_loss, y_hat.clone(), Y.clone(), sizes=False))
        if got is None or got.numel() != 1:
            shape = None if got is None else _shape(got)
            return _verdict(SHAPE, f"wrong shape: expected a scalar (), got {shape}")
        c = got.item() / mean.item()
        known = {"the batch mean": 1.0, "the batch sum": float(B),
                 "nn.MSELoss(), 1/K of the batch mean": 1.0 / K, "the batch sum divided by K": B / K,
                 "½ × the batch mean": 0.5, "½ × the batch sum": B / 2, "sign_flipped": -1.0,
                 "sign_flipped ": -float(B), "norm_not_squared": None}
        name = next((nm for nm, k in known.items() if k is not None and math.isclose(c, k, rel_tol=1e-9)), None)
        if name is None:
            norms = torch.stack([(y_hat[b] - Y[b]).norm() for b in range(B)])
            if math.isclose(got.item(), norms.mean().item(), rel_tol=1e-9) or \
                    math.isclose(got.item(), norms.sum().item(), rel_tol=1e-9):
                name = "norm_not_squared"
        names.append(name)
    if names[0] is not None and all(nm == names[0] for nm in names):
        key = names[0].strip()
        if key in ("sign_flipped", "norm_not_squared"):
            return _verdict(MISTAKE, _mistake_line([key]), [key])
        note = {"the batch mean": "", "the batch sum": " — the learning rate absorbs the factor B"}.get(
            key, " — a constant factor: the learning rate absorbs it; note it when you compare gradients")
        return _verdict(CORRECT, f"correct: {key} of ‖ŷ − y‖²{note}")
    return _verdict(WRONG, "wrong: not a constant multiple of the batch mean of ‖ŷ − y‖²")


# =============================================================================
# 1.2(b)–(d), 1.3(a)–(b): the network's forward values, Jacobians and gradients
# =============================================================================
_PARAMS = ("x", "y", "W1", "b1", "W2", "b2")


_FORWARD = ("z1", "z2", "z3", "y_hat", "ell")


@_check
def check_forward(forward=None, question="1.2", *, z1=None, z2=None, z3=None, y_hat=None, ell=None):
    """1.2(b) (or 1.3's forward): ``forward(x, y, W1, b1, W2, b2)`` returns (z1, z2, z3, y_hat, ell)
    for one data point: column vectors z1, z2 (h×1), z3, y_hat (K×1) and the scalar loss.

    Or give the values one by one, alone or together, as keywords: ``z1=...`` a function of x, y
    and the parameters, each later value a function of those and of the values before it
    (``z2(z1)``, ``z3(z2, W2, b2)``, ``y_hat(z3)``, ``ell(y_hat, y)``)."""
    _question(question)
    if isinstance(forward, str):
        return _verdict(UNREAD, "unread: forward: a LaTeX answer goes in the keyword of the value it gives: "
                                "check_forward(z1=r'…', z2=r'…', z3=r'…', y_hat=r'…', ell=r'…'), each alone or together")
    given = dict(z1=z1, z2=z2, z3=z3, y_hat=y_hat, ell=ell)
    if forward is not None and any(v is not None for v in given.values()):
        raise TypeError("check_forward takes either forward or the values z1, ..., ell as keywords, not both")
    if forward is None:
        if all(v is None for v in given.values()):
            return _unanswered()
        parts = [(q, fn, tuple(FORMULAS["check_forward"][q]["allowed"]), q) for q, fn in given.items()]
        return _judge_parts(parts, _network_draws(question, _FORWARD[:4]), question)
    draws = _network_draws(question, ())
    outs = []
    for sizes, values, nets in draws:
        try:
            kwargs = _arguments(forward, _PARAMS, values)
        except ValueError as err:
            return _verdict(WRONG, f"wrong: forward {err}")
        out = _answer("forward", forward, **kwargs)
        if not isinstance(out, (tuple, list)) or len(out) != 5:
            return _verdict(WRONG, "wrong: return the five values (z1, z2, z3, y_hat, ell)")
        outs.append(out)
    missing = [q for i, q in enumerate(_FORWARD) if any(o[i] is None for o in outs)]
    for i, label in enumerate(_FORWARD):
        if label in missing:
            continue
        v = _judge_values(label, label, [(sizes, o[i], nets) for (sizes, _, nets), o in zip(draws, outs)], question)
        if v.status != CORRECT:
            return v
    if missing:
        return _unanswered(missing, [q for q in _FORWARD if q not in missing])
    return _verdict(CORRECT, f"correct: z1, z2, z3, ŷ and ℓ agree with the network on {len(draws)} random draws")


_GRAD_ARGS = _PARAMS + ("dl_dyhat", "dz2_dz1", "dyhat_dz3")


@_check
def check_gradients(dl_dW1=None, dl_db1=None, dl_dW2=None, dl_db2=None, *, question="1.2"):
    """1.2(c): each argument is a function of (a subset of) x, y, W1, b1, W2, b2, dl_dyhat, dz2_dz1,
    dyhat_dz3 — the variables the question allows — returning that gradient in numerator layout
    (∂ℓ/∂W⁽¹⁾ is n×h, ∂ℓ/∂b⁽¹⁾ is 1×h, ...). x, y and the biases are column vectors."""
    _question(question)
    parts = [("dl_dW1", dl_dW1, _GRAD_ARGS, "dl_dW1"), ("dl_db1", dl_db1, _GRAD_ARGS, "dl_db1"),
             ("dl_dW2", dl_dW2, _GRAD_ARGS, "dl_dW2"), ("dl_db2", dl_db2, _GRAD_ARGS, "dl_db2")]
    if all(p[1] is None for p in parts):
        return _unanswered()
    draws = _network_draws(question, ("dl_dyhat", "dz2_dz1", "dyhat_dz3"))
    return _judge_parts(parts, draws, question)


@_check
def check_jacobians(dz2_dz1=None, dyhat_dz3=None, dl_dyhat=None, *, question="1.2"):
    """1.2(d) / 1.3(a): ``dz2_dz1(z1)`` (h×h), ``dyhat_dz3(z3)`` (K×K) and ``dl_dyhat(y_hat, y)``
    (1×K), in numerator layout; z1, z3, y_hat and y are column vectors. A Jacobian may also be
    written in the layer's output, as is common on paper: ``dz2_dz1(z2)`` (σ′ = z₂(1 − z₂)),
    ``dyhat_dz3(y_hat)`` (ŷ(1 − ŷ)); it is evaluated at the true network's values."""
    _question(question)
    parts = [("dz2_dz1", dz2_dz1, ("z1", "z2"), "dz2_dz1"), ("dyhat_dz3", dyhat_dz3, ("z3", "y_hat"), "dyhat_dz3"),
             ("dl_dyhat", dl_dyhat, ("y_hat", "y"), "dl_dyhat")]
    if all(p[1] is None for p in parts):
        return _unanswered()
    draws = _network_draws(question, ("z1", "z2", "z3", "y_hat"))
    return _judge_parts(parts, draws, question)


@_check
def check_bce_gradient(dl_dyhat=None, dl_dz3=None):
    """1.3(b): ``dl_dyhat(y_hat, y)`` for the BCE loss (1×K), and ``dl_dz3(y_hat, y)``, the product
    ∂ℓ/∂ŷ · ∂ŷ/∂z₃ written in ŷ and y (1×K). y is a 0/1 column vector."""
    parts = [("dl_dyhat", dl_dyhat, ("y_hat", "y"), "dl_dyhat"), ("dl_dz3", dl_dz3, ("y_hat", "y"), "dl_dz3")]
    if all(p[1] is None for p in parts):
        return _unanswered()
    draws = _network_draws("1.3b", ("y_hat",))
    return _judge_parts(parts, draws, "1.3b")


# =============================================================================
# 1.3(c): predict, then the check runs the experiment
# =============================================================================
DEEP_NETS = {"sigmoid": ("sigmoid", 1.0), "tanh": ("tanh", 1.0), "relu": ("relu", 2.0),
             "tanh, v = 4": ("tanh", 4.0), "tanh, v = 9": ("tanh", 9.0)}
KEEPS_SCALE = 3          # "keeps its size": the signal at layer 1 within this factor of layer 20's


def deep_gradient_experiment(depth=20, width=64, batch=128, seed=0):
    """1.3(c) in one seeded run: notebook 02's table and figure and :func:`check_deep_gradients`
    all call this one function, so they tell one story.

    For each net of :data:`DEEP_NETS` (activation, weight variance v/fan-in: Xavier's v = 1 for
    sigmoid and tanh, He's v = 2 for ReLU, and tanh at 2 and 3 times Xavier's scale): one forward
    and backward pass; per layer the backward signal ‖∂L/∂z_l‖, the slopes f′(z_l), the fraction of
    units whose slope is below 0.1, and the per-layer gain ‖∂L/∂z_l‖²/‖∂L/∂z_(l+1)‖² against its
    prediction v·E[f′(z_l)²]. Every net sees the same inputs, targets and read-out, and the same
    random matrices (scaled by its √v): only the activation and the scale differ."""
    acts = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}
    gen = torch.Generator().manual_seed(seed)
    base = [torch.randn(width, width, generator=gen, dtype=torch.float64) / math.sqrt(width) for _ in range(depth)]
    readout = torch.randn(1, width, generator=gen, dtype=torch.float64) / math.sqrt(width)
    X = torch.randn(batch, width, generator=gen, dtype=torch.float64)
    T = torch.rand(batch, 1, generator=gen, dtype=torch.float64) * 2 - 1       # targets in (−1, 1): g = tanh
    results = {}
    with torch.enable_grad():
        for name, (act, v) in DEEP_NETS.items():
            f, hidden, pre = acts[act], X, []
            for W in base:
                z = (hidden @ (math.sqrt(v) * W).T).requires_grad_(True)
                pre.append(z)
                hidden = f(z)
            loss = F.mse_loss(torch.tanh(hidden @ readout.T), T)
            signal = [g.norm().item() for g in torch.autograd.grad(loss, pre)]          # ‖∂L/∂z_l‖
            slopes = [torch.autograd.grad(f(z).sum(), z)[0] for z in pre]             # f′(z_l), by autograd
            results[name] = dict(activation=act, v=v, signal=signal,
                                 saturated=[(s < 0.1).double().mean().item() for s in slopes],
                                 gain=[(signal[l] / signal[l + 1]) ** 2 for l in range(depth - 1)],
                                 predicted=[v * s.pow(2).mean().item() for s in slopes[:-1]],
                                 slopes=slopes, pre=[z.detach() for z in pre])
    return results


def keeps_scale(results):
    """The nets among sigmoid, tanh and ReLU whose backward signal at layer 1 is within a factor
    :data:`KEEPS_SCALE` of its size at the last layer, in a run of :func:`deep_gradient_experiment`."""
    out = set()
    for name in ("sigmoid", "tanh", "relu"):
        signal = results[name]["signal"]
        if 1 / KEEPS_SCALE <= signal[0] / signal[-1] <= KEEPS_SCALE:
            out.add(name)
    return out


@_check
def check_deep_gradients(keeps_scale_prediction):
    """1.3(c), predict then run: ``keeps_scale_prediction`` is the set of nets among 'sigmoid',
    'tanh' (both at Xavier's scale) and 'relu' (at He's) whose backward signal reaching layer 1 of 20
    stays within a factor 3 of its size at layer 20. The check runs :func:`deep_gradient_experiment`,
    the notebook's own run (same seed), and says whether the prediction matches it; it prints no
    numbers: the notebook's table and figure show them."""
    names = ("sigmoid", "tanh", "relu")
    if keeps_scale_prediction is None:
        return _unanswered()
    answer = keeps_scale_prediction
    if isinstance(answer, str) or not all(isinstance(s, str) for s in answer):
        return _verdict(WRONG, f"wrong: give a set of names from {list(names)}")
    answer = set(answer)
    if not answer <= set(names):
        return _verdict(WRONG, f"wrong: {sorted(answer - set(names))} not among {list(names)}")
    truth = keeps_scale(deep_gradient_experiment())
    if answer == truth:
        return _verdict(CORRECT, "correct: your prediction matches the experiment (its table and figure below)")
    return _mistake(["per_layer_gain_misjudged"], note=" (run the experiment below and compare layer 1 with "
                                                         "layer 20 in the figure)")


# =============================================================================
# 1.4: a loss derived from the update rule w ← w + η (y − ŷ) x
# =============================================================================
_PREDICTIONS = {"perceptron": torch.sign, "adaline": lambda z: z, "logistic": torch.tanh}


@_check
def check_loss(which, L):
    """1.4: ``L`` is a sympy expression in the symbols ``z`` (= b + Σ wᵢxᵢ) and ``y`` whose gradient
    descent is the update rule, for ``which`` in 'perceptron', 'adaline', 'logistic'.

    Since ∂z/∂wᵢ = xᵢ, the rule is gradient descent on L exactly when dL/dz = c·(ŷ(z) − y) with one
    constant c > 0 (c ≠ 1 is absorbed by the learning rate η/c; the verdict says c). The check
    differentiates L with sympy and compares at random points z (away from 0) and labels y."""
    import sympy as sp

    if which not in _PREDICTIONS:
        raise ValueError(f"unknown algorithm {which!r}; allowed: {', '.join(_PREDICTIONS)}")
    if L is None:
        return _unanswered()
    try:
        L = sp.sympify(L)
    except (sp.SympifyError, TypeError) as err:
        return _verdict(WRONG, f"wrong: not a sympy expression ({type(err).__name__})")
    other = sorted(str(s) for s in L.free_symbols if str(s) not in ("z", "y"))
    if other:
        return _verdict(WRONG, f"wrong: use only the symbols z and y; found {', '.join(other)}")
    z, y = sp.symbols("z y", real=True)
    L = L.subs({s: {"z": z, "y": y}[str(s)] for s in L.free_symbols})
    # sign(z) and |z| differentiate to DiracDelta(z) terms, zero away from the kink at z = 0, where
    # every point of the check lies: drop them (and Heaviside's) so the numeric evaluation can run.
    derivative = sp.diff(L, z).replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.S.Zero)
    try:
        dL = sp.lambdify((z, y), derivative, modules=["numpy"])
        L_num = sp.lambdify((z, y), L, modules=["numpy"])
    except Exception as err:
        return _verdict(WRONG, f"wrong: sympy cannot differentiate it ({type(err).__name__})")

    gen = torch.Generator().manual_seed(14)
    zs = torch.rand(40, generator=gen, dtype=torch.float64) * 5.8 + 0.2
    zs = zs * torch.where(torch.rand(40, generator=gen) < 0.5, -1.0, 1.0).to(torch.float64)
    if which == "adaline":
        ys = torch.randn(40, generator=gen, dtype=torch.float64)
    else:
        ys = torch.where(torch.rand(40, generator=gen) < 0.5, -1.0, 1.0).to(torch.float64)
    try:
        d = torch.tensor([float(dL(a, b)) for a, b in zip(zs.tolist(), ys.tolist())], dtype=torch.float64)
        values = torch.tensor([float(L_num(a, b)) for a, b in zip(zs.tolist(), ys.tolist())], dtype=torch.float64)
        d_other = torch.tensor([float(dL(a, -b)) for a, b in zip(zs.tolist(), ys.tolist())], dtype=torch.float64)
    except Exception as err:
        return _verdict(WRONG, f"wrong: L or dL/dz cannot be evaluated at real z, y ({type(err).__name__})")
    if not (torch.isfinite(d).all() and torch.isfinite(values).all()):
        return _verdict(WRONG, "wrong: L or dL/dz is not finite at some z ≠ 0")
    residual = _PREDICTIONS[which](zs) - ys                            # ŷ − y at each point

    c = _proportional(d, residual)
    if c is not None and c > 0:
        note = "" if math.isclose(c, 1.0, rel_tol=1e-6) else \
            f" (dL/dz = {c:.3g}·(ŷ − y): gradient descent with step η/{c:.3g} is the rule)"
        return _verdict(CORRECT, f"correct: −dL/dz ∝ (y − ŷ) at 40 random points{note}")
    if c is not None and c < 0:
        return _verdict(MISTAKE, _mistake_line(["sign_flipped"]), ["sign_flipped"])
    if which != "adaline" and torch.allclose(d, d_other, rtol=1e-9, atol=1e-12):
        return _verdict(MISTAKE, _mistake_line(["label_lost_in_integration"]), ["label_lost_in_integration"])
    if _proportional(values, residual) is not None:
        return _verdict(MISTAKE, _mistake_line(["gradient_given_not_loss"]), ["gradient_given_not_loss"])
    for key, residual_of_mistake in _LOSS_MISTAKES.get(which, {}).items():
        c = _proportional(d, residual_of_mistake(zs, ys))
        if c is not None:                       # a negative c: that mistake and a flipped sign, both named
            return _mistake([key] if c > 0 else [key, "sign_flipped"])
    return _verdict(WRONG, "wrong: dL/dz is not a constant multiple of ŷ − y "
                           f"(at z = {zs[0].item():.2f}, y = {ys[0].item():+.2f}: dL/dz = {d[0].item():.3g}, "
                           f"ŷ − y = {residual[0].item():.3g})")


# which -> {mistake: the (ŷ − y) that a loss with that mistake differentiates to}
_LOSS_MISTAKES = {
    "perceptron": {"perceptron_no_hinge": lambda zs, ys: -ys},
    "logistic": {"logit_scale_missing": lambda zs, ys: torch.sigmoid(zs) - (1 + ys) / 2},
}


def _proportional(a, b):
    """c with a = c·b everywhere (c ≠ 0), or None."""
    if not (b.abs() > 1e-9).any():
        return None
    c = ((a * b).sum() / (b * b).sum()).item()
    if c == 0 or not torch.allclose(a, c * b, rtol=1e-7, atol=1e-9):
        return None
    return c


_SOFTMAX_SIZES = (5, 3, 7)
_OBJECTIVE_SIZES = {"N": 6, "n": 3, "K": 4}


# =============================================================================
# 1.5(a): the limit of softmax(z / T) as T → 0
# =============================================================================
@_check
def check_softmax_limit(limit):
    """1.5(a): ``limit(z)`` returns what softmax(z / T) tends to as T → 0, for a 1-D tensor z whose
    largest entry is unique. The check compares with softmax at a tiny temperature."""
    for i, K in enumerate(_SOFTMAX_SIZES):
        gen = torch.Generator().manual_seed(15 + i)
        z = torch.randperm(K, generator=gen).to(torch.float64) * 0.7 + torch.randn(1, generator=gen, dtype=torch.float64)
        truth = torch.softmax(z / 1e-4, dim=0)
        got = _as_tensor(_answer("limit", limit, z.clone(), sizes=False))
        if got is None:
            return _verdict(WRONG, "wrong: limit must return a tensor")
        if _close(got, truth):
            continue
        variants = [(("softmax_is_soft_max",), z.max()), (("softmax_is_soft_max",), torch.logsumexp(z, 0)),
                    (("softmax_is_soft_max",), torch.full_like(z, z.max().item())),
                    (("temperature_limits_swapped",), torch.full_like(z, 1 / K))]
        found = _matching(got, truth, variants)
        if found:
            return _verdict(MISTAKE, _mistake_line(found[0]), found[0])
        if _shape(got) != _shape(truth):
            return _verdict(SHAPE, f"wrong shape: expected {_shape(truth)}, got {_shape(got)} for z of {K} entries")
        return _verdict(WRONG, f"wrong: for z = {[round(v, 2) for v in z.tolist()]} softmax(z/T) tends to "
                               f"something else")
    return _verdict(CORRECT, "correct: equals softmax(z / T) at T = 1e-4 on 3 random z")


# =============================================================================
# 1.5(b): the computational graph as an edge list
# =============================================================================
def _evaluate_graph(edges, ops, x, y, z):
    """Values of every node of the graph. Inputs x, y, z; an operator node ('+' or '*') combines
    all its incoming edges (an edge listed twice counts twice); any other node copies its single
    input. Raises ValueError naming what is malformed."""
    incoming = {}
    for edge in edges:
        if not (isinstance(edge, (tuple, list)) and len(edge) == 2 and all(isinstance(e, str) for e in edge)):
            raise ValueError(f"an edge must be a pair of node names, got {edge!r}")
        incoming.setdefault(edge[1], []).append(edge[0])
    for name, sym in ops.items():
        if sym not in ("+", "*"):
            raise ValueError(f"operator {name!r} is {sym!r}; allowed operators: '+', '*'")
    nodes = {n for e in edges for n in e}
    for inp in ("x", "y", "z"):
        if inp in incoming:
            raise ValueError(f"{inp} is an input: no edge may point to it")
    if "w" not in nodes:
        raise ValueError("the output node w is missing")
    value_of = dict(x=x, y=y, z=z)

    def value(node, stack=()):
        if node in value_of:
            return value_of[node]
        if node in stack:
            raise ValueError(f"the graph has a cycle through {node!r}")
        srcs = incoming.get(node)
        if not srcs:
            raise ValueError(f"node {node!r} has no input (inputs are x, y, z)")
        args = [value(s, stack + (node,)) for s in srcs]
        if node in ops:                 # (one input: the operator passes it on; the values will show it)
            out = args[0]
            for a in args[1:]:
                out = out + a if ops[node] == "+" else out * a
        else:
            if len(args) != 1:
                raise ValueError(f"value node {node!r} has {len(args)} inputs; only operators combine inputs")
            out = args[0]
        value_of[node] = out
        return out

    for node in sorted(nodes):
        value(node)
    return value_of


def _homework_graph(x, y, z):
    """The function of 1.5(b), as the homework defines it."""
    a = x * y + z
    b = (x + x) * a
    return a, b, a * b


@_check
def check_graph(edges, ops):
    """1.5(b): ``edges`` is a list of (source, target) node names, ``ops`` maps each operator node
    to '+' or '*'. Inputs are x, y, z; value nodes a, b and the output w each have one incoming
    edge. The check evaluates w and its gradients on random inputs (against autograd of the
    homework's equations) and looks at the structure (x + x, a shared)."""
    if edges is None or ops is None:
        return _unanswered()
    if not isinstance(ops, dict):
        return _verdict(WRONG, "wrong: ops must be a dict {operator node: '+' or '*'}")
    gen = torch.Generator().manual_seed(16)
    draws = [torch.randn(3, generator=gen, dtype=torch.float64) for _ in range(5)]
    all_values = []
    for xyz in draws:
        leaves = [t.clone().requires_grad_(True) for t in xyz]
        try:
            with torch.enable_grad():
                vals = _evaluate_graph(list(edges), ops, *leaves)
                got_grad = torch.autograd.grad(vals["w"], leaves, allow_unused=True)
                truth_w = _homework_graph(*leaves)[2]
                true_grad = torch.autograd.grad(truth_w, leaves)
        except ValueError as err:
            return _verdict(WRONG, f"wrong: {err}")
        got_grad = torch.stack([torch.zeros(()) if g is None else g for g in got_grad]).detach()
        true_grad = torch.stack(list(true_grad)).detach()
        w_got, w_true = vals["w"].detach(), truth_w.detach()
        if not _close(w_got, w_true):
            if _close(w_got, 0.5 * w_true):
                return _verdict(MISTAKE, _mistake_line(["double_edge_missing"]), ["double_edge_missing"])
            return _verdict(WRONG, f"wrong: w differs from the homework's at (x, y, z) = "
                                   f"({', '.join(f'{v:.2f}' for v in xyz.tolist())})")
        if not _close(got_grad, true_grad):
            return _verdict(WRONG, "wrong: w is right but its gradients differ")
        all_values.append(({k: v.detach() for k, v in vals.items()}, _homework_graph(*xyz)))
    for name, idx in (("a", 0), ("b", 1)):
        if name not in all_values[0][0]:
            return _verdict(WRONG, f"wrong: name the value node {name} (the homework names a and b)")
        if not all(_close(vals[name], ref[idx]) for vals, ref in all_values):
            return _verdict(WRONG, f"wrong: the node {name} does not hold the homework's {name}")
    a_like = [n for n in all_values[0][0] if n in ops and all(_close(v[n], ref[0]) for v, ref in all_values)]
    if len(a_like) > 1:
        return _verdict(MISTAKE, _mistake_line(["shared_node_duplicated"]), ["shared_node_duplicated"])
    x_plus_x = [n for n, s in ops.items() if s == "+" and sorted(src for src, dst in edges if dst == n) == ["x", "x"]]
    if not x_plus_x:
        return _verdict(MISTAKE, _mistake_line(["double_edge_missing"]), ["double_edge_missing"])
    return _verdict(CORRECT, f"correct: w and ∂w/∂(x, y, z) agree with autograd on {len(draws)} random inputs; "
                             "x + x is one + with two edges from x, and a is shared")


# =============================================================================
# 1.5(c): derivatives of ReLU, LeakyReLU(0.01), Softplus(β=1), GELU
# =============================================================================
_ACTIVATIONS_15C = {
    "relu": (F.relu, (0.0, 1.0)),
    "leaky_relu": (lambda z: F.leaky_relu(z, 0.01), (0.01, 1.0)),
    "softplus": (lambda z: F.softplus(z, beta=1), None),
    "gelu": (F.gelu, None),
}


@_check
def check_derivatives(relu=None, leaky_relu=None, softplus=None, gelu=None):
    """1.5(c): each argument is a function of a tensor z returning the derivative element-wise.
    Compared with autograd at 200 random points away from the kink; at z = 0 (where ReLU and
    LeakyReLU have a kink) any value between the two one-sided slopes is accepted and reported."""
    answers = dict(relu=relu, leaky_relu=leaky_relu, softplus=softplus, gelu=gelu)
    gen = torch.Generator().manual_seed(17)
    zs = torch.randn(200, generator=gen, dtype=torch.float64) * 3
    zs = zs[zs.abs() > 1e-3]
    notes = []
    judges = {name: (lambda fn, name=name: _judge_derivative(name, fn, zs, notes)) for name in answers}
    verdict = _each_part(list(answers.items()), judges)
    if verdict is not None:
        return verdict
    return _verdict(CORRECT, f"correct: all four agree with autograd at {len(zs)} random points; at the kink "
                             + ", ".join(notes))


def _judge_derivative(name, fn, zs, notes):
    """One derivative of 1.5(c) at the points ``zs`` (away from 0), then at the kink, if it has one
    (the value there goes into ``notes``)."""
    act, kink = _ACTIVATIONS_15C[name]
    truth = _slope(act, zs)
    got = _as_tensor(_answer(f"{name}′", fn, zs.clone(), sizes=False))
    if got is None:
        return _verdict(WRONG, f"wrong: {name}′ must return a tensor")
    if not _close(got, truth):
        variants = [(("function_not_derivative",), act(zs))]
        if name == "gelu":
            variants.append((("gelu_product_rule",), act(zs) / zs))          # Φ(z) alone
            variants.append((("gelu_tanh_approximation",), _slope(lambda t: F.gelu(t, approximate="tanh"), zs)))
        if name == "leaky_relu":
            variants.append((("function_not_derivative",), _slope(F.relu, zs)))
        found = _matching(got, truth, variants)
        if found and not (name == "leaky_relu" and found[0] == ("function_not_derivative",)
                          and _close(got, _slope(F.relu, zs))):
            return _mistake(found[0], f"{name}′")
        if _shape(got) != _shape(truth):
            return _verdict(SHAPE, f"wrong shape: expected {_shape(truth)} (the shape of z), got {_shape(got)} "
                                   f"for {name}′")
        bad = (got - truth).abs().argmax().item()
        return _verdict(WRONG, f"wrong: {name}′({zs[bad].item():.2f}) = {got[bad].item():.4g}, "
                               f"autograd gives {truth[bad].item():.4g}")
    if kink is None:
        return _verdict(CORRECT, "")
    try:
        at0 = _as_tensor(_call(fn, torch.zeros(1, dtype=torch.float64)))
    except (_NotAnswered, _Raised):               # a formula that has no value at the kink
        at0 = None
    if at0 is None or at0.numel() != 1 or not torch.isfinite(at0).all():
        return _verdict(WRONG, f"wrong: {name}′ at the kink z = 0 gives no finite number "
                               f"(any value in [{kink[0]:g}, {kink[1]:g}] would do)")
    v = at0.item()
    if not kink[0] - 1e-12 <= v <= kink[1] + 1e-12:
        return _verdict(WRONG, f"wrong: {name}′(0) = {v:g}, outside [{kink[0]:g}, {kink[1]:g}], the "
                               "slopes on either side of the kink")
    torch_at0 = _slope(act, torch.zeros(1, dtype=torch.float64)).item()
    notes.append(f"{name}′(0) = {v:g}" + ("" if v == torch_at0 else f" (PyTorch: {torch_at0:g})"))
    return _verdict(CORRECT, "")


# =============================================================================
# 1.5(d): linear transformations, and why linear layers alone collapse
# =============================================================================
def _menu_maps(gen):
    r = lambda *s: torch.randn(*s, generator=gen, dtype=torch.float64)
    theta, phi, k = r(1).item(), r(1).item(), r(1).item()
    c, s = math.cos(theta), math.sin(theta)
    c2, s2 = math.cos(2 * phi), math.sin(2 * phi)
    t = r(2)
    u = r(2)
    u = u / u.norm()
    return {
        "rotation": lambda v: torch.tensor([[c, -s], [s, c]], dtype=torch.float64) @ v,
        "reflection": lambda v: torch.tensor([[c2, s2], [s2, -c2]], dtype=torch.float64) @ v,
        "scaling": lambda v: torch.tensor([[1.7, 0.0], [0.0, -0.4]], dtype=torch.float64) @ v,
        "shear": lambda v: (torch.eye(2, dtype=torch.float64) + k * torch.tensor([[0.0, 1], [0, 0]])) @ v,
        "projection": lambda v: torch.outer(u, u) @ v,
        "translation": lambda v: v + t,
        "relu": torch.relu,
        "normalization": lambda v: v / v.norm(),
        "squaring": lambda v: v * v,
    }


LINEAR_MENU = ("rotation", "reflection", "scaling", "shear", "projection", "translation", "relu",
               "normalization", "squaring")


def _is_linear(f, gen):
    for _ in range(5):
        u, v = torch.randn(2, generator=gen, dtype=torch.float64), torch.randn(2, generator=gen, dtype=torch.float64)
        a, b = torch.randn(2, generator=gen, dtype=torch.float64).tolist()
        if not _close(f(a * u + b * v), a * f(u) + b * f(v)):
            return False
    return True


@_check
def check_linear_kinds(kinds):
    """1.5(d): ``kinds`` lists four different kinds of linear transformation of the plane, chosen
    from :data:`LINEAR_MENU`. The check tests each choice for linearity, f(au + bv) = a f(u) + b f(v),
    on random vectors and scalars."""
    kinds = _menu_answer(kinds, LINEAR_MENU, "four names")
    gen = torch.Generator().manual_seed(18)
    maps = _menu_maps(gen)
    not_linear = [k for k in kinds if not _is_linear(maps[k], gen)]
    if not_linear:
        return _verdict(MISTAKE, _mistake_line(["not_linear"], not_linear[0]), ["not_linear"])
    if len(set(kinds)) != 4:
        return _verdict(WRONG, f"wrong: name four different kinds, got {len(set(kinds))}")
    return _verdict(CORRECT, f"correct: {', '.join(kinds)} all pass f(au + bv) = a·f(u) + b·f(v) on random "
                             "vectors")


@_check
def check_collapse(collapse):
    """1.5(d): ``collapse(W1, b1, W2, b2, W3, b3)`` returns (W, b) such that the stack of three
    linear layers x ↦ W3(W2(W1x + b1) + b2) + b3 equals x ↦ Wx + b (x a column vector)."""
    for i, sizes in enumerate([(3, 5, 4, 2), (2, 3, 6, 4)]):
        gen = torch.Generator().manual_seed(19 + i)
        r = lambda *s: torch.randn(*s, generator=gen, dtype=torch.float64)
        d0, d1, d2, d3 = sizes
        params = [r(d1, d0), r(d1, 1), r(d2, d1), r(d2, 1), r(d3, d2), r(d3, 1)]
        X = r(d0, 7)
        stack = F.linear(F.linear(F.linear(X.T, params[0], params[1].T), params[2], params[3].T),
                         params[4], params[5].T).T
        out = _answer("collapse", collapse, *[p.clone() for p in params])
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            return _verdict(WRONG, "wrong: return the pair (W, b)")
        W, b = (_as_tensor(o) for o in out)
        if W is None or b is None:
            return _verdict(WRONG, "wrong: W and b must be tensors")
        if _shape(W) != (d3, d0):
            return _verdict(SHAPE, f"wrong shape: expected {(d3, d0)}, got {_shape(W)} for W")
        try:
            got = W @ X + b
        except RuntimeError:
            return _verdict(SHAPE, f"wrong shape: expected {(d3, 1)}, got {_shape(b)} for b")
        if _shape(got) != _shape(stack):
            return _verdict(SHAPE, f"wrong shape: expected {(d3, 1)}, got {_shape(b)} for b")
        if not _close(W @ X, stack - stack[:, :1] + (W @ X)[:, :1]):
            return _verdict(WRONG, "wrong: W does not reproduce the stack (compare how two inputs' outputs differ)")
        if not _close(got, stack):
            return _verdict(WRONG, "wrong: W is right but b is not: the first bias passes through W2 and W3 too")
    return _verdict(CORRECT, "correct: Wx + b equals the three stacked layers on random inputs")


# =============================================================================
# 1.5(e): training as an argmin
# =============================================================================
@_check
def check_objective(objective):
    """1.5(e): ``objective(F, theta, D, Y)`` returns the number that training minimises over θ:
    ``F(theta, x)`` is the network's output for one input (1-D), D holds the inputs (N × n, one per
    row), Y the labels (N × K). Any positive constant multiple is accepted (same argmin)."""
    gen = torch.Generator().manual_seed(21)
    N, n, K = _OBJECTIVE_SIZES["N"], _OBJECTIVE_SIZES["n"], _OBJECTIVE_SIZES["K"]
    D = torch.randn(N, n, generator=gen, dtype=torch.float64)
    Y = torch.randn(N, K, generator=gen, dtype=torch.float64)

    def net(theta, x):
        return torch.tanh(theta["W"] @ x + theta["b"])

    ratios, sqrt_ratios = [], []
    for _ in range(4):
        theta = {"W": torch.randn(K, n, generator=gen, dtype=torch.float64),
                 "b": torch.randn(K, generator=gen, dtype=torch.float64)}
        Y_hat = torch.stack([net(theta, x) for x in D])
        empirical = F.mse_loss(Y_hat, Y, reduction="sum") / N
        got = _as_tensor(_answer("objective", objective, net, {k: v.clone() for k, v in theta.items()}, D.clone(),
                                 Y.clone(), sizes=False))
        if got is None or got.numel() != 1:
            return _verdict(SHAPE, f"wrong shape: expected a scalar (), got {None if got is None else _shape(got)}")
        ratios.append(got.item() / empirical.item())
        per_example_norm = (Y_hat - Y).norm(dim=1).sum() / N
        sqrt_ratios.append(got.item() / per_example_norm.item())
    if all(math.isclose(r, ratios[0], rel_tol=1e-7) for r in ratios):
        if ratios[0] > 0:
            note = "" if math.isclose(ratios[0], 1.0) else f" (× {ratios[0]:.3g}: same argmin)"
            return _verdict(CORRECT, f"correct: the empirical MSE over the data set{note}")
        return _verdict(MISTAKE, _mistake_line(["sign_flipped"]), ["sign_flipped"])
    if all(math.isclose(r, sqrt_ratios[0], rel_tol=1e-7) for r in sqrt_ratios) and sqrt_ratios[0] > 0:
        return _verdict(MISTAKE, _mistake_line(["norm_not_squared"]), ["norm_not_squared"])
    return _verdict(WRONG, "wrong: not a constant multiple of Σᵢ ‖F_θ(xᵢ) − yᵢ‖² (tried 4 random θ)")


# =============================================================================
# Notebook 06: the layers of mlp.py (PyTorch layout: a batch has one example per row)
# =============================================================================
def _layer_draw(seed, N=5, n_in=3, n_out=4):
    gen = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=gen, dtype=torch.float64)
    return dict(x=r(N, n_in), W=r(n_out, n_in), b=r(n_out), G=r(N, n_out), z=r(N, n_out) * 3,
                y=torch.rand((N, n_out), dtype=torch.float64, generator=gen),
                p=0.01 + 0.98 * torch.rand((N, n_out), dtype=torch.float64, generator=gen),
                N=N, n_in=n_in, n_out=n_out)


# (N, in, out): all different within a draw and none equal to 2, so that a factor N, K (= out for
# the losses), N·K and 2 are four different numbers and a diagnosed factor is the right one.
_LAYER_SIZES = [(5, 3, 4), (7, 4, 6), (4, 6, 5)]


def _judge_tensor(label, got, truth, bases, groups, note):
    """One value a layer returned: correct (None), or the verdict for it."""
    got_t = _as_tensor(got)
    if got_t is None:
        return _verdict(WRONG, f"wrong: {label} is a {type(got).__name__}, not a tensor")
    if label == "J" and got_t.numel() == 1:
        got_t = got_t.reshape(())
    if _close(got_t, truth):
        return None
    found = _matching(got_t, truth, _variants([((), truth)] + bases, groups))
    if found:
        return _mistake(_renamed(found[0], label), label)
    if _shape(got_t) != _shape(truth):
        return _verdict(SHAPE, f"wrong shape: expected {_shape(truth)}, got {_shape(got_t)} for {label}, {note}")
    return _verdict(WRONG, f"wrong: {label} {_differs(got_t, truth)}, {note}")


def _layer_answer(name, fn, *inputs):
    """Call a layer function on the draw's own tensors (not copies), then check that it left them
    as they were: a layer that overwrites its input breaks the cache and the caller's data."""
    before = [t.clone() for t in inputs]
    out = _answer(name, fn, *inputs)
    if not all(torch.equal(t, b) for t, b in zip(inputs, before)):
        raise _Stop(_mistake(["inputs_modified_in_place"], name))
    return out


def _layer_check(name, fn, run):
    """Run ``run(fn, draw)`` -> list of (label, got, truth, bases, groups) on three draws."""
    for i, (N, n_in, n_out) in enumerate(_LAYER_SIZES):
        d = _layer_draw(40 + i, N, n_in, n_out)
        note = f"N = {N}, in = {n_in}, out = {n_out}"
        for label, got, truth, bases, groups in run(fn, d):
            if got is None:
                return _unanswered([label])
            v = _judge_tensor(label, got, truth, bases, groups, note)
            if v is not None:
                return v
    return _verdict(CORRECT, f"correct: {name} agrees with autograd on {len(_LAYER_SIZES)} random batches")


def _returns(name, out, count, what):
    if not isinstance(out, (tuple, list)) or len(out) != count:
        raise _Stop(_verdict(WRONG, f"wrong: {name} must return {what}"))
    return out


_SIGN = [("sign_flipped", lambda v: -v)]


def _sign_and_layout(truth, N=None, K=None):
    return [_SIGN, _factor_group(N=N, K=K), _layout_group(truth)]


@_check
def check_linear(linear):
    """``linear(x, W, b)``: x (N, in), W (out, in), b (out,) → z (N, out)."""
    def run(fn, d):
        truth = F.linear(d["x"], d["W"], d["b"])
        got = _layer_answer("linear", fn, d["x"], d["W"], d["b"])
        return [("z", got, truth, [], [_SIGN, _layout_group(truth)])]
    return _layer_check("linear", linear, run)


@_check
def check_linear_backward(linear_backward):
    """``linear_backward(dJdz, x, W)`` → (dJdx, dJdW, dJdb), each the shape of x, W and b."""
    def run(fn, d):
        x, W, b, G = d["x"], d["W"], d["b"], d["G"]
        ref = torch.func.grad(lambda x, W, b: torch.sum(G * F.linear(x, W, b)), argnums=(0, 1, 2))(x, W, b)
        N = d["N"]
        bias_bases = [(("bias_grad_not_summed",), G.clone()), (("bias_grad_averaged",), ref[2] / N)]
        out = _returns("linear_backward", _layer_answer("linear_backward", fn, G, x, W), 3,
                       "the three gradients (dJdx, dJdW, dJdb)")
        return [("dJdx", out[0], ref[0], [], _sign_and_layout(ref[0])),
                ("dJdW", out[1], ref[1], [], _sign_and_layout(ref[1], N=N)),
                ("dJdb", out[2], ref[2], bias_bases, [_SIGN, _factor_group(N=N)])]
    return _layer_check("linear_backward", linear_backward, run)


def _activation_forward(name, act):
    def run(fn, d):
        truth = act(d["z"])
        return [(f"{name}(z)", _layer_answer(name, fn, d["z"]), truth, [], [_SIGN])]
    return run


def _activation_backward(name, act):
    def run(fn, d):
        z, G = d["z"], d["G"]
        a = act(z)
        truth = _slope(act, z) * G
        bases = [(("activation_derivative_missing",), G.clone()),
                 (("local_derivative_only",), _slope(act, z)),
                 (("activation_derivative_of_output",), _slope(act, a) * G),
                 (("function_not_derivative",), a * G)]
        if name in _OUTPUT_FORMS:
            bases.append((("output_form_at_input",), _OUTPUT_FORMS[name](z) * G))
        got = _layer_answer(f"{name}_backward", fn, G, z, a)
        return [(f"{name}_backward", got, truth, bases, [_SIGN])]
    return run


@_check
def check_relu(relu):
    """``relu(z)`` → max(0, z) element-wise."""
    return _layer_check("relu", relu, _activation_forward("relu", torch.relu))


@_check
def check_relu_backward(relu_backward):
    """``relu_backward(dJda, z, a)`` → dJ/dz, given a = relu(z)."""
    return _layer_check("relu_backward", relu_backward, _activation_backward("relu", torch.relu))


@_check
def check_sigmoid(sigmoid):
    """``sigmoid(z)`` → 1 / (1 + e^(−z)) element-wise."""
    return _layer_check("sigmoid", sigmoid, _activation_forward("sigmoid", torch.sigmoid))


@_check
def check_sigmoid_backward(sigmoid_backward):
    """``sigmoid_backward(dJda, z, a)`` → dJ/dz, given a = sigmoid(z)."""
    return _layer_check("sigmoid_backward", sigmoid_backward, _activation_backward("sigmoid", torch.sigmoid))


def _loss_bases(kind, J_ref, g_ref, y_hat):
    """Context mistakes of a loss: (bases for J, bases for dJdy_hat)."""
    if kind != "bce":
        return [], []
    fused = g_ref * _slope(torch.sigmoid, torch.logit(y_hat))      # ∂J/∂z through the output σ
    return [(("bce_sign_flipped",), -J_ref)], [(("bce_sign_flipped",), -g_ref), (("bce_fused_gradient",), fused)]


def _loss_run(name, ref_loss, kind):
    def run(fn, d):
        y, p = d["y"], d["p"]
        J_ref = ref_loss(p, y)
        g_ref = torch.func.grad(lambda q: ref_loss(q, y))(p)
        N, K = y.shape
        J_bases, g_bases = _loss_bases(kind, J_ref, g_ref, p)
        out = _returns(name, _layer_answer(name, fn, y, p), 2, "the pair (J, dJdy_hat)")
        return [("J", out[0], J_ref, J_bases, [_SIGN, _factor_group(N=N, K=K)]),
                ("dJdy_hat", out[1], g_ref, g_bases, [_SIGN, _factor_group(N=N, K=K), _layout_group(g_ref)])]
    return run


@_check
def check_mse_loss(mse_loss):
    """``mse_loss(y, y_hat)`` (target first) → (J, dJdy_hat), J the mean over all N·K entries."""
    return _layer_check("mse_loss", mse_loss, _loss_run("mse_loss", F.mse_loss, "mse"))


@_check
def check_bce_loss(bce_loss):
    """``bce_loss(y, y_hat)`` (target first) → (J, dJdy_hat), J the mean over all N·K entries."""
    return _layer_check("bce_loss", bce_loss, _loss_run("bce_loss", F.binary_cross_entropy, "bce"))


# =============================================================================
# Notebook 06: the whole network, the learner's mlp.py (course API)
# =============================================================================
_NETWORK_CASES = [("relu", "identity", "mse"), ("sigmoid", "sigmoid", "bce"), ("identity", "sigmoid", "mse"),
                  ("relu", "sigmoid", "bce")]


@_check
def check_network(module):
    """A whole mlp.py with the course's API: ``module.MLP``, ``module.mse_loss``, ``module.bce_loss``.
    For a few choices of f, g and the loss, runs forward, the loss and backward on a random batch
    (float64 parameters swapped in, as the course's tests do) and compares ŷ, J, dJdy_hat and the four
    gradients with autograd. A NotImplementedError anywhere means 'not answered yet'."""
    if module is None:
        return _unanswered()
    acts = {"relu": torch.relu, "sigmoid": torch.sigmoid, "identity": lambda t: t}
    losses = {"mse": F.mse_loss, "bce": F.binary_cross_entropy}
    N, n_in, hidden, n_out = 6, 3, 4, 5                     # all different, none 2: factors are told apart
    for i, (f, g, loss) in enumerate(_NETWORK_CASES):
        gen = torch.Generator().manual_seed(60 + i)
        r = lambda *s: torch.randn(*s, generator=gen, dtype=torch.float64)
        params = dict(W1=r(hidden, n_in), b1=r(hidden), W2=r(n_out, hidden), b2=r(n_out))
        x, y = r(N, n_in), torch.rand(N, n_out, generator=gen, dtype=torch.float64)
        where = f"f = {f}, g = {g}, {loss} loss"

        def forward(W1, b1, W2, b2):
            return acts[g](F.linear(acts[f](F.linear(x, W1, b1)), W2, b2))

        y_ref = forward(*params.values())
        J_ref = losses[loss](y_ref, y)
        g_ref = torch.func.grad(lambda p: losses[loss](p, y))(y_ref)
        grads_ref = torch.func.grad(lambda *p: losses[loss](forward(*p), y), argnums=(0, 1, 2, 3))(*params.values())

        def run():
            net = module.MLP(n_in, hidden, f, hidden, n_out, g)
            net.parameters = {k: v.clone() for k, v in params.items()}
            net.clear_grad_and_cache()
            y_hat = net.forward(x.clone())
            J, dJdy_hat = getattr(module, f"{loss}_loss")(y.clone(), y_hat)
            net.backward(dJdy_hat)
            return y_hat, J, dJdy_hat, net.grads

        y_hat, J, dJdy_hat, grads = _answer(f"with {where}, your mlp.py", run, sizes=False)
        items = [("ŷ", y_hat, y_ref, []), ("J", J, J_ref, _loss_bases(loss, J_ref, g_ref, y_ref)[0]),
                 ("dJdy_hat", dJdy_hat, g_ref, _loss_bases(loss, J_ref, g_ref, y_ref)[1])]
        if not isinstance(grads, dict) or any(f"dJd{k}" not in grads for k in params):
            return _verdict(WRONG, "wrong: net.grads must hold dJdW1, dJdb1, dJdW2, dJdb2")
        items += [(f"dJd{k}", grads[f"dJd{k}"], ref, [(("bias_grad_averaged",), ref / N)] if k[0] == "b" else [])
                  for k, ref in zip(params, grads_ref)]
        for label, got, truth, bases in items:
            if got is None:
                return _unanswered()
            v = _judge_tensor(label, got, truth, bases, _sign_and_layout(truth, N=N, K=n_out), where)
            if v is not None:
                if v.key:
                    v = Verdict(v.status, v.key, v.line.replace(f"{label}:", f"{label} ({where}):", 1), None, v.keys)
                return v
    return _verdict(CORRECT, f"correct: ŷ, J, dJdy_hat and the four gradients agree with autograd for "
                             f"{len(_NETWORK_CASES)} choices of f, g and the loss")
