"""Name the likely defect of a failing mlp.py quantity (used by grading/mlp_check.py, in the
grader's process: never where student code runs).

A reference two-layer MLP written out by hand (activations, derivatives and losses from
:mod:`lab.reference`), where one known defect can be switched on at a
time (an activation's derivative missing, taken at the output, the wrong activation, an
activation not applied in forward). The checker computes what each of the seven quantities
would be with each defect — the *variants* — and asks :mod:`lab.mistakes` which one the
submission's numbers equal. Generic variants (transpose, sign, a constant factor N, K, N·K, 2,
½ and their reciprocals) come from :func:`lab.mistakes.generic_variants`.

Downstream quantities are judged against what they should be *given the submission's own
upstream values*: parameter gradients against the reference backward fed with the submission's
dJdy_hat, J and dJdy_hat against the reference loss at the submission's ŷ. So a wrong dJdy_hat
is named once, and a backward that is right gets no blame for it.
"""
from __future__ import annotations

import torch

from lab import mistakes, reference

__all__ = ["forward", "backward", "loss_and_grad", "diagnose_row", "factor_aliases", "GRADS"]

GRADS = ("dJdW1", "dJdb1", "dJdW2", "dJdb2")


def _act(name, z):
    return reference.activation(name)(z)


def _deriv(name, z):
    return reference.derivative(name)(z)


def forward(P, f, g, x, *, skip=(), use=None):
    """The cache of a forward pass. ``skip``: activations ('f', 'g') not applied;
    ``use``: {'f': name} to apply another activation in place of one."""
    use = use or {}
    z1 = x @ P["W1"].T + P["b1"]
    a1 = z1 if "f" in skip else _act(use.get("f", f), z1)
    z3 = a1 @ P["W2"].T + P["b2"]
    y_hat = z3 if "g" in skip else _act(use.get("g", g), z3)
    return dict(x=x, z1=z1, a1=a1, z3=z3, y_hat=y_hat)


def _slope(name, z, a, mode):
    if mode == "right":
        return _deriv(name, z)
    if mode == "missing":
        return torch.ones_like(z)
    if mode == "at_output":
        return _deriv(name, a)
    if mode == "sigmoid":
        return _deriv("sigmoid", z)
    if mode == "slope_one":
        return (z > 0).to(z.dtype)
    raise ValueError(mode)


def backward(P, f, g, c, dJdy_hat, *, f_mode="right", g_mode="right"):
    """The four gradients (PyTorch layout) for the cache ``c`` and the incoming ``dJdy_hat``."""
    dz3 = dJdy_hat * _slope(g, c["z3"], c["y_hat"], g_mode)
    da1 = dz3 @ P["W2"]
    dz1 = da1 * _slope(f, c["z1"], c["a1"], f_mode)
    return dict(dJdW1=dz1.T @ c["x"], dJdb1=dz1.sum(0), dJdW2=dz3.T @ c["a1"], dJdb2=dz3.sum(0))


def loss_and_grad(loss, y, y_hat):
    """(J, dJdy_hat) of nn.MSELoss() / nn.BCELoss(), from lab.reference (the one truth)."""
    return reference.loss(loss)(y, y_hat)


# ----------------------------------------------------------------------------------------------
def _tensor(v):
    try:
        return torch.as_tensor(v).detach()
    except Exception:
        return None


def _match(got, candidates, truth):
    """First (key, detail) among candidates = [(key, detail, value or callable)] that ``got``
    equals, skipping variants equal to the truth (a mistake that makes no difference here)."""
    for key, detail, value in candidates:
        if callable(value):
            try:
                value = value()
            except Exception:
                continue
        if truth is not None and mistakes.matches(value, truth):
            continue
        if mistakes.matches(got, value):
            return key, detail
    return None


def _generic(truth, N, K):
    return [(k, "", v) for k, v in mistakes.generic_variants(truth, N=N, K=K).items()]


def _text(q, key, detail=""):
    m = mistakes.get(key)
    return f"{q}: {m.name}{f' ({detail})' if detail else ''} — {m.hint}"


def _shape_diag(q, got, truth, N, K):
    """A wrong shape: a transpose, the right values in another shape, or just the two shapes."""
    if got.dim() == 2 and tuple(got.T.shape) == tuple(truth.shape) and mistakes.matches(got.T, truth):
        return "transpose", _text(q, "transpose", f"expected shape {tuple(truth.shape)}, got {tuple(got.shape)}"), ""
    if (q.startswith("dJdb") and got.dim() == 2 and got.shape[-1] == truth.shape[-1] and got.shape[0] > 1
            and mistakes.matches(got.sum(dim=0), truth)):
        return "bias_grad_not_summed", _text(q, "bias_grad_not_summed",
                                             f"expected shape {tuple(truth.shape)}, got {tuple(got.shape)}"), ""
    same_values = got.numel() == truth.numel() and mistakes.matches(got.reshape(truth.shape), truth)
    extra = "; the values are right, only the shape is not" if same_values else ""
    return "wrong_shape", f"{q}: wrong shape: expected {tuple(truth.shape)}, got {tuple(got.shape)}{extra}", ""


def diagnose_row(case, P, x, y, ours, ref):
    """{quantity: (key, one-line text, detail)} for the failing quantities of one row.

    ``case``: dict(f, g, loss); ``P``: the parameters used; ``ours``: the submission's values
    (tensors or None); ``ref``: autograd's values. Keys are catalogue keys, or 'follows' when a
    quantity is wrong only because an upstream one is.
    """
    f, g, loss = case["f"], case["g"], case["loss"]
    N, K = ref["y_hat"].shape
    dtype = P["W1"].dtype
    out = {}
    got = {q: _tensor(v) for q, v in ours.items()}
    cache = forward(P, f, g, x)

    def failing(q):
        return q in case["failing"]

    # ŷ -----------------------------------------------------------------------------------------
    yhat_ok = not failing("y_hat")
    if failing("y_hat") and got.get("y_hat") is not None:
        t = ref["y_hat"]
        if tuple(got["y_hat"].shape) != tuple(t.shape):
            out["y_hat"] = _shape_diag("y_hat", got["y_hat"], t, N, K)
        else:
            cands = [("activation_not_applied", f"g = {g}", lambda: forward(P, f, g, x, skip=("g",))["y_hat"]),
                     ("activation_not_applied", f"f = {f}", lambda: forward(P, f, g, x, skip=("f",))["y_hat"]),
                     ("activation_not_applied", f"f = {f} and g = {g}",
                      lambda: forward(P, f, g, x, skip=("f", "g"))["y_hat"])]
            for role, name in (("f", f), ("g", g)):
                if name == "tanh":
                    cands.append(("sigmoid_for_tanh", f"{role} = tanh",
                                  lambda role=role: forward(P, f, g, x, use={role: "sigmoid"})["y_hat"]))
            hit = _match(got["y_hat"], cands + _generic(t, N, K), t)
            if hit:
                out["y_hat"] = (hit[0], _text("y_hat", *hit), hit[1])

    # J and dJdy_hat: judged at the submission's own ŷ when that is the right shape --------------
    own_yhat = got.get("y_hat") if got.get("y_hat") is not None and tuple(got["y_hat"].shape) == (N, K) else None
    own = None
    if own_yhat is not None:
        try:
            own = loss_and_grad(loss, y.to(own_yhat.dtype), own_yhat.to(dtype) if own_yhat.is_floating_point() else own_yhat)
        except Exception:
            own = None
    for q, idx in (("J", 0), ("dJdy_hat", 1)):
        if not failing(q) or got.get(q) is None:
            continue
        g_q, t = got[q], ref[q]
        if q == "J" and g_q.numel() == 1:
            g_q, t = g_q.reshape(()), t.reshape(())
        if tuple(g_q.shape) != tuple(t.shape):
            out[q] = _shape_diag(q, g_q, t, N, K)
            continue
        if not yhat_ok and own is not None and mistakes.matches(g_q, own[idx].reshape(g_q.shape)):
            out[q] = ("follows", f"{q}: right for your y_hat; only y_hat is wrong", "")
            continue
        cands = []
        if q == "J" and loss == "mse":
            cands.append(("loss_half_convention", "", t / 2))
        if q == "dJdy_hat" and loss == "bce":
            cands.append(("bce_sign_flipped", "", -t))
        hit = _match(g_q, cands + _generic(t, N, K), t)
        if hit:
            out[q] = (hit[0], _text(q, *hit), hit[1])

    # the four gradients ------------------------------------------------------------------------
    failing_grads = [q for q in GRADS if failing(q) and got.get(q) is not None]
    dJ_sub = got.get("dJdy_hat")
    dJ_base = ref["dJdy_hat"]
    if dJ_sub is not None and tuple(dJ_sub.shape) == (N, K) and dJ_sub.is_floating_point():
        dJ_base = dJ_sub.to(dtype)
    conditional = backward(P, f, g, cache, dJ_base)
    if failing_grads and not yhat_ok:
        for q in failing_grads:
            out[q] = ("follows", f"{q}: y_hat is already wrong (fix forward first)", "")
        failing_grads = []
    variants = []      # (key, detail, grads dict)
    for role, name in (("g", g), ("f", f)):
        mode_kw = f"{role}_mode"
        variants.append(("activation_derivative_missing", f"{role} = {name}",
                         lambda kw=mode_kw: backward(P, f, g, cache, dJ_base, **{kw: "missing"})))
        variants.append(("activation_derivative_of_output", f"{role} = {name}",
                         lambda kw=mode_kw: backward(P, f, g, cache, dJ_base, **{kw: "at_output"})))
        if name == "tanh":
            variants.append(("sigmoid_for_tanh", f"{role} = tanh",
                             lambda kw=mode_kw: backward(P, f, g, cache, dJ_base, **{kw: "sigmoid"})))
        if name == "scaled_relu":
            variants.append(("relu5_slope_one", f"{role} = 5·ReLU",
                             lambda kw=mode_kw: backward(P, f, g, cache, dJ_base, **{kw: "slope_one"})))
    variants.append(("activation_derivative_missing", f"f = {f} and g = {g}",
                     lambda: backward(P, f, g, cache, dJ_base, f_mode="missing", g_mode="missing")))
    computed = {}
    for q in failing_grads:
        g_q, t, truth = got[q], conditional[q], ref[q]
        if tuple(g_q.shape) != tuple(truth.shape):
            out[q] = _shape_diag(q, g_q, truth, N, K)
            continue
        if failing("dJdy_hat") and mistakes.matches(g_q, t):
            out[q] = ("follows", f"{q}: right for your dJdy_hat (backward is right); only dJdy_hat is wrong", "")
            continue
        cands = []
        for i, (key, detail, fn) in enumerate(variants):
            def value(i=i, fn=fn, q=q):
                if i not in computed:
                    computed[i] = fn()
                return computed[i][q]
            cands.append((key, detail, value))
        hit = _match(g_q, cands + _generic(t, N, K), t)
        if hit:
            out[q] = (hit[0], _text(q, *hit), hit[1])

    # the issue's own example: a factor in dJdy_hat that backward undoes ------------------------
    d = out.get("dJdy_hat")
    if d and d[0].startswith("factor_") and not any(failing(q) for q in GRADS):
        m = mistakes.get(d[0])
        lead = m.name.split(":")[0]
        why = {"factor_NK": "you return the summed gradient", "factor_N": "you sum over the batch",
               "factor_K": "you sum over the outputs"}.get(d[0], m.name.split(": ", 1)[-1])
        later = "divides" if not d[0].startswith("factor_1_over") and d[0] != "factor_half" else "multiplies"
        out["dJdy_hat"] = (d[0], f"dJdy_hat is {lead}: {why}; your parameter gradients are still right "
                                 f"because backward {later} later", "")
    return out


def factor_aliases(key, N, K):
    """Keys that name the same factor on these sizes (with N = 1, K× is also N·K×; with K = 1, N× is)."""
    pairs = {}
    if N == 1:
        pairs.update(factor_K="factor_NK", factor_1_over_K="factor_1_over_NK")
    if K == 1:
        pairs.update(factor_N="factor_NK", factor_1_over_N="factor_1_over_NK")
    return [pairs[key]] if key in pairs else []
