"""Course-style self-check of an mlp.py: what a TA runs on a submission.

    python mlp.py --check                      # our own mlp.py
    python mlp.py --check path/to/their/mlp.py # any file with the course's API
    python -m lab.selfcheck [path/to/mlp.py]   # the same, without going through mlp.py

The file is loaded from its path with importlib (it must define ``MLP``, ``mse_loss`` and
``bce_loss`` with the course's signatures, see CONTRACT.md). Then, like the course's grading
scripts, every case builds the network, runs

    net.clear_grad_and_cache(); y_hat = net.forward(x)
    J, dJdy_hat = loss(y, y_hat); net.backward(dJdy_hat)

and rebuilds the same network with ``nn.Sequential`` of ``nn.Linear`` and activation modules
(weights copied), with ``nn.MSELoss()`` / ``nn.BCELoss()``, and lets autograd compute the
reference. Each quantity (y_hat, J, dJdy_hat, dJdW1, dJdb1, dJdW2, dJdb2) passes when
``(ours - autograd).norm() < 1e-3`` — the course's criterion — and it has the reference's shape.

The battery ("core"): f and g in relu, sigmoid, identity; MSE for every pair and BCE where
g = sigmoid; three shapes (the course's 10×2-20-5, a batch of 1, an output of size 1); and one
saturated-sigmoid BCE case where ŷ is exactly 0 or 1 for some entries (there dJdy_hat is of
order 1e12/N, so that row uses the relative form ``norm(Δ) < 1e-3·max(1, norm(ref))``).
"Extras" (tanh and 5·ReLU, named ``'tanh'`` and ``'scaled_relu'``) are reported but do not
count; a module that rejects those names gets "n/a".

The submission runs under ``torch.no_grad()`` with inputs that do not require grad, as
CONTRACT.md demands (the homework forbids autograd in mlp.py): one that leans on autograd
raises there and fails. A submission that raises is never a traceback here: the case is reported as FAIL with the
exception's one-line message. Exit status: 0 iff every core check passes, 1 otherwise
(2 when the file cannot be loaded at all).
"""
import argparse
import importlib.util
import itertools
import math
import sys
from pathlib import Path

import torch
from torch import nn

__all__ = ["main", "load_module", "run_battery", "QUANTITIES", "TOL"]

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATH = ROOT / "mlp.py"
TOL = 1e-3
QUANTITIES = ("y_hat", "J", "dJdy_hat", "dJdW1", "dJdb1", "dJdW2", "dJdb2")
CORE_ACTIVATIONS = ("relu", "sigmoid", "identity")
# (label, batch, in1, hidden, out2)
SHAPES = (("10x2-20-5", 10, 2, 20, 5), ("1x4-6-3", 1, 4, 6, 3), ("8x3-5-1", 8, 3, 5, 1))
EXTRAS = (("tanh", "identity"), ("scaled_relu", "identity"), ("relu", "tanh"), ("sigmoid", "scaled_relu"))
SATURATION_SCALE = 60.0   # W2 and b2 times this: |z3| in the hundreds, sigmoid rounds to 0 or 1


class _Scaled(nn.Module):
    """5·ReLU of question 1.2, as a module for nn.Sequential."""

    def __init__(self, scale):
        super().__init__()
        self.scale = scale

    def forward(self, z):
        return self.scale * torch.relu(z)


TORCH_MODULES = {
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "identity": nn.Identity,
    "tanh": nn.Tanh,
    "scaled_relu": lambda: _Scaled(5.0),
}


def one_line(exc):
    """An exception as 'Type: first line of its message'."""
    msg = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {msg[0] if msg else ''}".rstrip(": ")


def load_module(path):
    """Import the file at ``path`` under a private name (it may be called mlp.py, like ours)."""
    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    name = f"_selfcheck_submission_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))      # as `python test.py` beside it would allow
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    missing = [n for n in ("MLP", "mse_loss", "bce_loss") if not hasattr(module, n)]
    if missing:
        raise AttributeError(f"{path.name} does not define {', '.join(missing)} (the course's API)")
    return module


def _compare(ours, ref, relative=False, scalar=False):
    """(ok, max_abs_error or None, note) for one quantity, by the course's norm criterion.

    ``scalar``: the loss J may come back as a 0-d tensor, a 1-element tensor or a float.
    """
    if ours is None:
        return False, None, "missing"
    try:
        ours = torch.as_tensor(ours).detach()
    except Exception as exc:   # e.g. a list of tensors
        return False, None, f"not a tensor ({type(ours).__name__}: {one_line(exc)})"
    ref = ref.detach()
    if scalar and ours.numel() == 1 and ref.numel() == 1:
        ours, ref = ours.reshape(()), ref.reshape(())
    if tuple(ours.shape) != tuple(ref.shape):
        return False, None, f"shape {tuple(ours.shape)} != {tuple(ref.shape)}"
    a, b = ours.to(torch.float64), ref.to(torch.float64)
    diff = a - b
    norm = diff.norm().item()
    limit = TOL * max(1.0, b.norm().item()) if relative else TOL
    max_abs = diff.abs().max().item() if diff.numel() else 0.0
    ok = math.isfinite(norm) and norm < limit
    return ok, max_abs, ""


def _reference(params, f, g, loss, x, y):
    """Autograd's values for the same network and data: dict quantity -> tensor."""
    n_in, n_hid, n_out = params["W1"].shape[1], params["W1"].shape[0], params["W2"].shape[0]
    model = nn.Sequential(nn.Linear(n_in, n_hid), TORCH_MODULES[f](), nn.Linear(n_hid, n_out),
                          TORCH_MODULES[g]())
    model = model.to(params["W1"].dtype)
    with torch.no_grad():
        model[0].weight.copy_(params["W1"])
        model[0].bias.copy_(params["b1"])
        model[2].weight.copy_(params["W2"])
        model[2].bias.copy_(params["b2"])
    criterion = nn.BCELoss() if loss == "bce" else nn.MSELoss()
    with torch.enable_grad():
        model.zero_grad()
        y_hat = model(x)
        y_hat.retain_grad()
        J = criterion(y_hat, y)
        J.backward()
    return dict(y_hat=y_hat, J=J, dJdy_hat=y_hat.grad,
                dJdW1=model[0].weight.grad, dJdb1=model[0].bias.grad,
                dJdW2=model[2].weight.grad, dJdb2=model[2].bias.grad)


def run_case(module, f, g, loss, shape, *, seed=0, saturate=False):
    """One row: dict(label fields, cells={quantity: (ok, max_abs, note)}, error=str|None)."""
    label, batch, n_in, n_hid, n_out = shape
    row = dict(f=f, g=g, loss=loss, shape=label + (" sat." if saturate else ""), cells={}, error=None,
               stage=None)
    torch.manual_seed(seed)
    x = torch.randn(batch, n_in)
    y = torch.rand(batch, n_out) if loss == "bce" else torch.randn(batch, n_out)
    if saturate:
        y = (torch.rand(batch, n_out) > 0.5).to(x.dtype) * 0.8 + 0.1   # targets 0.1 / 0.9
    ours = {}
    stage = "MLP(...)"
    try:
        net = module.MLP(linear_1_in_features=n_in, linear_1_out_features=n_hid, f_function=f,
                         linear_2_in_features=n_hid, linear_2_out_features=n_out, g_function=g)
        stage = "parameters"
        if saturate:
            net.parameters["W2"] = net.parameters["W2"] * SATURATION_SCALE
            net.parameters["b2"] = net.parameters["b2"] * SATURATION_SCALE
        params = {k: torch.as_tensor(net.parameters[k]).detach().clone() for k in ("W1", "b1", "W2", "b2")}
        with torch.no_grad():          # no autograd allowed in the submission (CONTRACT.md)
            stage = "clear_grad_and_cache()"
            net.clear_grad_and_cache()
            stage = "forward(x)"
            ours["y_hat"] = net.forward(x)
            stage = f"{loss}_loss(y, y_hat)"
            ours["J"], ours["dJdy_hat"] = getattr(module, f"{loss}_loss")(y, ours["y_hat"])
            stage = "backward(dJdy_hat)"
            net.backward(ours["dJdy_hat"])
        stage = "grads"
        for k in ("dJdW1", "dJdb1", "dJdW2", "dJdb2"):
            ours[k] = net.grads[k]
    except (Exception, SystemExit) as exc:   # a submission may even call exit()
        row["error"] = f"{stage}: {one_line(exc)}"
        row["stage"] = stage
        if stage == "MLP(...)":
            return row
    if "params" not in locals():
        return row
    try:
        ref = _reference(params, f, g, loss, x, y)
    except Exception as exc:   # e.g. parameters of the wrong shape for nn.Linear
        row["error"] = (row["error"] + "; " if row["error"] else "") + f"reference: {one_line(exc)}"
        return row
    for q in QUANTITIES:
        if q in ours:
            row["cells"][q] = _compare(ours[q], ref[q], relative=saturate and q == "dJdy_hat", scalar=q == "J")
    return row


def run_battery(module):
    """All rows: (core_rows, extra_rows)."""
    core = []
    for shape in SHAPES:
        for f, g in itertools.product(CORE_ACTIVATIONS, CORE_ACTIVATIONS):
            core.append(run_case(module, f, g, "mse", shape))
            if g == "sigmoid":
                core.append(run_case(module, f, g, "bce", shape))
    core.append(run_case(module, "relu", "sigmoid", "bce", SHAPES[0], seed=1, saturate=True))
    extras = [run_case(module, f, g, "mse", SHAPES[0]) for f, g in EXTRAS]
    return core, extras


def row_passed(row):
    return row["error"] is None and len(row["cells"]) == len(QUANTITIES) and all(
        ok for ok, _, _ in row["cells"].values())


def _cell(q, row):
    if q not in row["cells"]:
        return "FAIL raised" if row["error"] else "-"
    ok, max_abs, note = row["cells"][q]
    if ok:
        return "ok"
    if max_abs is None:
        return "FAIL shape" if note.startswith("shape") else "FAIL"
    return f"FAIL {max_abs:.1e}"


def format_table(rows, extra=False):
    widths = dict(f=12, g=12, loss=5, shape=15)
    head = ("".join(f"{k:<{w}}" for k, w in widths.items()) + "".join(f"{q:<13}" for q in QUANTITIES)).rstrip()
    lines = [head, "-" * len(head)]
    for row in rows:
        prefix = "".join(f"{row[k]:<{w}}" for k, w in widths.items())
        if extra and row["stage"] == "MLP(...)" or extra and row["error"] and not row["cells"]:
            lines.append(prefix + f"n/a  ({row['error']})")
            continue
        lines.append(prefix + "".join(f"{_cell(q, row):<13}" for q in QUANTITIES).rstrip())
        if row["error"]:
            lines.append(" " * 4 + f"-> {row['error']}")
        for q, (ok, _, note) in row["cells"].items():
            if not ok and note:
                lines.append(" " * 4 + f"-> {q}: {note}")
    return "\n".join(lines)


def main(argv=None):
    """Run the battery on the mlp.py at the given path; print the table; return the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(
        prog="python mlp.py --check",
        description="Course-style check of an mlp.py (MLP, mse_loss, bce_loss) against autograd.")
    parser.add_argument("--check", action="store_true", help="(accepted so that `python mlp.py --check` works)")
    parser.add_argument("path", nargs="?", default=str(DEFAULT_PATH), help="the mlp.py to check (default: ours)")
    args = parser.parse_args(argv)

    print(f"Self-check of {args.path}")
    print(f"criterion: (ours - autograd).norm() < {TOL:g} per quantity, as the course's graders "
          f"(FAIL cells show max|ours - autograd|)")
    try:
        module = load_module(args.path)
    except (Exception, SystemExit) as exc:   # a submission may even call exit()
        print(f"FAIL: cannot load {args.path}: {one_line(exc)}")
        return 2
    torch_threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)      # tiny tensors: threads only add noise
        core, extras = run_battery(module)
    finally:
        torch.set_num_threads(torch_threads)

    print()
    print("core (counts for the exit status)")
    print(format_table(core))
    print()
    print("extras (tanh, 5·ReLU as 'scaled_relu'; reported only)")
    print(format_table(extras, extra=True))
    print()
    n_core = sum(row_passed(r) for r in core)
    n_checks = sum(len(QUANTITIES) for _ in core)
    n_checks_ok = sum(ok for r in core for ok, _, _ in r["cells"].values())
    n_extra_ok = sum(row_passed(r) for r in extras)
    n_extra_na = sum(1 for r in extras if r["error"] and not r["cells"])
    verdict = "PASS" if n_core == len(core) else "FAIL"
    print(f"summary: {verdict} — core {n_core}/{len(core)} rows, {n_checks_ok}/{n_checks} checks; "
          f"extras {n_extra_ok} pass, {len(extras) - n_extra_ok - n_extra_na} fail, {n_extra_na} n/a")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
