"""What a class needs back: a gradebook (CSV), one feedback file per student (Markdown) and, for
one submission, Gradescope's ``results.json``.

Gradescope's format (https://gradescope-autograders.readthedocs.io/en/latest/specs/): a top-level
``score``, ``execution_time`` (seconds), ``output`` and ``tests``, each test with ``name``,
``score``, ``max_score``, ``status`` ("passed" / "failed"), ``output`` and ``visibility``. Here
one test per rubric group; the output is the diagnosis in plain words.
"""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from grading.report import plain_json

__all__ = ["write_gradebook", "write_feedback", "feedback_markdown", "gradescope_results", "write_gradescope",
           "write_json", "write_cases_csv", "student_name"]


def write_json(class_report, path):
    Path(path).write_text(json.dumps(class_report.to_dict(), indent=1, default=str, allow_nan=False), encoding="utf-8")


def write_gradebook(class_report, path):
    """One line per submission: submission, score, max, verdict, flags, and the reason: why it cannot be
    checked, or for a FAIL the one-line diagnosis (empty for a PASS)."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["submission", "score", "max", "verdict", "flags", "reason"])
        for r in class_report.submissions:
            why = r.reason or (r.headline if r.verdict != "PASS" else "")
            w.writerow([r.path, f"{r.score:.2f}", f"{r.max_score:g}", r.verdict, " | ".join(r.flags), why or ""])


def write_cases_csv(class_report, path, quantities, cell_text):
    """mlp only: one line per case and submission (today's --csv)."""
    fields = ["path", "verdict", "score", "kind", "f", "g", "loss", "shape", "passed"] + list(quantities) + [
        "error", "diagnoses", "warnings", "flags", "reason", "seconds"]
    from grading.mlp_check import row_passed

    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        for rep in class_report.submissions:
            base = dict(path=rep.path, verdict=rep.verdict, score=f"{rep.score:.2f}", reason=rep.reason or "",
                        warnings=" | ".join(rep.warnings), flags=" | ".join(rep.flags), seconds=rep.seconds)
            rows = rep.details.get("rows") or []
            if not rows:
                w.writerow(base)
                continue
            for r in rows:
                d = dict(base, kind=r["kind"], f=r["f"], g=r["g"], loss=r["loss"], shape=r["shape"],
                         passed=row_passed(r), error=r["error"] or "",
                         diagnoses=" | ".join(x["text"] for x in r["diagnoses"]))
                d.update({q: cell_text(q, r) for q in quantities})
                w.writerow(d)


def student_name(path):
    """A file name for a student from the submission's path (its folder for .../name/mlp.py)."""
    p = Path(path)
    stem = p.parent.name if p.name in ("mlp.py", "gd.py") and p.parent.name else p.stem
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem) or "submission"


def _plain_diagnosis(rep):
    """The diagnosis in plain words: the mistakes found (lab/mistakes.py), or the reason."""
    lines = []
    for d in rep.diagnoses:
        if d["key"] == "follows":
            continue
        lines.append(f"- {d['text']} (seen on {d['rows']} case(s))")
    if not lines and rep.reason:
        lines.append(f"- {rep.reason}")
    return lines


def feedback_markdown(rep, table_text="", title=""):
    """One student's feedback: verdict and score, points per group, diagnosis, warnings, their table."""
    out = [f"# {title or rep.kind} — feedback", "", f"**{rep.verdict}**, score **{rep.score_text()}**", ""]
    if rep.flags:
        out += ["## Flags", ""] + [f"- {f}" for f in rep.flags] + [""]
    out += ["## Points", "", "| group | points | why |", "|---|---|---|"]
    for g in rep.groups:
        ec = " (extra credit)" if g["extra_credit"] else ""
        out.append(f"| {g['name']}{ec} | {g['score']:.2f} / {g['max_score']:g} | {g['output'] or '-'} |")
    out.append("")
    diag = _plain_diagnosis(rep)
    if diag:
        out += ["## What went wrong", ""] + diag + [""]
    if rep.warnings:
        out += ["## Warnings (they cost no points)", ""] + [f"- {w}" for w in rep.warnings] + [""]
    if table_text:
        out += ["## Your results, case by case", "", "```", table_text.rstrip(), "```", ""]
    return "\n".join(out)


def write_feedback(class_report, folder, table_fn=None, title=""):
    """One Markdown file per submission in ``folder``; returns the paths written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written, used = [], set()
    for rep in class_report.submissions:
        name = student_name(rep.path)
        base, k = name, 2
        while name in used:
            name, k = f"{base}_{k}", k + 1
        used.add(name)
        table = table_fn(rep) if table_fn else ""
        path = folder / f"{name}.md"
        path.write_text(feedback_markdown(rep, table, title), encoding="utf-8")
        written.append(path)
    return written


def gradescope_results(rep, *, visibility="visible", title="", table_text=""):
    """Gradescope's results.json for one submission, as a dict: one test per rubric group."""
    head = f"{rep.verdict} — {rep.score_text()}" + (f" — {rep.reason}" if rep.reason else "")
    diag = _plain_diagnosis(rep)
    output = "\n".join([head] + [f"FLAG: {f}" for f in rep.flags] + diag + [f"WARNING: {w}" for w in rep.warnings])
    if table_text:
        output += "\n\n" + table_text
    tests = []
    for g in rep.groups:
        full = g["score"] >= g["max_score"] - 1e-9
        text = g["output"] or ""
        if not full and diag:
            text = (text + "\n" if text else "") + "\n".join(diag[:5])
        tests.append(dict(name=g["name"] + (" (extra credit)" if g["extra_credit"] else ""),
                          score=round(g["score"], 4), max_score=g["max_score"],
                          status="passed" if full and rep.verdict != "ERROR" else "failed",
                          output=text, visibility=visibility))
    return plain_json(dict(score=round(rep.score, 4), execution_time=round(rep.seconds or 0.0, 2), output=output,
                           tests=tests, visibility=visibility, stdout_visibility="hidden"))


def write_gradescope(rep, path, **kw):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(gradescope_results(rep, **kw), indent=1, allow_nan=False), encoding="utf-8")


def table_of(print_single):
    """A table_fn for write_feedback: the check's single-file report as text."""
    def fn(rep):
        buf = io.StringIO()
        print_single(rep, buf)
        return buf.getvalue()
    return fn
