"""The symbol table: how a write-up spells each variable, mapped to the checks' variable names.

A symbol is described by its base letter, whether it wears a hat (or tilde), a layer index (from
``W^{(1)}``, ``W^{[1]}``, ``W_1``, ``z_1``) and element indices (``z_{1,i}``, ``\\hat y_i``).
The same table serves the derivative symbols: ``\\frac{\\partial \\ell}{\\partial W^{(1)}}`` is
``dl_dW1`` because ℓ is ``l`` and W⁽¹⁾ is ``W1``.
"""
from __future__ import annotations

# base spelling (after the preprocessor) -> family
LOSS_NAMES = {"\\ell", "l", "L", "C", "J", "E"}
LAYERED = {"W", "b", "z", "s", "a", "h"}          # letters that take a layer index
LECTURE = {("s", 1): "z1", ("a", 1): "z2", ("s", 2): "z3", ("a", 2): "y_hat", ("h", 1): "z2"}

# the checks' quantities: numerator-layout shapes in the sizes n, h, K (1 = a row or a column)
QUANTITY_SHAPES = {
    "z1": ("h", 1), "z2": ("h", 1), "z3": ("K", 1), "y_hat": ("K", 1), "ell": (),
    "dl_dW1": ("n", "h"), "dl_db1": (1, "h"), "dl_dW2": ("h", "K"), "dl_db2": (1, "K"),
    "dz2_dz1": ("h", "h"), "dyhat_dz3": ("K", "K"), "dl_dyhat": (1, "K"), "dl_dz3": (1, "K"),
    "dl_dz1": (1, "h"), "dl_dz2": (1, "h"), "dl_dx": (1, "n"),
}

# how the canonical rendering writes each variable
PRETTY = {
    "x": "x", "y": "y", "W1": "W⁽¹⁾", "b1": "b⁽¹⁾", "W2": "W⁽²⁾", "b2": "b⁽²⁾", "z1": "z₁", "z2": "z₂",
    "z3": "z₃", "y_hat": "ŷ", "ell": "ℓ", "z": "z", "dl_dyhat": "∂ℓ/∂ŷ", "dz2_dz1": "∂z₂/∂z₁",
    "dyhat_dz3": "∂ŷ/∂z₃", "dl_dz3": "∂ℓ/∂z₃", "dl_dz1": "∂ℓ/∂z₁", "dl_dz2": "∂ℓ/∂z₂",
    "dl_dW1": "∂ℓ/∂W⁽¹⁾", "dl_db1": "∂ℓ/∂b⁽¹⁾", "dl_dW2": "∂ℓ/∂W⁽²⁾", "dl_db2": "∂ℓ/∂b⁽²⁾",
    "dl_dx": "∂ℓ/∂x",
}

# 1.5(c): the name on the left of a derivative -> the check's parameter
ACTIVATION_NAMES = {"\\relu": "relu", "\\leakyrelu": "leaky_relu", "\\softplus": "softplus", "\\gelu": "gelu"}

SIZE_LETTERS = {"n", "h", "K", "N", "m", "d", "k"}


def symbol_name(base: str, hat: bool, layer: int | None) -> str | None:
    """The checks' name of a symbol (``W`` with layer 1 -> ``W1``), or None for an unknown one."""
    if base in LOSS_NAMES and not hat:
        return "ell"
    if base == "y" and hat:
        return "y_hat" if layer is None else None
    if hat:
        return None
    if base in ("s", "a", "h") and layer is not None:
        return LECTURE.get((base, layer))
    if base in ("W", "b") and layer in (1, 2):
        return f"{base}{layer}"
    if base == "z" and layer in (1, 2, 3):
        return f"z{layer}"
    if base in ("x", "y", "z") and layer is None:
        return base
    return None


def derivative_name(num: str, den: str) -> str:
    """``dl_dW1`` from the names ``ell`` and ``W1``; ``dz2_dz1`` from ``z2`` and ``z1``."""
    short = {"ell": "l", "y_hat": "yhat"}
    return f"d{short.get(num, num)}_d{short.get(den, den)}"


def pretty(name: str) -> str:
    return PRETTY.get(name, name)
