"""Course-style check of mlp.py submissions: what a TA runs on a class.

    python mlp.py --check                          # our own mlp.py (make selfcheck)
    python mlp.py --check path/to/their/mlp.py     # one file: the full table; exit 0 pass, 1 fail, 2 cannot load
    python mlp.py --check submissions/ other.py    # a class: one line per submission, totals, a progress bar
         [--json FILE] [--csv FILE] [--timeout 60] [--jobs N] [--memory-mib 2048] [--show-output]
    python -m lab.selfcheck ...                    # the same, without going through mlp.py

A folder holds one ``.py`` file per student, or one subfolder per student with its ``mlp.py``.

**What is tested** (the course's grading scripts, made fair). Each case builds the network with
the course's keyword arguments, writes seeded ``torch.randn`` values into ``net.parameters``
(in place, so a submission that keeps other references to its tensors still sees them), runs

    net.clear_grad_and_cache(); y_hat = net.forward(x)
    J, dJdy_hat = loss(y, y_hat); net.backward(dJdy_hat)

under ``torch.no_grad()`` (no autograd in mlp.py) and compares ŷ, J, dJdy_hat and the four
gradients with autograd on the same ``nn.Sequential`` of ``nn.Linear`` and activations with
``nn.MSELoss()`` / ``nn.BCELoss()``. A quantity passes when it has the reference's shape and

    ‖ours − autograd‖ < 1e-3                 where ‖autograd‖ ≤ 1   (the course's criterion)
    ‖ours − autograd‖ / ‖autograd‖ < 1e-3    where ‖autograd‖ > 1   (the same, relative to the scale)

and a failing cell shows exactly the number that was tested. The "core" battery (it decides the
verdict): f, g in relu, sigmoid, identity; MSE for every pair and BCE where g = sigmoid; three
shapes; BCE data are drawn so that no ŷ is exactly 0 or 1 (course-style
cases that do not saturate; ŷ stays within (1e-6, 1 − 1e-6)). A submission must also leave its inputs alone (x, y, ŷ, dJdy_hat and
the parameters are compared before and after each call).

**Warnings, never failures**: one *saturated* BCE case (ŷ exactly 0 or 1 in float32). nn.BCELoss
clamps its logs at −100 and stays finite there; a textbook BCE gives inf/nan. Random course-style
BCE tests hit this now and then, so a TA should know, but the homework does not ask for the clamp.
"Extras" (tanh, 5·ReLU as ``'scaled_relu'``) are reported and do not count.

**Diagnosis**: a failing quantity is matched against known wrong variants (lab/diagnosis.py,
catalogue in lab/mistakes.py): a constant factor, a transpose, a flipped sign, an activation's
derivative missing or taken at the output, an activation not applied, a name not handled, inputs
modified in place, a wrong shape.

**Isolation** (lab/isolate.py): every submission runs in its own forked process with a time
limit, a memory limit, a fresh temporary working directory and its output captured. The verdict
comes from the results the child sends, never from its exit status. Isolation, not a security
sandbox: run untrusted code in a container.
"""
from __future__ import annotations

import argparse
import csv
import itertools
import json
import math
import re
import sys
import time
from collections import Counter
from pathlib import Path

import torch
from torch import nn

from lab import diagnosis, isolate, mistakes

__all__ = ["main", "load_module", "run_battery", "check_submission", "find_submissions", "QUANTITIES", "TOL",
           "RULE"]

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATH = ROOT / "mlp.py"
TOL = 1e-3
RULE = ("a quantity passes when ‖ours − autograd‖ < 1e-3 where ‖autograd‖ ≤ 1, "
        "or ‖ours − autograd‖ / ‖autograd‖ < 1e-3 where ‖autograd‖ > 1 (autograd in float32 as the course runs it, "
        "or in float64 for a submission that computes in float64); a shape that differs from autograd's only by "
        "axes of size 1 is compared as the course's broadcasting norm compares it (with a warning), any other "
        "shape fails")
QUANTITIES = ("y_hat", "J", "dJdy_hat", "dJdW1", "dJdb1", "dJdW2", "dJdb2")
CORE_ACTIVATIONS = ("relu", "sigmoid", "identity")
# (label, batch, in1, hidden, out2)
SHAPES = (("10x2-20-5", 10, 2, 20, 5), ("1x4-6-3", 1, 4, 6, 3), ("8x3-5-1", 8, 3, 5, 1))
EXTRAS = (("tanh", "identity"), ("scaled_relu", "identity"), ("relu", "tanh"), ("sigmoid", "scaled_relu"))
SATURATION_SCALE = 60.0   # W2 and b2 times this: |z3| in the hundreds, sigmoid rounds to 0 or 1
SATURATION_MARGIN = 1e-6  # core BCE cases keep every ŷ in (1e-6, 1 − 1e-6): none is 0 or 1 in float32
WIDTHS = dict(f=12, g=12, loss=5, shape=15)
CELL = 15


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

one_line = isolate.one_line


def load_module(path):
    """Import the file at ``path`` in *this* process (used inside the isolated child)."""
    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    module = isolate.load_submission(path, name="_submission_mlp")
    missing = [n for n in ("MLP", "mse_loss", "bce_loss") if not hasattr(module, n)]
    if missing:
        raise AttributeError(f"{path.name} does not define {', '.join(missing)} (the course's API)")
    return module


# ----------------------------------------------------------------------------------------------
# One case
# ----------------------------------------------------------------------------------------------
def _params(n_in, n_hid, n_out):
    return dict(W1=torch.randn(n_hid, n_in), b1=torch.randn(n_hid), W2=torch.randn(n_out, n_hid),
                b2=torch.randn(n_out))


def case_data(f, g, loss, shape, seed, saturate=False):
    """Seeded (params, x, y); BCE core cases are redrawn until every ŷ lies in (1e-6, 1 − 1e-6)."""
    _, batch, n_in, n_hid, n_out = shape
    for attempt in range(1000):
        torch.manual_seed(seed + 1000 * attempt)
        P = _params(n_in, n_hid, n_out)
        x = torch.randn(batch, n_in)
        y = torch.rand(batch, n_out) if loss == "bce" else torch.randn(batch, n_out)
        if saturate:
            P["W2"], P["b2"] = P["W2"] * SATURATION_SCALE, P["b2"] * SATURATION_SCALE
            y = (torch.rand(batch, n_out) > 0.5).to(x.dtype) * 0.8 + 0.1   # targets 0.1 / 0.9
            return P, x, y
        y_hat = diagnosis.forward(P, f, g, x)["y_hat"]
        if loss != "bce" or ((y_hat > SATURATION_MARGIN) & (y_hat < 1 - SATURATION_MARGIN)).all():
            return P, x, y
    raise RuntimeError(f"no non-saturating data for {f}/{g}/{loss} {shape[0]}")


def _reference(P, f, g, loss, x, y):
    """Autograd's values for the same network and data: dict quantity -> tensor."""
    n_hid, n_in = P["W1"].shape
    n_out = P["W2"].shape[0]
    model = nn.Sequential(nn.Linear(n_in, n_hid), TORCH_MODULES[f](), nn.Linear(n_hid, n_out), TORCH_MODULES[g]()).to(P["W1"].dtype)
    with torch.no_grad():
        model[0].weight.copy_(P["W1"])
        model[0].bias.copy_(P["b1"])
        model[2].weight.copy_(P["W2"])
        model[2].bias.copy_(P["b2"])
    criterion = nn.BCELoss() if loss == "bce" else nn.MSELoss()
    with torch.enable_grad():
        y_hat = model(x)
        y_hat.retain_grad()
        J = criterion(y_hat, y)
        J.backward()
    return dict(y_hat=y_hat.detach(), J=J.detach(), dJdy_hat=y_hat.grad,
                dJdW1=model[0].weight.grad, dJdb1=model[0].bias.grad,
                dJdW2=model[2].weight.grad, dJdb2=model[2].bias.grad)


def tested_error(ours, ref, scalar=False):
    """The cell of one quantity: dict(ok, value, relative, note). ``value`` is the number tested:
    ‖ours − ref‖ where ‖ref‖ ≤ 1, else ‖ours − ref‖ / ‖ref‖ (``relative`` True)."""
    if ours is None:
        return dict(ok=False, value=None, relative=False, note="missing (None)")
    try:
        ours = torch.as_tensor(ours).detach()
    except Exception as exc:   # e.g. a list of tensors
        return dict(ok=False, value=None, relative=False, note=f"not a tensor ({type(ours).__name__}: {one_line(exc)})")
    ref = ref.detach()
    if scalar and ours.numel() == 1:
        ours, ref = ours.reshape(()), ref.reshape(())
    shape_note = ""
    if tuple(ours.shape) != tuple(ref.shape):
        shape_note = f"shape: expected {tuple(ref.shape)}, got {tuple(ours.shape)}"
        if not _course_broadcasts(ours.shape, ref.shape):
            return dict(ok=False, value=None, relative=False, note=shape_note)
        # the course's (autograd − ours).norm() broadcasts a shape that differs only by size-1
        # axes, e.g. a bias gradient (1, h) against (h,): judge the values as the course does
        ours = ours.reshape(ref.shape)
    if not (ours.is_floating_point() or ours.is_complex()):
        ours = ours.to(torch.float64)
    a, b = ours.to(torch.float64), ref.to(torch.float64)
    ref_norm = b.norm().item()
    diff = (a - b).norm().item()
    relative = ref_norm > 1
    value = diff / ref_norm if relative else diff
    cell = dict(ok=bool(math.isfinite(value) and value < TOL), value=value, relative=relative, note=shape_note)
    if shape_note:
        cell["broadcast"] = True
    return cell


def _course_broadcasts(got, expected):
    """True when ``expected - got`` broadcasts without making more entries than ``expected`` has:
    the shapes differ only by axes of size 1 (a (1, h) row for an (h,) vector, but not an (h, 1)
    column, which broadcasts to h × h)."""
    try:
        return math.prod(torch.broadcast_shapes(tuple(got), tuple(expected))) == math.prod(expected)
    except RuntimeError:
        return False


def shape_warning(rows):
    """None, or one line for quantities of another shape that the course's criterion accepts."""
    seen = sorted({(q, c["note"]) for r in rows for q, c in r["cells"].items() if c.get("broadcast") and c["ok"]})
    if not seen:
        return None
    what = "; ".join(f"{q} {note.removeprefix('shape: ')}" for q, note in seen)
    return (f"shapes differ from PyTorch's .grad ({what}): the course's criterion (autograd − ours).norm() "
            f"broadcasts them and the values are right, so they pass here; code that copies them into a "
            f"parameter's .grad or compares shapes would reject them.")


def _same(a, b):
    """Bit-for-bit the same values (NaN equal to NaN)."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    return bool(((a == b) | (torch.isnan(a) & torch.isnan(b))).all()) if a.is_floating_point() else torch.equal(a, b)


def _snap(t):
    return t.detach().clone() if isinstance(t, torch.Tensor) else None


def run_case(module, f, g, loss, shape, *, seed=0, saturate=False, kind="core", send=None):
    """One row, JSON-ready: dict(kind, f, g, loss, shape, cells={q: cell}, error, stage, diagnoses)."""
    label = shape[0]
    row = dict(kind=kind, f=f, g=g, loss=loss, shape=label + (" sat." if saturate else ""), seed=seed, cells={},
               error=None, stage=None, diagnoses=[])
    P, x, y = case_data(f, g, loss, shape, seed, saturate)
    x0, y0 = x.clone(), y.clone()
    ours = {}
    stage = "MLP(...)"

    def at(s):
        nonlocal stage
        stage = s
        if send:
            send({"stage": f"{s} [{f}/{g}/{loss} {row['shape']}]"})

    modified = []
    try:
        at("MLP(...)")
        net = module.MLP(linear_1_in_features=shape[2], linear_1_out_features=shape[3], f_function=f,
                         linear_2_in_features=shape[3], linear_2_out_features=shape[4], g_function=g)
        at("net.parameters")
        params = net.parameters
        for k, v in P.items():
            t = params[k]
            if not isinstance(t, torch.Tensor):
                raise TypeError(f"net.parameters[{k!r}] is a {type(t).__name__}, not a torch.Tensor")
            if tuple(t.shape) != tuple(v.shape):
                row["diagnoses"].append(dict(q=k, key="wrong_shape", text=(
                    f"net.parameters[{k!r}]: wrong shape: expected {tuple(v.shape)} (the course's layout), "
                    f"got {tuple(t.shape)}")))
                raise ValueError(f"net.parameters[{k!r}] has shape {tuple(t.shape)}; the course's is {tuple(v.shape)}")
            with torch.no_grad():
                t.copy_(v)
        p0 = {k: _snap(params[k]) for k in P}
        with torch.no_grad():          # no autograd allowed in the submission (CONTRACT.md)
            at("clear_grad_and_cache()")
            net.clear_grad_and_cache()
            at("forward(x)")
            y_hat = net.forward(x)
            ours["y_hat"] = _snap(y_hat) if isinstance(y_hat, torch.Tensor) else y_hat
            if not _same(x, x0):
                modified.append("forward(x) modified x")
            at(f"{loss}_loss(y, y_hat)")
            J, dJdy_hat = getattr(module, f"{loss}_loss")(y, y_hat)
            ours["J"] = _snap(J) if isinstance(J, torch.Tensor) else J
            ours["dJdy_hat"] = _snap(dJdy_hat) if isinstance(dJdy_hat, torch.Tensor) else dJdy_hat
            if not _same(y, y0):
                modified.append(f"{loss}_loss modified y")
            if isinstance(ours["y_hat"], torch.Tensor) and not _same(y_hat, ours["y_hat"]):
                modified.append(f"{loss}_loss modified y_hat")
            at("backward(dJdy_hat)")
            net.backward(dJdy_hat)
            if isinstance(ours["dJdy_hat"], torch.Tensor) and not _same(dJdy_hat, ours["dJdy_hat"]):
                modified.append("backward modified dJdy_hat")
            if isinstance(ours["y_hat"], torch.Tensor) and not _same(y_hat, ours["y_hat"]):
                modified.append("backward modified y_hat")
            if not _same(x, x0):
                modified.append("backward modified x")
            changed = [k for k in P if not (isinstance(params.get(k), torch.Tensor) and _same(params[k], p0[k]))]
            if changed:
                modified.append(f"backward changed net.parameters {', '.join(changed)} (the course's grader "
                                f"reads them after backward)")
        at("net.grads")
        for k in diagnosis.GRADS:
            ours[k] = net.grads[k]
    except BaseException as exc:   # anything, even SystemExit: this is the isolated child
        row["error"] = f"{stage}: {one_line(exc)}"
        row["stage"] = stage
        names_it = isinstance(exc, KeyError) or any(n in str(exc) for n in {f, g})
        if stage in ("MLP(...)", "forward(x)") and isinstance(exc, Exception) and names_it:
            call = f"MLP(f_function={f!r}, g_function={g!r})" if stage == "MLP(...)" else "forward(x)"
            row["diagnoses"].append(dict(q=stage, key="activation_name_unhandled", text=(
                f"{call}: {mistakes.get('activation_name_unhandled').name} — {one_line(exc)}; "
                f"{mistakes.get('activation_name_unhandled').hint}")))
    if modified:
        m = mistakes.get("inputs_modified_in_place")
        row["modified"] = modified
        row["diagnoses"].append(dict(q="inputs", key=m.key, text=f"{m.name}: {'; '.join(modified)} — {m.hint}"))
    if stage in ("MLP(...)", "net.parameters"):
        return row
    ref = _reference(P, f, g, loss, x, y)
    ref64 = _reference({k: v.double() for k, v in P.items()}, f, g, loss, x.double(), y.double())
    for q in QUANTITIES:
        if q in ours:
            # float32 autograd is the course's reference; float64 autograd is the exact math (a
            # submission that computes in float64 can be right where float32 rounds 1 − ŷ)
            cell = tested_error(ours[q], ref[q], scalar=q == "J")
            if not cell["ok"] and cell["value"] is not None:
                cell64 = tested_error(ours[q], ref64[q], scalar=q == "J")
                if cell64["ok"]:
                    cell = dict(cell64, note="matches autograd in float64")
            row["cells"][q] = cell
    failing = {q for q, c in row["cells"].items() if not c["ok"]}
    if failing and not saturate:
        try:
            found = diagnosis.diagnose_row(dict(f=f, g=g, loss=loss, failing=failing), P, x, y, ours, ref)
        except Exception as exc:   # a diagnosis is a bonus: never let it hide the verdict
            found = {}
            row["diagnoses"].append(dict(q="?", key="", text=f"(no diagnosis: {one_line(exc)})"))
        for q in QUANTITIES:
            if q in found:
                key, text, detail = found[q]
                row["cells"][q]["diagnosis"] = key
                row["diagnoses"].append(dict(q=q, key=key, text=text, detail=detail,
                                             also=diagnosis.factor_aliases(key, shape[1], shape[4])))
    return row


def row_passed(row):
    return (row["error"] is None and not row.get("modified") and len(row["cells"]) == len(QUANTITIES)
            and all(c["ok"] for c in row["cells"].values()))


def run_battery(module, send=None):
    """(core_rows, extra_rows, saturated_row)."""
    core = []
    seed = 0
    for shape in SHAPES:
        for f, g in itertools.product(CORE_ACTIVATIONS, CORE_ACTIVATIONS):
            for loss in ("mse", "bce") if g == "sigmoid" else ("mse",):
                core.append(run_case(module, f, g, loss, shape, seed=seed, send=send))
                seed += 1
    extras = [run_case(module, f, g, "mse", SHAPES[0], seed=100 + i, kind="extra", send=send)
              for i, (f, g) in enumerate(EXTRAS)]
    saturated = run_case(module, "relu", "sigmoid", "bce", SHAPES[0], seed=1, saturate=True, kind="saturated",
                         send=send)
    return core, extras, saturated


def saturation_warning(row):
    """None, or the one-line warning for the saturated BCE case."""
    if row_passed(row):
        return None
    what = "relu/sigmoid BCE, 10x2-20-5 with W2 and b2 × 60, some ŷ exactly 0 or 1 in float32"
    if row["error"]:
        got = f"your code raises there ({row['error']})"
    else:
        nonfinite, differ = [], []
        for q in ("J", "dJdy_hat") + diagnosis.GRADS:
            c = row["cells"].get(q)
            if c and not c["ok"]:
                v = c["value"]
                (nonfinite if v is None or not math.isfinite(v) else differ).append(q)
        if not nonfinite and not differ:
            return None
        got = " and ".join(
            part for part in (f"your {', '.join(nonfinite)} {'is' if len(nonfinite) == 1 else 'are'} inf/nan" if nonfinite else "",
                              f"your {', '.join(differ)} {'differs' if len(differ) == 1 else 'differ'} from autograd's" if differ else "")
            if part) + " there"
    return (f"saturated BCE ({what}): {got}, while nn.BCELoss clamps each log at −100 and stays finite. "
            f"Random course-style BCE tests hit this now and then; the homework does not ask for the clamp, "
            f"so it does not count against the verdict.")


def check_submission(job, src, send):
    """The isolated child's work: import the copy at ``src``, run the battery, return plain data."""
    send({"stage": "import"})
    try:
        module = load_module(src)
    except BaseException as exc:
        what = one_line(exc)
        return dict(status="load_error", load_error=what + (" while importing" if isinstance(exc, SystemExit) else ""))
    send({"stage": "battery"})
    core, extras, saturated = run_battery(module, send)
    warnings = [w for w in [shape_warning(core), saturation_warning(saturated)] if w]
    return dict(status="checked", core=core, extras=extras, saturated=saturated, warnings=warnings)


# ----------------------------------------------------------------------------------------------
# Verdicts and reports (in the parent)
# ----------------------------------------------------------------------------------------------
def find_submissions(paths, filename="mlp.py"):
    """[(label, file, problem)] for files and folders given on the command line.

    A folder holds one .py file per student, or one subfolder per student with its ``filename``
    (or a single .py file). ``problem`` is a one-line reason when nothing can be checked."""
    found = []
    for p in map(Path, paths):
        if p.is_file():
            found.append((str(p), p, None))
        elif p.is_dir():
            entries = sorted(p.iterdir())
            for e in entries:
                if e.is_file() and e.suffix == ".py" and e.name != "__init__.py":
                    found.append((str(e), e, None))
                elif e.is_dir() and not e.name.startswith((".", "__")):
                    f = e / filename
                    pys = [q for q in e.glob("*.py") if q.name != "__init__.py"]
                    if f.is_file():
                        found.append((str(f), f, None))
                    elif len(pys) == 1:
                        found.append((str(pys[0]), pys[0], None))
                    else:
                        found.append((str(e), None, f"no {filename} in {e}" + (
                            f" (it holds {len(pys)} .py files)" if pys else "")))
        else:
            found.append((str(p), None, f"no such file or folder: {p}"))
    return found


def _memory_hint(text, mem_mib):
    if text and ("MemoryError" in text or "can't allocate memory" in text or "not enough memory" in text):
        asked = re.search(r"allocate (\d+) bytes", text)
        if asked:
            text = f"out of memory: it asked for {int(asked.group(1)) / 2**30:.1f} GiB at once"
        return f"{text} — over the memory limit of {mem_mib} MiB"
    return text


def aggregate_diagnoses(rows):
    """One entry per (quantity, mistake) over the rows, most frequent first. A factor that is
    ambiguous on a row's sizes (N = 1 or K = 1) joins the submission's other name for it, and the
    text shows the most common detail (e.g. which activation)."""
    base = Counter((d["q"], d["key"]) for r in rows for d in r["diagnoses"])
    counts, details, texts = Counter(), {}, {}
    for r in rows:
        for d in r["diagnoses"]:
            key = (d["q"], d["key"])
            for alias in d.get("also", []):
                if base[(d["q"], alias)]:
                    key = (d["q"], alias)
                    break
            counts[key] += 1
            details.setdefault(key, Counter())[d.get("detail", "")] += 1
            if key == (d["q"], d["key"]):
                texts.setdefault(key, d["text"])
    out = []
    for (q, k), n in counts.most_common():
        detail = details[(q, k)].most_common(1)[0][0]
        text = diagnosis._text(q, k, detail) if detail else texts[(q, k)]
        out.append(dict(q=q, key=k, rows=n, text=text))
    return out


def judge(label, outcome, problem=None, mem_mib=2048):
    """Everything the reports need about one submission: a JSON-ready dict with ``verdict``
    ('PASS' / 'FAIL' / 'ERROR'), ``exit`` (0 / 1 / 2), ``reason``, ``summary`` and the rows."""
    rep = dict(path=label, verdict="ERROR", exit=2, reason=None, seconds=None, rows=[], warnings=[], notes=[],
               diagnoses=[], core_passed=None, core_total=None)
    if problem:
        rep["reason"] = problem
        return rep
    rep["seconds"] = outcome.seconds
    res = outcome.result
    notes = outcome.notes()
    rep["notes"] = notes
    if res is None:
        rep["reason"] = _memory_hint(outcome.reason, mem_mib)
        if outcome.stage not in (None, "import"):
            rep.update(verdict="FAIL", exit=1)
        else:
            rep["reason"] = "cannot load: " + rep["reason"]
        return rep
    if res["status"] == "load_error":
        rep["reason"] = "cannot load: " + _memory_hint(res["load_error"], mem_mib)
        return rep
    core = res["core"]
    rep["rows"] = core + res["extras"] + [res["saturated"]]
    rep["warnings"] = res["warnings"]
    n_ok = sum(row_passed(r) for r in core)
    rep.update(core_passed=n_ok, core_total=len(core))
    rep["diagnoses"] = aggregate_diagnoses(core)
    if n_ok == len(core):
        rep.update(verdict="PASS", exit=0)
    else:
        rep.update(verdict="FAIL", exit=1)
        errors = Counter(r["error"] for r in core if r["error"])
        if not rep["diagnoses"] and errors:
            rep["reason"] = errors.most_common(1)[0][0]
    return rep


def summary_line(rep, width=0):
    path = rep["path"].ljust(width)
    secs = f" ({rep['seconds']:.1f} s)" if rep.get("seconds") is not None else ""
    if rep["core_total"] is None:
        return f"{rep['verdict']:<5} {path}  {rep['reason']}{secs}"
    head = f"{rep['verdict']:<5} {path}  core {rep['core_passed']}/{rep['core_total']} rows"
    tail = []
    real = [d for d in rep["diagnoses"] if d["key"] != "follows"]
    for d in real[:2]:
        tail.append(d["text"].split(" — ")[0] + f" [{d['key']}, {d['rows']} rows]")
    if rep["verdict"] == "FAIL" and not real and rep.get("reason"):
        tail.append(rep["reason"])
    if rep["verdict"] == "FAIL" and not tail:
        tail.append("no known mistake matches")
    if rep["warnings"]:
        tail.append(f"{len(rep['warnings'])} warning(s)")
    tail += [f"note: {n}" for n in rep.get("notes", []) if not n.startswith("printed")]
    return head + (" — " + "; ".join(tail) if tail else "") + secs


def _cell(q, row):
    c = row["cells"].get(q)
    if c is None:
        return "FAIL raised" if row["error"] else "-"
    if c["ok"]:
        return "ok"
    if c["value"] is None:
        return "FAIL shape" if c["note"].startswith("shape") else "FAIL"
    v = c["value"]
    num = "nan" if math.isnan(v) else "inf" if math.isinf(v) else f"{v:.1e}"
    return f"FAIL {num}" + ("r" if c["relative"] else "")


def format_table(rows, extra=False):
    head = ("".join(f"{k:<{w}}" for k, w in WIDTHS.items()) + "".join(f"{q:<{CELL}}" for q in QUANTITIES)).rstrip()
    lines = [head, "-" * len(head)]
    for row in rows:
        prefix = "".join(f"{row[k]:<{w}}" for k, w in WIDTHS.items())
        if extra and row["error"] and not row["cells"]:
            lines.append(prefix + f"n/a  ({row['error']})")
            continue
        lines.append(prefix + "".join(f"{_cell(q, row):<{CELL}}" for q in QUANTITIES).rstrip())
        if row["error"]:
            lines.append(" " * 4 + f"-> {row['error']}")
        for q, c in row["cells"].items():
            if not c["ok"] and c["note"]:
                lines.append(" " * 4 + f"-> {q}: {c['note']}")
        for d in row["diagnoses"]:
            lines.append(" " * 4 + f"=> {d['text']}")
    return "\n".join(lines)


LEGEND = """\
columns: f, g = hidden and output activation; loss = mse (nn.MSELoss) or bce (nn.BCELoss);
  shape = batch x inputs-hidden-outputs; y_hat = forward(x); J, dJdy_hat = what the loss returns;
  dJdW1 dJdb1 dJdW2 dJdb2 = net.grads after backward(dJdy_hat).
cells: ok = passed; FAIL 2.0e-02 = ‖ours − autograd‖ (the number tested, limit 1e-3, used where
  ‖autograd‖ ≤ 1); FAIL 2.0e-02r = ‖ours − autograd‖ / ‖autograd‖ (relative, limit 1e-3, used where
  ‖autograd‖ > 1); FAIL shape = a shape the course's norm cannot compare; FAIL raised = the call raised (message under the row);
  - = not reached. '->' lines: what went wrong; '=>' lines: the likely mistake (a known wrong
  variant that your numbers equal)."""


def print_captured(outcome, p=print):
    """What a submission printed, stream by stream (for --show-output)."""
    for label, text in (("stdout", outcome.stdout_text), ("stderr", outcome.stderr_text)):
        if text:
            p(f"--- its {label} ---\n{text.rstrip()}")


def print_single(rep, outcome, show_output=False, out=None):
    p = lambda *a: print(*a, file=out or sys.stdout)   # noqa: E731
    p(f"Check of {rep['path']}")
    p(f"rule: {RULE} (the course's test scripts print (autograd − ours).norm() < 1e-3)")
    if rep["rows"]:
        core = [r for r in rep["rows"] if r["kind"] == "core"]
        extras = [r for r in rep["rows"] if r["kind"] == "extra"]
        p()
        p("core (decides the verdict; BCE data drawn so that every ŷ is within (1e-6, 1 − 1e-6))")
        p(format_table(core))
        p()
        p("extras (tanh, 5·ReLU as 'scaled_relu'; reported only, n/a = the name is not accepted)")
        p(format_table(extras, extra=True))
        p()
        p(LEGEND)
    p()
    if rep["diagnoses"]:
        p("diagnosis (likely mistakes, most frequent first):")
        for d in rep["diagnoses"]:
            p(f"  {d['text']}  [{d['key']}, {d['rows']} of {rep['core_total']} rows]")
    for w in rep["warnings"]:
        p(f"WARNING: {w}")
    for n in rep["notes"]:
        p(f"note: {n}")
    if show_output and outcome is not None:
        print_captured(outcome, p)
    elif outcome is not None and outcome.output_summary():
        p("(--show-output prints what it printed)")
    if rep["core_total"] is not None:
        extras = [r for r in rep["rows"] if r["kind"] == "extra"]
        n_extra_ok = sum(row_passed(r) for r in extras)
        n_na = sum(1 for r in extras if r["error"] and not r["cells"])
        n_checks = len(QUANTITIES) * rep["core_total"]
        n_checks_ok = sum(c["ok"] for r in rep["rows"] if r["kind"] == "core" for c in r["cells"].values())
        p(f"summary: {rep['verdict']} — core {rep['core_passed']}/{rep['core_total']} rows, {n_checks_ok}/{n_checks} "
          f"checks; extras {n_extra_ok} pass, {len(extras) - n_extra_ok - n_na} fail, {n_na} n/a; "
          f"{len(rep['warnings'])} warning(s); {rep['seconds']:.1f} s")
    else:
        p(f"summary: {rep['verdict']} — {rep['reason']}")


def plain_json(obj):
    """The same data with NaN/inf as the strings 'nan'/'inf'/'-inf', so that any JSON parser reads it."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if isinstance(obj, dict):
        return {k: plain_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain_json(v) for v in obj]
    return obj


def write_json(reports, path, extra=None):
    data = dict(rule=RULE, submissions=reports, **(extra or {}))
    Path(path).write_text(json.dumps(plain_json(data), indent=1, default=str, allow_nan=False))


def write_csv(reports, path):
    fields = ["path", "verdict", "kind", "f", "g", "loss", "shape", "passed"] + list(QUANTITIES) + [
        "error", "diagnoses", "warnings", "reason", "seconds"]
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        for rep in reports:
            base = dict(path=rep["path"], verdict=rep["verdict"], reason=rep["reason"] or "",
                        warnings=" | ".join(rep["warnings"]), seconds=rep["seconds"])
            if not rep["rows"]:
                w.writerow(base)
                continue
            for r in rep["rows"]:
                d = dict(base, kind=r["kind"], f=r["f"], g=r["g"], loss=r["loss"], shape=r["shape"],
                         passed=row_passed(r), error=r["error"] or "",
                         diagnoses=" | ".join(x["text"] for x in r["diagnoses"]))
                d.update({q: _cell(q, r) for q in QUANTITIES})
                w.writerow(d)


def _progress_bar(total, desc):
    if total < 2:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    tqdm.monitor_interval = 0            # no monitor thread: the checker forks
    return tqdm(total=total, desc=desc, file=sys.stderr, unit="sub", leave=False)


def run_checks(paths, target, *, filename, timeout, mem_mib, jobs, show_output, desc, judge_fn):
    """Find, run isolated, judge: (reports, outcomes, wall seconds)."""
    found = find_submissions(paths, filename)
    runnable = [(i, f) for i, (_, f, problem) in enumerate(found) if problem is None]
    bar = _progress_bar(len(found), desc)
    t0 = time.perf_counter()
    outcomes = isolate.run_isolated([dict(path=str(f)) for _, f in runnable], target, timeout=timeout,
                                    mem_mib=mem_mib, parallel=jobs, full_output=show_output,
                                    progress=(lambda o: bar.update(1)) if bar else None)
    wall = time.perf_counter() - t0
    if bar:
        bar.update(len(found) - len(runnable))
        bar.close()
    by_index = dict(zip((i for i, _ in runnable), outcomes))
    reports = [judge_fn(label, by_index.get(i), problem) for i, (label, _, problem) in enumerate(found)]
    return reports, [by_index.get(i) for i in range(len(found))], wall


def build_parser(prog="python mlp.py --check", what="mlp.py",
                 description="Course-style, isolated check of mlp.py submissions against autograd."):
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--check", action="store_true", help=f"(accepted so that `python {what} --check` works)")
    parser.add_argument("paths", nargs="*", help=f"{what} files, or folders of them (default: ours)")
    parser.add_argument("--json", metavar="FILE", help="write every result (per case, warnings, diagnoses) as JSON")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per submission (default 60)")
    parser.add_argument("--memory-mib", type=int, default=2048, help="memory limit per submission in MiB (default 2048)")
    parser.add_argument("--jobs", type=int, default=0, help="submissions at once (default: the available cores)")
    parser.add_argument("--show-output", action="store_true", help="print what each submission printed")
    return parser


def main(argv=None):
    """Check one or many mlp.py files; print a table or one line each; return the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    parser.add_argument("--csv", metavar="FILE", help="write one line per case and submission as CSV")
    args = parser.parse_args(argv)
    if args.timeout <= 0 or args.memory_mib < 256 or args.jobs < 0:
        parser.error("--timeout must be > 0, --memory-mib ≥ 256 and --jobs ≥ 0")
    paths = args.paths or [str(DEFAULT_PATH)]
    torch.set_num_threads(1)      # the parent only schedules; each child runs one thread
    reports, outcomes, wall = run_checks(
        paths, check_submission, filename="mlp.py", timeout=args.timeout, mem_mib=args.memory_mib,
        jobs=args.jobs or None, show_output=args.show_output, desc="mlp.py --check",
        judge_fn=lambda label, o, problem: judge(label, o, problem, args.memory_mib))
    single = len(paths) == 1 and not Path(paths[0]).is_dir()
    if single:
        print_single(reports[0], outcomes[0], args.show_output)
    else:
        print(f"rule: {RULE}")
        width = min(60, max((len(r["path"]) for r in reports), default=0))
        for rep, out in zip(reports, outcomes):
            print(summary_line(rep, width))
            if args.show_output and out is not None:
                print_captured(out, lambda text: print("\n".join("    " + ln for ln in text.splitlines())))
        counts = Counter(r["verdict"] for r in reports)
        n = len(reports)
        print(f"totals: {n} submission(s) — {counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['ERROR']} ERROR "
              f"(cannot load or check); {sum(bool(r['warnings']) for r in reports)} with warnings; "
              f"{wall:.1f} s wall, {wall / max(n, 1):.2f} s per submission, {args.jobs or isolate.available_cores()} at once")
    if args.json:
        write_json(reports, args.json, dict(timeout_s=args.timeout, memory_mib=args.memory_mib, wall_s=round(wall, 2)))
    if args.csv:
        write_csv(reports, args.csv)
    if single:
        return reports[0]["exit"]
    return 0 if reports and all(r["verdict"] == "PASS" for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
