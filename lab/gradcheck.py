"""Gradient checks shared by the notebooks, the tests and the self-check command.

Two ways to trust a hand-written gradient (CS231n's gradient check,
nn-zero-to-hero's ``cmp``):

* compare it with what **autograd** computes for the same function, and
* compare it with **central finite differences** in float64,
  ``(f(θ + ε) − f(θ − ε)) / 2ε``, which needs nothing but the forward pass.

``cmp(name, ours, reference)`` prints one line per tensor::

    dJdW1        ok        max|Δ| < 1e-15  rel < 1e-15  shape (20, 2)

Errors are printed rounded *up* to a power of ten so that the line is the same
on every machine (the notebooks' stored outputs are compared by nbval).

``check_mlp(net, x, y, loss)`` runs a whole ``mlp.MLP`` against autograd and
finite differences; ``python mlp.py --check [path]`` (``lab/selfcheck.py``) runs
the course-style battery against any file with the course's mlp.py API.
"""
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from lab.reference import activation as reference_activation

__all__ = ["Comparison", "cmp", "autograd_grad", "numerical_grad", "check_gradient",
           "torch_activation", "check_mlp", "fmt_err"]

# Default tolerances by dtype: |ours − ref| ≤ atol + rtol·max|ref|, element-wise maximum.
TOLERANCES = {torch.float64: (1e-9, 1e-7), torch.float32: (1e-5, 1e-4)}
# Errors below these are printed as "< floor": the last bits of rounding differ between CPUs
# and BLAS builds, and a printed verdict should not.
PRINT_FLOOR = {torch.float64: 1e-12, torch.float32: 1e-6}


@dataclass
class Comparison:
    """What ``cmp`` found for one tensor: truthy when ours agrees with the reference."""
    name: str
    ok: bool
    max_abs: float
    max_rel: float
    shape: tuple
    floor: float = 0.0

    def __bool__(self):
        return self.ok

    def line(self):
        status = "ok" if self.ok else "MISMATCH"
        return (f"{self.name:<12} {status:<9} max|Δ| {fmt_err(self.max_abs, self.floor):<7} "
                f"rel {fmt_err(self.max_rel, self.floor):<7} shape {self.shape}")


def fmt_err(e, floor=0.0):
    """An error rounded up to a power of ten, as text: 0 → '= 0', 3.2e-8 → '< 1e-07'.

    Errors below ``floor`` (but not exactly 0) are printed as ``< floor``.
    """
    e = float(e)
    if 0 < e < floor:
        e = floor * 0.99
    if math.isnan(e):
        return "= nan"
    if e == 0:
        return "= 0"
    if math.isinf(e):
        return "= inf"
    return f"< 1e{math.floor(math.log10(e)) + 1:+03d}"


def cmp(name, ours, reference, *, atol=None, rtol=None, verbose=True):
    """Compare a hand-computed tensor with a reference one; print a one-line verdict.

    Returns a ``Comparison`` that is truthy when the two agree. Shapes must match
    exactly (a transposed gradient is a mistake, not a rounding error).
    """
    ours = torch.as_tensor(ours).detach()
    reference = torch.as_tensor(reference).detach()
    shape = tuple(reference.shape)
    if ours.shape != reference.shape:
        v = Comparison(name, False, math.inf, math.inf, shape)
        if verbose:
            print(f"{name:<12} {'MISMATCH':<9} shape {tuple(ours.shape)} but expected {shape}")
        return v
    dtype = torch.promote_types(ours.dtype, reference.dtype)
    if not dtype.is_floating_point:
        dtype = torch.float64
    d_atol, d_rtol = TOLERANCES.get(ours.dtype if ours.dtype in TOLERANCES else dtype, TOLERANCES[torch.float32])
    atol = d_atol if atol is None else atol
    rtol = d_rtol if rtol is None else rtol
    a, b = ours.to(torch.float64), reference.to(torch.float64)
    diff = (a - b).abs()
    max_abs = diff.max().item() if diff.numel() else 0.0
    scale = b.abs().max().item() if b.numel() else 0.0
    max_rel = max_abs / scale if scale > 0 else (0.0 if max_abs == 0 else math.inf)
    ok = bool(torch.isfinite(a).all()) and max_abs <= atol + rtol * scale
    v = Comparison(name, ok, max_abs, max_rel, shape, PRINT_FLOOR.get(dtype, 0.0))
    if verbose:
        print(v.line())
    return v


def autograd_grad(fn, *inputs):
    """Gradients of the scalar ``fn(*inputs)`` with respect to each input, by autograd."""
    leaves = [t.detach().clone().requires_grad_(True) for t in inputs]
    with torch.enable_grad():
        out = fn(*leaves)
        if out.numel() != 1:
            raise ValueError(f"fn must return a scalar, got shape {tuple(out.shape)}")
        grads = torch.autograd.grad(out, leaves, allow_unused=True)
    return [torch.zeros_like(t) if g is None else g for t, g in zip(leaves, grads)]


@torch.no_grad()
def numerical_grad(fn, *inputs, eps=1e-6):
    """Central finite differences of the scalar ``fn(*inputs)``, computed in float64."""
    xs = [t.detach().to(torch.float64).clone() for t in inputs]
    grads = []
    for x in xs:
        g = torch.zeros_like(x)
        flat, gflat = x.view(-1), g.view(-1)
        for i in range(flat.numel()):
            old = flat[i].item()
            flat[i] = old + eps
            plus = float(fn(*xs))
            flat[i] = old - eps
            minus = float(fn(*xs))
            flat[i] = old
            gflat[i] = (plus - minus) / (2 * eps)
        grads.append(g)
    return grads


def check_gradient(name, ours, fn, *inputs, wrt=0, method="autograd", verbose=True, **tol):
    """Check ``ours`` = ∂fn/∂inputs[wrt] against autograd, finite differences, or both."""
    verdicts = []
    if method in ("autograd", "both"):
        ref = autograd_grad(fn, *inputs)[wrt]
        verdicts.append(cmp(name if method == "autograd" else f"{name} (ag)", ours, ref, verbose=verbose, **tol))
    if method in ("fd", "both"):
        ref = numerical_grad(fn, *inputs)[wrt]
        fd_tol = dict(atol=1e-6, rtol=1e-5) if not tol else tol
        verdicts.append(cmp(name if method == "fd" else f"{name} (fd)", ours, ref, verbose=verbose, **fd_tol))
    if not verdicts:
        raise ValueError(f"method must be 'autograd', 'fd' or 'both', got {method!r}")
    return all(verdicts)


# ----------------------------------------------------------------------------
# Whole-network check for mlp.MLP
# ----------------------------------------------------------------------------
# The losses' truth is PyTorch's own functions (autograd differentiates them); the activations'
# is lab.reference, the one table every checker shares.
_TORCH_LOSSES = {"mse": F.mse_loss, "bce": F.binary_cross_entropy}


def torch_activation(name):
    """The PyTorch (autograd) version of one of mlp.py's activation names, from ``lab.reference``."""
    return reference_activation(name)


def _reference_loss(f_name, g_name, loss_name, x, y):
    f, g, loss = torch_activation(f_name), torch_activation(g_name), _TORCH_LOSSES[loss_name]

    def J(W1, b1, W2, b2):
        y_hat = g(f(x @ W1.T + b1) @ W2.T + b2)
        return loss(y_hat, y)
    return J


def check_mlp(net, x, y, loss="mse", *, finite_differences=False, verbose=True):
    """Run ``net`` (an mlp.MLP) forward and backward and check every gradient.

    Compares J and the four parameter gradients with autograd on the same
    parameters; with ``finite_differences=True`` also with central differences
    in float64 (slow for large nets: 2 forward passes per parameter).
    Returns True when every check passes.
    """
    import mlp
    if loss not in _TORCH_LOSSES:
        raise ValueError(f"loss must be one of {sorted(_TORCH_LOSSES)}, got {loss!r}")
    loss_fn = dict(mse=mlp.mse_loss, bce=mlp.bce_loss)[loss]
    net.clear_grad_and_cache()
    y_hat = net.forward(x)
    J, dJdy_hat = loss_fn(y, y_hat)
    net.backward(dJdy_hat)
    names = ["W1", "b1", "W2", "b2"]
    params = [net.parameters[n] for n in names]
    ref_J = _reference_loss(net.f_function, net.g_function, loss, x, y)
    results = [cmp("J", J, ref_J(*params), verbose=verbose)]
    for n, ref in zip(names, autograd_grad(ref_J, *params)):
        results.append(cmp(f"dJd{n}", net.grads[f"dJd{n}"], ref, verbose=verbose))
    if finite_differences:
        ref_J64 = _reference_loss(net.f_function, net.g_function, loss, x.double(), y.double())
        tol = {} if params[0].dtype == torch.float64 else dict(atol=1e-4, rtol=1e-3)
        for n, ref in zip(names, numerical_grad(ref_J64, *params)):
            results.append(cmp(f"dJd{n} (fd)", net.grads[f"dJd{n}"], ref, verbose=verbose,
                               **(tol or dict(atol=1e-6, rtol=1e-5))))
    return all(results)


