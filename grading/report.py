"""The one report type of both checkers: what a TA, a gradebook and a student get back.

:class:`SubmissionReport` is one submission (verdict, score, the rubric's groups, flags,
warnings, diagnoses, per-case results); :class:`ClassReport` is a batch of them with the totals.
The mlp and gd checks fill the same fields; what only one of them has goes into ``details``
(merged into ``to_dict()``, which keeps the JSON shape TAs' scripts already read: a
``submissions`` list whose entries hold ``path`` and ``verdict``).
"""
from __future__ import annotations

import math
import textwrap
from collections import Counter
from dataclasses import dataclass, field

__all__ = ["SubmissionReport", "ClassReport", "plain_json", "EXIT"]

EXIT = {"PASS": 0, "FAIL": 1, "ERROR": 2}


def plain_json(obj):
    """The same data with NaN/inf as the strings 'nan'/'inf'/'-inf', so that any JSON parser reads it."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if isinstance(obj, dict):
        return {k: plain_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain_json(v) for v in obj]
    return obj


def _points(x):
    return f"{x:g}" if x == int(x) else f"{x:.1f}"


@dataclass
class SubmissionReport:
    """One submission's result. ``verdict``: PASS / FAIL / ERROR (cannot be loaded or checked)."""

    path: str
    kind: str                                   # "mlp" | "gd"
    verdict: str = "ERROR"
    reason: str | None = None                   # one line, where the verdict needs one
    headline: str = ""                          # the check's one-line account (rows passed, labels raised...)
    seconds: float | None = None
    score: float = 0.0
    max_score: float = 0.0
    groups: list = field(default_factory=list)  # rubric groups: dict(name, score, max_score, extra_credit, output)
    flags: list = field(default_factory=list)   # rule flags (e.g. autograd used): their own column
    warnings: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    diagnoses: list = field(default_factory=list)
    cases: list = field(default_factory=list)   # per-case results (JSON-ready dicts)
    details: dict = field(default_factory=dict)  # check-specific fields, merged into to_dict()
    stdout_tail: str = ""
    stderr_tail: str = ""

    @property
    def exit(self) -> int:
        return EXIT[self.verdict]

    @classmethod
    def crashed(cls, path, kind, reason, *, groups=(), max_score=0.0, seconds=None):
        """The form of a submission that could not be loaded or checked: ERROR, score 0, one reason."""
        groups = [dict(g, score=0.0, output=reason) for g in groups]
        return cls(path=str(path), kind=kind, verdict="ERROR", reason=reason, seconds=seconds, score=0.0,
                   max_score=max_score, groups=groups)

    def score_text(self) -> str:
        return f"{_points(self.score)}/{_points(self.max_score)}"

    def summary(self, width: int = 0) -> str:
        """One line: verdict, score, path, what happened, flags, warnings (verdict and score line up)."""
        secs = f" ({self.seconds:.1f} s)" if self.seconds is not None else ""
        body = self.headline or (self.reason or "")
        tail = []
        if self.headline and self.reason and self.verdict != "PASS":
            tail.append(self.reason)
        tail += [f"flag: {f}" for f in self.flags if not (self.reason and f in self.reason)]
        if self.warnings:
            tail.append(f"{len(self.warnings)} warning(s)")
        return (f"{self.verdict:<5} {self.score_text():>9}  {self.path.ljust(width)}  {body}"
                + (" — " + "; ".join(tail) if tail else "") + secs)

    def to_dict(self) -> dict:
        d = dict(path=self.path, kind=self.kind, verdict=self.verdict, exit=self.exit, reason=self.reason,
                 headline=self.headline, seconds=self.seconds, score=round(self.score, 4), max_score=self.max_score,
                 groups=self.groups, flags=self.flags, warnings=self.warnings, notes=self.notes,
                 diagnoses=self.diagnoses, cases=self.cases, stdout_tail=self.stdout_tail,
                 stderr_tail=self.stderr_tail)
        d.update(self.details)
        return plain_json(d)


@dataclass
class ClassReport:
    """A batch: the submissions in the order given, and how the run went."""

    kind: str
    submissions: list = field(default_factory=list)
    wall_s: float = 0.0
    jobs: int = 1
    sandbox_note: str = ""
    rule: str = ""
    extra: dict = field(default_factory=dict)     # options worth keeping in the JSON (limits, labels...)

    def counts(self) -> Counter:
        return Counter(r.verdict for r in self.submissions)

    def summary(self) -> str:
        """The totals line."""
        c, n = self.counts(), len(self.submissions)
        flagged = sum(bool(r.flags) for r in self.submissions)
        warned = sum(bool(r.warnings) for r in self.submissions)
        mean = sum(r.score for r in self.submissions) / n if n else 0.0
        top = max((r.max_score for r in self.submissions), default=0.0)
        return (f"totals: {n} submission(s) — {c['PASS']} PASS, {c['FAIL']} FAIL, {c['ERROR']} ERROR "
                f"(cannot load or check); {flagged} flagged, {warned} with warnings; mean score "
                f"{_points(mean)}/{_points(top)}; {self.wall_s:.1f} s wall, "
                f"{self.wall_s / max(n, 1):.2f} s per submission, {self.jobs} at once")

    def exit_code(self) -> int:
        return 0 if self.submissions and all(r.verdict == "PASS" for r in self.submissions) else 1

    def to_dict(self) -> dict:
        return plain_json(dict(kind=self.kind, rule=self.rule, sandbox=self.sandbox_note, wall_s=round(self.wall_s, 2),
                               jobs=self.jobs, **self.extra, totals=dict(self.counts()),
                               submissions=[r.to_dict() for r in self.submissions]))


# ---------------------------------------------------------------- terminal text (100 columns)

def fit(line: str, width: int = 100) -> str:
    """A table row cut to ``width`` (the full text is in --json and the feedback files)."""
    return line if len(line) <= width else line[:width - 1] + "…"


def wrap(text: str, indent: str = "  ", width: int = 100) -> str:
    return "\n".join(textwrap.wrap(text, width=width, initial_indent=indent, subsequent_indent=indent + "  ",
                                   break_on_hyphens=False))


def wrap_note(note: str, width: int = 100) -> str:
    """The sandbox note for a terminal: every line wrapped at ``width``, nothing cut off."""
    return "\n".join(textwrap.fill(line, width=width, subsequent_indent="  ", break_on_hyphens=False)
                     for line in note.splitlines() if line.strip())


def tail_lines(rep: "SubmissionReport", headline: str) -> list[str]:
    """The end of a single-file report, the same for both checkers: notes, points, summary."""
    lines = [wrap(f"note: {n}", indent="") for n in rep.notes]
    if rep.groups and rep.verdict != "ERROR":
        lines += ["", "points:"]
        for grp in rep.groups:
            ec = " (extra credit)" if grp["extra_credit"] else ""
            lines.append(wrap(f"{grp['score']:>5.2f}/{grp['max_score']:<5g} {grp['name']}{ec}: {grp['output']}"))
    lines.append(wrap(f"summary: {rep.verdict} {rep.score_text()} — {headline}", indent=""))
    return lines
