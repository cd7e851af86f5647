"""Export notebook figures to ``figures/`` — only when asked to.

Notebooks call ``save_figure(fig, "name")`` after drawing a figure. Nothing is
written during an ordinary run (or under nbval); ``make figures`` executes the
notebooks with ``BACKPROP_SAVE_FIGURES=1`` so that every exported file comes
from the same code the reader sees.
"""
import os
from pathlib import Path

FIGURES_DIR = Path(__file__).resolve().parent.parent / "figures"
ENV_VAR = "BACKPROP_SAVE_FIGURES"


def save_figure(fig, name, *, dpi=120):
    """Save ``fig`` as figures/<name>.png when BACKPROP_SAVE_FIGURES is set; return the path or None."""
    if not os.environ.get(ENV_VAR):
        return None
    FIGURES_DIR.mkdir(exist_ok=True)
    path = FIGURES_DIR / f"{name}.png"
    fig.savefig(path, dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return path
