"""Points: the rubric file (TOML) that turns a check's results into a score with partial credit.

``grading/rubric_default.toml`` follows the homework (2.1: 35 points over the battery's groups
and the autograd rule; 2.2: 15 points by labels raised, 5 extra credit by pictures the judge
reads); ``--rubric FILE`` replaces it. :func:`load` validates a file and raises
:class:`RubricError` with one line naming the file, the group and what is wrong.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["RubricError", "Group", "Rubric", "load", "DEFAULT_PATH", "ROW_KEYS", "RULES", "MEASURES"]

DEFAULT_PATH = Path(__file__).with_name("rubric_default.toml")
ROW_KEYS = {"f": ("relu", "sigmoid", "identity"), "g": ("relu", "sigmoid", "identity"),
            "loss": ("mse", "bce"), "shape": ("10x2-20-5", "1x4-6-3", "8x3-5-1")}
RULES = ("autograd",)
MEASURES = ("raised", "judge")
KINDS = ("mlp", "gd")


class RubricError(ValueError):
    """A rubric file that cannot be used, with the reason in one line."""


@dataclass(frozen=True)
class Group:
    name: str
    points: float
    select: dict = field(default_factory=dict)   # mlp rows: key -> allowed names
    rule: str | None = None                      # mlp: "autograd"
    measure: str | None = None                   # gd: "raised" | "judge"
    extra_credit: bool = False

    def selects(self, row) -> bool:
        return all(row[k] in names for k, names in self.select.items())


@dataclass(frozen=True)
class Rubric:
    kind: str
    title: str
    groups: tuple
    source: str

    @property
    def max_score(self) -> float:
        return sum(g.points for g in self.groups if not g.extra_credit)

    def template(self):
        """The groups as report entries before scoring (for a submission that never ran)."""
        return [dict(name=g.name, score=0.0, max_score=g.points, extra_credit=g.extra_credit, output="")
                for g in self.groups]


def _fail(where, msg):
    raise RubricError(f"{where}: {msg}")


def _group(kind, i, raw, where):
    if not isinstance(raw, dict):
        _fail(where, f"group {i + 1} is not a table")
    name = raw.get("name")
    at = f"{where}, group {i + 1}" + (f" ({name!r})" if isinstance(name, str) else "")
    if not isinstance(name, str) or not name.strip():
        _fail(at, "needs a name (a non-empty string)")
    points = raw.get("points")
    if isinstance(points, bool) or not isinstance(points, (int, float)) or not math.isfinite(points):
        _fail(at, f"points must be a number, got {points!r}")
    if points < 0:
        _fail(at, f"points must be ≥ 0, got {points:g} (a deduction is a rule group worth points that are lost)")
    extra = raw.get("extra_credit", False)
    if not isinstance(extra, bool):
        _fail(at, f"extra_credit must be true or false, got {extra!r}")
    if kind == "mlp":
        allowed = {"name", "points", "extra_credit", "rule", *ROW_KEYS}
        unknown = sorted(set(raw) - allowed)
        if unknown:
            _fail(at, f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
        if "rule" in raw:
            if raw["rule"] not in RULES:
                _fail(at, f"unknown rule {raw['rule']!r}; known: {', '.join(RULES)}")
            if set(raw) & set(ROW_KEYS):
                _fail(at, "a rule group cannot also select rows (f, g, loss, shape)")
            return Group(name=name, points=float(points), rule=raw["rule"], extra_credit=extra)
        select = {}
        for key, known in ROW_KEYS.items():
            if key not in raw:
                continue
            names = raw[key]
            if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
                _fail(at, f"{key} must be a non-empty list of names, got {names!r}")
            bad = [n for n in names if n not in known]
            if bad:
                _fail(at, f"unknown {key} {', '.join(map(repr, bad))}; the battery has: {', '.join(known)}")
            select[key] = tuple(names)
        if select.get("loss") == ("bce",) and "g" in select and set(select["g"]) - {"sigmoid"}:
            _fail(at, "BCE rows exist only for g = sigmoid")
        return Group(name=name, points=float(points), select=select, extra_credit=extra)
    allowed = {"name", "points", "extra_credit", "measure"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        _fail(at, f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    if raw.get("measure") not in MEASURES:
        _fail(at, f"measure must be one of {', '.join(MEASURES)}, got {raw.get('measure')!r}")
    return Group(name=name, points=float(points), measure=raw["measure"], extra_credit=extra)


def load(kind: str, path=None) -> Rubric:
    """The rubric for ``kind`` ('mlp' or 'gd') from ``path`` (default: rubric_default.toml)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    path = Path(path) if path is not None else DEFAULT_PATH
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        _fail(where, "no such file")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(where, f"cannot read it ({exc})")
    except tomllib.TOMLDecodeError as exc:
        _fail(where, f"not valid TOML ({exc})")
    unknown = sorted(set(data) - set(KINDS))
    if unknown:
        _fail(where, f"unknown section(s) {', '.join(unknown)}; allowed: [mlp], [gd]")
    section = data.get(kind)
    if not isinstance(section, dict):
        _fail(where, f"no [{kind}] section")
    unknown = sorted(set(section) - {"title", "group"})
    if unknown:
        _fail(f"{where} [{kind}]", f"unknown key(s) {', '.join(unknown)}; allowed: title, group")
    raw_groups = section.get("group")
    if not isinstance(raw_groups, list) or not raw_groups:
        _fail(f"{where} [{kind}]", f"needs at least one [[{kind}.group]]")
    groups = tuple(_group(kind, i, g, f"{where} [{kind}]") for i, g in enumerate(raw_groups))
    names = [g.name for g in groups]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        _fail(f"{where} [{kind}]", f"group name(s) used twice: {', '.join(dup)}")
    if sum(g.points for g in groups if not g.extra_credit) <= 0:
        _fail(f"{where} [{kind}]", "the groups that are not extra credit are worth 0 points in all")
    title = section.get("title", kind)
    if not isinstance(title, str):
        _fail(f"{where} [{kind}]", f"title must be a string, got {title!r}")
    return Rubric(kind=kind, title=title, groups=groups, source=where)
