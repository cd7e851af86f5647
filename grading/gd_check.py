"""The gd.py check (homework part 2.2), decided where no student code runs: does the submitted
gradient ascent raise the target label's score on the input image?

    python -m grading gd PATH... [--labels 0-9] [options]     # or: python gd.py --check PATH...

Inside the sandbox (grading/tasks/gd.py) each submission's ``gradient_descent(image, model, loss)``
is called for every label exactly as the course's ``main()`` calls it, on the embedded digits
model handed over as the course hands over its VGG; the child sends back the image only (and
raw facts: seconds, the model's mode, which weights changed there). Here the grader scores the
returned image on **its own untouched copy** of the model: p(label) on the raw [0, 1] image as
the course computes it, on the normalized image, and the legibility judge's reading
(:func:`dream.judges.recognize_digits`, scikit-learn classifiers, not the CNN). Weights changed
or torch patched in the child cannot raise a score.

PASS when every label ran in its budget, returned a finite (1, 3, H, W) tensor, left the weights
alone and raised p(course) above the start image's. Points (rubric): 15 × labels raised / labels,
and 5 extra credit × pictures the judge reads as their label / labels.
"""
from __future__ import annotations

import math
import re
from collections import Counter

import torch

from grading import schema
from grading.report import SubmissionReport, fit, tail_lines, wrap, wrap_note
from grading.tasks.gd import SIZE, course_start

__all__ = ["KIND", "TASK", "FILENAME", "RULE", "RULE_FULL", "DEFAULT_LABELS", "prepare", "build_cases", "judge",
           "parse_labels", "print_single"]

KIND, TASK, FILENAME = "gd", "grading.tasks.gd", "gd.py"
DEFAULT_LABELS = tuple(range(10))
RULE = "PASS: every label raised p(label) above the start image's, weights untouched; --explain for more"
RULE_FULL = (
    "The course's call: gradient_descent(image, model, loss) with no iterations argument, on the\n"
    "224-px gray-noise start, loss = lambda t: t[0, label].mean(), our digits model in training mode.\n"
    "The returned image is scored here on the grader's own copy of the model: p(course) = softmax\n"
    "probability of the label for model(image) on the raw [0, 1] image (as the course's main()\n"
    "computes it), p(normalized) = on the normalized image, judge = the digit independent classifiers\n"
    "read (-1: none). PASS when every label ran within its budget, returned a finite (1, 3, H, W)\n"
    "tensor, left the model's weights and buffers unchanged and raised p(course) above p_start.\n"
    "Mode changes are notes, not failures.")
_MODEL = {}


def prepare(size=SIZE):
    """Load the grader's own copy of the digits model and fit the judge once (in this process)."""
    from dream.judges import recognize_digits
    from dream.models import load_model

    if _MODEL.get("size") == size:
        return
    model, info = load_model("digits", quiet=True)
    try:
        model(torch.zeros(1, 3, size, size))
    except Exception as exc:
        raise SystemExit(f"the digits model does not take {size}-px images here ({type(exc).__name__}: {exc})")
    recognize_digits([torch.zeros(1, 3, size, size)])
    _MODEL.update(model=model, info=info, size=size, p_start={})


def _p(image, label):
    from dream.scores import class_probability

    return class_probability(_MODEL["model"], image, label, _MODEL["info"])


def build_cases(labels=DEFAULT_LABELS, size=SIZE, budget_s=20.0):
    """[(meta, case)] one per label; the start image is rebuilt from the label on both sides."""
    return [(dict(label=int(lab), size=size), dict(id=f"label-{lab}", label=int(lab), size=size, budget_s=float(budget_s)))
            for lab in labels]


def parse_labels(text):
    labels = []
    for part in str(text).split(","):
        part = part.strip()
        if re.fullmatch(r"\d-\d", part):
            a, b = map(int, part.split("-"))
            labels += list(range(a, b + 1))
        elif re.fullmatch(r"\d", part):
            labels.append(int(part))
        else:
            raise ValueError(f"--labels takes digits 0-9, comma-separated or as a range like 0-9; got {text!r}")
    if not labels:
        raise ValueError("--labels is empty")
    return labels


def _cuda_hint(text):
    if re.search(r"cuda|nvidia", text or "", re.IGNORECASE):
        return (f"needs CUDA ({text}); the check runs on the CPU: pick the device with "
                f"torch.device('cuda' if torch.cuda.is_available() else 'cpu')")
    return text


def read_payload(payload):
    """The child's answer for one label, checked field by field; schema.Malformed if it is not."""
    if isinstance(payload, dict) and "api_missing" in payload:
        schema.keys(payload, "payload", required=("api_missing",))
        return dict(api_missing=schema.str_list(payload["api_missing"], "payload.api_missing",
                                                allowed=("gradient_descent",)))
    schema.keys(payload, "payload", required=("image", "seconds", "error", "error_type", "training_after", "changed"))
    image = payload["image"]
    if image is not None:
        image = schema.tensor_or_problem(image, "payload.image")
    return dict(image=image, seconds=schema.number(payload["seconds"], "payload.seconds", 0.0, 1e6),
                error=schema.opt_text(payload["error"], "payload.error", 400),
                error_type=schema.opt_text(payload["error_type"], "payload.error_type", 100),
                training_after=schema.boolean(payload["training_after"], "payload.training_after"),
                changed=schema.str_list(payload["changed"], "payload.changed", max_items=20))


def judge_label(meta, case_run):
    """One label's entry, scored on the grader's model (the judge's reading is filled in later)."""
    label, size = meta["label"], meta["size"]
    if label not in _MODEL["p_start"]:
        _MODEL["p_start"][label] = _p(course_start(label, size).detach(), label)
    p0 = _MODEL["p_start"][label]
    entry = dict(label=label, status=case_run.status, p_start=p0[0], p_start_normalized=p0[1], p_course=None,
                 p_normalized=None, raised=False, seconds=round(case_run.seconds, 3), error=None, flags=[],
                 notes=[], judge=None)
    if case_run.status != "ok":
        what = {"timeout": "TIMEOUT", "killed": "killed", "raised": "the check raised", "malformed": "malformed",
                "not_run": "not run"}.get(case_run.status, case_run.status)
        entry["error"] = f"{what}: {case_run.error}" if case_run.error and not case_run.error.startswith(what) else (case_run.error or what)
        return entry, None
    try:
        data = read_payload(case_run.payload)
    except schema.Malformed as exc:
        entry.update(status="malformed", error=f"malformed: {exc}")
        return entry, None
    if "api_missing" in data:
        entry.update(status="api_missing", error="it does not define gradient_descent(input, model, loss)")
        return entry, None
    entry["seconds"] = round(data["seconds"], 3)
    if data["error"]:
        entry["error"] = _cuda_hint(data["error"])
    if not data["training_after"]:
        entry["notes"].append("left the model in eval mode (it was in training mode)")
    if data["changed"]:
        entry["flags"].append(f"changed the model's weights/buffers ({', '.join(data['changed'][:3])}"
                              f"{', ...' if len(data['changed']) > 3 else ''}): it optimizes the model, not the "
                              f"image (e.g. an optimizer over model.parameters())")
    img = data["image"]
    if entry["error"] or img is None:
        return entry, None
    if isinstance(img, str):
        entry["flags"].append(img)
        return entry, None
    if tuple(img.shape) != (1, 3, size, size):
        entry["flags"].append(f"wrong shape: expected (1, 3, {size}, {size}), got {tuple(img.shape)}")
        return entry, None
    if not img.is_floating_point():
        entry["flags"].append(f"returned a tensor of dtype {img.dtype}, not a float image")
        return entry, None
    if not torch.isfinite(img).all():
        n_bad = int((~torch.isfinite(img)).sum())
        entry["flags"].append(f"returned NaN/inf ({n_bad} of {img.numel()} values)")
        return entry, None
    img = img.float()
    entry["p_course"], entry["p_normalized"] = _p(img, label)
    entry["raised"] = entry["p_course"] > entry["p_start"]
    return entry, img


def _labels_pass(entry):
    return entry["error"] is None and not entry["flags"] and entry["raised"]


def _mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def score(rubric, rows):
    n = len(rows) or 1
    counts = dict(raised=sum(_labels_pass(r) for r in rows), judge=sum(r["judge"] == r["label"] for r in rows))
    total, groups = 0.0, []
    for grp in rubric.groups:
        got = grp.points * counts[grp.measure] / n
        what = "labels raised" if grp.measure == "raised" else "pictures the judge reads as their label"
        total += got
        groups.append(dict(name=grp.name, score=round(got, 4), max_score=grp.points, extra_credit=grp.extra_credit,
                           output=f"{counts[grp.measure]}/{len(rows)} {what}"))
    return total, groups


def judge(path, run, plan, rubric, source=None, memory_mib=2048):
    """The SubmissionReport of one gd.py from the Pool's SubmissionRun."""
    from dream.judges import recognize_digits
    from grading.runner import load_problem

    prepare(plan[0][0]["size"] if plan else SIZE)
    rep = SubmissionReport(path=str(path), kind=KIND, max_score=rubric.max_score, seconds=round(run.seconds, 3),
                           stdout_tail=run.stdout_tail, stderr_tail=run.stderr_tail)
    problem = load_problem(run, FILENAME, memory_mib)
    if problem:
        return _crashed(rep, rubric, problem)
    rows, images = [], []
    for (meta, _), cr in zip(plan, run.cases):
        entry, img = judge_label(meta, cr)
        if entry["status"] == "api_missing":
            return _crashed(rep, rubric, "cannot load: it does not define gradient_descent(input, model, loss)")
        rows.append(entry)
        if img is not None:
            images.append((len(rows) - 1, img))
    malformed = next((r["error"] for r in rows if r["status"] == "malformed"), None)
    if malformed:      # the child broke the protocol: nothing it sent can be graded
        out = _crashed(rep, rubric, malformed if malformed.startswith("malformed") else f"malformed: {malformed}")
        out.cases = rows
        return out
    if images:
        for (i, _), reading in zip(images, recognize_digits([img for _, img in images])):
            rows[i]["judge"] = int(reading)
    rep.cases = rows
    flags = Counter(f for r in rows for f in r["flags"])
    errors = Counter(r["error"] for r in rows if r["error"])
    rep.flags = [f"{f} [{n} label(s)]" for f, n in flags.most_common()]
    rep.notes = sorted({n for r in rows for n in r["notes"]})
    ok = [r for r in rows if r["p_course"] is not None]
    summary = dict(labels=len(rows), raised=sum(_labels_pass(r) for r in rows),
                   p_course_mean=_mean(r["p_course"] for r in ok), p_course_min=min((r["p_course"] for r in ok), default=None),
                   p_normalized_mean=_mean(r["p_normalized"] for r in ok),
                   judge_reads_target=sum(r["judge"] == r["label"] for r in rows),
                   seconds_per_label=_mean(r["seconds"] for r in rows))
    rep.details = dict(labels=rows, summary=summary)
    if rows and all(_labels_pass(r) for r in rows):
        rep.verdict = "PASS"
    else:
        rep.verdict = "FAIL"
        parts = list(rep.flags) + [f"raises: {e} [{n} label(s)]" if not e.startswith(("TIMEOUT", "killed", "malformed", "not run"))
                                   else f"{e} [{n} label(s)]" for e, n in errors.most_common()]
        not_raised = [r["label"] for r in rows if r["error"] is None and not r["flags"] and not r["raised"]]
        if not_raised:
            parts.append(f"did not raise the target's probability for label(s) {', '.join(map(str, not_raised))}")
        rep.reason = "; ".join(parts) or "no label checked"
    rep.score, rep.groups = score(rubric, rows)
    rep.headline = (f"raised {summary['raised']}/{summary['labels']}; p(course) mean {_f(summary['p_course_mean'])}; "
                    f"judge {summary['judge_reads_target']}/{summary['labels']}; "
                    f"{_f(summary['seconds_per_label'], '.2f')} s/label")
    return rep


def _crashed(rep, rubric, reason):
    out = SubmissionReport.crashed(rep.path, KIND, reason, groups=rubric.template(), max_score=rubric.max_score,
                                   seconds=rep.seconds)
    out.stdout_tail, out.stderr_tail = rep.stdout_tail, rep.stderr_tail
    out.details = dict(labels=[], summary={})
    return out


def _f(v, fmt=".3f"):
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, fmt)


LEGEND = """\
columns: p_start / p(course) = softmax probability of the label for the start image / the returned
  image, on the raw [0, 1] image as the course's main() computes it; p(norm) = on the normalized
  image; judge = the digit independent classifiers read (-1: none); s = seconds in gradient_descent."""


def print_single(rep, out, *, explain=False, sandbox_note=""):
    p = lambda *a: print(*a, file=out)   # noqa: E731
    p(f"{rep.verdict} {rep.score_text()} points (extra credit included) — {rep.path}")
    if rep.reason:
        p(wrap(rep.reason))
    p(f"rule: {RULE}")
    if explain:
        p(RULE_FULL)
    if sandbox_note:
        p(wrap_note(sandbox_note))
    rows = rep.details.get("labels") or []
    if rows:
        p()
        p(f"{'label':<7}{'p_start':<9}{'p(course)':<11}{'p(norm)':<9}{'judge':<7}{'s':<7}flags / errors")
        for r in rows:
            problems = r["flags"] + ([r["error"]] if r["error"] else []) + (
                ["did not raise the probability"] if r["error"] is None and not r["flags"] and not r["raised"] else [])
            p(fit(f"{r['label']:<7}{_f(r['p_start']):<9}{_f(r['p_course']):<11}{_f(r['p_normalized']):<9}"
                   f"{'-' if r['judge'] is None else r['judge']:<7}{_f(r['seconds'], '.2f'):<7}{'; '.join(problems)}"))
        p()
        p(LEGEND)
    for line in tail_lines(rep, rep.headline):
        p(line)
