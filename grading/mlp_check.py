"""The mlp.py check (homework part 2.1), decided where no student code runs.

    python -m grading mlp PATH... [options]        # or: python mlp.py --check PATH...

**What is tested** (the course's grading scripts, made fair). Each case builds the network with
the course's keyword arguments, writes seeded ``torch.randn`` parameters into ``net.parameters``,
runs ``clear_grad_and_cache(); forward(x); <loss>_loss(y, y_hat); backward(dJdy_hat)`` under
``torch.no_grad()`` (grading/tasks/mlp.py, inside the sandbox) and sends back the raw values.
Here, in the grader's process, each value is read strictly (grading/schema.py, grading/wire.py)
and compared with autograd on the same ``nn.Sequential`` with ``nn.MSELoss()`` / ``nn.BCELoss()``
(activations from :mod:`lab.reference`). A quantity passes when it has the reference's shape and

    ‖ours − autograd‖ < 1e-3                 where ‖autograd‖ ≤ 1   (the course's criterion)
    ‖ours − autograd‖ / ‖autograd‖ < 1e-3    where ‖autograd‖ > 1   (the same, relative to the scale)

**Core battery** (decides the verdict): f, g in relu, sigmoid, identity; MSE for every pair and
BCE where g = sigmoid; three shapes; BCE data keep every ŷ in (1e-6, 1 − 1e-6).

**Fair near saturation**: a quantity that fails in float32 passes, with a precision warning,
when the same submission rerun with parameters and inputs in float64 matches autograd in float64
(float32 keeps few significant bits of 1 − ŷ near ŷ = 1, so two valid orders of the BCE gradient
can differ from autograd's by 1e-3 there). A float32 value that matches autograd in float64 (a
submission computing in float64 inside) passes as before.

**The rule on autograd** is a flag, never a change of the verdict: a static look at the source
(``.backward(``, ``torch.autograd``, ``requires_grad``, ``enable_grad``, ``autograd.grad``; the
``if __name__ == "__main__":`` block is the student's own test code and is skipped) and the
runtime facts the child reports (autograd calls, values carrying a graph). The rubric counts it.

**Warnings, never failures**: one saturated BCE case (ŷ exactly 0 or 1 in float32; nn.BCELoss
clamps its logs at −100); shapes the course's broadcasting norm accepts. "Extras" (tanh, 5·ReLU)
are reported and do not count. **Diagnosis** of a failing quantity: grading/diagnosis.py with the
catalogue lab/mistakes.py.
"""
from __future__ import annotations

import ast
import itertools
import math
from collections import Counter
from pathlib import Path

import torch
from torch import nn

from grading import diagnosis, schema, wire
from grading.report import SubmissionReport, fit, tail_lines, wrap, wrap_note
from lab import mistakes, reference

__all__ = ["KIND", "TASK", "FILENAME", "QUANTITIES", "TOL", "RULE", "RULE_FULL", "build_cases", "judge",
           "tested_error", "scan_autograd", "row_passed", "format_table", "print_single", "LEGEND"]

KIND, TASK, FILENAME = "mlp", "grading.tasks.mlp", "mlp.py"
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATH = ROOT / "mlp.py"
TOL = 1e-3
RULE = "‖ours − autograd‖ < 1e-3 (relative where ‖autograd‖ > 1); --explain for the full rule"
RULE_FULL = (
    "A quantity passes when it has autograd's shape and ‖ours − autograd‖ < 1e-3 where ‖autograd‖ ≤ 1,\n"
    "or ‖ours − autograd‖ / ‖autograd‖ < 1e-3 where ‖autograd‖ > 1 (the course's test scripts print\n"
    "(autograd − ours).norm() < 1e-3). Autograd runs in float32 as the course runs it. A quantity that\n"
    "fails in float32 passes with a precision warning when the same submission, rerun with parameters\n"
    "and inputs in float64, matches autograd in float64 (float32 loses 1 − ŷ near ŷ = 1). A shape that\n"
    "differs from autograd's only by axes of size 1 is compared as the course's broadcasting norm\n"
    "compares it (with a warning); any other shape fails. The verdict is PASS when every core row\n"
    "passes. Using autograd inside mlp.py (forbidden by the homework) is a flag that costs the rubric's\n"
    "rule points; it never changes the verdict.")
QUANTITIES = ("y_hat", "J", "dJdy_hat", "dJdW1", "dJdb1", "dJdW2", "dJdb2")
PARAMS = ("W1", "b1", "W2", "b2")
CORE_ACTIVATIONS = ("relu", "sigmoid", "identity")
# (label, batch, in1, hidden, out2)
SHAPES = (("10x2-20-5", 10, 2, 20, 5), ("1x4-6-3", 1, 4, 6, 3), ("8x3-5-1", 8, 3, 5, 1))
EXTRAS = (("tanh", "identity"), ("scaled_relu", "identity"), ("relu", "tanh"), ("sigmoid", "scaled_relu"))
SATURATION_SCALE = 60.0
SATURATION_MARGIN = 1e-6
AFTER_KEYS = ("x_forward", "y_loss", "y_hat_loss", "dJdy_hat_backward", "y_hat_backward", "x_backward",
              "W1_backward", "b1_backward", "W2_backward", "b2_backward")


# ----------------------------------------------------------------------------------------------
# The cases (built here, sent encoded: the child needs no seed logic and cannot choose its data)
# ----------------------------------------------------------------------------------------------
def _params(n_in, n_hid, n_out):
    return dict(W1=torch.randn(n_hid, n_in), b1=torch.randn(n_hid), W2=torch.randn(n_out, n_hid),
                b2=torch.randn(n_out))


def _forward(P, f, g, x):
    return diagnosis.forward(P, f, g, x)["y_hat"]


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
            y = (torch.rand(batch, n_out) > 0.5).to(x.dtype) * 0.8 + 0.1
            return P, x, y
        y_hat = _forward(P, f, g, x)
        if loss != "bce" or ((y_hat > SATURATION_MARGIN) & (y_hat < 1 - SATURATION_MARGIN)).all():
            return P, x, y
    raise RuntimeError(f"no non-saturating data for {f}/{g}/{loss} {shape[0]}")


def build_cases(budget_s=10.0):
    """[(meta, case)]: ``meta`` stays here (the tensors, the row's labels); ``case`` goes to the child."""
    plan = []
    seed = 0
    for shape in SHAPES:
        for f, g in itertools.product(CORE_ACTIVATIONS, CORE_ACTIVATIONS):
            for loss in ("mse", "bce") if g == "sigmoid" else ("mse",):
                plan.append(("core", f, g, loss, shape, seed, False))
                seed += 1
    plan += [("extra", f, g, "mse", SHAPES[0], 100 + i, False) for i, (f, g) in enumerate(EXTRAS)]
    plan.append(("saturated", "relu", "sigmoid", "bce", SHAPES[0], 1, True))
    out = []
    for i, (kind, f, g, loss, shape, seed, sat) in enumerate(plan):
        P, x, y = case_data(f, g, loss, shape, seed, sat)
        label = shape[0] + (" sat." if sat else "")
        meta = dict(kind=kind, f=f, g=g, loss=loss, shape=label, sizes=shape[1:], seed=seed, P=P, x=x, y=y)
        case = dict(id=f"{kind}-{i:02d}-{f}-{g}-{loss}-{shape[0]}", f=f, g=g, loss=loss, sizes=list(shape[1:]),
                    P={k: wire.encode(v) for k, v in P.items()}, x=wire.encode(x), y=wire.encode(y),
                    float64=kind != "extra", budget_s=float(budget_s))
        out.append((meta, case))
    return out


# ----------------------------------------------------------------------------------------------
# References and the criterion (all here, in the grader's process)
# ----------------------------------------------------------------------------------------------
def autograd_reference(P, f, g, loss, x, y):
    """Autograd's values for the same network and data: dict quantity -> tensor."""
    n_hid, n_in = P["W1"].shape
    n_out = P["W2"].shape[0]
    model = nn.Sequential(nn.Linear(n_in, n_hid), reference.torch_module(f), nn.Linear(n_hid, n_out),
                          reference.torch_module(g)).to(P["W1"].dtype)
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


def references(meta):
    """(float32, float64) autograd references of one case, computed once per battery (cached in meta)."""
    if "ref" not in meta:
        P, x, y = meta["P"], meta["x"], meta["y"]
        meta["ref"] = autograd_reference(P, meta["f"], meta["g"], meta["loss"], x, y)
        P64 = {k: v.double() for k, v in P.items()}
        meta["ref64"] = autograd_reference(P64, meta["f"], meta["g"], meta["loss"], x.double(), y.double())
    return meta["ref"], meta["ref64"]


def _course_broadcasts(got, expected):
    """True when ``expected - got`` broadcasts without making more entries than ``expected`` has."""
    try:
        return math.prod(torch.broadcast_shapes(tuple(got), tuple(expected))) == math.prod(expected)
    except RuntimeError:
        return False


def tested_error(ours, ref, scalar=False):
    """The cell of one quantity: dict(ok, value, relative, note). ``value`` is the number tested:
    ‖ours − ref‖ where ‖ref‖ ≤ 1, else ‖ours − ref‖ / ‖ref‖ (``relative`` True)."""
    if ours is None:
        return dict(ok=False, value=None, relative=False, note="missing (None)")
    if isinstance(ours, str):
        return dict(ok=False, value=None, relative=False, note=ours)
    ref = ref.detach()
    if scalar and ours.numel() == 1:
        ours, ref = ours.reshape(()), ref.reshape(())
    shape_note = ""
    if tuple(ours.shape) != tuple(ref.shape):
        shape_note = f"shape: expected {tuple(ref.shape)}, got {tuple(ours.shape)}"
        if not _course_broadcasts(ours.shape, ref.shape):
            return dict(ok=False, value=None, relative=False, note=shape_note)
        ours = ours.reshape(ref.shape)
    a, b = ours.to(torch.float64), ref.to(torch.float64)
    ref_norm = b.norm().item()
    diff = (a - b).norm().item()
    relative = ref_norm > 1
    value = diff / ref_norm if relative else diff
    cell = dict(ok=bool(math.isfinite(value) and value < TOL), value=value, relative=relative, note=shape_note)
    if shape_note:
        cell["broadcast"] = True
    return cell


def _same(a, b):
    """Bit-for-bit the same values (NaN equal to NaN)."""
    if not isinstance(a, torch.Tensor) or not isinstance(b, torch.Tensor):
        return False
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.is_floating_point():
        return bool(((a == b) | (torch.isnan(a) & torch.isnan(b))).all())
    return torch.equal(a, b)


# ----------------------------------------------------------------------------------------------
# Reading the child's payload strictly
# ----------------------------------------------------------------------------------------------
def _read_run(run, where):
    schema.keys(run, where, required=("stage", "error", "error_type", "values", "after", "param_shapes",
                                      "autograd"))
    schema.text(run["stage"], f"{where}.stage", 200)
    schema.opt_text(run["error"], f"{where}.error", 400)
    schema.opt_text(run["error_type"], f"{where}.error_type", 100)
    schema.keys(run["values"], f"{where}.values", optional=QUANTITIES)
    values = {q: schema.tensor_or_problem(v, f"{where}.values.{q}") for q, v in run["values"].items()}
    schema.keys(run["after"], f"{where}.after", optional=AFTER_KEYS)
    after = {}
    for k, v in run["after"].items():
        t = schema.tensor_or_problem(v, f"{where}.after.{k}")
        if isinstance(t, str):
            raise schema.Malformed(f"{where}.after.{k}: expected an encoded tensor")
        after[k] = t
    shapes = run["param_shapes"]
    if shapes is not None:
        schema.keys(shapes, f"{where}.param_shapes", optional=PARAMS)
        for k, s in shapes.items():
            if not isinstance(s, list) or len(s) > 6 or not all(type(n) is int and 0 <= n < 2**31 for n in s):
                raise schema.Malformed(f"{where}.param_shapes.{k}: expected a list of sizes")
    ag = schema.keys(run["autograd"], f"{where}.autograd", required=("calls", "graph", "grad_enabled_after"))
    schema.integer(ag["calls"], f"{where}.autograd.calls")
    schema.str_list(ag["graph"], f"{where}.autograd.graph", allowed=QUANTITIES)
    schema.boolean(ag["grad_enabled_after"], f"{where}.autograd.grad_enabled_after")
    return dict(stage=run["stage"], error=run["error"], error_type=run["error_type"], values=values, after=after,
                param_shapes=shapes, autograd=ag)


def read_payload(payload):
    """{"api_missing": [...]} or {"runs": {"float32": run, "float64": run?}}, checked; Malformed if not."""
    if isinstance(payload, dict) and "api_missing" in payload:
        schema.keys(payload, "payload", required=("api_missing",))
        return dict(api_missing=schema.str_list(payload["api_missing"], "payload.api_missing", allowed=("MLP", "mse_loss", "bce_loss")))
    schema.keys(payload, "payload", required=("runs",))
    runs = schema.keys(payload["runs"], "payload.runs", required=("float32",), optional=("float64",))
    return dict(runs={k: _read_run(v, f"runs.{k}") for k, v in runs.items()})


# ----------------------------------------------------------------------------------------------
# One row: the parent's decision
# ----------------------------------------------------------------------------------------------
def _empty_row(meta):
    return dict(kind=meta["kind"], f=meta["f"], g=meta["g"], loss=meta["loss"], shape=meta["shape"],
                seed=meta["seed"], status="ok", cells={}, error=None, stage=None, diagnoses=[], autograd=None)


def _modified(meta, run, ours):
    x, y, P, loss = meta["x"], meta["y"], meta["P"], meta["loss"]
    a = run["after"]
    found = []
    checks = [("x_forward", x, "forward(x) modified x"), ("y_loss", y, f"{loss}_loss modified y"),
              ("y_hat_loss", ours.get("y_hat"), f"{loss}_loss modified y_hat"),
              ("dJdy_hat_backward", ours.get("dJdy_hat"), "backward modified dJdy_hat"),
              ("y_hat_backward", ours.get("y_hat"), "backward modified y_hat"),
              ("x_backward", x, "backward modified x")]
    for key, before, text in checks:
        if key in a and isinstance(before, torch.Tensor) and not _same(a[key], before):
            found.append(text)
    if run["error"] is None:
        changed = [k for k in PARAMS if not _same(a.get(f"{k}_backward"), P[k])]
        if changed:
            found.append(f"backward changed net.parameters {', '.join(changed)} (the course's grader reads them "
                         f"after backward)")
    return found


def judge_case(meta, case_run):
    """The row of one case from the Pool's CaseRun: cells, error, diagnoses, precision notes."""
    row = _empty_row(meta)
    if case_run.status != "ok":
        row["status"] = case_run.status
        what = {"timeout": "TIMEOUT", "killed": "killed", "raised": "the check raised", "malformed": "malformed",
                "not_run": "not run"}.get(case_run.status, case_run.status)
        row["error"] = f"{what}: {case_run.error}" if case_run.error and not case_run.error.startswith(what) else (case_run.error or what)
        return row
    try:
        data = read_payload(case_run.payload)
    except schema.Malformed as exc:
        row.update(status="malformed", error=f"malformed: {exc}")
        return row
    if "api_missing" in data:
        row.update(status="api_missing", error=", ".join(data["api_missing"]))
        return row
    f, g, loss = meta["f"], meta["g"], meta["loss"]
    run32 = data["runs"]["float32"]
    ours = dict(run32["values"])
    row["autograd"] = run32["autograd"]
    if run32["error"]:
        row["error"] = f"{run32['stage']}: {run32['error']}"
        row["stage"] = run32["stage"]
        names_it = run32["error_type"] == "KeyError" or any(n in run32["error"] for n in {f, g})
        if run32["stage"] in ("MLP(...)", "forward(x)") and run32["error_type"] not in (None, "SystemExit") and names_it:
            call = f"MLP(f_function={f!r}, g_function={g!r})" if run32["stage"] == "MLP(...)" else "forward(x)"
            m = mistakes.get("activation_name_unhandled")
            row["diagnoses"].append(dict(q=run32["stage"], key=m.key,
                                         text=f"{call}: {m.name} — {run32['error']}; {m.hint}"))
        if run32["param_shapes"]:
            for k, s in run32["param_shapes"].items():
                want = list(meta["P"][k].shape)
                if s != want:
                    row["diagnoses"].append(dict(q=k, key="wrong_shape", text=(
                        f"net.parameters[{k!r}]: wrong shape: expected {tuple(want)} (the course's layout), "
                        f"got {tuple(s)}")))
    modified = _modified(meta, run32, ours)
    if modified:
        m = mistakes.get("inputs_modified_in_place")
        row["modified"] = modified
        row["diagnoses"].append(dict(q="inputs", key=m.key, text=f"{m.name}: {'; '.join(modified)} — {m.hint}"))
    if run32["stage"] in ("MLP(...)", "net.parameters"):
        return row
    P, x, y = meta["P"], meta["x"], meta["y"]
    ref, ref64 = references(meta)
    run64 = data["runs"].get("float64")
    ours64 = run64["values"] if run64 else {}
    for q in QUANTITIES:
        if q not in ours:
            continue
        cell = tested_error(ours[q], ref[q], scalar=q == "J")
        if not cell["ok"] and cell["value"] is not None:
            cell_exact = tested_error(ours[q], ref64[q], scalar=q == "J")
            if cell_exact["ok"]:              # computed in float64 inside: right by the exact math
                cell = dict(cell_exact, note="matches autograd in float64")
            elif q in ours64:
                cell64 = tested_error(ours64[q], ref64[q], scalar=q == "J")
                if cell64["ok"]:
                    cell = dict(cell, ok=True, precision=True, value64=cell64["value"],
                                note=f"float32 error {cell['value']:.1e}; the float64 rerun matches autograd "
                                     f"({cell64['value']:.1e})")
        row["cells"][q] = cell
    failing = {q for q, c in row["cells"].items() if not c["ok"]}
    if failing and meta["kind"] != "saturated":
        try:
            found = diagnosis.diagnose_row(dict(f=f, g=g, loss=loss, failing=failing), P, x, y, ours_tensors(ours), ref)
        except Exception as exc:   # a diagnosis is a bonus: never let it hide the verdict
            found = {}
            row["diagnoses"].append(dict(q="?", key="", text=f"(no diagnosis: {type(exc).__name__}: {exc})"))
        for q in QUANTITIES:
            if q in found:
                key, text, detail = found[q]
                row["cells"][q]["diagnosis"] = key
                row["diagnoses"].append(dict(q=q, key=key, text=text, detail=detail,
                                             also=diagnosis.factor_aliases(key, meta["sizes"][0], meta["sizes"][3])))
    return row


def ours_tensors(ours):
    return {q: (v if isinstance(v, torch.Tensor) else None) for q, v in ours.items()}


def row_passed(row):
    return (row["error"] is None and not row.get("modified") and len(row["cells"]) == len(QUANTITIES)
            and all(c["ok"] for c in row["cells"].values()))


# ----------------------------------------------------------------------------------------------
# The rule on autograd
# ----------------------------------------------------------------------------------------------
def _is_main_guard(node):
    if not isinstance(node, ast.If):
        return False
    t = node.test
    return (isinstance(t, ast.Compare) and isinstance(t.left, ast.Name) and t.left.id == "__name__"
            and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in t.comparators))


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _false(node):
    return isinstance(node, ast.Constant) and node.value is False


def scan_autograd(source):
    """[(line, source line, what)] where mlp.py's own code uses autograd (the main guard skipped).

    Looked for: a ``.backward(`` call on anything but ``self``, ``torch.autograd`` / ``autograd.grad``,
    ``requires_grad`` set true (``requires_grad=False`` is harmless), ``enable_grad``,
    ``set_grad_enabled(True)``, ``torch.func`` / ``functorch`` (vjp, grad, jacrev are autograd)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    lines = source.splitlines()
    hits = {}

    def hit(node, what):
        ln = getattr(node, "lineno", 0)
        text = lines[ln - 1].strip() if 0 < ln <= len(lines) else ""
        hits.setdefault(ln, (ln, text[:100], what))

    body = [n for n in tree.body if not _is_main_guard(n)]
    for top in body:
        for node in ast.walk(top):
            if isinstance(node, ast.Call):
                name = _dotted(node.func)
                if isinstance(node.func, ast.Attribute) and node.func.attr == "backward":
                    receiver = node.func.value
                    if not (isinstance(receiver, ast.Name) and receiver.id == "self"):
                        hit(node, ".backward(")
                elif name.endswith("set_grad_enabled") and not (node.args and _false(node.args[0])):
                    hit(node, "set_grad_enabled")
                elif isinstance(node.func, ast.Attribute) and node.func.attr == "requires_grad_" and not (
                        node.args and _false(node.args[0])):
                    hit(node, "requires_grad_()")
                for kw in node.keywords:
                    if kw.arg == "requires_grad" and not _false(kw.value):
                        hit(node, "requires_grad=True")
            elif isinstance(node, ast.Attribute):
                name = _dotted(node)
                if node.attr == "enable_grad":
                    hit(node, "enable_grad")
                elif name.endswith("autograd.grad") or name.endswith("autograd.backward") or name == "torch.autograd":
                    hit(node, "torch.autograd")
                elif name == "torch.func" or name == "functorch":   # vjp, grad, jacrev: autograd too
                    hit(node, "torch.func")
                elif node.attr == "requires_grad" and isinstance(getattr(node, "ctx", None), ast.Store):
                    hit(node, "requires_grad set")
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                mod = getattr(node, "module", None) or ""
                names = [a.name for a in node.names]
                if "autograd" in mod or any("autograd" in n or n in ("enable_grad", "grad") and "torch" in mod
                                            for n in names):
                    hit(node, "imports autograd")
                elif mod.startswith(("torch.func", "functorch")) or any(
                        n.startswith(("torch.func", "functorch")) for n in names):
                    hit(node, "imports torch.func")
    return [hits[k] for k in sorted(hits)]


def autograd_flag(static_hits, rows):
    """None, or the one-line flag text for the rule (static lines first, runtime facts after)."""
    calls = sum((r["autograd"] or {}).get("calls", 0) for r in rows)
    graph = sorted({q for r in rows for q in ((r["autograd"] or {}).get("graph") or [])})
    switched = any((r["autograd"] or {}).get("grad_enabled_after") for r in rows)
    runtime = []
    if calls:
        runtime.append(f"autograd's backward ran {calls} time(s) during the checks")
    if graph:
        runtime.append(f"{', '.join(graph)} carried an autograd graph")
    if switched:
        runtime.append("it switched gradients back on (torch.is_grad_enabled())")
    if not static_hits and not runtime:
        return None
    if static_hits:
        order = (".backward(", "torch.autograd", "enable_grad", "set_grad_enabled")
        ln, text, _ = min(static_hits, key=lambda h: (order.index(h[2]) if h[2] in order else len(order), h[0]))
        more = f" (+{len(static_hits) - 1} more line(s))" if len(static_hits) > 1 else ""
        where = f"line {ln} `{text}`{more}"
        if runtime:
            where += f"; {runtime[0]}"
    else:
        where = "; ".join(runtime)
    return f"uses autograd: {where} — the homework forbids it"


# ----------------------------------------------------------------------------------------------
# One submission
# ----------------------------------------------------------------------------------------------
def aggregate_diagnoses(rows):
    """One entry per (quantity, mistake) over the rows, most frequent first (aliases of a factor
    that is ambiguous on a row's sizes join the submission's other name for it)."""
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


def shape_warning(rows):
    seen = sorted({(q, c["note"]) for r in rows for q, c in r["cells"].items() if c.get("broadcast") and c["ok"]})
    if not seen:
        return None
    what = "; ".join(f"{q} {note.removeprefix('shape: ')}" for q, note in seen)
    return (f"shapes differ from PyTorch's .grad ({what}): the course's criterion (autograd − ours).norm() "
            f"broadcasts them and the values are right, so they pass here; code that copies them into a "
            f"parameter's .grad or compares shapes would reject them.")


def precision_warning(rows):
    """None, or the warning for quantities that passed only by the float64 rerun."""
    hits = [(r, q, c) for r in rows if r["kind"] == "core" for q, c in r["cells"].items() if c.get("precision")]
    if not hits:
        return None
    cases = sorted({f"{r['f']}/{r['g']}/{r['loss']} {r['shape']}" for r, _, _ in hits})
    qs = sorted({q for _, q, _ in hits}, key=QUANTITIES.index)
    worst = max(c["value"] for _, _, c in hits)
    return (f"precision: {', '.join(qs)} on {len(cases)} row(s) ({'; '.join(cases[:3])}"
            f"{'; ...' if len(cases) > 3 else ''}) miss autograd in float32 (‖Δ‖ up to {worst:.1e} > 1e-3) "
            f"while the same code in float64 matches autograd: the formula is right but loses float32 "
            f"precision near ŷ = 0 or 1. Graded as passing; the course's float32 test script would print "
            f"False on data like these.")


def saturation_warning(row):
    if row is None or row_passed(row):
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
        parts = []
        if nonfinite:
            parts.append(f"your {', '.join(nonfinite)} {'is' if len(nonfinite) == 1 else 'are'} inf/nan")
        if differ:
            parts.append(f"your {', '.join(differ)} {'differs' if len(differ) == 1 else 'differ'} from autograd's")
        got = " and ".join(parts) + " there"
    return (f"saturated BCE ({what}): {got}, while nn.BCELoss clamps each log at −100 and stays finite. "
            f"Random course-style BCE tests hit this now and then; the homework does not ask for the clamp, "
            f"so it does not count against the verdict.")


def score(rubric, rows, flagged):
    """(score, groups) from the core rows and the rule flag."""
    core = [r for r in rows if r["kind"] == "core"]
    groups, total = [], 0.0
    for grp in rubric.groups:
        if grp.rule == "autograd":
            ran = any(row_passed(r) for r in core)      # a rule is kept by code that works, not by no code
            got = grp.points if ran and not flagged else 0.0
            out = ("the homework's rule is broken: autograd used" if flagged else
                   "kept: no autograd found" if ran else "not scored: no core row passed")
        else:
            sel = [r for r in core if grp.selects(r)]
            ok = [r for r in sel if row_passed(r)]
            got = grp.points * len(ok) / len(sel) if sel else 0.0
            failed = [f"{r['f']}/{r['g']} {r['shape']}" for r in sel if not row_passed(r)]
            out = f"{len(ok)}/{len(sel)} rows pass" + (f"; failing: {', '.join(failed[:4])}"
                                                        f"{', ...' if len(failed) > 4 else ''}" if failed else "")
        total += got
        groups.append(dict(name=grp.name, score=round(got, 4), max_score=grp.points, extra_credit=grp.extra_credit,
                           output=out))
    return total, groups


def judge(path, run, plan, rubric, source=None, memory_mib=2048):
    """The SubmissionReport of one submission from the Pool's SubmissionRun (``run``)."""
    from grading.runner import load_problem     # (the runner imports the checks)

    rep = SubmissionReport(path=str(path), kind=KIND, max_score=rubric.max_score, seconds=round(run.seconds, 3),
                           stdout_tail=run.stdout_tail, stderr_tail=run.stderr_tail)
    problem = load_problem(run, FILENAME, memory_mib)
    if problem:
        return _crashed(rep, rubric, problem)
    rows = [judge_case(meta, cr) for (meta, _), cr in zip(plan, run.cases)]
    missing = next((r["error"] for r in rows if r["status"] == "api_missing"), None)
    if missing:
        return _crashed(rep, rubric, f"cannot load: {Path(path).name} does not define {missing} (the course's API)")
    malformed = next((r["error"] for r in rows if r["status"] == "malformed"), None)
    if malformed:      # the child broke the protocol: nothing it sent can be graded
        out = _crashed(rep, rubric, malformed if malformed.startswith("malformed") else f"malformed: {malformed}")
        out.cases = rows
        return out
    core = [r for r in rows if r["kind"] == "core"]
    rep.cases = rows
    rep.warnings = [w for w in (precision_warning(core), shape_warning(core),
                                saturation_warning(next((r for r in rows if r["kind"] == "saturated"), None))) if w]
    flag = autograd_flag(scan_autograd(source) if source else [], rows)
    rep.flags = [flag] if flag else []
    rep.diagnoses = aggregate_diagnoses(core)
    n_ok = sum(row_passed(r) for r in core)
    rep.details = dict(core_passed=n_ok, core_total=len(core), rows=rows)
    rep.verdict = "PASS" if n_ok == len(core) else "FAIL"
    if rep.verdict == "FAIL":
        errors = Counter(r["error"] for r in core if r["error"])
        if not [d for d in rep.diagnoses if d["key"] != "follows"] and errors:
            rep.reason = errors.most_common(1)[0][0]
    rep.score, rep.groups = score(rubric, rows, bool(flag))
    head = f"core {n_ok}/{len(core)} rows"
    real = [d for d in rep.diagnoses if d["key"] != "follows"]
    tail = [d["text"].split(" — ")[0] + f" [{d['key']}, {d['rows']} rows]" for d in real[:2]]
    if rep.verdict == "FAIL" and not tail and not rep.reason:
        tail.append("no known mistake matches")
    rep.headline = head + (" — " + "; ".join(tail) if tail else "")
    return rep


def _crashed(rep, rubric, reason):
    out = SubmissionReport.crashed(rep.path, KIND, reason, groups=rubric.template(), max_score=rubric.max_score,
                                   seconds=rep.seconds)
    out.stdout_tail, out.stderr_tail = rep.stdout_tail, rep.stderr_tail
    out.details = dict(core_passed=None, core_total=None, rows=[])
    return out


# ----------------------------------------------------------------------------------------------
# The terminal
# ----------------------------------------------------------------------------------------------
WIDTHS = dict(f=9, g=9, loss=5, shape=10)
CELL = 9
SHORT = dict(y_hat="y_hat", J="J", dJdy_hat="dJdy_hat", dJdW1="dJdW1", dJdb1="dJdb1", dJdW2="dJdW2", dJdb2="dJdb2")


def cell_text(q, row):
    c = row["cells"].get(q)
    if c is None:
        return "raised" if row["error"] else "-"
    if c["ok"]:
        return "ok64" if c.get("precision") else "ok~" if c.get("broadcast") else "ok"
    if c["value"] is None:
        return "shape" if c["note"].startswith("shape") else "bad"
    v = c["value"]
    num = "nan" if math.isnan(v) else "inf" if math.isinf(v) else f"{v:.1e}"
    return num + ("r" if c["relative"] else "")


def _name(row, k):
    v = row[k]
    return {"identity": "ident", "scaled_relu": "5relu", "sigmoid": "sigmoid"}.get(v, v) if k in "fg" else v


def format_table(rows, extra=False):
    head = ("".join(f"{k:<{w}}" for k, w in WIDTHS.items()) + "".join(f"{SHORT[q]:<{CELL}}" for q in QUANTITIES)).rstrip()
    lines = [head, "-" * len(head)]
    for row in rows:
        prefix = "".join(f"{_name(row, k):<{w}}" for k, w in WIDTHS.items())
        if extra and row["error"] and not row["cells"]:
            lines.append(fit(prefix + f"n/a ({row['error']})"))
            continue
        lines.append((prefix + "".join(f"{cell_text(q, row):<{CELL}}" for q in QUANTITIES)).rstrip())
        if row["error"]:
            lines.append(fit("    -> " + row["error"]))
        for q, c in row["cells"].items():
            if (not c["ok"] or c.get("precision")) and c["note"]:
                lines.append(fit(f"    -> {q}: {c['note']}"))
        for d in row["diagnoses"]:
            lines.append(fit("    => " + d["text"].split(" — ")[0]))
    return "\n".join(lines)


LEGEND = """\
cells: ok; ok64 = passes by the float64 rerun (a precision warning); ok~ = a shape the course's
  norm broadcasts (a warning); 2.0e-02 = FAIL, the error tested (limit 1e-3; r = relative, used
  where ‖autograd‖ > 1); shape / raised / - = FAIL: wrong shape, the call raised, not reached.
  '->' what went wrong; '=>' the likely mistake. Names: ident = identity, 5relu = 5·ReLU."""


def print_single(rep, out, *, explain=False, sandbox_note=""):
    """The one-file report: verdict and score first, the rule in one line, the table, diagnosis."""
    p = lambda *a: print(*a, file=out)   # noqa: E731
    p(f"{rep.verdict} {rep.score_text()} points — {rep.path}")
    if rep.details.get("core_total") is not None:
        p(f"  core {rep.details['core_passed']}/{rep.details['core_total']} rows; {len(rep.flags)} flag(s); "
          f"{len(rep.warnings)} warning(s); {rep.seconds:.1f} s")
    elif rep.reason:
        p(wrap(rep.reason))
    for f in rep.flags:
        p(wrap(f"FLAG: {f}"))
    p(f"rule: {RULE}")
    if explain:
        p(RULE_FULL)
    if sandbox_note:
        p(wrap_note(sandbox_note))
    rows = rep.details.get("rows") or []
    if rows:
        p()
        p("core (decides the verdict; BCE data keep every ŷ within (1e-6, 1 − 1e-6))")
        p(format_table([r for r in rows if r["kind"] == "core"]))
        p()
        p("extras (tanh, 5·ReLU; reported only, n/a = the name is not accepted)")
        p(format_table([r for r in rows if r["kind"] == "extra"], extra=True))
        p()
        p(LEGEND)
    if rep.diagnoses:
        p()
        p("diagnosis (likely mistakes, most frequent first):")
        for d in rep.diagnoses:
            p(wrap(f"{d['text']}  [{d['key']}, {d['rows']} of {rep.details['core_total']} rows]"))
    for w in rep.warnings:
        p(wrap(f"WARNING: {w}", indent=""))
    for line in tail_lines(rep, rep.headline or rep.reason):
        p(line)
