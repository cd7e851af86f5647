"""Check a whole theory write-up, equation by equation: ``python -m lab.theory_check FILE [--json OUT]``.

The file is a ``.tex`` or a Markdown file (``.md``, or the ``.txt`` of a converted PDF). Every
display (``$$…$$``, ``\\[…\\]``, equation/align environments) and every inline ``$…$`` holding an
``=`` is an equation. Each is attributed

* to a homework item by the headings above it (``1.2``, ``(c)``, ``Problem b``; an older template's
  "Problem 3: Conceptual Questions" by its title), and
* to a quantity by its left-hand side (``\\frac{\\partial \\ell}{\\partial W^{(1)}}`` is ``dl_dW1``),
  or, in a table, by the row's first cell (``W^{(1)}`` in a table of gradients),

and judged by the exercises' public checks, exactly as the notebooks judge a LaTeX answer. The table
printed has one row per judged equation: item, quantity, verdict, and how the equation was read.
Equations that name no quantity of their item are listed as skipped, with the reason.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from lab import latex

WIDTH = 100

# item -> {quantity: (check name, extra keyword arguments)}
_FORWARD = ("z1", "z2", "z3", "y_hat", "ell")
_GRADS = ("dl_dW1", "dl_db1", "dl_dW2", "dl_db2")
_JACS = ("dz2_dz1", "dyhat_dz3", "dl_dyhat")


def _network_items(question):
    out = {q: ("check_forward", {"question": question}) for q in _FORWARD}
    out.update({q: ("check_gradients", {"question": question}) for q in _GRADS})
    out.update({q: ("check_jacobians", {"question": question}) for q in _JACS})
    return out


ITEMS = {
    "1.2b": {q: ("check_forward", {"question": "1.2"}) for q in _FORWARD},
    "1.2c": {q: ("check_gradients", {"question": "1.2"}) for q in _GRADS},
    "1.2d": {q: ("check_jacobians", {"question": "1.2"}) for q in _JACS},
    "1.3a": _network_items("1.3a"),
    "1.3b": {**_network_items("1.3b"), "dl_dyhat": ("check_bce_gradient", {}),
             "dl_dz3": ("check_bce_gradient", {})},
    "1.4.perceptron": {"L": ("check_loss", {"which": "perceptron"})},
    "1.4.adaline": {"L": ("check_loss", {"which": "adaline"})},
    "1.4.logistic": {"L": ("check_loss", {"which": "logistic"})},
    "1.5a": {"limit": ("check_softmax_limit", {})},
    "1.5c": {q: ("check_derivatives", {}) for q in ("relu", "leaky_relu", "softplus", "gelu")},
    "1.5e": {"objective": ("check_objective", {})},
}
TITLES = [(r"regression", "1.2"), (r"classification", "1.3"), (r"deriv\w* loss|loss functions", "1.4"),
          (r"conceptual", "1.5")]
ALGORITHMS = [(r"perceptron", "perceptron"), (r"adaline|least mean squares|lms", "adaline"),
              (r"logistic", "logistic")]
# 1.2(b) tables: the layer in the first column names the output
LAYER_ROWS = {"linear_1": "z1", "linear1": "z1", "f": "z2", "linear_2": "z3", "linear2": "z3", "g": "y_hat",
              "loss": "ell"}


# an equation without a named left-hand side belongs to a one-quantity item when it shows its sign
SINGLE_SIGNS = {"limit": r"\\lim", "objective": r"\\argmin|\\min|\\sum"}


@dataclass
class Math:
    latex: str
    line: int
    display: bool
    row_name: str | None = None          # the first cell of a table row


@dataclass
class Result:
    equations: list = field(default_factory=list)
    skipped: list = field(default_factory=list)


# =============================================================================
# Finding the math and the headings
# =============================================================================
_MATH = re.compile(r"\$\$(.+?)\$\$|\\\[(.+?)\\\]|(\\begin\{(equation|align|aligned|gather|multline|flalign|eqnarray)"
                   r"\*?\}.+?\\end\{\4\*?\})|(?<![\\$])\$(?!\$)(.+?)(?<![\\$])\$", re.S)
_HEADING = re.compile(r"^\s*(#{1,6}\s+.*|\\(sub)*section\*?\{.*\}.*|\*\*\(?[a-e1-5]\)?\*\*.*|\(?[a-e]\)\s.*|"
                      r"\d\.\s+\(\d+ ?p\w*\).*|\d\.\s+\*\*.*)$")


class Position:
    """The item the text has reached, from its headings."""

    def __init__(self):
        self.section, self.letter, self.algorithm = None, None, None

    def heading(self, text):
        low = text.lower()
        if re.search(r"\bpart\s+1\.\d", low):     # "Changes in (Part 1.2 (d))" inside 1.3: a reference
            return
        # the item's number opens the heading ("## 1.3 (b): …", "Problem 1.2"), it is not quoted later
        m = re.match(r"^[\s#*\\]*(?:(?:sub)*section\*?\{)?\s*(?:problem\s+|question\s+)?1\.([1-5])(?!\d)", low)
        title = next((sec for pat, sec in TITLES if re.search(pat, low)), None)
        if m or (title and not re.search(r"\(\s*[a-e]\s*\)|problem\s+[a-e]\b", low)):
            # the title wins over the number: an older template's "1.4 Conceptual Questions" is 1.5
            section = title[-1] if title else m.group(1)
            if section != self.section:
                self.letter, self.algorithm = None, None
            self.section = section
        m = re.search(r"\(\s*([a-e])\s*\)|problem\s+([a-e])\b|^\s*\*\*\(?([a-e])\)?\*\*", low)
        if m:
            self.letter = next(g for g in m.groups() if g)
        for pat, alg in ALGORITHMS:
            if re.search(pat, low):
                self.algorithm = alg

    def text_line(self, text):
        """In 1.4, a short line naming an algorithm starts its part ("Given the Perceptron model:")."""
        if self.section == "4" and len(text) < 120:
            for pat, alg in ALGORITHMS:
                if re.search(pat, text.lower()):
                    self.algorithm = alg
                    return

    def item(self):
        if self.section is None:
            return None
        if self.section == "4":
            return f"1.4.{self.algorithm}" if self.algorithm else "1.4"
        return f"1.{self.section}{self.letter or ''}"


def scan(text):
    """(line number, kind, payload): headings and math in reading order."""
    events = []
    offsets = [0]
    for ln in text.split("\n"):
        offsets.append(offsets[-1] + len(ln) + 1)

    def line_of(pos):
        lo, hi = 0, len(offsets) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if offsets[mid] <= pos:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1

    for i, ln in enumerate(text.split("\n"), start=1):
        if _HEADING.match(ln) or re.match(r"^\s*\d\.\s*\(\d|^\s*1\.[1-5]\s+[A-Z(]", ln):
            events.append((i, 0, "heading", ln))
        elif ln.strip() and "$$" not in ln:
            events.append((i, 0, "text", ln))
        if ln.lstrip().startswith("|") and ln.count("|") >= 3:
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", ln.strip().strip("|"))]
            if len(cells) >= 2 and "$" in cells[-1]:
                events.append((i, 1, "row", cells))
    table_lines = {e[0] for e in events if e[2] == "row"}
    for m in _MATH.finditer(text):
        body = next(g for g in (m.group(1), m.group(2), m.group(3), m.group(5)) if g is not None)
        ln = line_of(m.start())
        if ln in table_lines:
            continue
        display = m.group(5) is None
        events.append((ln, 2, "math", Math(body.strip(), ln, display)))
    events.sort(key=lambda e: (e[0], e[1]))
    return events


# =============================================================================
# Judging
# =============================================================================
def _lhs_quantities(latex_text):
    """[(equation text, quantity or None)] for the equations in a math string."""
    out = []
    for t in latex.equations(latex_text):
        try:
            tree = latex._parse(t)
        except latex.Unread as err:
            out.append((t.s, None, str(err)))
            continue
        exprs = latex._chain_parts(tree)
        if len(exprs) < 2:
            out.append((t.s, None, "no left-hand side"))
            continue
        rels = [str(c.children[0]) for c in tree.children if getattr(c, "data", None) == "rel"]
        if rels and rels[0] == "\\leftarrow":
            out.append((t.s, None, "an update rule (←), not a formula the item asks for"))
            continue
        lhs = latex.read_lhs(exprs[0])
        out.append((t.s, lhs.name, None if lhs.name else "its left-hand side names no quantity"))
    return out


def _quantity_for(item, name):
    """The check quantity a left-hand side's name stands for in ``item``."""
    table = ITEMS.get(item, {})
    if name in table:
        return name
    if name == "ell" and "L" in table:
        return "L"
    return None


def judge(item, quantity, text):
    """The exercises' verdict on one LaTeX answer (imported late: the checks are heavy)."""
    from lab import exercises
    check, extra = ITEMS[item][quantity]
    fn = getattr(exercises, check)
    if check == "check_loss":
        return fn(extra["which"], **{quantity: text}, verbose=False)
    return fn(**{quantity: text}, **extra, verbose=False)


def _verdict_fields(v):
    key = getattr(v, "mistake_key", None) or getattr(v, "key", None)
    return v.status, key, v.line


def check_text(text: str) -> Result:
    """Every equation of a write-up, attributed and judged (see the module doc)."""
    res = Result()
    pos = Position()
    for ln, _, kind, payload in scan(text):
        if kind == "heading":
            pos.heading(payload)
            continue
        if kind == "text":
            pos.text_line(re.sub(r"\$[^$]*\$", "", payload))
            continue
        item = pos.item()
        if kind == "row":
            _judge_row(res, item, payload)
            continue
        m = payload
        if not m.display and "=" not in m.latex:
            continue
        if item not in ITEMS:
            res.skipped.append({"latex": m.latex, "line": ln, "why": f"not in an item with formula answers "
                                                                       f"({item or 'before 1.2'})"})
            continue
        judged = set()
        single = list(ITEMS[item]) if len(ITEMS[item]) == 1 else None
        for eq, name, why in _lhs_quantities(m.latex):
            q = _quantity_for(item, name) if name else None
            if q is None and single and name is None and why == "its left-hand side names no quantity" \
                    and re.search(SINGLE_SIGNS.get(single[0], "(?!)"), eq):
                q = single[0]          # θ* = arg min …, lim softmax(z/T) = …: the item's one quantity
            if q is None:
                if m.display or name:
                    res.skipped.append({"latex": eq, "line": ln, "why": why or f"{latex.notation.pretty(name)} "
                                        f"is not a quantity {item} asks for"})
                continue
            if q in judged:
                continue
            judged.add(q)
            _record(res, item, q, m.latex, ln, eq)
    return res


def _record(res, item, q, text, ln, shown):
    v = judge(item, q, text)
    status, key, line = _verdict_fields(v)
    # judged alone, a right part of a several-part check reads "not answered yet: … (correct so far: q)"
    so_far = re.search(r"correct so far: ([^)]*)\)", line)
    if status == "unanswered" and so_far and q in [p.strip() for p in so_far.group(1).split(",")]:
        status = "correct"
        line = "correct" + line[line.index(")") + 1:]
    res.equations.append({"item": item, "quantity": q, "latex": shown, "line": ln, "status": status,
                          "mistake_key": key, "line_text": line})


def _judge_row(res, item, cells):
    """A table row: the first cell names the quantity (a parameter in 1.2(c), a layer in 1.2(b))."""
    if item is None or item not in ITEMS:
        return
    head = re.sub(r"[$\s{}]|\\mathbf|\\boldsymbol|\\text|\\mathrm", "", cells[0]).lower().replace("^", "")
    head = head.replace("(", "").replace(")", "")
    body = cells[-1].strip()
    maths = re.findall(r"\$(.+?)\$", body)
    if not maths:
        return
    q = None
    if item.endswith("c") or any(k in ITEMS[item] for k in _GRADS) and item.endswith("c"):
        m = re.fullmatch(r"([wb])_?\[?([12])\]?", head)
        if m:
            q = f"dl_d{m.group(1).upper() if m.group(1) == 'w' else 'b'}{m.group(2)}"
    if q is None:
        q = LAYER_ROWS.get(head)
    if q is None or q not in ITEMS[item]:
        res.skipped.append({"latex": maths[-1], "line": None, "why": f"table row “{cells[0]}” names no quantity "
                                                                     f"of {item}"})
        return
    _record(res, item, q, maths[-1], None, maths[-1])


# =============================================================================
# Output
# =============================================================================
def table(res: Result) -> str:
    """The results as a table that fits 100 columns."""
    rows = [f"{'item':<14} {'quantity':<10} {'verdict':<28} how it was read", "-" * WIDTH]
    for e in res.equations:
        verdict = e["status"] + (f" {e['mistake_key']}" if e["mistake_key"] else "")
        how = e["line_text"]
        m = re.search(r"read as: .*$", how)
        reading = m.group(0) if m else how
        text = f"{e['item']:<14} {e['quantity']:<10} {verdict[:28]:<28} {reading}"
        rows.append(text[:WIDTH - 1] + "…" if len(text) > WIDTH else text)
    rows.append("-" * WIDTH)
    why = {}
    for s in res.skipped:
        k = re.sub(r"`[^`]*`|at column \d+", "…", s["why"])[:70]
        why[k] = why.get(k, 0) + 1
    rows.append(f"{len(res.equations)} equations judged, {len(res.skipped)} skipped")
    for k, n in sorted(why.items(), key=lambda kv: -kv[1]):
        rows.append(f"  {n:>3} × {k}"[:WIDTH])
    return "\n".join(rows)


def to_json(res: Result) -> dict:
    return {"equations": [{"item": e["item"], "quantity": e["quantity"], "latex": e["latex"],
                           "status": e["status"], "mistake_key": e["mistake_key"], "line": e["line_text"]}
                          for e in res.equations],
            "skipped": [{"latex": s["latex"], "why": s["why"]} for s in res.skipped]}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m lab.theory_check", description=__doc__.split("\n\n")[0])
    ap.add_argument("file", help="the write-up: .tex, .md or .txt (Markdown)")
    ap.add_argument("--json", metavar="OUT", help="also write the results as JSON to OUT")
    args = ap.parse_args(argv)
    path = Path(args.file)
    if not path.is_file():
        print(f"error: {path} is not a file", file=sys.stderr)
        return 2
    if path.suffix.lower() not in (".tex", ".md", ".txt", ".markdown"):
        print(f"error: {path.name}: expected a .tex, .md or .txt file", file=sys.stderr)
        return 2
    res = check_text(path.read_text(encoding="utf-8", errors="replace"))
    print(table(res))
    if args.json:
        Path(args.json).write_text(json.dumps(to_json(res), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
