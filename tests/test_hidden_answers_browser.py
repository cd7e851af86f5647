"""Worked answers stay hidden until asked for, in the real JupyterLab (headless Chromium).

Each worked answer of notebooks 01-06 sits under a Markdown heading "#### Worked answer ..." whose
cell metadata holds ``"jp-MarkdownHeadingCollapsed": true``. JupyterLab 4 reads that key when it
opens a notebook and hides every cell under the heading, up to the next heading of the same or a
higher level, until the learner clicks the arrow beside it (or its "N cells hidden" button). Unlike
``jupyter.source_hidden`` / ``outputs_hidden``, nothing of a hidden cell shows: no first line, no output.

The test opens notebook 01 as a learner would (stored outputs, nothing run), reads the text the page
really shows (``innerText`` leaves out what is not displayed) and checks that no line and no output of
a worked answer is on screen, while the exercises and the shared prose are; then it clicks every
folded "Worked answer" heading and checks that the same lines and outputs now show. Screenshots of
both states go to artifacts/hidden_answers/ (ignored by git).

Skipped with a reason where /usr/bin/chromium or playwright is missing, unless
BACKPROP_REQUIRE_BROWSER=1 (CI), where that is a failure.
"""
import os
import re

import jupytext
import pytest

from browser_helpers import (REQUIRE_ENV, ROOT, JupyterLabServer, browser_unavailable_reason,
                             launch_chromium)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOK = "notebooks/01_regression.ipynb"
SCREENSHOTS = ROOT / "artifacts" / "hidden_answers"
HEADING = "Worked answer"
COLLAPSED_KEY = "jp-MarkdownHeadingCollapsed"
# Lines and outputs of 01's worked answers that the issue saw through the old collapsed cells.
HIDDEN = [
    "loss2 = ((model(X) - Y) ** 2).sum(dim=1).mean()",        # first line of a worked-answer code cell
    "correct: the batch mean of ‖ŷ − y‖²",                     # a worked answer's output (1.2(a))
    "dl/dW1: numerator-layout shape (3, 4)",                   # 1.2(c)'s output, under the shapes diagram
    "B, eta = 8, 0.05",                                         # first line of 1.2(a)'s worked answer
    "Step 3 exists because",                                    # worked-answer prose (Markdown)
]
# Shared text that must show all along (so that "not in the page's text" means hidden, not missing).
SHOWN = ["not answered yet", "1.2(b) Inputs and outputs of each layer", "centred difference"]


@pytest.fixture(scope="module")
def browser_available():
    reason = browser_unavailable_reason()
    if reason is not None:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but the browser test cannot run: {reason}")
        pytest.skip(reason)


def test_every_worked_answer_sits_under_a_folded_heading():
    """The stored notebooks (01-06): each run of solution cells starts with a folded heading cell, and
    no solution cell relies on source_hidden/outputs_hidden (which JupyterLab shows in part)."""
    for path in sorted((ROOT / "notebooks").glob("0[1-6]_*.py")):
        cells = jupytext.read(path).cells
        for i, cell in enumerate(cells):
            tags = cell.metadata.get("tags", [])
            if "solution" not in tags:
                continue
            assert "source_hidden" not in cell.metadata.get("jupyter", {}), f"{path.name} cell {i}"
            previous = cells[i - 1].metadata.get("tags", []) if i else []
            if cell.metadata.get(COLLAPSED_KEY) is True:           # a folded heading: a worked answer or a rubric
                assert cell.cell_type == "markdown" and re.match(r"#### (Worked answer|Rubric)", cell.source), \
                    f"{path.name} cell {i}: {cell.source[:40]!r}"
            elif "solution" not in previous:                       # the first cell of a worked answer
                pytest.fail(f"{path.name} cell {i}: a worked answer must start with a folded heading")
            elif cell.cell_type == "markdown":
                # a heading of level 1-4 inside a worked answer would end the folded part early
                assert not re.search(r"^#{1,4} ", cell.source, flags=re.M), f"{path.name} cell {i}"


def _visible_text(page):
    return page.locator(".jp-Notebook").first.inner_text()


def _visible_images(page):
    return page.locator(".jp-Notebook .jp-RenderedImage img").evaluate_all(
        "els => els.filter(e => e.offsetParent !== null).length")


def _dismiss_popups(page):
    """A kernel choice dialog or JupyterLab's news toast may cover the page: accept / answer No."""
    for selector, kw in [(".jp-Dialog .jp-mod-accept", {}), (".jp-toast-button", {"has_text": re.compile("^No$")})]:
        try:
            page.locator(selector, **kw).first.click(timeout=5_000)
        except Exception:
            pass     # nothing to dismiss


def test_worked_answers_hidden_until_clicked(browser_available, tmp_path):
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    stored = (ROOT / NOTEBOOK).read_bytes()
    with JupyterLabServer(tmp_path) as lab, sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.set_default_timeout(60_000)
            page.goto(lab.url(f"lab/tree/{NOTEBOOK}?reset"))
            page.locator(".jp-Notebook .jp-Cell").first.wait_for(state="visible", timeout=90_000)
            _dismiss_popups(page)
            expected = sum(1 for c in jupytext.read(ROOT / NOTEBOOK).cells if c.metadata.get(COLLAPSED_KEY) is True)
            assert expected == 4, "01 has four worked answers (1.2(a)-(d)), each under a folded heading"
            folded = page.locator(".jp-MarkdownCell.jp-MarkdownHeadingCollapsed", has_text=HEADING)
            page.wait_for_function(
                "(n) => document.querySelectorAll('.jp-collapseHeadingButton.jp-mod-collapsed').length >= n",
                arg=expected, timeout=60_000)
            page.wait_for_timeout(1_000)      # let the last cells render
            n_headings = folded.count()
            assert n_headings == expected, f"JupyterLab folded {n_headings} worked-answer headings, not {expected}"

            before = _visible_text(page)
            for text in SHOWN:
                assert text in before, f"shared text {text!r} should be on screen"
            for text in HIDDEN:
                assert text not in before, f"worked-answer text {text!r} is visible before any click"
            assert _visible_images(page) == 0, "the shapes diagram (a worked answer's output) is visible"
            assert len(re.findall(r"\d+ cells? hidden", before)) == n_headings
            _dismiss_popups(page)
            page.locator(".jp-MarkdownCell", has_text="1.2(b) Inputs and outputs").first.scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENSHOTS / "01_before_click.png"))

            _dismiss_popups(page)
            # the learner clicks the "N cells hidden" button under each heading (the arrow beside the
            # heading does the same; it only shows while the pointer is over the heading)
            buttons = page.locator(".jp-showHiddenCellsButton")
            for _ in range(n_headings):               # each click opens one worked answer
                buttons.first.click()
                page.wait_for_timeout(300)
            assert buttons.count() == 0, "a worked answer stayed hidden after its click"
            assert page.locator(".jp-collapseHeadingButton.jp-mod-collapsed").count() == 0
            page.wait_for_timeout(1_000)
            after = _visible_text(page)
            for text in HIDDEN:
                assert text in after, f"worked-answer text {text!r} does not show after the click"
            assert _visible_images(page) >= 1, "the shapes diagram does not show after the click"
            page.locator(".jp-MarkdownCell", has_text="1.2(b) Inputs and outputs").first.scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENSHOTS / "01_after_click.png"))
        finally:
            browser.close()
    assert (ROOT / NOTEBOOK).read_bytes() == stored, "the browser session must not rewrite the notebook"
