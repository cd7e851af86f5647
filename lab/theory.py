"""Small printing helpers for the theory notebooks (01–05).

The notebooks store their outputs and nbval compares them as text, so every
number a notebook prints must be the same on every machine: rounded, and
never ``-0.0`` (a value like -1e-17 would round to -0.0 on one CPU and 0.0 on
another). ``fmt`` and ``show`` do that; everything else stays in the notebooks,
where the reader can see it.
"""
import numpy as np
import torch

__all__ = ["fmt", "show"]


def fmt(t, digits=4):
    """A tensor / array / number as text, rounded to ``digits`` decimals, without ``-0``."""
    if isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= 12:
        raise ValueError(f"digits must be an int from 0 to 12, got {digits!r}")
    if isinstance(t, torch.Tensor):
        t = t.detach().cpu().to(torch.float64).numpy()
    a = np.round(np.asarray(t, dtype=np.float64), digits) + 0.0   # + 0.0 turns -0.0 into 0.0
    if a.ndim == 0:
        return f"{float(a):.{digits}f}"
    return np.array2string(a, precision=digits, floatmode="fixed", suppress_small=True,
                           max_line_width=100, separator="  ")


def show(name, t, digits=4):
    """Print ``name``, the shape, and the rounded values of ``t`` (one block)."""
    shape = tuple(t.shape) if hasattr(t, "shape") else ()
    text = fmt(t, digits)
    if "\n" in text or len(text) > 60:
        print(f"{name}  shape {shape}:\n{text}")
    else:
        print(f"{name}  shape {shape}: {text}")
