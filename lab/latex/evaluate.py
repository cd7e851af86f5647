"""Evaluating a parsed LaTeX expression on the check's values (torch), or as a sympy expression.

The rules a reader of matrix calculus uses, written once:

* a product (juxtaposition, ``\\cdot``, ``\\times``, ``*``) of two matrices is the matrix product;
  with a scalar (a 1×1 counts as one) it scales. Shapes that do not fit raise :class:`ShapeError`
  (a RuntimeError, so a check treats it like torch's own size error: a real mistake of the
  learner — a missing transpose, the wrong layout — never "could not read");
* ``\\odot``/``\\circ``, sums and quotients are element-wise and need equal shapes (or a scalar);
* functions (σ, tanh, ReLU, (·)⁺, …) act element-wise; ``\\sigma'`` is the derivative;
* ``I`` is an identity whose size the neighbouring factor gives; ``I_h`` has size h — even where
  that is the wrong size, so a check can name ``wrong_identity_size``;
* in element forms (``(·)_{ij}``, a ``cases`` on ``i = j``, a ``bmatrix`` picture with ``\\dots``)
  the indices run over the quantity's shape.

Anything the reader cannot give one meaning raises :class:`lab.latex.Unread`.
"""
from __future__ import annotations

import math
import re

import torch
from lark import Token, Tree

from lab import reference
from lab.latex import notation


class Unread(Exception):
    """The text could not be read; ``column`` (0-based, in the learner's text) says where."""

    def __init__(self, why: str, column: int | None = None, what: str | None = None):
        self.why, self.column, self.what = why, column, what
        where = f"`{what}` at column {column + 1}" if what is not None and column is not None else (
            f"at column {column + 1}" if column is not None else "")
        super().__init__(f"could not read {where}: {why}" if where else f"could not read: {why}")


class ShapeError(RuntimeError):
    """Shapes that do not fit: the learner's mistake, reported like torch's size mismatch."""


class Eye:
    """An identity matrix, its size known (I_h) or taken from its neighbour (I)."""

    def __init__(self, size=None, scale=1.0, label="I"):
        self.size, self.scale, self.label = size, scale, label

    def full(self, m=None):
        m = self.size if self.size is not None else m
        if m is None:
            raise _Unsized()
        return torch.eye(m, dtype=torch.float64) * self.scale


class _Unsized(Exception):
    pass


class _Call:
    """A function written in the answer (F_θ), applied by juxtaposition: F_θ(x_i)."""

    def __init__(self, fn, label):
        self.fn, self.label = fn, label


def _t(v):
    return torch.as_tensor(v, dtype=torch.float64)


def _is_scalar(v):
    return isinstance(v, torch.Tensor) and v.numel() == 1


def _shape(v):
    return tuple(v.shape) if isinstance(v, torch.Tensor) else ("I",)


def _scalar(v):
    return v.reshape(()) if v.dim() > 0 else v


def _text(tok):
    return str(tok)


def node_col(node, text):
    """The column in the learner's text where a tree node starts."""
    meta = getattr(node, "meta", None)
    pos = getattr(meta, "start_pos", None) if meta is not None and not getattr(meta, "empty", True) else None
    if pos is None and isinstance(node, Token):
        pos = node.start_pos
    if pos is None:
        return None
    return text.col(pos)


def node_src(node, text):
    meta = getattr(node, "meta", None)
    if isinstance(node, Token):
        return str(node)
    if meta is None or getattr(meta, "empty", True):
        return None
    return text.s[meta.start_pos:meta.end_pos].strip()


# =============================================================================
# Describing symbols: base, hat, layer and element indices
# =============================================================================
def script_items(script):
    """The items of a ``script`` node (``{1,i}`` -> [1, i]); each item a tree."""
    if not script.children:
        return []
    sitems = script.children[0]
    return list(sitems.children)


def flat_atoms(node):
    """``1i`` or ``ij`` (juxtaposed) -> the list of atoms."""
    if isinstance(node, Tree) and node.data == "jux":
        return flat_atoms(node.children[0]) + flat_atoms(node.children[1])
    return [node]


def atom_word(node):
    """A number or single-letter symbol as a string, else None."""
    if isinstance(node, Tree) and node.data == "number":
        return str(node.children[0])
    if isinstance(node, Tree) and node.data == "sym":
        return str(node.children[0])
    if isinstance(node, Tree) and node.data == "paren":
        return atom_word(node.children[0])
    if isinstance(node, Tree) and node.data == "group":
        return atom_word(node.children[0])
    return None


class Symbol:
    """base (``W``, ``\\ell``), hat flag, subscripts and superscripts (lists of script nodes)."""

    def __init__(self, base, hat=False):
        self.base, self.hat, self.subs, self.sups = base, hat, [], []


def describe(node):
    """A Symbol for a symbol-like node (letter with hats, bold groups and scripts), else None."""
    if isinstance(node, Tree):
        if node.data == "sym":
            return Symbol(str(node.children[0]))
        if node.data == "group" and len(node.children) == 1:
            return describe(node.children[0])
        if node.data == "hat":
            items = script_items(node.children[1])
            if len(items) == 1:
                inner = describe(items[0])
                if inner is not None and not inner.hat:
                    inner.hat = True
                    return inner
            return None
        if node.data in ("subscript", "sup"):
            inner = describe(node.children[0])
            if inner is None:
                return None
            (inner.subs if node.data == "subscript" else inner.sups).append(node.children[1])
            return inner
    return None


def layer_of_sup(script):
    """``(1)`` or ``[1]`` -> 1, else None."""
    items = script_items(script)
    if len(items) == 1 and isinstance(items[0], Tree) and items[0].data in ("paren", "bracket"):
        w = atom_word(items[0].children[0])
        if w and w.isdigit():
            return int(w)
    return None


def is_transpose(script):
    items = script_items(script)
    if len(items) != 1:
        return False
    it = items[0]
    return (isinstance(it, Tree) and it.data == "top") or atom_word(it) == "T"


# =============================================================================
# The evaluator
# =============================================================================
class Evaluator:
    """Evaluates one tree. ``values``: variable name -> tensor; ``sizes``: n, h, K, … -> int;
    ``mode``: 'tensor' (matrix calculus), 'elementwise' (everything element-wise: 1.5(c)) or
    'sympy' (scalars, a sympy expression). ``index``: bound element indices (name -> tensor)."""

    def __init__(self, text, values, sizes, mode="tensor", allowed=(), functions=None, used=None,
                 shapes=None, bound=None):
        self.text, self.values, self.sizes, self.mode = text, values, sizes, mode
        self.allowed = set(allowed)
        self.functions = functions or {}
        self.used = used if used is not None else {}
        self.index = {}
        self.notes = []
        self.bound = bound or {}           # a variable the left-hand side names (ReLU'(x): x -> z)
        if mode == "sympy":
            import sympy as sp
            self.sp = sp

    # --- errors ---------------------------------------------------------------------------
    def unread(self, node, why):
        raise Unread(why, node_col(node, self.text), node_src(node, self.text))

    # --- dispatch -------------------------------------------------------------------------
    def ev(self, node):
        if isinstance(node, Token):
            self.unread(node, "a stray symbol here")
        meth = getattr(self, "n_" + node.data, None)
        if meth is None:
            self.unread(node, f"{node.data.replace('_', ' ')} is not part of an answer this check reads")
        return meth(node)

    # --- numbers and symbols --------------------------------------------------------------
    def num(self, v):
        if self.mode == "sympy":
            return self.sp.nsimplify(v)
        return _t(v)

    def n_number(self, node):
        return self.num(float(str(node.children[0])))

    def n_paren(self, node):
        return self.ev(node.children[0])

    n_group = n_paren

    def n_bracket(self, node):
        return self.ev(node.children[0])

    def n_sym(self, node):
        return self.symbol(node)

    def n_hat(self, node):
        return self.symbol(node)

    def variable(self, node, name):
        if name in self.bound:
            name = self.bound[name]
        if name not in self.allowed and name.startswith("dl_d") and "dJd" + name[4:] in self.allowed:
            name = "dJd" + name[4:]            # 06 names ∂J/∂a dJda
        if name not in self.allowed:
            allowed = ", ".join(sorted(self.allowed)) or "none"
            self.unread(node, f"this answer may use only {allowed}; `{notation.pretty(name)}` is not one of them")
        self.used[name] = True
        return self.values[name]

    def symbol(self, node):
        """A variable, an element of one, an identity, e, a size letter — or Unread."""
        s = describe(node)
        if s is None:
            self.unread(node, "not a symbol this check knows")
        base = s.base
        # transposes and powers on a plain symbol are handled by n_sup; here only names.
        layer, elems = None, []
        for sup in s.sups:
            lay = layer_of_sup(sup)
            if lay is None:
                return self.unread(node, "a superscript here must be a layer index like ^{(1)}")
            layer = lay
        for sub in s.subs:
            items = script_items(sub)
            atoms = []
            for it in items:
                atoms += flat_atoms(it)
            words = [atom_word(a) for a in atoms]
            if base in notation.LOSS_NAMES and not s.hat:          # ℓ_MSE, \ell_{BCE}
                continue
            if base == "I" and not s.hat:
                return self.identity(node, atoms)
            if base in notation.LAYERED and layer is None and words and words[0] and words[0].isdigit():
                layer = int(words[0])
                atoms, words = atoms[1:], words[1:]
            elems += list(zip(atoms, words))
        if base == "I" and not s.subs and not s.hat:
            return Eye(None)
        if base == "e" and not s.subs and not s.hat and "e" not in self.allowed:
            return self.num(math.e) if self.mode != "sympy" else self.sp.E
        if "D" in self.allowed and base in ("x", "y", "F") and not s.hat:
            return self.data_symbol(node, s, base)
        if self.mode == "sympy" and base in ("b", "w", "x") and not s.hat and base not in self.allowed:
            return self.sp.Symbol(f"__{base}__", real=True)
        name = notation.symbol_name(base, s.hat, layer)
        if layer is None and not s.hat and base in self.allowed and base in ("W", "b", "a", "x", "z"):
            name = base                        # 06's layers: one W, one b
        if name is None and base in self.bound:
            name = base

        if name is None:
            if base in self.sizes and not s.hat and not s.subs:
                return self.num(self.sizes[base])
            if base in self.index and not s.hat and not s.subs:
                return self.index[base]
            hint = ""
            if base in ("W", "b", "z") and layer is None:
                hint = f"; write the layer, e.g. {base}^{{(1)}} or {base}_1"
            return self.unread(node, f"`{base}` is not a variable of this question{hint}")
        value = self.variable(node, name)
        if elems:
            return self.element(node, name, value, elems)
        return value

    def data_symbol(self, node, s, base):
        """1.5(e): x_i and y_i are the i-th rows of D and Y; F_θ is the network, called on x_i."""
        if base == "F":
            self.used["F"] = self.used["theta"] = True
            net, theta = self.values["F"], self.values["theta"]
            return _Call(lambda arg: torch.as_tensor(net(theta, arg), dtype=torch.float64), "F_θ")
        table = "D" if base == "x" else "Y"
        words = [atom_word(a) for sub in s.subs for it in script_items(sub) for a in flat_atoms(it)]
        if len(words) != 1 or words[0] not in self.index or self.index[words[0]] is None:
            self.unread(node, f"{base} without the index of a sum: write Σ_{{i=1}}^{{N}} … {base}_i")
        self.used[table] = True
        return self.values[table][self.index[words[0]]]

    def element(self, node, name, value, elems):
        """``z_{1,i}``, ``\\hat y_2``: one entry, or the entries the bound index runs over."""
        if self.mode == "sympy":
            self.unread(node, "an element index in a scalar answer")
        flat = value.reshape(-1)
        if len(elems) != 1:
            self.unread(node, f"{notation.pretty(name)} is a vector: give it one index")
        atom, word = elems[0]
        if word is None:
            self.unread(node, "an index must be a letter or a number")
        if word == "1" and self.first_runs:
            return flat[self.index["__first__"]]
        if word.isdigit():
            k = int(word) - 1
            if not 0 <= k < flat.numel():
                self.unread(node, f"index {word} is out of range for {notation.pretty(name)}")
            return flat[k]
        if word in self.index:
            idx = self.index[word]
            if isinstance(idx, torch.Tensor) and idx.numel() and int(idx.max()) >= flat.numel():
                raise ShapeError(f"index {word} runs past the {flat.numel()} entries of {name}")
            return flat[idx]
        if word in self.sizes or word in ("m", "K", "h", "n", "N", "d"):
            return flat[-1]
        if value.dim() == 1 and word not in self.index:      # z_i for a 1-D z: every entry, in place
            return value
        self.unread(node, f"the index {word} is not bound here (write the element form with its range)")

    def identity(self, node, atoms):
        words = [atom_word(a) for a in atoms]
        word = words[0] if words else None
        if word is not None and word.isdigit():
            return Eye(int(word), label=f"I_{word}")
        if word is not None and word in self.sizes:
            return Eye(self.sizes[word], label=f"I_{word}")
        self.unread(node, f"the size `{word}` of this identity is not a size of the question "
                          f"({', '.join(sorted(self.sizes))})")

    def n_kronecker(self, node):
        items = []
        for it in script_items(node.children[0]):
            items += flat_atoms(it)
        words = [atom_word(a) for a in items]
        if len(words) != 2 or not all(w in self.index for w in words):
            self.unread(node, "δ needs two bound indices, as in (·)_{ij} = … δ_{ij}")
        return (self.index[words[0]] == self.index[words[1]]).to(torch.float64)

    def n_identity(self, node):
        return Eye(None)

    def n_ident(self, node):
        self.unread(node, "ℝ (a set) is not a value")

    def n_text(self, node):
        self.unread(node, "words where a formula should be")

    def n_dots(self, node):
        self.unread(node, "“…” outside a matrix: write the general term instead")

    def n_top(self, node):
        self.unread(node, "ᵀ here has nothing to transpose")

    # --- scripts on expressions: transposes, powers, layer indices -----------------------
    def n_sup(self, node):
        base, script = node.children
        if describe(node) is not None and layer_of_sup(script) is not None:
            return self.symbol(node)
        if is_transpose(script):
            return self.transpose(self.ev(base), node)
        items = script_items(script)
        if len(items) == 1 and isinstance(items[0], Tree) and items[0].data == "splus":
            return self.relu(self.ev(base))
        if len(items) == 1 and isinstance(items[0], Tree) and items[0].data in ("splus", "sminus", "sstar", "sdims",
                                                                                   "sdims2", "scond", "cond"):
            self.unread(node, "this superscript is not a transpose, a power or a layer")
        if describe(base) is not None and describe(base).base == "e" and "e" not in self.allowed:
            return self.exp(self.ev(items[0]) if len(items) == 1 else self.unread(node, "e^{…} with one exponent"))
        if len(items) != 1:
            self.unread(node, "a superscript with several parts")
        b = self.ev(base)
        p = self.ev(items[0])
        return self.power(b, p, node)

    def n_subscript(self, node):
        if describe(node) is not None:
            return self.symbol(node)
        base, script = node.children
        # (Q)_{ij} on the right-hand side, ‖v‖_2, ...
        if isinstance(base, Tree) and base.data == "norm":
            words = [atom_word(a) for a in script_items(script)]
            if words == ["2"]:
                return self.ev(base)
        self.unread(node, "a subscript on an expression (element forms go on the left-hand side)")

    def n_prime(self, node):
        base = node.children[0]
        v = self.ev(base)
        if self.mode == "tensor":
            return self.transpose(v, node)
        self.unread(node, "′ on a value: write the derivative function, e.g. \\sigma'(z)")

    def transpose(self, v, node):
        if self.mode == "sympy":
            return v
        if isinstance(v, Eye):
            return v
        if v.dim() < 2:
            return v
        return v.T

    def power(self, b, p, node):
        if self.mode == "sympy":
            return b ** p
        if isinstance(b, Eye):
            self.unread(node, "a power of an identity")
        if not _is_scalar(p):
            self.unread(node, "an exponent must be a number")
        pv = float(p)
        if b.dim() == 2 and b.shape[0] > 1 and b.shape[1] > 1 and b.shape[0] == b.shape[1] and pv == -1:
            return torch.linalg.inv(b)
        if b.dim() == 2 and b.shape[0] > 1 and b.shape[1] > 1 and self.mode == "tensor":
            self.unread(node, "a power of a matrix (element-wise or a matrix power?): write ⊙ or the product")
        return b ** pv

    # --- arithmetic ------------------------------------------------------------------------
    def n_neg(self, node):
        v = self.ev(node.children[0])
        if isinstance(v, Eye):
            return Eye(v.size, -v.scale, v.label)
        return -v

    def n_add(self, node):
        return self.combine(self.ev(node.children[0]), self.ev(node.children[1]), "+", node)

    def n_minus(self, node):
        return self.combine(self.ev(node.children[0]), self.ev(node.children[1]), "-", node)

    def n_pm(self, node):
        self.unread(node, "± gives two values")

    def combine(self, a, b, op, node):
        if self.mode == "sympy" or self.entry:
            return a + b if op == "+" else a - b
        a, b = self.materialize(a, b), self.materialize(b, a)
        if not (_is_scalar(a) or _is_scalar(b)) and a.shape != b.shape:
            # a bias b (1-D) added to each row of a batch (06's layout: one example per row)
            if not ({a.dim(), b.dim()} == {1, 2} and a.shape[-1] == b.shape[-1]):
                raise ShapeError(f"sizes of {tuple(a.shape)} and {tuple(b.shape)} do not match for {op}")
        if _is_scalar(a) and a.dim() > 0 and not _is_scalar(b):
            a = _scalar(a)
        if _is_scalar(b) and b.dim() > 0 and not _is_scalar(a):
            b = _scalar(b)
        return a + b if op == "+" else a - b

    def materialize(self, v, other):
        if not isinstance(v, Eye):
            return v
        if isinstance(other, Eye):
            m = v.size if v.size is not None else other.size
        elif isinstance(other, torch.Tensor) and other.dim() == 2 and other.shape[0] == other.shape[1] \
                and other.shape[0] > 1:
            m = v.size if v.size is not None else other.shape[0]
        else:
            m = v.size
        if m is None:
            raise ShapeError("an identity I without a size next to a non-square factor")
        return v.full(m)

    def n_jux(self, node):
        return self.product(node.children[0], node.children[1], node)

    def n_dot(self, node):
        return self.product(node.children[0], node.children[2], node)

    def product(self, left, right, node):
        # \frac{\partial}{\partial z} f(z), d/dz …: an operator, not a factor
        a = self.ev(left)
        b = self.ev(right)
        return self.multiply(a, b, node)

    entry = False      # inside an element form: every operation acts entry by entry

    def multiply(self, a, b, node):
        if isinstance(a, _Call):
            return a.fn(b)
        if isinstance(b, _Call):
            self.unread(node, "a function written after its argument")
        if self.mode == "sympy":
            return a * b
        if self.entry:
            a, b = self.materialize(a, b), self.materialize(b, a)
            return a * b
        if self.mode == "elementwise":
            a, b = self.materialize(a, b), self.materialize(b, a)
            return self.elementwise(a, b, "·")
        if isinstance(a, Eye) and isinstance(b, Eye):
            if a.size is not None and b.size is not None and a.size != b.size:
                raise ShapeError(f"size mismatch: I_{a.size} times I_{b.size}")
            return Eye(a.size or b.size, a.scale * b.scale)
        if isinstance(a, Eye):
            if _is_scalar(b):
                return Eye(a.size, a.scale * _scalar(b), a.label)
            if a.size is not None and b.shape[0] != a.size:
                raise ShapeError(f"size mismatch: I of size {a.size} times a {tuple(b.shape)} matrix")
            return b * a.scale
        if isinstance(b, Eye):
            if _is_scalar(a):
                return Eye(b.size, b.scale * _scalar(a), b.label)
            if b.size is not None and a.shape[-1] != b.size:
                raise ShapeError(f"size mismatch: a {tuple(a.shape)} matrix times I of size {b.size}")
            return a * b.scale
        if _is_scalar(a):
            return _scalar(a) * b
        if _is_scalar(b):
            return a * _scalar(b)
        if a.dim() == 1 or b.dim() == 1:
            return self.elementwise(a, b, "·")
        if a.shape == b.shape and 1 in a.shape and a.shape[1] != b.shape[0]:
            # two vectors of one shape whose matrix product is undefined: σ(z)(1 − σ(z)) is
            # the only product they have, entry by entry; the reading says so
            note = f"a product of two {a.shape[0]}×{a.shape[1]} vectors read entry by entry"
            if note not in self.notes:
                self.notes.append(note)
            return a * b
        if a.shape[1] != b.shape[0]:
            raise ShapeError(f"size mismatch: a {tuple(a.shape)} matrix times a {tuple(b.shape)} matrix "
                             "do not multiply")
        return a @ b

    def elementwise(self, a, b, op):
        if self.entry:
            return a * b
        if _is_scalar(a) or _is_scalar(b):
            return (_scalar(a) if _is_scalar(a) else a) * (_scalar(b) if _is_scalar(b) else b)
        if a.shape != b.shape:
            raise ShapeError(f"element-wise {op} of shapes {tuple(a.shape)} and {tuple(b.shape)}: sizes do not match")
        return a * b

    def n_hadamard(self, node):
        a, b = self.ev(node.children[0]), self.ev(node.children[2])
        if self.mode == "sympy":
            return a * b
        a, b = self.materialize(a, b), self.materialize(b, a)
        return self.elementwise(a, b, "⊙")

    def n_div(self, node):
        return self.divide(self.ev(node.children[0]), self.ev(node.children[1]), node)

    def n_frac(self, node):
        num, den = node.children
        nitems, ditems = script_items(num), script_items(den)
        if len(nitems) != 1 or len(ditems) != 1:
            self.unread(node, "a fraction with an empty part")
        # d\ell / d\hat y written with a roman d
        dn, dd = flat_atoms(nitems[0]), flat_atoms(ditems[0])
        if atom_word(dd[0]) == "d" and len(dd) == 2 and atom_word(dn[0]) == "d":
            return self.derivative_symbol(node, dn[1:] if len(dn) > 1 else None, dd[1])
        return self.divide(self.ev(nitems[0]), self.ev(ditems[0]), node)

    def divide(self, a, b, node):
        if self.mode == "sympy" or self.entry:
            return a / b
        if isinstance(a, Eye) or isinstance(b, Eye):
            self.unread(node, "a fraction with an identity matrix")
        if _is_scalar(b):
            return a / _scalar(b)
        if _is_scalar(a):
            return _scalar(a) / b
        if a.shape != b.shape:
            raise ShapeError(f"element-wise ÷ of shapes {tuple(a.shape)} and {tuple(b.shape)}: sizes do not match")
        return a / b

    def n_sqrt(self, node):
        items = script_items(node.children[0])
        v = self.ev(items[0])
        return self.sp.sqrt(v) if self.mode == "sympy" else torch.sqrt(v)

    def n_norm(self, node):
        v = self.ev(node.children[0])
        if self.mode == "sympy":
            return abs(v)
        return torch.sqrt((v ** 2).sum())

    def n_absval(self, node):
        v = self.ev(node.children[0])
        return abs(v) if self.mode == "sympy" else v.abs()

    def n_tuple(self, node):
        self.unread(node, "a list of values where one value belongs")

    # --- derivative symbols --------------------------------------------------------------
    def n_dfrac(self, node):
        parts = [c for c in node.children if not (isinstance(c, Token) and c.type == "PARTIAL")]
        if len(parts) != 2:
            self.unread(node, "∂/∂… as an operator: write the derivative it gives")
        return self.derivative_symbol(node, flat_atoms(parts[0]), parts[1])

    def n_pslash(self, node):
        return self.derivative_symbol(node, [node.children[1]], node.children[3])

    def n_nabla(self, node):
        script, target = node.children
        items = script_items(script)
        if len(items) != 1:
            self.unread(node, "∇ needs one variable")
        return self.transpose(self.derivative_symbol(node, [target], items[0]), node)

    def derivative_name(self, node, num_atoms, den):
        num = self.name_of(num_atoms[0] if len(num_atoms) == 1 else Tree("jux", num_atoms), node)
        d = self.name_of(den, node)
        return notation.derivative_name(num, d)

    def name_of(self, node, whole):
        s = describe(node)
        if s is None:
            self.unread(whole, "the derivative of something that is not a variable")
        layer = None
        for sup in s.sups:
            layer = layer_of_sup(sup)
        for sub in s.subs:
            w = [atom_word(a) for it in script_items(sub) for a in flat_atoms(it)]
            if s.base in notation.LOSS_NAMES:
                continue
            if w and w[0] and w[0].isdigit() and s.base in notation.LAYERED and layer is None:
                layer = int(w[0])
        name = notation.symbol_name(s.base, s.hat, layer)
        if name is None and not s.hat and layer is None and len(s.base) == 1:
            name = s.base                        # ∂J/∂a of 06's layers
        if name is None:
            self.unread(whole, f"`{s.base}` in this derivative is not a variable of the network")
        return name

    def derivative_symbol(self, node, num_atoms, den):
        if num_atoms is None or not num_atoms:
            self.unread(node, "∂/∂… as an operator: write the derivative it gives")
        name = self.derivative_name(node, num_atoms, den)
        return self.variable(node, name)

    # --- functions -----------------------------------------------------------------------
    def fname_parts(self, f):
        """(name, power, primes, subscript script) of a func node."""
        power, primes, sub = None, 0, None
        while f.data != "fname":
            if f.data == "fsup":
                items = script_items(f.children[1])
                if len(items) == 1 and isinstance(items[0], Tree) and items[0].data in ("top",):
                    self.unread(f, "ᵀ on a function")
                if len(items) == 1 and atom_word(items[0]) == "'":
                    primes += 1
                elif len(items) == 1 and atom_word(items[0]) is not None and atom_word(items[0]).isdigit():
                    power = int(atom_word(items[0]))
                elif len(items) == 1 and isinstance(items[0], Tree) and items[0].data == "sminus":
                    self.unread(f, "an inverse function")
                else:
                    self.unread(f, "a superscript on a function must be a power like ^2")
            elif f.data == "fprime":
                primes += 1
            elif f.data == "fsub":
                sub = f.children[1]
            f = f.children[0]
        return str(f.children[0])[1:], power, primes, sub

    def n_fcall(self, node):
        f, *args = node.children
        name, power, primes, sub = self.fname_parts(f)
        vals = [self.ev(a) for a in args]
        return self.apply(node, name, power, primes, sub, vals)

    def n_fcall_bare(self, node):
        f, arg = node.children
        name, power, primes, sub = self.fname_parts(f)
        return self.apply(node, name, power, primes, sub, [self.ev(Tree("sym", [arg]))])

    def n_fcall_bare_hat(self, node):
        f, hat, script = node.children
        name, power, primes, sub = self.fname_parts(f)
        return self.apply(node, name, power, primes, sub, [self.ev(Tree("hat", [hat, script]))])

    ACT = {"sigma": "sigmoid", "tanh": "tanh", "relu": "relu", "softplus": "softplus", "gelu": "gelu",
           "leakyrelu": "leaky_relu"}

    def apply(self, node, name, power, primes, sub, vals):
        if name == "diag":
            if primes or power:
                self.unread(node, "diag with a power or a prime")
            return self.diag(vals, node)
        if name in ("softmax", "onehot"):
            return self.vector_function(node, name, vals)
        if len(vals) != 1:
            self.unread(node, f"{name} takes one argument")
        v = vals[0]
        if isinstance(v, Eye):
            self.unread(node, f"{name} of an identity matrix")
        if primes > 1:
            self.unread(node, "a second derivative")
        if sub is not None and name not in ("log",):
            self.unread(node, f"a subscript on {name}")
        if sub is not None and name == "log":
            w = [atom_word(a) for it in script_items(sub) for a in flat_atoms(it)]
            if w != ["e"]:
                self.unread(node, "a logarithm to a base other than e")
        out = self.function(node, name, primes, v)
        if power is not None:
            out = out ** power
        return out

    def function(self, node, name, primes, v):
        if self.mode == "sympy":
            return self.sympy_function(node, name, primes, v)
        if name in self.ACT:
            ref = self.ACT[name]
            return (reference.derivative(ref) if primes else reference.activation(ref))(v)
        if primes:
            derivs = {"exp": torch.exp, "log": lambda t: 1 / t, "ln": lambda t: 1 / t,
                      "sign": torch.zeros_like, "Phi": lambda t: torch.exp(-t ** 2 / 2) / math.sqrt(2 * math.pi)}
            if name not in derivs:
                self.unread(node, f"the derivative of {name}")
            return derivs[name](v)
        table = {
            "exp": torch.exp, "log": torch.log, "ln": torch.log, "sign": torch.sign,
            "sech": lambda t: 1 / torch.cosh(t), "cosh": torch.cosh, "sinh": torch.sinh,
            "Phi": lambda t: 0.5 * (1 + torch.erf(t / math.sqrt(2))), "erf": torch.erf,
            "phi": lambda t: torch.exp(-t ** 2 / 2) / math.sqrt(2 * math.pi),
        }
        if name not in table:
            self.unread(node, f"the function {name}")
        return table[name](v)

    def sympy_function(self, node, name, primes, v):
        sp = self.sp
        sig = lambda t: 1 / (1 + sp.exp(-t))
        table = {"sigma": sig, "tanh": sp.tanh, "exp": sp.exp, "log": sp.log, "ln": sp.log, "sign": sp.sign,
                 "relu": lambda t: sp.Max(0, t), "softplus": lambda t: sp.log(1 + sp.exp(t)),
                 "sech": sp.sech, "cosh": sp.cosh, "sinh": sp.sinh, "erf": sp.erf,
                 "Phi": lambda t: (1 + sp.erf(t / sp.sqrt(2))) / 2,
                 "phi": lambda t: sp.exp(-t ** 2 / 2) / sp.sqrt(2 * sp.pi)}
        if name not in table:
            self.unread(node, f"the function {name} in a scalar answer")
        if primes:
            t = sp.Dummy("t")
            return sp.diff(table[name](t), t).subs(t, v)
        return table[name](v)

    def relu(self, v):
        if self.mode == "sympy":
            return self.sp.Max(0, v)
        return torch.relu(v)

    def exp(self, v):
        return self.sp.exp(v) if self.mode == "sympy" else torch.exp(v)

    def diag(self, vals, node):
        if self.mode == "sympy" or len(vals) != 1:
            self.unread(node, "diag of one vector")
        v = vals[0]
        if isinstance(v, Eye):
            return v
        if v.dim() == 2 and v.shape[0] > 1 and v.shape[1] > 1:
            raise ShapeError(f"diag of a {tuple(v.shape)} matrix: diag takes a vector")
        return torch.diag(v.reshape(-1))

    def vector_function(self, node, name, vals):
        if self.mode == "sympy" or len(vals) != 1:
            self.unread(node, f"{name} of one vector")
        v = vals[0]
        if name == "softmax":
            return torch.softmax(v.reshape(-1), 0).reshape(v.shape)
        return v

    # --- indicators, conditions, cases ------------------------------------------------------
    def n_indicator(self, node):
        c = self.cond(node.children[-1])
        return self.sp.Piecewise((1, c), (0, True)) if self.mode == "sympy" else c.to(torch.float64)

    def cond(self, node):
        if not (isinstance(node, Tree) and node.data == "cond"):
            self.unread(node, "a condition like z > 0")
        parts = node.children
        terms = [self.ev(parts[0])]
        ops = []
        for i in range(1, len(parts), 2):
            op = parts[i].children[0] if isinstance(parts[i], Tree) else parts[i]
            ops.append(str(op))
            terms.append(self.ev(parts[i + 1]))
        result = None
        for (a, b), op in zip(zip(terms, terms[1:]), ops):
            c = self.compare(a, b, op, node)
            result = c if result is None else (result & c if self.mode != "sympy" else self.sp.And(result, c))
        return result

    def compare(self, a, b, op, node):
        if self.mode == "sympy":
            sp = self.sp
            table = {">": sp.StrictGreaterThan, "<": sp.StrictLessThan, "\\geq": sp.GreaterThan,
                     "\\leq": sp.LessThan, "=": sp.Eq, "\\neq": sp.Ne}
            if op not in table:
                self.unread(node, f"the comparison {op}")
            return table[op](a, b)
        if isinstance(a, Eye) or isinstance(b, Eye):
            self.unread(node, "a comparison with a matrix")
        table = {">": torch.gt, "<": torch.lt, "\\geq": torch.ge, "\\leq": torch.le, "=": torch.eq,
                 "\\neq": torch.ne}
        if op not in table:
            self.unread(node, f"the comparison {op}")
        if not (_is_scalar(a) or _is_scalar(b)) and a.shape != b.shape:
            try:
                return table[op](a, b)
            except RuntimeError:
                raise ShapeError(f"a comparison of shapes {tuple(a.shape)} and {tuple(b.shape)}") from None
        return table[op](a, b)

    TEXT_OTHERWISE = re.compile(r"^\s*(otherwise|else|elsewhere|o\.w\.|for all other[^}]*|else where)\s*$", re.I)
    TEXT_FILLER = re.compile(r"^\s*(if|for|when|where|,)?\s*$", re.I)
    TEXT_NOVALUE = re.compile(r"undefined|not defined|does not exist|choose|any value|either|subgradient", re.I)

    def n_cases(self, node):
        rows = []
        for row in node.children:
            value_node, *conds = row.children
            otherwise, cond_nodes = False, []
            for c in conds:
                if isinstance(c, Token) and c.type == "TEXT" or isinstance(c, Tree) and c.data == "ctext":
                    tok = c if isinstance(c, Token) else c.children[0]
                    body = str(tok)[len("\\TEXT{"):-1].strip().rstrip(".,;")
                    if self.TEXT_OTHERWISE.match(body):
                        otherwise = True
                    elif self.TEXT_FILLER.match(body):
                        pass
                    else:
                        self.unread(c, f"the condition “{body.strip()}” in words: write it as a formula, "
                                       "e.g. z > 0")
                elif isinstance(c, Tree) and c.data == "ccomma":
                    pass
                else:
                    cond_nodes.append(c)
            if not cond_nodes and not otherwise and len(node.children) > 1:
                otherwise = True
            rows.append((value_node, cond_nodes, otherwise))
        return self.cases_value(node, rows)

    def case_value(self, value_node):
        if isinstance(value_node, Tree) and value_node.data == "text":
            body = str(value_node.children[0])[len("\\TEXT{"):-1]
            if self.TEXT_NOVALUE.search(body):
                self.notes.append(f"“{body.strip()}” read as no value")
                return self.sp.nan if self.mode == "sympy" else _t(float("nan"))
            self.unread(value_node, f"“{body.strip()}” is not a value")
        return self.ev(value_node)

    def cases_value(self, node, rows):
        if self.mode == "sympy":
            pieces = []
            for value_node, conds, otherwise in rows:
                c = True if otherwise else self.sp.And(*[self.cond(cn) for cn in conds])
                pieces.append((self.case_value(value_node), c))
            return self.sp.Piecewise(*pieces)
        result = None
        default = None
        branches = []
        for value_node, conds, otherwise in rows:
            v = self.case_value(value_node)
            if isinstance(v, Eye):
                self.unread(value_node, "an identity inside cases")
            if otherwise:
                default = v
                continue
            c = None
            for cn in conds:
                cc = self.cond(cn)
                c = cc if c is None else c & cc
            branches.append((c, v))
        if default is None:
            default = _t(float("nan"))
        result = default
        for c, v in reversed(branches):
            result = torch.where(c, v, result)
        return result

    # --- matrices --------------------------------------------------------------------------
    def n_matrix(self, node):
        if self.mode == "sympy":
            self.unread(node, "a matrix in a scalar answer")
        rows = []
        for mrow in node.children:
            rows.append([c.children[0] if c.children else None for c in mrow.children])
        dotted = any(c is None or (isinstance(c, Tree) and c.data == "dots") for r in rows for c in r)
        if not dotted:
            vals = [[self.ev(c) for c in r] for r in rows]
            if len({len(r) for r in rows}) != 1:
                self.unread(node, "rows of different lengths")
            for r in vals:
                for v in r:
                    if not _is_scalar(v):
                        self.unread(node, "a block matrix (each entry must be a number)")
            return torch.stack([torch.stack([_scalar(v) for v in r]) for r in vals])
        return self.picture(node, rows)

    def picture(self, node, rows):
        """A matrix drawn with dots: a column [a₁; a₂; ⋮; a_K], a row, or a diagonal with zeros
        elsewhere. The general entry is the first one with its element index running; the second
        entry, where written, must agree with it."""
        is_dots = lambda c: c is None or (isinstance(c, Tree) and c.data == "dots")
        is_zero = lambda c: isinstance(c, Tree) and c.data == "number" and float(str(c.children[0])) == 0
        ncols = max(len(r) for r in rows)
        shape = self.target_shape
        if shape is None:
            self.unread(node, "a matrix drawn with dots, for a quantity of unknown shape")
        first = rows[0][0]
        if ncols == 1 or all(len(r) == 1 for r in rows):                      # a column
            kind = "column"
        elif len(rows) == 1:
            kind = "row"
        else:
            offdiag = [c for i, r in enumerate(rows) for j, c in enumerate(r)
                       if i != j and not is_dots(c)]
            if offdiag and all(is_zero(c) for c in offdiag):
                kind = "diagonal"
            else:
                self.unread(node, "a matrix drawn with dots that is not a column, a row or a diagonal")
        m = max(shape) if kind != "diagonal" else shape[0]
        if kind == "diagonal" and (len(shape) != 2 or shape[0] != shape[1]):
            raise ShapeError(f"a diagonal matrix where a {tuple(shape)} value is expected")
        general = self.general_entry(first, m)
        # the second entry, where written, must be the general term at index 2
        second = None
        if kind == "column" and len(rows) > 1 and not is_dots(rows[1][0]):
            second = rows[1][0]
        elif kind == "row" and len(rows[0]) > 1 and not is_dots(rows[0][1]):
            second = rows[0][1]
        elif kind == "diagonal" and len(rows) > 1 and len(rows[1]) > 1 and not is_dots(rows[1][1]):
            second = rows[1][1]
        if second is not None and m > 1:
            v2 = self.ev(second)
            if not _is_scalar(v2) or not torch.allclose(_scalar(v2), general[1], equal_nan=True):
                self.unread(second, "the entries of this matrix do not follow one pattern")
        if kind == "column":
            return general.reshape(m, 1)
        if kind == "row":
            return general.reshape(1, m)
        return torch.diag(general)

    def general_entry(self, cell, m):
        """The first entry of a picture with its element index (the 1 in z_{1,1}, ŷ_1) running."""
        saved = dict(self.index)
        self.index["__first__"] = torch.arange(m)
        self.first_runs, self.entry = True, True
        try:
            v = self.ev(cell)
        finally:
            self.first_runs, self.entry = False, False
            self.index = saved
        if _is_scalar(v):
            v = _scalar(v).expand(m)
        return v.reshape(-1)

    target_shape = None
    first_runs = False

    # --- big operators --------------------------------------------------------------------
    def n_bigop(self, node):
        op = str(node.children[0])
        scripts = [c for c in node.children[1:-1]]
        body = node.children[-1]
        if op in ("\\argmin", "\\min") and "theta" in self.allowed and scripts:
            return self.ev(body)            # arg min_θ J(θ): the objective is J
        if op in ("\\argmax", "\\max") and "theta" in self.allowed and scripts:
            self.notes.append("arg max of J read as arg min of −J")
            return -self.ev(body)
        if op == "\\max" or op == "\\min":
            return self.maxmin(node, op[1:], scripts, body)
        if op == "\\sum":
            return self.summation(node, scripts, body)
        self.unread(node, f"{op[1:]} in an answer (it belongs on the left-hand side)")

    def maxmin(self, node, which, scripts, body):
        if isinstance(body, Tree) and body.data == "tuple":
            a, b = (self.ev(c) for c in body.children[:2])
            if len(body.children) != 2:
                self.unread(node, f"{which} of more than two values")
            if self.mode == "sympy":
                return (self.sp.Max if which == "max" else self.sp.Min)(a, b)
            a, b = self.materialize(a, b), self.materialize(b, a)
            if not (_is_scalar(a) or _is_scalar(b)) and a.shape != b.shape:
                raise ShapeError(f"{which} of shapes {tuple(a.shape)} and {tuple(b.shape)}")
            a = _scalar(a) if _is_scalar(a) else a
            b = _scalar(b) if _is_scalar(b) else b
            return torch.maximum(_t(a), _t(b)) if which == "max" else torch.minimum(_t(a), _t(b))
        if self.mode == "sympy":
            self.unread(node, f"{which} over an index in a scalar answer")
        # \max_j z_j, \max(z): the largest entry
        saved = dict(self.index)
        for s in scripts:
            for it in script_items(s):
                w = atom_word(it)
                if w:
                    self.index[w] = torch.arange(10 ** 6)[:0]     # placeholder, replaced below
        try:
            v = self.ev_reduced(body, scripts)
        finally:
            self.index = saved
        return v.max() if which == "max" else v.min()

    def ev_reduced(self, body, scripts):
        """The body of a reduction over an index written as a subscript (z_j): the whole vector."""
        words = [atom_word(it) for s in scripts for it in script_items(s)]
        for w in words:
            if w:
                self.index[w] = None
        self.reduce_words = set(w for w in words if w)
        try:
            return self.ev_over(body)
        finally:
            self.reduce_words = set()

    reduce_words = set()

    def ev_over(self, body):
        old = self.element
        words = self.reduce_words

        def element(node, name, value, elems):
            if len(elems) == 1 and elems[0][1] in words:
                return value.reshape(-1)
            return old(node, name, value, elems)
        self.element = element
        try:
            return self.ev(body)
        finally:
            self.element = old

    def summation(self, node, scripts, body):
        """Σ_{i=1}^{K} body: the body evaluated at each i (its indexed variables taking entry i)."""
        if not scripts:
            self.unread(node, "Σ without its index: write Σ_{i=1}^{K}")
        lower = script_items(scripts[0])
        if len(lower) != 1:
            self.unread(node, "Σ with an unusual index")
        low = lower[0]
        if isinstance(low, Tree) and low.data == "cond":
            var = atom_word(low.children[0])
            start = self.ev(low.children[2])
        else:
            var, start = atom_word(low), None
        if var is None:
            self.unread(node, "Σ over something that is not an index")
        if self.mode == "sympy":
            return self.sympy_sum(node, var, body)
        if len(scripts) > 1:
            upper = self.ev(script_items(scripts[1])[0])
        else:
            upper = None
        # run the index over the entries the body's vectors have
        saved = dict(self.index)
        try:
            self.index[var] = None
            if upper is None:
                # infer the length from the first indexed variable: evaluate with the index as the whole range
                stop = None
            else:
                stop = int(_scalar(upper)) if _is_scalar(upper) else None
            lo = int(_scalar(start)) if start is not None and _is_scalar(start) else 1
            if stop is None:
                self.reduce_words = {var}
                total = self.ev_over(body)
                self.reduce_words = set()
                return total.sum()
            total = None
            for k in range(lo, stop + 1):
                self.index[var] = torch.tensor(k - 1)
                v = self.ev(body)
                total = v if total is None else self.combine(total, v, "+", node)
            return total
        finally:
            self.index = saved

    def sympy_sum(self, node, var, body):
        """In a scalar answer, Σᵢ wᵢxᵢ is the linear part of z = b + Σᵢ wᵢxᵢ."""
        atoms = flat_atoms(body)
        names = []
        for a in atoms:
            s = describe(a)
            names.append(s.base if s is not None else None)
        if sorted(n for n in names if n) == ["w", "x"] and len(atoms) == 2:
            return self.sp.Symbol("__wx__", real=True)
        self.unread(node, "Σ in a scalar answer other than Σᵢ wᵢxᵢ")

    # --- the top: a chain of = ------------------------------------------------------------
    def n_chain(self, node):
        if len(node.children) != 1:
            self.unread(node, "a chain of equations where one expression was expected")
        return self.ev(node.children[0])
