"""The mlp.py check's work inside the sandbox: run the submission on the inputs it is given and
send back raw values only.

Runs in the sandbox's child (grading.sandbox.Pool imports this module by name), next to the
student's code, so nothing here decides anything: for each case it builds the network with the
course's keyword arguments, writes the parameters it was sent into ``net.parameters``, runs

    net.clear_grad_and_cache(); y_hat = net.forward(x)
    J, dJdy_hat = <loss>_loss(y, y_hat); net.backward(dJdy_hat)

under ``torch.no_grad()`` and returns ŷ, J, dJdy_hat, the four gradients, copies of the inputs
after each call (so the parent can see what was modified in place) and raw facts on autograd
(which values carry a graph, how many times autograd's backward/grad ran). The same case runs a
second time with parameters and inputs in float64 when the case asks for it. The parent
(grading/mlp_check.py) validates every field and compares with references of its own.

Imports: stdlib, torch and grading.wire only (the sandbox's rule for task modules).
"""
from __future__ import annotations

import torch

from grading import wire

FILENAME = "mlp.py"
API = ("MLP", "mse_loss", "bce_loss")
QUANTITIES = ("y_hat", "J", "dJdy_hat", "dJdW1", "dJdb1", "dJdW2", "dJdb2")
GRADS = ("dJdW1", "dJdb1", "dJdW2", "dJdb2")
PARAMS = ("W1", "b1", "W2", "b2")
_CALLS = {"autograd": 0}


def prepare() -> None:
    """Warm the zygote: torch is imported above; one thread per child."""
    torch.set_num_threads(1)


def _one_line(exc):
    if isinstance(exc, SystemExit):
        return f"sys.exit({exc.code!r}) called"
    lines = str(exc).strip().splitlines()
    first = (lines[0] if lines else "")[:160]
    return f"{type(exc).__name__}: {first}".rstrip(": ")


def _count_autograd():
    """Count calls of torch.autograd.backward / .grad (Tensor.backward goes through the first)."""
    for name in ("backward", "grad"):
        fn = getattr(torch.autograd, name)
        if getattr(fn, "_grading_counter", False):
            continue

        def counted(*args, _fn=fn, **kwargs):
            _CALLS["autograd"] += 1
            return _fn(*args, **kwargs)

        counted._grading_counter = True
        setattr(torch.autograd, name, counted)


def _value(v):
    """A returned value as an encoded tensor, or {"problem": text} when it is not one."""
    if v is None:
        return {"problem": "missing (None)"}
    try:
        t = v if isinstance(v, torch.Tensor) else torch.as_tensor(v)
        if t.is_complex() or t.dtype not in wire._NAMES:
            return {"problem": f"a tensor of dtype {t.dtype}"}
        return wire.encode(t.detach().clone())
    except Exception as exc:       # e.g. a list of tensors
        return {"problem": f"not a tensor ({type(v).__name__}: {_one_line(exc)})"[:200]}


def _graph(v):
    return isinstance(v, torch.Tensor) and (v.requires_grad or v.grad_fn is not None)


def _run(module, case, dtype):
    """One pass of the course's calls in ``dtype``: dict(stage, error, error_type, values, after, autograd)."""
    f, g, loss = case["f"], case["g"], case["loss"]
    n_in, n_hid, n_out = case["sizes"][1:]
    P = {k: wire.decode(case["P"][k]).to(dtype) for k in PARAMS}
    x, y = wire.decode(case["x"]).to(dtype), wire.decode(case["y"]).to(dtype)
    out = dict(stage="MLP(...)", error=None, error_type=None, values={}, after={}, param_shapes=None,
               autograd=dict(calls=0, graph=[], grad_enabled_after=False))
    ours = {}
    calls0 = _CALLS["autograd"]
    try:
        net = module.MLP(linear_1_in_features=n_in, linear_1_out_features=n_hid, f_function=f,
                         linear_2_in_features=n_hid, linear_2_out_features=n_out, g_function=g)
        out["stage"] = "net.parameters"
        params = net.parameters
        shapes = {k: list(params[k].shape) if isinstance(params[k], torch.Tensor) else None for k in PARAMS}
        if any(shapes[k] != list(P[k].shape) for k in PARAMS):
            out["param_shapes"] = {k: s for k, s in shapes.items() if s is not None}
            bad = next(k for k in PARAMS if shapes[k] != list(P[k].shape))
            if shapes[bad] is None:
                raise TypeError(f"net.parameters[{bad!r}] is a {type(params[bad]).__name__}, not a torch.Tensor")
            raise ValueError(f"net.parameters[{bad!r}] has shape {tuple(shapes[bad])}; "
                             f"the course's is {tuple(P[bad].shape)}")
        with torch.no_grad():
            for k in PARAMS:
                if params[k].dtype == dtype:
                    params[k].copy_(P[k])           # in place: other references see it too
                else:
                    params[k].data = P[k].clone()   # the course's float64 tests hand float64 parameters
        with torch.no_grad():                       # the course's rule: no autograd in mlp.py
            out["stage"] = "clear_grad_and_cache()"
            net.clear_grad_and_cache()
            out["stage"] = "forward(x)"
            y_hat = net.forward(x)
            ours["y_hat"] = y_hat.detach().clone() if isinstance(y_hat, torch.Tensor) else y_hat
            out["after"]["x_forward"] = wire.encode(x)
            out["stage"] = f"{loss}_loss(y, y_hat)"
            J, dJdy_hat = getattr(module, f"{loss}_loss")(y, y_hat)
            ours["J"] = J.detach().clone() if isinstance(J, torch.Tensor) else J
            ours["dJdy_hat"] = dJdy_hat.detach().clone() if isinstance(dJdy_hat, torch.Tensor) else dJdy_hat
            out["after"]["y_loss"] = wire.encode(y)
            if isinstance(y_hat, torch.Tensor):
                out["after"]["y_hat_loss"] = wire.encode(y_hat)
            out["stage"] = "backward(dJdy_hat)"
            net.backward(dJdy_hat)
            if isinstance(dJdy_hat, torch.Tensor):
                out["after"]["dJdy_hat_backward"] = wire.encode(dJdy_hat)
            if isinstance(y_hat, torch.Tensor):
                out["after"]["y_hat_backward"] = wire.encode(y_hat)
            out["after"]["x_backward"] = wire.encode(x)
            for k in PARAMS:
                p = params.get(k) if isinstance(params, dict) else None
                if isinstance(p, torch.Tensor) and p.numel() <= wire.MAX_ELEMENTS:
                    out["after"][f"{k}_backward"] = wire.encode(p)
            out["autograd"]["grad_enabled_after"] = torch.is_grad_enabled()
        out["stage"] = "net.grads"
        for k in GRADS:
            ours[k] = net.grads[k]
        out["stage"] = "done"
    except BaseException as exc:     # anything, SystemExit included: it is the submission's answer
        out["error"] = _one_line(exc)
        out["error_type"] = type(exc).__name__
    out["autograd"]["calls"] = _CALLS["autograd"] - calls0
    out["autograd"]["graph"] = [q for q in QUANTITIES if _graph(ours.get(q))]
    out["values"] = {q: _value(ours[q]) for q in QUANTITIES if q in ours}
    return out


def run_case(module, case: dict) -> dict:
    """Raw values of one case: {"runs": {"float32": ..., "float64": ...}} or {"api_missing": [...]}."""
    missing = [n for n in API if not hasattr(module, n)]
    if missing:
        return {"api_missing": missing}
    _count_autograd()
    runs = {"float32": _run(module, case, torch.float32)}
    if case.get("float64"):
        runs["float64"] = _run(module, case, torch.float64)
    return {"runs": runs}
