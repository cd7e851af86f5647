"""Checks for the notebooks' exercises: the learner writes an answer as code, a check judges it.

Every check

* evaluates the answer **numerically** (on several random draws, with sizes n ≠ h ≠ K so that a
  transpose or an identity of the wrong size cannot hide), never by reading or comparing text;
* compares it with a truth computed **independently**, from the forward definition of the network
  (autograd, ``torch.func.jacrev``, sympy's ``diff``, a simulated training step), so reading this
  file does not give the closed-form answers away;
* prints ONE verdict line and returns a :class:`Verdict`:

  - ``not answered yet``                       (the placeholder ``None``, or NotImplementedError)
  - ``correct ...``
  - ``wrong: <mistake name> — <hint>``          (a mistake of :mod:`lab.mistakes`, found by building
    the value the answer would have with that mistake and comparing numbers)
  - ``wrong shape: expected (a, b), got (c, d) ...``
  - ``wrong: <what differs>``                   (anything else)

A check never raises on a wrong or absent answer (Run All does not stop on an exercise); it raises
only when the notebook calls it wrongly (an unknown question name, say).

Answer forms. Jacobians and gradients are *functions* of the variables the question allows (the
check passes exactly the arguments the function names, and refuses a name the question does not
allow); losses of question 1.4 are sympy expressions in ``z`` and ``y``; derivatives are functions
of a tensor; the order of the training steps is a list of names from :data:`STEP_MENU`; the graph
of 1.5(b) is an edge list; explanation items are predictions the check verifies by running the
experiment.

Rule for constant factors. Where the question fixes the function (the loss ℓ = ‖ŷ − y‖², the
Jacobians, the layers of mlp.py), a constant factor is a mistake and is named (K ×, ½ ×, ...).
Where only the minimiser matters (a loss derived from an update rule, 1.4; the training objective,
1.5(e); the batch loss of 1.2(a)), any positive constant factor is accepted — gradient descent with
the learning rate divided by that factor takes the same steps — and the verdict says which factor
it found; a negative factor is named ``sign_flipped``.
"""
from __future__ import annotations

import contextlib
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

UNANSWERED, CORRECT, MISTAKE, SHAPE, WRONG = "unanswered", "correct", "mistake", "shape", "wrong"
RTOL, ATOL = 1e-6, 1e-9


@dataclass(frozen=True)
class Verdict:
    """What a check decided. ``status`` is one of 'unanswered', 'correct', 'mistake' (a catalogued
    mistake: ``mistake_key`` names it, ``mistake_keys`` all of them when several combine), 'shape'
    or 'wrong'. ``line`` is the printed verdict. Truthy only when correct."""

    status: str
    mistake_key: str | None
    line: str
    mistake_keys: tuple = field(default=())

    def __bool__(self):
        return self.status == CORRECT

    def _ipython_display_(self):   # the check printed the line already: show nothing more
        pass


def _verdict(status, line, keys=(), verbose=True):
    keys = tuple(keys)
    v = Verdict(status, keys[0] if keys else None, line, keys)
    if verbose:
        print(line)
    return v


def _mistake_line(keys, where=""):
    ms = [mistakes.get(k) for k in keys]
    lead = f"{where}: " if where else ""
    return f"wrong: {lead}{' and '.join(m.name for m in ms)} — {'; '.join(m.hint for m in ms)}"


# =============================================================================
# Calling the learner's code
# =============================================================================
class _NotAnswered(Exception):
    pass


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

QUESTIONS = {
    "1.2": dict(f="5relu", g="identity", loss="sse"),
    "1.3a": dict(f="tanh", g="sigmoid", loss="sse"),
    "1.3b": dict(f="tanh", g="sigmoid", loss="bce"),
}
DRAW_SIZES = [(3, 4, 2), (2, 5, 3), (5, 3, 4)]            # (n, h, K): n ≠ h ≠ K ≠ n
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


def _arguments(fn, allowed, values):
    """The keyword arguments the learner's function asks for, all of them allowed."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return {k: values[k] for k in allowed}
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return {k: values[k] for k in allowed}
    names = [p.name for p in params.values() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    bad = [nm for nm in names if nm not in allowed]
    if bad:
        raise ValueError(f"uses {', '.join(bad)}, which the question does not allow; "
                         f"name your arguments from: {', '.join(allowed)}")
    return {k: values[k] for k in names}


def _judge_parts(parts, draws, question):
    """Judge several named answer functions over the draws.

    ``parts``: list of (label, fn, allowed argument names, quantity key). ``draws``: list of
    (sizes, learner-visible values, {keys: quantities of each net variant}). Returns a Verdict
    (unprinted)."""
    unanswered = [label for label, fn, _, _ in parts if fn is None]
    answered = [p for p in parts if p[1] is not None]
    if not answered:
        return UNANSWERED, "not answered yet", ()
    for label, fn, allowed, key in answered:
        status, line, keys = _judge_one(label, fn, allowed, key, draws, question)
        if status == UNANSWERED:
            unanswered.append(label)
            continue
        if status != CORRECT:
            return status, line, keys
    if unanswered:
        done = [p[0] for p in answered if p[0] not in unanswered]
        if not done:
            return UNANSWERED, "not answered yet", ()
        return (UNANSWERED, f"not answered yet: {', '.join(unanswered)} (correct so far: {', '.join(done)})", ())
    return CORRECT, (f"correct: {', '.join(p[0] for p in parts)} agree with autograd on {len(draws)} random "
                     "draws (sizes n, h, K all different)"), ()


def _judge_one(label, fn, allowed, key, draws, question):
    wrong_draws = []
    for sizes, values, nets in draws:
        try:
            got = _call(fn, **_arguments(fn, allowed, values))
        except _NotAnswered:
            return UNANSWERED, "", ()
        except ValueError as err:                          # a forbidden argument name
            if "does not allow" in str(err):
                return WRONG, f"wrong: {label} {err}", ()
            raise
        except _Raised as raised:
            if raised.shape:
                return _size_confusion(label, fn, allowed, key, question, raised)
            return WRONG, f"wrong: {label} raised {raised.describe()}", ()
        got_t = _as_tensor(got)
        truth = nets[0][1][key]
        if got_t is None:
            return WRONG, f"wrong: {label} returned a {type(got).__name__}, not a tensor", ()
        if _close(got_t, truth):
            continue
        wrong_draws.append((sizes, got_t, truth, nets))
    if not wrong_draws:
        return CORRECT, "", ()
    per_draw = []
    for sizes, got_t, truth, nets in wrong_draws:
        bases = [(k, q[key]) for k, q in nets]
        m = truth.shape[0]
        if truth.dim() == 2 and truth.shape == (m, m) and _close(truth, torch.eye(m, dtype=truth.dtype)):
            bases += [(("wrong_identity_size",), torch.eye(s, dtype=truth.dtype)) for s in sorted(set(sizes)) if s != m]
        if _question(question)["f"] == "5relu":         # a 5 lost on paper, with the given Jacobians
            lost = {"dl_dW2": "relu5_forward_missing_5", "dl_dW1": "relu5_slope_one", "dl_db1": "relu5_slope_one"}
            if key in lost:
                bases.append(((lost[key],), truth / 5))
        K = sizes[2]
        groups = [[("sign_flipped", lambda v: -v)], _factor_group(K=K), _layout_group(truth)]
        if key in ("dz2_dz1", "dyhat_dz3"):
            groups[2] = groups[2] + [("diagonal_as_vector", lambda v: torch.diagonal(v)),
                                     ("diagonal_as_vector", lambda v: torch.diagonal(v).reshape(-1, 1)),
                                     ("diagonal_as_vector", lambda v: torch.diagonal(v).reshape(1, -1))]
        per_draw.append(_matching(got_t, truth, _variants(bases, groups)))
    keys = _diagnose_draws(per_draw)
    sizes, got_t, truth, _ = wrong_draws[0]
    if keys:
        return MISTAKE, _mistake_line(keys, label), keys
    if _shape(got_t) != _shape(truth):
        return SHAPE, (f"wrong shape: expected {_shape(truth)}, got {_shape(got_t)} for {label}, "
                       f"{_sizes_note(sizes)}"), ()
    return WRONG, f"wrong: {label} {_differs(got_t, truth)}, {_sizes_note(sizes)}", ()


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
            return MISTAKE, _mistake_line(["wrong_identity_size"], label), ("wrong_identity_size",)
    line = _mistake_line(["sizes_dont_multiply"], label)
    return MISTAKE, f"{line} (torch: {raised.describe()})", ("sizes_dont_multiply",)


def _network_draws(question, visible):
    """Per draw: the sizes, the values the learner's function may ask for (the data, the parameters
    and the ``visible`` true quantities), and [(keys, quantities)] for the true network (keys ())
    and each mistaken one."""
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
def _menu_answer(answer, menu, what, verbose):
    """``(list, None)`` for a list of names from ``menu``, else ``(None, verdict)``: not answered
    yet, not a list of names, or a name that is not on the menu."""
    if answer is None:
        return None, _verdict(UNANSWERED, "not answered yet", verbose=verbose)
    if isinstance(answer, str) or not all(isinstance(a, str) for a in answer):
        return None, _verdict(WRONG, f"wrong: give a list of {what} from {list(menu)}", verbose=verbose)
    unknown = [a for a in answer if a not in menu]
    if unknown:
        return None, _verdict(WRONG, f"wrong: {unknown[0]!r} is not on the menu {list(menu)}", verbose=verbose)
    return list(answer), None


STEP_MENU = ("backward", "forward", "loss", "step", "zero_grad")    # alphabetical: the menu must not be the answer


def check_steps(order, *, verbose=True):
    """1.2(a): ``order`` lists the five step names of :data:`STEP_MENU` in the order you run them.
    The check runs that order on a small model whose ``.grad`` still holds a gradient from an
    earlier batch, and compares the parameters with one SGD step θ − η∇L(θ)."""
    order, early = _menu_answer(order, STEP_MENU, "step names", verbose)
    if early is not None:
        return early
    missing = [s for s in STEP_MENU if s not in order and s != "zero_grad"]
    if missing:
        return _verdict(WRONG, f"wrong: {', '.join(repr(s) for s in missing)} missing: five steps, each once",
                        verbose=verbose)
    twice = sorted({s for s in order if order.count(s) > 1})
    if twice:
        return _verdict(WRONG, f"wrong: {', '.join(repr(s) for s in twice)} more than once: five steps, each once",
                        verbose=verbose)

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
        return _verdict(MISTAKE, f"{_mistake_line(['order_invalid'])} ({err})", ["order_invalid"], verbose=verbose)
    except RuntimeError:            # autograd refuses (a step changed θ between forward and backward)
        pass
    got = torch.cat([p.detach().flatten() for p in params])
    if _close(got, want):
        return _verdict(CORRECT, "correct: this order makes exactly one SGD step θ ← θ − η∇L(θ), "
                                 "even with an old gradient left in .grad", verbose=verbose)
    pos = {s: i for i, s in enumerate(order)}
    if pos["step"] < pos["backward"]:
        key = "step_before_backward"
    elif "zero_grad" in pos and pos["backward"] < pos["zero_grad"] < pos["step"]:
        key = "zero_grad_after_backward"
    else:
        key = "grad_not_zeroed"
    return _verdict(MISTAKE, _mistake_line([key]), [key], verbose=verbose)


def check_batch_loss(batch_loss, *, verbose=True):
    """1.2(a), step 2: ``batch_loss(y_hat, Y)`` for a batch (one row per example) of the homework's
    ℓ = ‖ŷ − y‖². Any positive constant factor is accepted (the learning rate absorbs it): the
    batch mean, the batch sum, nn.MSELoss() — the verdict names the factor."""
    if batch_loss is None:
        return _verdict(UNANSWERED, "not answered yet", verbose=verbose)
    names = []
    for i, (B, K) in enumerate([(6, 2), (4, 3), (5, 4)]):
        gen = torch.Generator().manual_seed(20 + i)
        y_hat = torch.randn(B, K, generator=gen, dtype=torch.float64)
        Y = torch.randn(B, K, generator=gen, dtype=torch.float64)
        mean = torch.stack([_sse(y_hat[b], Y[b]) for b in range(B)]).mean()   # batch mean of ℓ
        try:
            got = _as_tensor(_call(batch_loss, y_hat.clone(), Y.clone()))
        except _NotAnswered:
            return _verdict(UNANSWERED, "not answered yet", verbose=verbose)
        except _Raised as raised:
            return _verdict(WRONG, f"wrong: batch_loss raised {raised.describe()}", verbose=verbose)
        if got is None or got.numel() != 1:
            shape = None if got is None else _shape(got)
            return _verdict(SHAPE, f"wrong shape: expected a scalar (), got {shape}", verbose=verbose)
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
            return _verdict(MISTAKE, _mistake_line([key]), [key], verbose=verbose)
        note = {"the batch mean": "", "the batch sum": " — the learning rate absorbs the factor B"}.get(
            key, " — a constant factor: the learning rate absorbs it; note it when you compare gradients")
        return _verdict(CORRECT, f"correct: {key} of ‖ŷ − y‖²{note}", verbose=verbose)
    return _verdict(WRONG, "wrong: not a constant multiple of the batch mean of ‖ŷ − y‖²", verbose=verbose)


# =============================================================================
# 1.2(b)–(d), 1.3(a)–(b): the network's forward values, Jacobians and gradients
# =============================================================================
_PARAMS = ("x", "y", "W1", "b1", "W2", "b2")


def check_forward(forward, question="1.2", *, verbose=True):
    """1.2(b) (or 1.3's forward): ``forward(x, y, W1, b1, W2, b2)`` returns (z1, z2, z3, y_hat, ell)
    for one data point: column vectors z1, z2 (h×1), z3, y_hat (K×1) and the scalar loss."""
    _question(question)
    labels = ["z1", "z2", "z3", "y_hat", "ell"]
    if forward is None:
        return _verdict(UNANSWERED, "not answered yet", verbose=verbose)
    draws = _network_draws(question, ())
    outs = []
    for sizes, values, nets in draws:
        try:
            out = _call(forward, **_arguments(forward, _PARAMS, values))
        except _NotAnswered:
            return _verdict(UNANSWERED, "not answered yet", verbose=verbose)
        except ValueError as err:
            return _verdict(WRONG, f"wrong: forward {err}", verbose=verbose)
        except _Raised as raised:
            if raised.shape:
                return _verdict(MISTAKE, f"{_mistake_line(['sizes_dont_multiply'], 'forward')} "
                                         f"(torch: {raised.describe()})", ["sizes_dont_multiply"], verbose=verbose)
            return _verdict(WRONG, f"wrong: forward raised {raised.describe()}", verbose=verbose)
        if not isinstance(out, (tuple, list)) or len(out) != 5:
            return _verdict(WRONG, "wrong: return the five values (z1, z2, z3, y_hat, ell)", verbose=verbose)
        if any(o is None for o in out):
            missing = [lb for lb, o in zip(labels, out) if o is None]
            return _verdict(UNANSWERED, f"not answered yet: {', '.join(missing)}", verbose=verbose)
        outs.append(out)
    for i, label in enumerate(labels):
        wrong = []
        for (sizes, values, nets), o in zip(draws, outs):
            got = _as_tensor(o[i])
            if got is None:
                return _verdict(WRONG, f"wrong: {label} is a {type(o[i]).__name__}, not a tensor", verbose=verbose)
            if label == "ell" and got.numel() == 1:
                got = got.reshape(())
            if not _close(got, nets[0][1][label]):
                wrong.append((sizes, got, nets))
        if not wrong:
            continue
        per_draw = []
        for sizes, got, nets in wrong:
            truth = nets[0][1][label]
            bases = [(k, q[label]) for k, q in nets]
            extra = [("norm_not_squared", lambda v: v.sqrt())] if label == "ell" and _question(question)["loss"] == "sse" else []
            groups = [[("sign_flipped", lambda v: -v)], _factor_group(K=sizes[2]) + extra, _layout_group(truth)]
            per_draw.append(_matching(got, truth, _variants(bases, groups)))
        keys = _diagnose_draws(per_draw)
        sizes, got, nets = wrong[0]
        truth = nets[0][1][label]
        if keys:
            return _verdict(MISTAKE, _mistake_line(keys, label), keys, verbose=verbose)
        if _shape(got) != _shape(truth):
            return _verdict(SHAPE, f"wrong shape: expected {_shape(truth)}, got {_shape(got)} for {label}, "
                                   f"{_sizes_note(sizes)}", verbose=verbose)
        return _verdict(WRONG, f"wrong: {label} {_differs(got, truth)}, {_sizes_note(sizes)}", verbose=verbose)
    return _verdict(CORRECT, f"correct: z1, z2, z3, ŷ and ℓ agree with the network on {len(draws)} random draws",
                    verbose=verbose)


_GRAD_ARGS = _PARAMS + ("dl_dyhat", "dz2_dz1", "dyhat_dz3")


def check_gradients(dl_dW1=None, dl_db1=None, dl_dW2=None, dl_db2=None, *, question="1.2", verbose=True):
    """1.2(c): each argument is a function of (a subset of) x, y, W1, b1, W2, b2, dl_dyhat, dz2_dz1,
    dyhat_dz3 — the variables the question allows — returning that gradient in numerator layout
    (∂ℓ/∂W⁽¹⁾ is n×h, ∂ℓ/∂b⁽¹⁾ is 1×h, ...). x, y and the biases are column vectors."""
    _question(question)
    parts = [("dl_dW1", dl_dW1, _GRAD_ARGS, "dl_dW1"), ("dl_db1", dl_db1, _GRAD_ARGS, "dl_db1"),
             ("dl_dW2", dl_dW2, _GRAD_ARGS, "dl_dW2"), ("dl_db2", dl_db2, _GRAD_ARGS, "dl_db2")]
    if all(p[1] is None for p in parts):
        return _verdict(UNANSWERED, "not answered yet", verbose=verbose)
    draws = _network_draws(question, ("dl_dyhat", "dz2_dz1", "dyhat_dz3"))
    status, line, keys = _judge_parts(parts, draws, question)
    return _verdict(status, line, keys, verbose=verbose)


def check_jacobians(dz2_dz1=None, dyhat_dz3=None, dl_dyhat=None, *, question="1.2", verbose=True):
    """1.2(d) / 1.3(a): ``dz2_dz1(z1)`` (h×h), ``dyhat_dz3(z3)`` (K×K) and ``dl_dyhat(y_hat, y)``
    (1×K), in numerator layout; z1, z3, y_hat and y are column vectors."""
    _question(question)
    parts = [("dz2_dz1", dz2_dz1, ("z1",), "dz2_dz1"), ("dyhat_dz3", dyhat_dz3, ("z3",), "dyhat_dz3"),
             ("dl_dyhat", dl_dyhat, ("y_hat", "y"), "dl_dyhat")]
    if all(p[1] is None for p in parts):
        return _verdict(UNANSWERED, "not answered yet", verbose=verbose)
    draws = _network_draws(question, ("z1", "z3", "y_hat"))
    status, line, keys = _judge_parts(parts, draws, question)
    return _verdict(status, line, keys, verbose=verbose)


def check_bce_gradient(dl_dyhat=None, dl_dz3=None, *, verbose=True):
    """1.3(b): ``dl_dyhat(y_hat, y)`` for the BCE loss (1×K), and ``dl_dz3(y_hat, y)``, the product
    ∂ℓ/∂ŷ · ∂ŷ/∂z₃ written in ŷ and y (1×K). y is a 0/1 column vector."""
    parts = [("dl_dyhat", dl_dyhat, ("y_hat", "y"), "dl_dyhat"), ("dl_dz3", dl_dz3, ("y_hat", "y"), "dl_dz3")]
    if all(p[1] is None for p in parts):
        return _verdict(UNANSWERED, "not answered yet", verbose=verbose)
    draws = _network_draws("1.3b", ("y_hat",))
    status, line, keys = _judge_parts(parts, draws, "1.3b")
    return _verdict(status, line, keys, verbose=verbose)


# =============================================================================
# 1.3(c): predict, then the check runs the experiment
# =============================================================================
def _deep_gradient_ratio(act, depth=20, width=64, batch=128, seed=0):
    """‖∂L/∂W‖ at layer 1 over layer `depth` for a deep net with He init, zero biases, a linear read-out
    and g = tanh at the output, MSE loss (the experiment of notebook 02, drawn with its own seed)."""
    gen = torch.Generator().manual_seed(seed)
    Ws = [torch.randn(width, width, generator=gen, dtype=torch.float64) * math.sqrt(2 / width)
          for _ in range(depth)]
    readout = torch.randn(1, width, generator=gen, dtype=torch.float64) / math.sqrt(width)
    X = torch.randn(batch, width, generator=gen, dtype=torch.float64)
    T = torch.rand(batch, 1, generator=gen, dtype=torch.float64) * 2 - 1      # targets in (−1, 1): g = tanh

    def loss(*Ws):
        hidden = X
        for W in Ws:
            hidden = act(hidden @ W.T)
        return F.mse_loss(torch.tanh(hidden @ readout.T), T)

    grads = torch.func.grad(loss, argnums=tuple(range(depth)))(*Ws)
    return (grads[0].norm() / grads[-1].norm()).item()


def check_deep_gradients(keeps_scale, *, verbose=True):
    """1.3(c), predict then run: ``keeps_scale`` is the set of activations among 'sigmoid', 'tanh',
    'relu' for which, in a 20-layer net of width 64 with He initialisation, the gradient reaching
    the first layer stays within a factor 10 of the last layer's (g = tanh at the output, as in
    the homework). The check runs the experiment."""
    names = ("sigmoid", "tanh", "relu")
    if keeps_scale is None:
        return _verdict(UNANSWERED, "not answered yet", verbose=verbose)
    if isinstance(keeps_scale, str) or not all(isinstance(s, str) for s in keeps_scale):
        return _verdict(WRONG, f"wrong: give a set of names from {list(names)}", verbose=verbose)
    keeps_scale = set(keeps_scale)
    if not keeps_scale <= set(names):
        return _verdict(WRONG, f"wrong: {sorted(keeps_scale - set(names))} not among {list(names)}", verbose=verbose)
    acts = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}
    ratios = {nm: _deep_gradient_ratio(acts[nm]) for nm in names}
    truth = {nm for nm, r in ratios.items() if 0.1 <= r <= 10}
    measured = ", ".join(f"{nm} {ratios[nm]:.0e}" for nm in names)
    if keeps_scale == truth:
        return _verdict(CORRECT, f"correct: first/last-layer gradient ratio {measured}", verbose=verbose)
    return _verdict(MISTAKE, f"{_mistake_line(['per_layer_gain_misjudged'])} (measured: {measured})",
                    ["per_layer_gain_misjudged"], verbose=verbose)


# =============================================================================
# 1.4: a loss derived from the update rule w ← w + η (y − ŷ) x
# =============================================================================
_PREDICTIONS = {"perceptron": torch.sign, "adaline": lambda z: z, "logistic": torch.tanh}


def check_loss(which, L, *, verbose=True):
    """1.4: ``L`` is a sympy expression in the symbols ``z`` (= b + Σ wᵢxᵢ) and ``y`` whose gradient
    descent is the update rule, for ``which`` in 'perceptron', 'adaline', 'logistic'.

    Since ∂z/∂wᵢ = xᵢ, the rule is gradient descent on L exactly when dL/dz = c·(ŷ(z) − y) with one
    constant c > 0 (c ≠ 1 is absorbed by the learning rate η/c; the verdict says c). The check
    differentiates L with sympy and compares at random points z (away from 0) and labels y."""
    import sympy as sp

    if which not in _PREDICTIONS:
        raise ValueError(f"unknown algorithm {which!r}; allowed: {', '.join(_PREDICTIONS)}")
    if L is None:
        return _verdict(UNANSWERED, "not answered yet", verbose=verbose)
    try:
        L = sp.sympify(L)
    except (sp.SympifyError, TypeError) as err:
        return _verdict(WRONG, f"wrong: not a sympy expression ({type(err).__name__})", verbose=verbose)
    other = sorted(str(s) for s in L.free_symbols if str(s) not in ("z", "y"))
    if other:
        return _verdict(WRONG, f"wrong: use only the symbols z and y; found {', '.join(other)}", verbose=verbose)
    z, y = sp.symbols("z y", real=True)
    L = L.subs({s: {"z": z, "y": y}[str(s)] for s in L.free_symbols})
    try:
        dL = sp.lambdify((z, y), sp.diff(L, z), modules=["numpy"])
        L_num = sp.lambdify((z, y), L, modules=["numpy"])
    except Exception as err:
        return _verdict(WRONG, f"wrong: sympy cannot differentiate it ({type(err).__name__})", verbose=verbose)

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
        return _verdict(WRONG, f"wrong: L or dL/dz cannot be evaluated at real z, y ({type(err).__name__})",
                        verbose=verbose)
    if not (torch.isfinite(d).all() and torch.isfinite(values).all()):
        return _verdict(WRONG, "wrong: L or dL/dz is not finite at some z ≠ 0", verbose=verbose)
    residual = _PREDICTIONS[which](zs) - ys                            # ŷ − y at each point

    c = _proportional(d, residual)
    if c is not None and c > 0:
        note = "" if math.isclose(c, 1.0, rel_tol=1e-6) else \
            f" (dL/dz = {c:.3g}·(ŷ − y): gradient descent with step η/{c:.3g} is the rule)"
        return _verdict(CORRECT, f"correct: −dL/dz ∝ (y − ŷ) at 40 random points{note}", verbose=verbose)
    if c is not None and c < 0:
        return _verdict(MISTAKE, _mistake_line(["sign_flipped"]), ["sign_flipped"], verbose=verbose)
    if which != "adaline" and torch.allclose(d, d_other, rtol=1e-9, atol=1e-12):
        return _verdict(MISTAKE, _mistake_line(["label_lost_in_integration"]), ["label_lost_in_integration"],
                        verbose=verbose)
    if _proportional(values, residual) is not None:
        return _verdict(MISTAKE, _mistake_line(["gradient_given_not_loss"]), ["gradient_given_not_loss"],
                        verbose=verbose)
    if which == "perceptron" and _proportional(d, -ys) is not None:
        return _verdict(MISTAKE, _mistake_line(["perceptron_no_hinge"]), ["perceptron_no_hinge"], verbose=verbose)
    if which == "logistic" and _proportional(d, torch.sigmoid(zs) - (1 + ys) / 2) is not None:
        return _verdict(MISTAKE, _mistake_line(["logit_scale_missing"]), ["logit_scale_missing"], verbose=verbose)
    return _verdict(WRONG, "wrong: dL/dz is not a constant multiple of ŷ − y "
                           f"(at z = {zs[0].item():.2f}, y = {ys[0].item():+.2f}: dL/dz = {d[0].item():.3g}, "
                           f"ŷ − y = {residual[0].item():.3g})", verbose=verbose)


def _proportional(a, b):
    """c with a = c·b everywhere (c ≠ 0), or None."""
    if not (b.abs() > 1e-9).any():
        return None
    c = ((a * b).sum() / (b * b).sum()).item()
    if c == 0 or not torch.allclose(a, c * b, rtol=1e-7, atol=1e-9):
        return None
    return c


# =============================================================================
# 1.5(a): the limit of softmax(z / T) as T → 0
# =============================================================================
def check_softmax_limit(limit, *, verbose=True):
    """1.5(a): ``limit(z)`` returns what softmax(z / T) tends to as T → 0, for a 1-D tensor z whose
    largest entry is unique. The check compares with softmax at a tiny temperature."""
    if limit is None:
        return _verdict(UNANSWERED, "not answered yet", verbose=verbose)
    for i, K in enumerate([5, 3, 7]):
        gen = torch.Generator().manual_seed(15 + i)
        z = torch.randperm(K, generator=gen).to(torch.float64) * 0.7 + torch.randn(1, generator=gen, dtype=torch.float64)
        truth = torch.softmax(z / 1e-4, dim=0)
        try:
            got = _as_tensor(_call(limit, z.clone()))
        except _NotAnswered:
            return _verdict(UNANSWERED, "not answered yet", verbose=verbose)
        except _Raised as raised:
            return _verdict(WRONG, f"wrong: limit raised {raised.describe()}", verbose=verbose)
        if got is None:
            return _verdict(WRONG, "wrong: limit must return a tensor", verbose=verbose)
        if _close(got, truth):
            continue
        variants = [(("softmax_is_soft_max",), z.max()), (("softmax_is_soft_max",), torch.logsumexp(z, 0)),
                    (("softmax_is_soft_max",), torch.full_like(z, z.max().item())),
                    (("temperature_limits_swapped",), torch.full_like(z, 1 / K))]
        found = _matching(got, truth, variants)
        if found:
            return _verdict(MISTAKE, _mistake_line(found[0]), found[0], verbose=verbose)
        if _shape(got) != _shape(truth):
            return _verdict(SHAPE, f"wrong shape: expected {_shape(truth)}, got {_shape(got)} for z of {K} entries",
                            verbose=verbose)
        return _verdict(WRONG, f"wrong: for z = {[round(v, 2) for v in z.tolist()]} softmax(z/T) tends to "
                               f"something else", verbose=verbose)
    return _verdict(CORRECT, "correct: equals softmax(z / T) at T = 1e-4 on 3 random z", verbose=verbose)


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


def check_graph(edges, ops, *, verbose=True):
    """1.5(b): ``edges`` is a list of (source, target) node names, ``ops`` maps each operator node
    to '+' or '*'. Inputs are x, y, z; value nodes a, b and the output w each have one incoming
    edge. The check evaluates w and its gradients on random inputs (against autograd of the
    homework's equations) and looks at the structure (x + x, a shared)."""
    if edges is None or ops is None:
        return _verdict(UNANSWERED, "not answered yet", verbose=verbose)
    if not isinstance(ops, dict):
        return _verdict(WRONG, "wrong: ops must be a dict {operator node: '+' or '*'}", verbose=verbose)
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
            return _verdict(WRONG, f"wrong: {err}", verbose=verbose)
        got_grad = torch.stack([torch.zeros(()) if g is None else g for g in got_grad]).detach()
        true_grad = torch.stack(list(true_grad)).detach()
        w_got, w_true = vals["w"].detach(), truth_w.detach()
        if not _close(w_got, w_true):
            if _close(w_got, 0.5 * w_true):
                return _verdict(MISTAKE, _mistake_line(["double_edge_missing"]), ["double_edge_missing"],
                                verbose=verbose)
            return _verdict(WRONG, f"wrong: w differs from the homework's at (x, y, z) = "
                                   f"({', '.join(f'{v:.2f}' for v in xyz.tolist())})", verbose=verbose)
        if not _close(got_grad, true_grad):
            return _verdict(WRONG, "wrong: w is right but its gradients differ", verbose=verbose)
        all_values.append(({k: v.detach() for k, v in vals.items()}, _homework_graph(*xyz)))
    for name, idx in (("a", 0), ("b", 1)):
        if name not in all_values[0][0]:
            return _verdict(WRONG, f"wrong: name the value node {name} (the homework names a and b)", verbose=verbose)
        if not all(_close(vals[name], ref[idx]) for vals, ref in all_values):
            return _verdict(WRONG, f"wrong: the node {name} does not hold the homework's {name}", verbose=verbose)
    a_like = [n for n in all_values[0][0] if n in ops and all(_close(v[n], ref[0]) for v, ref in all_values)]
    if len(a_like) > 1:
        return _verdict(MISTAKE, _mistake_line(["shared_node_duplicated"]), ["shared_node_duplicated"],
                        verbose=verbose)
    x_plus_x = [n for n, s in ops.items() if s == "+" and sorted(src for src, dst in edges if dst == n) == ["x", "x"]]
    if not x_plus_x:
        return _verdict(MISTAKE, _mistake_line(["double_edge_missing"]), ["double_edge_missing"], verbose=verbose)
    return _verdict(CORRECT, f"correct: w and ∂w/∂(x, y, z) agree with autograd on {len(draws)} random inputs; "
                             "x + x is one + with two edges from x, and a is shared", verbose=verbose)


# =============================================================================
# 1.5(c): derivatives of ReLU, LeakyReLU(0.01), Softplus(β=1), GELU
# =============================================================================
_ACTIVATIONS_15C = {
    "relu": (F.relu, (0.0, 1.0)),
    "leaky_relu": (lambda z: F.leaky_relu(z, 0.01), (0.01, 1.0)),
    "softplus": (lambda z: F.softplus(z, beta=1), None),
    "gelu": (F.gelu, None),
}


def check_derivatives(relu=None, leaky_relu=None, softplus=None, gelu=None, *, verbose=True):
    """1.5(c): each argument is a function of a tensor z returning the derivative element-wise.
    Compared with autograd at 200 random points away from the kink; at z = 0 (where ReLU and
    LeakyReLU have a kink) any value between the two one-sided slopes is accepted and reported."""
    answers = dict(relu=relu, leaky_relu=leaky_relu, softplus=softplus, gelu=gelu)
    if all(v is None for v in answers.values()):
        return _verdict(UNANSWERED, "not answered yet", verbose=verbose)
    gen = torch.Generator().manual_seed(17)
    zs = torch.randn(200, generator=gen, dtype=torch.float64) * 3
    zs = zs[zs.abs() > 1e-3]
    notes, unanswered, done = [], [], []
    for name, fn in answers.items():
        if fn is None:
            unanswered.append(name)
            continue
        act, kink = _ACTIVATIONS_15C[name]
        truth = _slope(act, zs)
        try:
            got = _as_tensor(_call(fn, zs.clone()))
        except _NotAnswered:
            unanswered.append(name)
            continue
        except _Raised as raised:
            return _verdict(WRONG, f"wrong: {name}′ raised {raised.describe()}", verbose=verbose)
        if got is None or not _close(got, truth):
            if got is None:
                return _verdict(WRONG, f"wrong: {name}′ must return a tensor", verbose=verbose)
            variants = [(("function_not_derivative",), act(zs))]
            if name == "gelu":
                variants.append((("gelu_product_rule",), act(zs) / zs))          # Φ(z) alone
            if name == "leaky_relu":
                variants.append((("function_not_derivative",), _slope(F.relu, zs)))
            found = _matching(got, truth, variants)
            if found and not (name == "leaky_relu" and found[0] == ("function_not_derivative",)
                              and _close(got, _slope(F.relu, zs))):
                return _verdict(MISTAKE, _mistake_line(found[0], f"{name}′"), found[0], verbose=verbose)
            if _shape(got) != _shape(truth):
                return _verdict(SHAPE, f"wrong shape: expected {_shape(truth)} (the shape of z), got {_shape(got)} "
                                       f"for {name}′", verbose=verbose)
            bad = (got - truth).abs().argmax().item()
            return _verdict(WRONG, f"wrong: {name}′({zs[bad].item():.2f}) = {got[bad].item():.4g}, "
                                   f"autograd gives {truth[bad].item():.4g}", verbose=verbose)
        done.append(name)
        if kink is not None:
            try:
                at0 = _as_tensor(_call(fn, torch.zeros(1, dtype=torch.float64)))
            except (_NotAnswered, _Raised):
                at0 = None
            if at0 is None or at0.numel() != 1 or not torch.isfinite(at0).all():
                return _verdict(WRONG, f"wrong: {name}′ at the kink z = 0 gives no finite number "
                                       f"(any value in [{kink[0]:g}, {kink[1]:g}] would do)", verbose=verbose)
            v = at0.item()
            if not kink[0] - 1e-12 <= v <= kink[1] + 1e-12:
                return _verdict(WRONG, f"wrong: {name}′(0) = {v:g}, outside [{kink[0]:g}, {kink[1]:g}], the "
                                       "slopes on either side of the kink", verbose=verbose)
            torch_at0 = _slope(act, torch.zeros(1, dtype=torch.float64)).item()
            notes.append(f"{name}′(0) = {v:g}" + ("" if v == torch_at0 else f" (PyTorch: {torch_at0:g})"))
    if unanswered:
        return _verdict(UNANSWERED, "not answered yet" if not done else
                        f"not answered yet: {', '.join(unanswered)} (correct so far: {', '.join(done)})",
                        verbose=verbose)
    return _verdict(CORRECT, f"correct: all four agree with autograd at {len(zs)} random points; at the kink "
                             + ", ".join(notes), verbose=verbose)


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


def check_linear_kinds(kinds, *, verbose=True):
    """1.5(d): ``kinds`` lists four different kinds of linear transformation of the plane, chosen
    from :data:`LINEAR_MENU`. The check tests each choice for linearity, f(au + bv) = a f(u) + b f(v),
    on random vectors and scalars."""
    kinds, early = _menu_answer(kinds, LINEAR_MENU, "four names", verbose)
    if early is not None:
        return early
    gen = torch.Generator().manual_seed(18)
    maps = _menu_maps(gen)
    not_linear = [k for k in kinds if not _is_linear(maps[k], gen)]
    if not_linear:
        return _verdict(MISTAKE, _mistake_line(["not_linear"], not_linear[0]), ["not_linear"], verbose=verbose)
    if len(set(kinds)) != 4:
        return _verdict(WRONG, f"wrong: name four different kinds, got {len(set(kinds))}", verbose=verbose)
    return _verdict(CORRECT, f"correct: {', '.join(kinds)} all pass f(au + bv) = a·f(u) + b·f(v) on random "
                             "vectors", verbose=verbose)


def check_collapse(collapse, *, verbose=True):
    """1.5(d): ``collapse(W1, b1, W2, b2, W3, b3)`` returns (W, b) such that the stack of three
    linear layers x ↦ W3(W2(W1x + b1) + b2) + b3 equals x ↦ Wx + b (x a column vector)."""
    if collapse is None:
        return _verdict(UNANSWERED, "not answered yet", verbose=verbose)
    for i, sizes in enumerate([(3, 5, 4, 2), (2, 3, 6, 4)]):
        gen = torch.Generator().manual_seed(19 + i)
        r = lambda *s: torch.randn(*s, generator=gen, dtype=torch.float64)
        d0, d1, d2, d3 = sizes
        params = [r(d1, d0), r(d1, 1), r(d2, d1), r(d2, 1), r(d3, d2), r(d3, 1)]
        X = r(d0, 7)
        stack = F.linear(F.linear(F.linear(X.T, params[0], params[1].T), params[2], params[3].T),
                         params[4], params[5].T).T
        try:
            out = _call(collapse, *[p.clone() for p in params])
        except _NotAnswered:
            return _verdict(UNANSWERED, "not answered yet", verbose=verbose)
        except _Raised as raised:
            if raised.shape:
                return _verdict(MISTAKE, f"{_mistake_line(['sizes_dont_multiply'])} (torch: {raised.describe()})",
                                ["sizes_dont_multiply"], verbose=verbose)
            return _verdict(WRONG, f"wrong: collapse raised {raised.describe()}", verbose=verbose)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            return _verdict(WRONG, "wrong: return the pair (W, b)", verbose=verbose)
        W, b = (_as_tensor(o) for o in out)
        if W is None or b is None:
            return _verdict(WRONG, "wrong: W and b must be tensors", verbose=verbose)
        if _shape(W) != (d3, d0):
            return _verdict(SHAPE, f"wrong shape: expected {(d3, d0)}, got {_shape(W)} for W", verbose=verbose)
        try:
            got = W @ X + b
        except RuntimeError:
            return _verdict(SHAPE, f"wrong shape: expected {(d3, 1)}, got {_shape(b)} for b", verbose=verbose)
        if _shape(got) != _shape(stack):
            return _verdict(SHAPE, f"wrong shape: expected {(d3, 1)}, got {_shape(b)} for b", verbose=verbose)
        if not _close(W @ X, stack - stack[:, :1] + (W @ X)[:, :1]):
            return _verdict(WRONG, "wrong: W does not reproduce the stack (compare how two inputs' outputs differ)",
                            verbose=verbose)
        if not _close(got, stack):
            return _verdict(WRONG, "wrong: W is right but b is not: the first bias passes through W2 and W3 too",
                            verbose=verbose)
    return _verdict(CORRECT, "correct: Wx + b equals the three stacked layers on random inputs", verbose=verbose)


# =============================================================================
# 1.5(e): training as an argmin
# =============================================================================
def check_objective(objective, *, verbose=True):
    """1.5(e): ``objective(F, theta, D, Y)`` returns the number that training minimises over θ:
    ``F(theta, x)`` is the network's output for one input (1-D), D holds the inputs (N × n, one per
    row), Y the labels (N × K). Any positive constant multiple is accepted (same argmin)."""
    if objective is None:
        return _verdict(UNANSWERED, "not answered yet", verbose=verbose)
    gen = torch.Generator().manual_seed(21)
    N, n, K = 6, 3, 2
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
        try:
            got = _as_tensor(_call(objective, net, {k: v.clone() for k, v in theta.items()}, D.clone(), Y.clone()))
        except _NotAnswered:
            return _verdict(UNANSWERED, "not answered yet", verbose=verbose)
        except _Raised as raised:
            return _verdict(WRONG, f"wrong: objective raised {raised.describe()}", verbose=verbose)
        if got is None or got.numel() != 1:
            return _verdict(SHAPE, f"wrong shape: expected a scalar (), got {None if got is None else _shape(got)}",
                            verbose=verbose)
        ratios.append(got.item() / empirical.item())
        per_example_norm = (Y_hat - Y).norm(dim=1).sum() / N
        sqrt_ratios.append(got.item() / per_example_norm.item())
    if all(math.isclose(r, ratios[0], rel_tol=1e-7) for r in ratios):
        if ratios[0] > 0:
            note = "" if math.isclose(ratios[0], 1.0) else f" (× {ratios[0]:.3g}: same argmin)"
            return _verdict(CORRECT, f"correct: the empirical MSE over the data set{note}", verbose=verbose)
        return _verdict(MISTAKE, _mistake_line(["sign_flipped"]), ["sign_flipped"], verbose=verbose)
    if all(math.isclose(r, sqrt_ratios[0], rel_tol=1e-7) for r in sqrt_ratios) and sqrt_ratios[0] > 0:
        return _verdict(MISTAKE, _mistake_line(["norm_not_squared"]), ["norm_not_squared"], verbose=verbose)
    return _verdict(WRONG, "wrong: not a constant multiple of Σᵢ ‖F_θ(xᵢ) − yᵢ‖² (tried 4 random θ)", verbose=verbose)


# =============================================================================
# Notebook 06: the layers of mlp.py (PyTorch layout: a batch has one example per row)
# =============================================================================
def _layer_draw(seed, N=5, n_in=3, n_out=4):
    gen = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=gen, dtype=torch.float64)
    return dict(x=r(N, n_in), W=r(n_out, n_in), b=r(n_out), G=r(N, n_out), z=r(N, n_out) * 3,
                y=torch.rand((N, 2), dtype=torch.float64, generator=gen),
                p=0.01 + 0.98 * torch.rand((N, 2), dtype=torch.float64, generator=gen),
                N=N, n_in=n_in, n_out=n_out)


_LAYER_SIZES = [(5, 3, 4), (2, 6, 3), (7, 4, 5)]           # (N, in, out), all different


def _judge_tensor(label, got, truth, bases, groups, note):
    got_t = _as_tensor(got)
    if got_t is None:
        return WRONG, f"wrong: {label} is a {type(got).__name__}, not a tensor", ()
    if _close(got_t, truth):
        return CORRECT, "", ()
    found = _matching(got_t, truth, _variants([((), truth)] + bases, groups))
    if found:
        return MISTAKE, _mistake_line(found[0], label), found[0]
    if _shape(got_t) != _shape(truth):
        return SHAPE, f"wrong shape: expected {_shape(truth)}, got {_shape(got_t)} for {label}, {note}", ()
    return WRONG, f"wrong: {label} {_differs(got_t, truth)}, {note}", ()


def _layer_check(name, fn, run, verbose):
    """Run ``run(fn, draw)`` -> list of (label, got, truth, bases, groups) on three draws."""
    if fn is None:
        return _verdict(UNANSWERED, "not answered yet", verbose=verbose)
    for i, (N, n_in, n_out) in enumerate(_LAYER_SIZES):
        d = _layer_draw(40 + i, N, n_in, n_out)
        note = f"N = {N}, in = {n_in}, out = {n_out}"
        try:
            items = run(fn, d)
        except _NotAnswered:
            return _verdict(UNANSWERED, "not answered yet", verbose=verbose)
        except _Raised as raised:
            if raised.shape:
                return _verdict(MISTAKE, f"{_mistake_line(['sizes_dont_multiply'], name)} (torch: {raised.describe()})",
                                ["sizes_dont_multiply"], verbose=verbose)
            return _verdict(WRONG, f"wrong: {name} raised {raised.describe()}", verbose=verbose)
        except _BadReturn as bad:
            return _verdict(WRONG, f"wrong: {bad}", verbose=verbose)
        for label, got, truth, bases, groups in items:
            if got is None:
                return _verdict(UNANSWERED, f"not answered yet: {label}", verbose=verbose)
            status, line, keys = _judge_tensor(label, got, truth, bases, groups, note)
            if status != CORRECT:
                return _verdict(status, line, keys, verbose=verbose)
    return _verdict(CORRECT, f"correct: {name} agrees with autograd on {len(_LAYER_SIZES)} random batches",
                    verbose=verbose)


class _BadReturn(Exception):
    pass


def _sign_and_layout(truth, N=None, K=None):
    return [[("sign_flipped", lambda v: -v)], _factor_group(N=N, K=K), _layout_group(truth)]


def check_linear(linear, *, verbose=True):
    """``linear(x, W, b)``: x (N, in), W (out, in), b (out,) → z (N, out)."""
    def run(fn, d):
        truth = F.linear(d["x"], d["W"], d["b"])
        got = _call(fn, d["x"].clone(), d["W"].clone(), d["b"].clone())
        return [("z", got, truth, [], [[("sign_flipped", lambda v: -v)], _layout_group(truth)])]
    return _layer_check("linear", linear, run, verbose)


def check_linear_backward(linear_backward, *, verbose=True):
    """``linear_backward(dJdz, x, W)`` → (dJdx, dJdW, dJdb), each the shape of x, W and b."""
    def run(fn, d):
        x, W, b, G = d["x"], d["W"], d["b"], d["G"]
        ref = torch.func.grad(lambda x, W, b: torch.sum(G * F.linear(x, W, b)), argnums=(0, 1, 2))(x, W, b)
        out = _call(fn, G.clone(), x.clone(), W.clone())
        if not isinstance(out, (tuple, list)) or len(out) != 3:
            raise _BadReturn("linear_backward must return the three gradients (dJdx, dJdW, dJdb)")
        N = d["N"]
        bias_bases = [(("bias_grad_not_summed",), G)]
        return [("dJdx", out[0], ref[0], [], _sign_and_layout(ref[0])),
                ("dJdW", out[1], ref[1], [], _sign_and_layout(ref[1], N=N)),
                ("dJdb", out[2], ref[2], bias_bases, [[("sign_flipped", lambda v: -v)], _factor_group(N=N)])]
    return _layer_check("linear_backward", linear_backward, run, verbose)


def _activation_forward(name, act):
    def run(fn, d):
        return [(f"{name}(z)", _call(fn, d["z"].clone()), act(d["z"]), [], [[("sign_flipped", lambda v: -v)]])]
    return run


def _activation_backward(name, act):
    def run(fn, d):
        z, G = d["z"], d["G"]
        a = act(z)
        truth = _slope(act, z) * G
        got = _call(fn, G.clone(), z.clone(), a.clone())
        bases = [(("activation_derivative_missing",), G),
                 (("activation_derivative_of_output",), _slope(act, a) * G),
                 (("function_not_derivative",), a * G)]
        return [(f"{name}_backward", got, truth, bases, [[("sign_flipped", lambda v: -v)]])]
    return run


def check_relu(relu, *, verbose=True):
    """``relu(z)`` → max(0, z) element-wise."""
    return _layer_check("relu", relu, _activation_forward("relu", torch.relu), verbose)


def check_relu_backward(relu_backward, *, verbose=True):
    """``relu_backward(dJda, z, a)`` → dJ/dz, given a = relu(z)."""
    return _layer_check("relu_backward", relu_backward, _activation_backward("relu", torch.relu), verbose)


def check_sigmoid(sigmoid, *, verbose=True):
    """``sigmoid(z)`` → 1 / (1 + e^(−z)) element-wise."""
    return _layer_check("sigmoid", sigmoid, _activation_forward("sigmoid", torch.sigmoid), verbose)


def check_sigmoid_backward(sigmoid_backward, *, verbose=True):
    """``sigmoid_backward(dJda, z, a)`` → dJ/dz, given a = sigmoid(z)."""
    return _layer_check("sigmoid_backward", sigmoid_backward, _activation_backward("sigmoid", torch.sigmoid),
                        verbose)


def _loss_run(name, ref_loss, sign_key):
    def run(fn, d):
        y, p = d["y"], d["p"]
        J_ref = ref_loss(p, y)
        g_ref = torch.func.grad(lambda q: ref_loss(q, y))(p)
        out = _call(fn, y.clone(), p.clone())
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise _BadReturn(f"{name} must return the pair (J, dJdy_hat)")
        J = _as_tensor(out[0])
        if J is not None and J.numel() == 1:
            J = J.reshape(())
        N, K = y.shape
        bases = [((sign_key,), -g_ref)] if sign_key else []
        return [("J", J if J is not None else out[0], J_ref, [], [[("sign_flipped", lambda v: -v)], _factor_group(N=N, K=K)]),
                ("dJdy_hat", out[1], g_ref, bases, [[("sign_flipped", lambda v: -v)], _factor_group(N=N, K=K),
                                                    _layout_group(g_ref)])]
    return run


def check_mse_loss(mse_loss, *, verbose=True):
    """``mse_loss(y, y_hat)`` (target first) → (J, dJdy_hat), J the mean over all N·K entries."""
    return _layer_check("mse_loss", mse_loss, _loss_run("mse_loss", F.mse_loss, None), verbose)


def check_bce_loss(bce_loss, *, verbose=True):
    """``bce_loss(y, y_hat)`` (target first) → (J, dJdy_hat), J the mean over all N·K entries."""
    return _layer_check("bce_loss", bce_loss, _loss_run("bce_loss", F.binary_cross_entropy, "bce_sign_flipped"),
                        verbose)


# =============================================================================
# Notebook 06: the whole network, the learner's mlp.py (course API)
# =============================================================================
_NETWORK_CASES = [("relu", "identity", "mse"), ("sigmoid", "sigmoid", "bce"), ("identity", "sigmoid", "mse"),
                  ("relu", "sigmoid", "bce")]


def check_network(module, *, verbose=True):
    """A whole mlp.py with the course's API: ``module.MLP``, ``module.mse_loss``, ``module.bce_loss``.
    For a few choices of f, g and the loss, runs forward, the loss and backward on a random batch
    (float64 parameters swapped in, as the course's tests do) and compares ŷ, J, dJdy_hat and the four
    gradients with autograd. A NotImplementedError anywhere means 'not answered yet'."""
    if module is None:
        return _verdict(UNANSWERED, "not answered yet", verbose=verbose)
    acts = {"relu": torch.relu, "sigmoid": torch.sigmoid, "identity": lambda t: t}
    losses = {"mse": F.mse_loss, "bce": F.binary_cross_entropy}
    N, n_in, hidden, n_out = 6, 3, 4, 2
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

        try:
            y_hat, J, dJdy_hat, grads = _call(run)
        except _NotAnswered:
            return _verdict(UNANSWERED, "not answered yet", verbose=verbose)
        except _Raised as raised:
            return _verdict(WRONG, f"wrong: with {where}, your mlp.py raised {raised.describe()}", verbose=verbose)
        J = _as_tensor(J)
        items = [("ŷ", y_hat, y_ref), ("J", J.reshape(()) if J is not None and J.numel() == 1 else J, J_ref),
                 ("dJdy_hat", dJdy_hat, g_ref)]
        if not isinstance(grads, dict) or any(f"dJd{k}" not in grads for k in params):
            return _verdict(WRONG, "wrong: net.grads must hold dJdW1, dJdb1, dJdW2, dJdb2", verbose=verbose)
        items += [(f"dJd{k}", grads[f"dJd{k}"], ref) for k, ref in zip(params, grads_ref)]
        for label, got, truth in items:
            if got is None:
                return _verdict(UNANSWERED, "not answered yet", verbose=verbose)
            bases = []
            if label == "dJdy_hat" and loss == "bce":
                bases = [(("bce_sign_flipped",), -truth)]
            status, line, keys = _judge_tensor(label, got, truth, bases, _sign_and_layout(truth, N=N, K=n_out),
                                               where)
            if status != CORRECT:
                return _verdict(status, line.replace(f"{label}:", f"{label} ({where}):", 1)
                                if status == MISTAKE else line, keys, verbose=verbose)
    return _verdict(CORRECT, f"correct: ŷ, J, dJdy_hat and the four gradients agree with autograd for "
                             f"{len(_NETWORK_CASES)} choices of f, g and the loss", verbose=verbose)
