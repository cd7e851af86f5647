"""A live LaTeX box for a formula exercise: type LaTeX, see it rendered as you type, press Check.

    from lab import exercises
    from lab.latex.widget import latex_box
    latex_box(exercises.check_gradients, "dl_dW1")          # shows the panel in a notebook

The verdict is the check's own (the same check a code answer gets), with the reading line that
says how the formula was understood. ``fixed`` keyword arguments go to the check unchanged
(``question="1.3a"``; for check_loss, ``which="logistic"``).
"""
from __future__ import annotations

import html

import ipywidgets as widgets

PLACEHOLDER = r"e.g. \frac{\partial \ell}{\partial W^{(1)}} = x \, \frac{\partial \ell}{\partial \hat y} \cdots"


def _preview_html(text: str) -> str:
    """The typed LaTeX as display math for MathJax (empty text: a hint)."""
    body = text.strip()
    if not body:
        return "<i>your formula appears here as you type</i>"
    for wrapper in ("$$", "$"):
        if body.startswith(wrapper) and body.endswith(wrapper) and len(body) > 2 * len(wrapper):
            body = body[len(wrapper):-len(wrapper)]
            break
    if body.startswith(r"\begin{"):
        return html.escape(body)
    return "$$" + html.escape(body) + "$$"


def verdict_html(verdict) -> str:
    """The verdict line, the reading on a line of its own."""
    line = verdict.line
    head, _, reading = line.partition(" — read as: ")
    colour = {"correct": "#1a7f37", "unread": "#8a6d00"}.get(verdict.status, "#b42318")
    out = f'<div class="latex-box-verdict-line" style="color:{colour}">{html.escape(head)}</div>'
    if reading:
        out += f'<div class="latex-box-reading">read as: {html.escape(reading)}</div>'
    return out


def latex_box(check, quantity: str, **fixed):
    """An ipywidgets panel: a Textarea for the LaTeX answer to ``quantity`` of ``check``, a live
    preview, a Check button and the verdict with its reading."""
    text = widgets.Textarea(placeholder=PLACEHOLDER, layout=widgets.Layout(width="100%", height="4.5em"),
                            continuous_update=True)
    text.add_class("latex-box-input")
    preview = widgets.HTMLMath(value=_preview_html(""))
    preview.add_class("latex-box-preview")
    button = widgets.Button(description="Check", button_style="primary", icon="check")
    button.add_class("latex-box-check")
    verdict = widgets.HTML(value="")
    verdict.add_class("latex-box-verdict")

    def on_type(change):
        preview.value = _preview_html(change["new"])

    def on_check(_):
        if not text.value.strip():
            verdict.value = verdict_html(_Line("unanswered", "not answered yet: type a formula first"))
            return
        v = check(**{quantity: text.value}, **fixed, verbose=False)
        verdict.value = verdict_html(v)

    text.observe(on_type, names="value")
    button.on_click(on_check)
    label = widgets.HTML(value=f"<b>Your answer in LaTeX</b> for <code>{html.escape(quantity)}</code>:")
    box = widgets.VBox([label, text, preview, button, verdict])
    box.add_class("latex-box")
    box.check_now = lambda: on_check(None)          # for tests and scripts
    return box


class _Line:
    def __init__(self, status, line):
        self.status, self.line = status, line
