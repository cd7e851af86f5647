"""Reading a learner's LaTeX answer so that the exercises' checks can judge it like code.

    >>> r = read(r"\\frac{\\partial \\ell}{\\partial W^{(2)}} = z_2 \\frac{\\partial \\ell}{\\partial \\hat y}",
    ...          quantity="dl_dW2", allowed={"z2": ("h", 1), "dl_dyhat": (1, "K")})
    >>> r.line()
    'read as: z₂·∂ℓ/∂ŷ with z₂: h×1, ∂ℓ/∂ŷ: 1×K'

:func:`read` cleans the text (:mod:`lab.latex.preprocess`), parses it with a lark grammar
(:mod:`lab.latex.parse`), picks the equation whose left-hand side names the quantity asked for,
and returns a :class:`Reading` whose ``fn`` evaluates the right-hand side on the check's values
(:mod:`lab.latex.evaluate`). What cannot be read raises :class:`Unread`, saying where and why;
nothing is guessed.
"""
from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from typing import Callable

import torch
from lark import Token, Tree

from lab.latex import notation
from lab.latex.evaluate import Evaluator, Eye, ShapeError, Unread, describe, flat_atoms, layer_of_sup, \
    script_items, atom_word, is_transpose
from lab.latex.parse import UnexpectedInput, error_position, parse as parse_tree
from lab.latex.preprocess import Text, clean, split_environments

__all__ = ["Unread", "Reading", "read", "ShapeError", "equations"]

KINDS = ("tensor", "elementwise", "sympy")
PROBE_SIZES = {"n": 3, "h": 4, "K": 5, "N": 6, "d": 3, "m": 4}
LOSS_QUANTITIES = {"ell", "L", "loss", "perceptron", "adaline", "logistic", "J", "objective"}


@dataclass
class Reading:
    """How an answer was read: ``canonical`` (the expression written back in Unicode), ``shapes``
    (the shape given to each symbol used), ``fn`` (evaluates it: ``fn(**values)`` for kind
    'tensor', ``fn(z)`` for 'elementwise'; None for 'sympy'), ``expr`` (kind 'sympy')."""

    canonical: str
    shapes: dict
    fn: Callable | None
    expr: object = None
    kind: str = "tensor"
    notes: list = field(default_factory=list)

    def line(self) -> str:
        """One line for a verdict: 'read as: xᵀ·(∂ℓ/∂ŷ) with x: n×1, …'."""
        shapes = ", ".join(f"{notation.pretty(k)}: {_dims(v)}" for k, v in self.shapes.items()
                           if self.kind == "tensor")
        extra = f" ({'; '.join(self.notes)})" if self.notes else ""
        return f"read as: {self.canonical}" + (f" with {shapes}" if shapes else "") + extra


def _dims(shape):
    if isinstance(shape, str):
        return shape
    if not shape:
        return "scalar"
    return "×".join(str(s) for s in shape)


# =============================================================================
# Splitting a text into equations
# =============================================================================
def _top_level_split(t: Text, sep=","):
    """Split at ``sep`` outside any brackets (``z_1 = …, \\quad z_2 = …``)."""
    depth, pieces, start = 0, [], 0
    s = t.s
    i = 0
    while i < len(s):
        ch = s[i]
        if s.startswith("\\CASESBEGIN", i) or s.startswith("\\MATBEGIN", i):
            depth += 1
        elif s.startswith("\\CASESEND", i) or s.startswith("\\MATEND", i):
            depth -= 1
        elif ch in "([{" and (i == 0 or s[i - 1] != "\\" or ch == "{"):
            depth += 1
        elif ch in ")]}" and (i == 0 or s[i - 1] != "\\" or ch == "}"):
            depth -= 1
        elif ch == sep and depth == 0:
            pieces.append(Text(s[start:i], t.cols[start:i]))
            start = i + 1
        i += 1
    pieces.append(Text(s[start:], t.cols[start:]))
    return pieces


def equations(text: str):
    """The equations (or lone expressions) in a math string, each a cleaned :class:`Text`:
    the lines of an align (a line starting with = continues the one before) and the parts of a
    line separated by top-level commas where each part is an equation."""
    cleaned = clean(text)
    lines = split_environments(cleaned)
    merged = []
    for ln in lines:
        if merged and re.match(r"\s*(=|\\approx|\\leftarrow)", ln.s):
            prev = merged[-1]
            merged[-1] = Text(prev.s + " " + ln.s, prev.cols + [prev.col(len(prev.s))] + ln.cols)
        else:
            merged.append(ln)
    out = []
    for ln in merged:
        parts = _top_level_split(ln)
        if len(parts) > 1 and sum("=" in p.s for p in parts) >= 2:
            group = []
            for p in parts:
                if "=" in p.s or not group:
                    group.append(p)
                else:
                    last = group[-1]
                    group[-1] = Text(last.s + "," + p.s, last.cols + [last.col(len(last.s))] + p.cols)
            out.extend(group)
        else:
            out.append(ln)
    return [Text(p.s.strip(" ,."), p.cols[len(p.s) - len(p.s.lstrip(" ,.")):][:len(p.s.strip(" ,."))])
            for p in out if p.s.strip(" ,.")]


def _parse(t: Text):
    try:
        return parse_tree(t.s)
    except UnexpectedInput as err:
        pos, word = error_position(err, t.s)
        col = t.col(pos) if pos < len(t.s) else (t.col(len(t.s) - 1) + 1 if t.s else 0)
        if word == "the end":
            raise Unread("the formula ends too early (a bracket or an argument missing?)", col, "the end") from None
        raise Unread(_advice(word), col, word) from None


def _advice(word):
    if word.startswith("\\mathcal"):
        return "write the variables the question allows (x, y, W^{(1)}, …) instead of a set"
    if word.startswith("\\TEXT"):
        return "words inside the formula: keep only the mathematics"
    if word.startswith("\\"):
        return f"{word} is not notation this reader knows; write it with +, −, products, \\frac, σ, tanh, …"
    return "this symbol does not fit here"


# =============================================================================
# Left-hand sides
# =============================================================================
@dataclass
class Lhs:
    name: str | None            # the quantity the left-hand side names (dl_dW1, z2, ell, relu, ...)
    transposed: bool = False    # ∇_W ℓ or Q^T = …
    element: tuple = ()         # (Q)_{ij}: ('i', 'j'); (Q)_{ii}: ('i', 'i'); (Q)_i: ('i',)
    bound: dict = field(default_factory=dict)   # ReLU'(x): {'x': 'z'}


def _name_of(node):
    """The checks' name a symbol or a derivative symbol stands for, or None."""
    ev = Evaluator(Text(""), {}, {}, allowed=())
    if isinstance(node, Tree) and node.data in ("dfrac", "pslash", "frac"):
        try:
            if node.data == "dfrac":
                parts = [c for c in node.children if not (isinstance(c, Token) and c.type == "PARTIAL")]
                if len(parts) != 2:
                    return None
                return ev.derivative_name(node, flat_atoms(parts[0]), parts[1])
            if node.data == "pslash":
                return ev.derivative_name(node, [node.children[1]], node.children[3])
            num, den = (script_items(c) for c in node.children)
            dn, dd = flat_atoms(num[0]), flat_atoms(den[0])
            if atom_word(dn[0]) == "d" and atom_word(dd[0]) == "d" and len(dd) == 2 and len(dn) > 1:
                return ev.derivative_name(node, dn[1:], dd[1])
        except Unread:
            return None
        return None
    s = describe(node)
    if s is None:
        return None
    layer = None
    for sup in s.sups:
        layer = layer_of_sup(sup)
        if layer is None:
            return None
    for sub in s.subs:
        w = [atom_word(a) for it in script_items(sub) for a in flat_atoms(it)]
        if s.base in notation.LOSS_NAMES:
            continue
        if w and w[0] and w[0].isdigit() and s.base in notation.LAYERED and layer is None:
            layer = int(w[0])
            if len(w) > 1:
                return None
        else:
            return None
    return notation.symbol_name(s.base, s.hat, layer)


def _activation_lhs(node):
    """``\\relu'(z)``, ``\\frac{d}{dz}\\gelu(z)``, ``\\sigma'(x)``: (check name, bound variable)."""
    if isinstance(node, Tree) and node.data in ("fcall", "fcall_bare"):
        f = node.children[0]
        primes = 0
        while f.data != "fname":
            if f.data == "fprime":
                primes += 1
            f = f.children[0]
        fname = "\\" + str(f.children[0])[1:]
        arg = node.children[1]
        var = atom_word(arg) if isinstance(arg, Tree) else str(arg)
        if primes == 1 and fname in notation.ACTIVATION_NAMES:
            return notation.ACTIVATION_NAMES[fname], var
    if isinstance(node, Tree) and node.data == "jux" and isinstance(node.children[0], Tree) \
            and node.children[0].data == "dfrac":
        op = node.children[0]
        parts = [c for c in op.children if not (isinstance(c, Token) and c.type == "PARTIAL")]
        if len(parts) == 1:
            inner = node.children[1]
            if isinstance(inner, Tree) and inner.data == "fcall":
                f = inner.children[0]
                if f.data == "fname":
                    fname = "\\" + str(f.children[0])[1:]
                    if fname in notation.ACTIVATION_NAMES:
                        return notation.ACTIVATION_NAMES[fname], atom_word(parts[0])
    return None


def read_lhs(node) -> Lhs:
    """What a left-hand side names; ``Lhs(None)`` when it names nothing the checks know."""
    act = _activation_lhs(node)
    if act:
        return Lhs(act[0], bound={act[1]: "z"} if act[1] and act[1] != "z" else {})
    if isinstance(node, Tree) and node.data == "nabla":
        script, target = node.children
        items = script_items(script)
        num, den = _name_of(target), _name_of(items[0]) if len(items) == 1 else None
        if num and den:
            return Lhs(notation.derivative_name(num, den), transposed=True)
    if isinstance(node, Tree) and node.data == "sup" and is_transpose(node.children[1]):
        inner = read_lhs(node.children[0])
        return Lhs(inner.name, not inner.transposed, inner.element)
    if isinstance(node, Tree) and node.data == "subscript" and isinstance(node.children[0], Tree) \
            and node.children[0].data in ("paren", "bracket"):
        inner = read_lhs(node.children[0].children[0])
        words = [atom_word(a) for it in script_items(node.children[1]) for a in flat_atoms(it)]
        if inner.name and words and all(w and w.isalpha() for w in words) and len(words) <= 2:
            return Lhs(inner.name, inner.transposed, tuple(words))
    if isinstance(node, Tree) and node.data in ("paren", "group"):
        return read_lhs(node.children[0])
    if isinstance(node, Tree) and node.data == "jux":     # L(z, y), \ell(\hat y, y): a loss
        head = node.children[0]
        if _name_of(head) == "ell" and isinstance(node.children[1], Tree) and node.children[1].data in ("tuple", "paren"):
            return Lhs("ell")
    return Lhs(_name_of(node))


def _matches(lhs_name, quantity):
    if lhs_name is None:
        return False
    if lhs_name == quantity:
        return True
    return lhs_name == "ell" and quantity in LOSS_QUANTITIES


# =============================================================================
# read()
# =============================================================================
def _chain_parts(tree):
    """(expressions, relation tokens) of a chain."""
    exprs = [c for c in tree.children if not (isinstance(c, Tree) and c.data == "rel")]
    return exprs


def _pick(text, quantity):
    """(Text, tree, Lhs, right-hand sides) of the equation that names ``quantity``."""
    eqs = equations(text)
    if not eqs:
        raise Unread("there is no formula here", 0, None)
    parsed, first_error = [], None
    for t in eqs:
        try:
            tree = _parse(t)
        except Unread as err:
            first_error = first_error or err
            parsed.append((t, None, None))
            continue
        exprs = _chain_parts(tree)
        lhs = read_lhs(exprs[0]) if len(exprs) > 1 else Lhs(None)
        parsed.append((t, tree, lhs))
    named = [(t, tree, lhs) for t, tree, lhs in parsed if tree is not None and _matches(lhs.name, quantity)]
    if named:
        t, tree, lhs = named[-1]
        return t, lhs, _chain_parts(tree)[1:]
    if first_error is not None and len(eqs) == 1:
        raise first_error
    readable = [(t, tree, lhs) for t, tree, lhs in parsed if tree is not None]
    if len(eqs) == 1 and readable:
        t, tree, lhs = readable[0]
        exprs = _chain_parts(tree)
        if lhs.name is not None and lhs.name in notation.QUANTITY_SHAPES and not _matches(lhs.name, quantity):
            raise Unread(f"the left-hand side names {notation.pretty(lhs.name)}, but this answer is "
                         f"{notation.pretty(quantity)}", t.col(0), None)
        return t, Lhs(None), exprs[1:] if len(exprs) > 1 else exprs
    if first_error is not None:
        raise first_error
    raise Unread(f"none of the {len(eqs)} equations has {notation.pretty(quantity)} on its left-hand side",
                 eqs[0].col(0), None)


def _sizes_from(allowed, values, fallback):
    """n, h, K, … from the values' shapes (as ``allowed`` names them), else from ``fallback``."""
    sizes = dict(fallback)
    for name, shape in allowed.items():
        v = values.get(name)
        if isinstance(shape, str):
            continue
        if v is None or not isinstance(v, torch.Tensor):
            continue
        for sym, actual in zip(shape, v.shape):
            if isinstance(sym, str):
                sizes[sym] = int(actual)
    return sizes


def _target(quantity, sizes, allowed, kind, values):
    if kind != "tensor":
        return None
    shape = notation.QUANTITY_SHAPES.get(quantity)
    if shape is None:
        return None
    try:
        return tuple(sizes[d] if isinstance(d, str) else d for d in shape)
    except KeyError:
        return None


def _finish(value, target, lhs, kind, like=None):
    """The evaluated right-hand side as the check expects it."""
    if isinstance(value, Eye):
        if target is not None and len(target) == 2 and target[0] == target[1]:
            value = value.full(target[0])
        elif value.size is not None:
            value = value.full()
        else:
            raise ShapeError("an identity I whose size nothing gives")
    if not isinstance(value, torch.Tensor):
        value = torch.as_tensor(value, dtype=torch.float64)
    if lhs.transposed and value.dim() == 2:
        value = value.T
    if like is not None:
        value = value.expand(like.shape).clone() if value.numel() == 1 else value.reshape(like.shape)
    return value


def _element_value(ev, rhs, lhs, target):
    """(Q)_{ij} = …: the right-hand side with i and j running over the quantity's shape."""
    if target is None:
        raise Unread("an element form for a quantity of unknown shape", None, None)
    ev.entry = True
    if len(lhs.element) == 2 and len(target) == 2:
        i, j = lhs.element
        if 1 in target:     # (v)_{ij} for a vector: the learner wrote a square matrix
            target = (max(target), max(target))
        if i == j:        # (Q)_{ii} = …: the diagonal; entries off it are 0
            m = target[0]
            ev.index[i] = torch.arange(m)
            d = ev.ev(rhs)
            d = d.expand(m) if d.numel() == 1 else d.reshape(-1)
            return torch.diag(d)
        ev.index[i] = torch.arange(target[0]).reshape(-1, 1)
        ev.index[j] = torch.arange(target[1]).reshape(1, -1)
        v = ev.ev(rhs)
        return v.expand(target).clone() if v.numel() == 1 else v
    if len(lhs.element) == 1:
        m = max(target) if target else 1
        ev.index[lhs.element[0]] = torch.arange(m).reshape(target) if target else torch.arange(1)
        ev.index["__vector__"] = True
        v = ev.ev(rhs)
        return v.expand(target).clone() if v.numel() == 1 else v.reshape(target)
    raise Unread("an element form with this many indices", None, None)


def read(text: str, *, quantity: str, allowed: dict, kind: str = "tensor", dims: dict | None = None,
         functions: dict | None = None) -> Reading:
    """Read ``text`` as the answer for ``quantity`` (a check's parameter name), using only the
    variables in ``allowed`` (name -> shape, symbolic sizes like ('h', 1)). See the module doc."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; allowed: {', '.join(KINDS)}")
    if not isinstance(text, str):
        raise TypeError(f"a LaTeX answer is a str, not {type(text).__name__}")
    t, lhs, rhss = _pick(text, quantity)
    if not rhss:
        raise Unread("there is nothing on the right-hand side", t.col(len(t.s) - 1), None)
    fallback = {**PROBE_SIZES, **(dims or {})}
    errors = []
    # a chain a = b = c: the last form that reads is the answer
    for rhs in reversed(rhss):
        try:
            return _reading(t, lhs, rhs, quantity, allowed, kind, fallback, functions)
        except Unread as err:
            errors.append(err)
    raise errors[-1] if len(rhss) == 1 else errors[0]


def _probe_values(allowed, sizes, kind):
    gen = torch.Generator().manual_seed(0)
    vals = {}
    for name, shape in allowed.items():
        if shape == "function":
            vals[name] = lambda theta, x: torch.tanh(theta["W"] @ x + theta["b"])
            continue
        if shape == "parameters":
            vals[name] = {"W": torch.randn(sizes.get("K", 2), sizes.get("n", 3), generator=gen, dtype=torch.float64),
                          "b": torch.randn(sizes.get("K", 2), generator=gen, dtype=torch.float64)}
            continue
        dims = tuple(sizes[d] if isinstance(d, str) else d for d in shape)
        vals[name] = torch.randn(*dims, generator=gen, dtype=torch.float64) if dims else \
            torch.randn((), generator=gen, dtype=torch.float64)
    return vals


def _reading(t, lhs, rhs, quantity, allowed, kind, fallback, functions):
    if kind == "sympy":
        return _sympy_reading(t, lhs, rhs, allowed)
    mode = "elementwise" if kind == "elementwise" else "tensor"
    used = {}

    def evaluate(values):
        sizes = _sizes_from(allowed, values, fallback)
        ev = Evaluator(t, values, sizes, mode=mode, allowed=allowed, used=used, bound=lhs.bound,
                       functions=functions)
        target = _target(quantity, sizes, allowed, kind, values)
        ev.target_shape = target
        if lhs.element:
            value = _element_value(ev, rhs, lhs, target)
        else:
            value = ev.ev(rhs)
        like = values.get("z") if kind == "elementwise" or quantity == "limit" else None
        return _finish(value, target, lhs, kind, like), ev

    probe = _probe_values(allowed, fallback, kind)
    notes = []
    with torch.no_grad():
        try:
            _, ev = evaluate(probe)
            notes = ev.notes
        except ShapeError as err:
            notes = [f"sizes do not fit: {err}"]
    names = [n for n in allowed if n in used]
    canonical = render(rhs, t)
    if lhs.transposed:
        canonical = f"({canonical})ᵀ"
    if lhs.element:
        canonical = f"[{canonical}] for entry ({', '.join(lhs.element)})"

    if kind == "elementwise":
        def fn(z):
            value, _ = evaluate({"z": torch.as_tensor(z, dtype=torch.float64)})
            return value
    else:
        def fn(**values):
            missing = [n for n in names if n not in values]
            if missing:
                raise TypeError(f"missing values for {', '.join(missing)}")
            value, _ = evaluate(values)
            return value
        fn.__signature__ = inspect.Signature(
            [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY) for n in names])
    shapes = {n: (allowed[n] if isinstance(allowed[n], str) else tuple(allowed[n])) for n in names}
    return Reading(canonical, shapes, fn, None, kind, list(notes))


def _sympy_reading(t, lhs, rhs, allowed):
    import sympy as sp
    symbols = {n: sp.Symbol(n, real=True) for n in allowed}
    ev = Evaluator(t, symbols, {}, mode="sympy", allowed=allowed)
    expr = ev.ev(rhs)
    expr = sp.sympify(expr)
    wx, b = sp.Symbol("__wx__", real=True), sp.Symbol("__b__", real=True)
    w, x = sp.Symbol("__w__", real=True), sp.Symbol("__x__", real=True)
    if "z" in symbols and expr.has(w) and expr.has(x):
        expr = expr.subs(w * x, wx)
    if "z" in symbols and expr.has(wx):
        expr = sp.simplify(expr.subs(wx, symbols["z"] - b)) if expr.has(b) else expr.subs(wx, symbols["z"])
    stray = sorted(str(s).strip("_") for s in expr.free_symbols if str(s) not in symbols)
    if stray:
        raise Unread(f"the answer uses {', '.join(stray)} beyond {', '.join(symbols)} "
                     "(write z for b + Σᵢ wᵢxᵢ)", t.col(0), None)
    return Reading(_sympy_str(expr), {n: () for n in symbols if expr.has(symbols[n])}, None, expr, "sympy",
                   list(ev.notes))


def _sympy_str(expr):
    import sympy as sp
    return sp.sstr(expr).replace("**", "^")


# =============================================================================
# The canonical rendering
# =============================================================================
SUPER = str.maketrans("0123456789+-()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁽⁾")


def render(node, t=None) -> str:
    """The tree written back in Unicode, variables by their checks' names made pretty."""
    return _Render().go(node)


class _Render:
    def go(self, n):
        if isinstance(n, Token):
            return str(n)
        name = _name_of(n) if n.data in ("sym", "hat", "sup", "subscript", "dfrac", "pslash", "frac", "group") else None
        if name is not None:
            return notation.pretty(name)
        meth = getattr(self, "r_" + n.data, None)
        if meth:
            return meth(n)
        return " ".join(self.go(c) for c in n.children)

    def r_number(self, n):
        return str(n.children[0])

    def r_sym(self, n):
        s = str(n.children[0])
        return {"\\ell": "ℓ", "\\theta": "θ", "\\alpha": "α", "\\eta": "η", "\\delta": "δ"}.get(s, s.lstrip("\\"))

    def r_hat(self, n):
        inner = script_items(n.children[1])[0]
        if isinstance(inner, Tree) and inner.data == "subscript":       # \hat{y_i}: ŷ_i
            return self.go(Tree("subscript", [Tree("hat", [n.children[0], Tree("script", [Tree("sitems", [inner.children[0]])])]),
                                              inner.children[1]]))
        base = self.go(inner)
        return {"y": "ŷ", "z": "ẑ"}.get(base, base + "\u0302")

    def r_paren(self, n):
        return f"({self.go(n.children[0])})"

    r_bracket = r_paren

    def r_group(self, n):
        return self.go(n.children[0])

    def r_tuple(self, n):
        return "(" + ", ".join(self.go(c) for c in n.children) + ")"

    def r_jux(self, n):
        return f"{self.go(n.children[0])}·{self.go(n.children[1])}"

    def r_dot(self, n):
        return f"{self.go(n.children[0])}·{self.go(n.children[2])}"

    def r_hadamard(self, n):
        return f"{self.go(n.children[0])} ⊙ {self.go(n.children[2])}"

    def r_add(self, n):
        return f"{self.go(n.children[0])} + {self.go(n.children[1])}"

    def r_minus(self, n):
        return f"{self.go(n.children[0])} − {self.go(n.children[1])}"

    def r_neg(self, n):
        return f"−{self.go(n.children[0])}"

    def r_div(self, n):
        return f"{self.go(n.children[0])}/{self.go(n.children[1])}"

    def r_frac(self, n):
        a, b = (script_items(c) for c in n.children)
        return f"({self.go(a[0]) if a else ''})/({self.go(b[0]) if b else ''})"

    def r_sup(self, n):
        base, script = n.children
        items = script_items(script)
        if is_transpose(script):
            return f"{self.go(base)}ᵀ"
        if len(items) == 1 and isinstance(items[0], Tree) and items[0].data == "splus":
            return f"{self.go(base)}⁺"
        if describe(base) is not None and describe(base).base == "e":
            return f"exp({self.go(items[0])})" if items else "e"
        inner = self.go(items[0]) if items else ""
        return f"{self.go(base)}{inner.translate(SUPER)}" if re.fullmatch(r"[0-9+\-()]+", inner) else \
            f"{self.go(base)}^({inner})"

    def r_subscript(self, n):
        base, script = n.children
        # an index reads as written: z_{2i} is z_2i, not the product z_2·i
        return f"{self.go(base)}_{''.join(self.go(i) for i in script_items(script)).replace('·', '')}"

    def r_prime(self, n):
        return f"{self.go(n.children[0])}ᵀ"

    def r_norm(self, n):
        return f"‖{self.go(n.children[0])}‖"

    def r_absval(self, n):
        return f"|{self.go(n.children[0])}|"

    def r_sqrt(self, n):
        return f"√({self.go(script_items(n.children[0])[0])})"

    def r_fname(self, n):
        s = str(n.children[0])[1:]
        return {"sigma": "σ", "relu": "ReLU", "Phi": "Φ", "phi": "φ", "gelu": "GELU",
                "softplus": "softplus", "leakyrelu": "LeakyReLU"}.get(s, s)

    def r_fsup(self, n):
        items = script_items(n.children[1])
        p = self.go(items[0]) if items else ""
        return f"{self.go(n.children[0])}{p.translate(SUPER)}"

    def r_fprime(self, n):
        return f"{self.go(n.children[0])}′"

    def r_fsub(self, n):
        return self.go(n.children[0])

    def r_fcall(self, n):
        f, *args = n.children
        return f"{self.go(f)}({', '.join(self.go(a) for a in args)})"

    def r_bigop_call(self, n):
        return ""

    def r_fcall_bare(self, n):
        return f"{self.go(n.children[0])}({self.go(Tree('sym', [n.children[1]]))})"

    def r_fcall_bare_hat(self, n):
        return f"{self.go(n.children[0])}({self.go(Tree('hat', [n.children[1], n.children[2]]))})"

    def r_indicator(self, n):
        return f"𝟙[{self.go(n.children[-1])}]"

    def r_cond(self, n):
        out = []
        for c in n.children:
            if isinstance(c, Tree) and c.data == "cmp":
                op = str(c.children[0])
                out.append({"\\geq": "≥", "\\leq": "≤", "\\neq": "≠", "\\to": "→", "\\in": "∈"}.get(op, op))
            else:
                out.append(self.go(c))
        return " ".join(out)

    def r_cases(self, n):
        rows = []
        for row in n.children:
            v, *conds = row.children
            cs = [self.go(c) for c in conds if not (isinstance(c, Tree) and c.data == "ccomma")]
            cs = [re.sub(r"\\TEXT\{\s*(.*?)\s*\}", r"\1", c) for c in cs]
            cs = [c for c in cs if c.lower().strip(" ,.") not in ("if", "for", "when", "")]
            rows.append(f"{self.go(v)} if {' '.join(cs)}" if cs else self.go(v))
        return "{" + "; ".join(rows) + "}"

    def r_ctext(self, n):
        return str(n.children[0])

    def r_text(self, n):
        return re.sub(r"\\TEXT\{\s*(.*?)\s*\}", r"“\1”", str(n.children[0]))

    def r_matrix(self, n):
        rows = []
        for r in n.children:
            rows.append(", ".join(self.go(c.children[0]) if c.children else "" for c in r.children))
        return "[" + "; ".join(rows) + "]"

    def r_dots(self, n):
        return "…"

    def r_bigop(self, n):
        op = str(n.children[0])[1:]
        sym = {"sum": "Σ", "prod": "Π"}.get(op, op)
        scripts = n.children[1:-1]
        lim = "".join(f"_{{{', '.join(self.go(i) for i in script_items(s))}}}" for s in scripts[:1])
        body = self.go(n.children[-1])
        return f"{sym}{lim}{body}" if body.startswith("(") and not lim else f"{sym}{lim} {body}"

    def r_kronecker(self, n):
        return "δ_" + "".join(self.go(i) for i in script_items(n.children[0]))

    def r_nabla(self, n):
        return f"∇_{self.go(script_items(n.children[0])[0])} {self.go(n.children[1])}"

    def r_top(self, n):
        return "ᵀ"

    def r_splus(self, n):
        return "+"

    def r_dfrac(self, n):
        parts = [c for c in n.children if not (isinstance(c, Token) and c.type == "PARTIAL")]
        return "∂/∂" + self.go(parts[-1])

    def r_pslash(self, n):
        return f"∂{self.go(n.children[1])}/∂{self.go(n.children[3])}"
