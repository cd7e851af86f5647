"""Check gd.py submissions the way the course grades part 2.2: "how well the model optimizes the
input with respect to the labels".

    python gd.py --check PATH... [--json FILE] [--timeout 60] [--labels 0-9] [--show-output]
    python -m lab.gdcheck PATH...                   # the same, without going through gd.py

PATH: gd.py files, or folders holding one .py file per student or one subfolder per student
with its gd.py. Each submission is imported in its own process (lab/isolate.py: time limit,
memory limit, temp working directory, output captured, CUDA hidden) and, for every label, called
exactly as the course's ``main()`` calls it:

    image = ((torch.randn(1, 224, 224, 3) * 8 + 128) / 255).permute(0, 3, 1, 2).requires_grad_(True)
    image = gradient_descent(image, model, lambda tensor: tensor[0, label].mean())   # no iterations

on our embedded digits model (``gd.load_model("digits")``, loaded from this repository, never
from the submission's folder), handed over as the course hands over its VGG: in training mode,
parameters requiring grad. Labels 0-9 by default (``--labels`` exists to shorten a run).

Reported per submission: the target's softmax probability as the course computes it (on the raw
[0, 1] image) and on the normalized image; how many pictures the legibility judge
(``gd.recognize_digits``: scikit-learn classifiers, not the CNN) reads as the target; seconds per
label. Flagged and failed: weights or buffers changed, a result of the wrong shape or with
NaN/inf, an exception, CUDA needed, the time limit passed. Noted only: the model left in another
train/eval mode. Exit status 0 iff every submission ran and raised the target's probability (as
the course computes it) above the start image's for every label.
"""
from __future__ import annotations

import json
import re
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

import torch

from lab import isolate, selfcheck

__all__ = ["main", "check_gd", "judge_gd", "course_start", "DEFAULT_LABELS"]

DEFAULT_LABELS = tuple(range(10))
SIZE = 224
_MODEL = {}          # filled in the parent before the children fork: model, info, size


def course_start(label, size=SIZE):
    """The course's start image for one label: gray noise (1, 3, size, size) that requires grad."""
    torch.manual_seed(label)
    image = (torch.randn(1, size, size, 3) * 8 + 128) / 255
    return image.permute(0, 3, 1, 2).requires_grad_(True)


def _as_course_model(model):
    """As the course's main() hands over torchvision's VGG: training mode, parameters requiring grad."""
    model.train()
    for p in model.parameters():
        p.requires_grad_(True)


def _cuda_hint(text):
    if re.search(r"cuda|nvidia", text, re.IGNORECASE):
        return (f"needs CUDA ({text}); the check runs on the CPU: pick the device with "
                f"torch.device('cuda' if torch.cuda.is_available() else 'cpu')")
    return text


def _load_error(exc):
    if isinstance(exc, isolate.MissingModule):
        return f"needs {exc.module}, which is not installed here: pip install {isolate.pip_name(exc.module)}"
    if isinstance(exc, Exception) and "torchvision" in "".join(traceback.format_exception(exc)):
        return (f"needs torchvision, which is installed but does not import here ({isolate.one_line(exc)}): "
                f"install the torchvision build that matches this torch (pip install torchvision)")
    what = isolate.one_line(exc) + (" while importing" if isinstance(exc, SystemExit) else "")
    return _cuda_hint(what)


def check_gd(job, src, send):
    """The isolated child's work: import the submission, run the course's call for each label."""
    import gd

    model, info, size = _MODEL["model"], _MODEL["info"], _MODEL["size"]
    send({"stage": "import"})
    try:
        module = isolate.load_submission(src, name="_submission_gd")
    except BaseException as exc:
        return dict(status="load_error", load_error=_load_error(exc))
    if not callable(getattr(module, "gradient_descent", None)):
        return dict(status="load_error", load_error="it does not define gradient_descent(input, model, loss)")
    _as_course_model(model)
    snapshot = {k: v.detach().clone() for k, v in model.state_dict().items()}
    labels, images = [], []
    for label in job["labels"]:
        start = course_start(label, size)
        p0 = gd.class_probability(model, start.detach(), label, info)
        entry = dict(label=label, p_start=p0[0], p_start_normalized=p0[1], p_course=None, p_normalized=None,
                     raised=False, seconds=None, error=None, flags=[], notes=[], judge=None)
        was_training = model.training
        send({"stage": f"gradient_descent, label {label}"})
        t0 = time.perf_counter()
        try:
            out = module.gradient_descent(start, model, lambda tensor, label=label: tensor[0, label].mean())
        except BaseException as exc:
            out = None
            entry["error"] = _cuda_hint(isolate.one_line(exc))
        entry["seconds"] = round(time.perf_counter() - t0, 3)
        if model.training != was_training:
            entry["notes"].append(f"left the model in {'training' if model.training else 'eval'} mode "
                                  f"(it was in {'training' if was_training else 'eval'} mode)")
        state = model.state_dict()
        changed = [k for k, v in snapshot.items() if not torch.equal(state[k], v)]
        if changed:
            entry["flags"].append(f"changed the model's weights/buffers ({', '.join(changed[:3])}"
                                  f"{', ...' if len(changed) > 3 else ''}): it optimizes the model, not the image "
                                  f"(e.g. an optimizer over model.parameters())")
            model.load_state_dict(snapshot)
        _as_course_model(model)
        if out is not None and entry["error"] is None:
            if not isinstance(out, torch.Tensor):
                entry["flags"].append(f"returned a {type(out).__name__}, not a tensor")
            elif tuple(out.shape) != (1, 3, size, size):
                entry["flags"].append(f"wrong shape: expected (1, 3, {size}, {size}), got {tuple(out.shape)}")
            elif not torch.isfinite(out.detach()).all():
                n_bad = int((~torch.isfinite(out.detach())).sum())
                entry["flags"].append(f"returned NaN/inf ({n_bad} of {out.numel()} values)")
            else:
                img = out.detach().float().cpu()
                entry["p_course"], entry["p_normalized"] = gd.class_probability(model, img, label, info)
                entry["raised"] = entry["p_course"] > entry["p_start"]
                images.append((len(labels), img))
        labels.append(entry)
        send({"partial": entry})
    if images:
        send({"stage": "judge"})
        readings = gd.recognize_digits([img for _, img in images])
        for (i, _), reading in zip(images, readings):
            labels[i]["judge"] = int(reading)
    return dict(status="checked", labels=labels, size=size)


def _labels_pass(entry):
    return entry["error"] is None and not entry["flags"] and entry["raised"]


def judge_gd(label, outcome, problem=None, n_labels=10, mem_mib=2048):
    """A JSON-ready report of one submission: verdict PASS / FAIL / ERROR, reason, per-label rows."""
    rep = dict(path=label, verdict="ERROR", exit=2, reason=None, seconds=None, labels=[], notes=[], flags=[],
               summary={})
    if problem:
        rep["reason"] = problem
        return rep
    rep["seconds"] = outcome.seconds
    notes = outcome.notes()
    res = outcome.result
    if res is None:
        rep["labels"] = list(outcome.partial)
        reason = selfcheck._memory_hint(outcome.reason, mem_mib)
        if outcome.stage in (None, "import"):
            rep["reason"] = "cannot load: " + reason
        else:
            rep.update(verdict="FAIL", exit=1,
                       reason=f"{reason} ({len(outcome.partial)} of {n_labels} labels done)")
        rep["notes"] = notes
        return rep
    if res["status"] == "load_error":
        rep["reason"] = "cannot load: " + selfcheck._memory_hint(res["load_error"], mem_mib)
        rep["notes"] = notes
        return rep
    rows = res["labels"]
    rep["labels"] = rows
    flags = Counter(f for r in rows for f in r["flags"])
    errors = Counter(r["error"] for r in rows if r["error"])
    rep["flags"] = [f"{f} [{n} label(s)]" for f, n in flags.most_common()] + [
        f"raises: {e} [{n} label(s)]" for e, n in errors.most_common()]
    notes += sorted({n for r in rows for n in r["notes"]})
    rep["notes"] = notes
    ok = [r for r in rows if r["p_course"] is not None]
    rep["summary"] = dict(
        labels=len(rows), raised=sum(r["raised"] for r in rows),
        p_course_mean=_mean(r["p_course"] for r in ok), p_course_min=min((r["p_course"] for r in ok), default=None),
        p_normalized_mean=_mean(r["p_normalized"] for r in ok),
        judge_reads_target=sum(r["judge"] == r["label"] for r in rows),
        seconds_per_label=_mean(r["seconds"] for r in rows))
    if all(_labels_pass(r) for r in rows) and rows:
        rep.update(verdict="PASS", exit=0)
    else:
        rep.update(verdict="FAIL", exit=1)
        not_raised = [r["label"] for r in rows if r["error"] is None and not r["flags"] and not r["raised"]]
        parts = list(rep["flags"])
        if not_raised:
            parts.append(f"did not raise the target's probability for label(s) {', '.join(map(str, not_raised))}")
        rep["reason"] = "; ".join(parts)
    return rep


def _mean(values):
    values = list(values)
    return sum(values) / len(values) if values else None


def _f(v, fmt=".3f"):
    return "-" if v is None else format(v, fmt)


def summary_line(rep, width=0):
    return f"{rep['verdict']:<5} {rep['path'].ljust(width)}  {_summary_body(rep)}"


def _summary_body(rep):
    secs = f" ({rep['seconds']:.1f} s)" if rep.get("seconds") is not None else ""
    s = rep["summary"]
    if not s:
        return f"{rep['reason']}{secs}"
    head = (f"raised {s['raised']}/{s['labels']}; p(course) mean {_f(s['p_course_mean'])} "
            f"min {_f(s['p_course_min'])}; p(normalized) mean {_f(s['p_normalized_mean'])}; judge "
            f"{s['judge_reads_target']}/{s['labels']}; {_f(s['seconds_per_label'], '.2f')} s/label")
    tail = ([rep["reason"]] if rep["reason"] else []) + [f"note: {n}" for n in rep["notes"] if not n.startswith("printed")]
    return head + (" — " + "; ".join(tail) if tail else "") + secs


LEGEND = """\
columns: p_start = softmax probability of the label for model(start image), the 224-px gray noise;
  p(course) = the same for the returned image as the course's main() computes it: model(image) on the
  raw [0, 1] image; p(normalized) = on the ImageNet-normalized image, what the network expects;
  judge = the digit that independent classifiers (scikit-learn on the 8x8 downsample, not the CNN)
  read in the picture (-1: no digit); s = seconds inside gradient_descent.
rule: PASS when every label ran, returned a finite (1, 3, H, W) tensor, left the model's weights and
  buffers unchanged and raised p(course) above p_start. Mode changes are notes, not failures."""


def print_single(rep, show_output, outcome):
    print(f"Check of {rep['path']}")
    print(f"the course's call: gradient_descent(image, model, loss) with no iterations argument, on the "
          f"{_MODEL.get('size', SIZE)}-px gray-noise start, loss = lambda t: t[0, label].mean(), our digits model")
    if rep["labels"]:
        print()
        print(f"{'label':<7}{'p_start':<9}{'p(course)':<11}{'p(normalized)':<15}{'judge':<7}{'s':<7}flags / errors")
        for r in rep["labels"]:
            problems = r["flags"] + ([r["error"]] if r["error"] else []) + (
                ["did not raise the probability"] if r["error"] is None and not r["flags"] and not r["raised"] else [])
            print(f"{r['label']:<7}{_f(r['p_start']):<9}{_f(r['p_course']):<11}{_f(r['p_normalized']):<15}"
                  f"{'-' if r['judge'] is None else r['judge']:<7}{_f(r['seconds'], '.2f'):<7}{'; '.join(problems)}")
        print()
        print(LEGEND)
    print()
    for n in rep["notes"]:
        print(f"note: {n}")
    if show_output and outcome is not None:
        selfcheck.print_captured(outcome)
    print(f"summary: {rep['verdict']} — {_summary_body(rep)}")


def parse_labels(text):
    labels = []
    for part in text.split(","):
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


def prepare(size=SIZE):
    """Load our digits model and fit the judge once, in the parent (children inherit both)."""
    import gd

    model, info = gd.load_model("digits")
    try:
        model(torch.zeros(1, 3, size, size))
    except Exception as exc:
        raise SystemExit(f"the digits model does not take {size}-px images here ({isolate.one_line(exc)}); "
                         f"try --size {info.input_size[-1]}")
    gd.recognize_digits([torch.zeros(1, 3, size, size)])       # fits the judge's classifiers once
    _MODEL.update(model=model, info=info, size=size)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = selfcheck.build_parser(
        prog="python gd.py --check", what="gd.py",
        description="Course-style, isolated check of gd.py submissions: each one's gradient_descent(image, model, "
                    "loss) called as the course's main() calls it, on the embedded digits model.")
    parser.add_argument("--labels", default="0-9", help="digits to check (default 0-9, the course's ten; "
                                                        "fewer only to shorten a run)")
    parser.add_argument("--size", type=int, default=SIZE, help="start image size in px (default 224, the course's)")
    args = parser.parse_args(argv)
    if not args.paths:
        parser.error("give gd.py files or folders to check")
    try:
        labels = parse_labels(args.labels)
    except ValueError as exc:
        parser.error(str(exc))
    if args.timeout <= 0 or args.memory_mib < 256 or args.jobs < 0 or args.size < 32:
        parser.error("--timeout must be > 0, --memory-mib ≥ 256, --jobs ≥ 0, --size ≥ 32")
    torch.set_num_threads(1)
    prepare(args.size)
    found = selfcheck.find_submissions(args.paths, "gd.py")
    runnable = [(i, f) for i, (_, f, problem) in enumerate(found) if problem is None]
    bar = selfcheck._progress_bar(len(found), "gd.py --check")
    t0 = time.perf_counter()
    outcomes = isolate.run_isolated([dict(path=str(f), labels=labels) for _, f in runnable], check_gd,
                                    timeout=args.timeout, mem_mib=args.memory_mib, parallel=args.jobs or None,
                                    full_output=args.show_output, progress=(lambda o: bar.update(1)) if bar else None)
    wall = time.perf_counter() - t0
    if bar:
        bar.close()
    by_index = dict(zip((i for i, _ in runnable), outcomes))
    reports = [judge_gd(label, by_index.get(i), problem, len(labels), args.memory_mib)
               for i, (label, _, problem) in enumerate(found)]
    single = len(args.paths) == 1 and not Path(args.paths[0]).is_dir()
    if single:
        print_single(reports[0], args.show_output, by_index.get(0))
    else:
        width = min(60, max((len(r["path"]) for r in reports), default=0))
        for i, rep in enumerate(reports):
            print(summary_line(rep, width))
            if args.show_output and by_index.get(i) is not None:
                selfcheck.print_captured(by_index[i], lambda text: print("\n".join("    " + ln for ln in text.splitlines())))
        counts = Counter(r["verdict"] for r in reports)
        n = len(reports)
        print(f"totals: {n} submission(s) — {counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['ERROR']} ERROR "
              f"(cannot load); {wall:.1f} s wall, {wall / max(n, 1):.1f} s per submission, "
              f"{args.jobs or isolate.available_cores()} at once; labels {','.join(map(str, labels))}")
    if args.json:
        data = dict(labels=labels, size=args.size, timeout_s=args.timeout, wall_s=round(wall, 2), submissions=reports)
        Path(args.json).write_text(json.dumps(selfcheck.plain_json(data), indent=1, default=str, allow_nan=False))
    if single:
        return reports[0]["exit"]
    return 0 if reports and all(r["verdict"] == "PASS" for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
