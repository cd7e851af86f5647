"""The live LaTeX box in a real browser: a small notebook opened in JupyterLab (headless
Chromium), Run All, type a LaTeX answer into the box, see the preview render (MathJax), press
Check and read the verdict and its reading. Screenshot in artifacts/browser/latex_box.png.

Skipped where /usr/bin/chromium or playwright is missing — unless BACKPROP_REQUIRE_BROWSER=1 (CI).
"""
import os
import re
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from browser_helpers import (ARTIFACTS, REQUIRE_ENV, ROOT, JupyterLabServer,  # noqa: E402
                             browser_unavailable_reason, launch_chromium)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ANSWER = r"\frac{\partial \hat y}{\partial z_3} = I_h"


@pytest.fixture(scope="module")
def browser_available():
    reason = browser_unavailable_reason()
    if reason is not None:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but the browser test cannot run: {reason}")
        pytest.skip(reason)


def _notebook(folder):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from lab import exercises\nfrom lab.latex.widget import latex_box\n"
                                          "latex_box(exercises.check_jacobians, 'dyhat_dz3')")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "latex_box.ipynb"
    nbformat.write(nb, path)
    return path


def test_latex_box_in_jupyterlab(browser_available, tmp_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    served = tmp_path / "served"
    served.mkdir()
    _notebook(served)
    # the kernel (started in the served folder) imports this checkout's lab/
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    with JupyterLabServer(tmp_path, root=served) as lab, sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.set_default_timeout(60_000)
            page.goto(lab.url("lab/tree/latex_box.ipynb?reset"))
            page.locator(".jp-Notebook .jp-Cell").first.wait_for(state="visible", timeout=90_000)
            try:
                page.locator(".jp-Dialog .jp-mod-accept").click(timeout=10_000)
            except Exception:
                pass      # no kernel dialog: the kernel started by itself
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Run$")).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Run All Cells$")).click()
            box = page.locator(".latex-box")
            box.wait_for(state="visible", timeout=120_000)
            area = box.locator(".latex-box-input textarea")
            area.click()
            area.type(ANSWER, delay=5)
            # the preview renders as the learner types (MathJax turns the $$…$$ into math)
            page.wait_for_function(
                "() => { const p = document.querySelector('.latex-box-preview');"
                " return p && p.querySelector('mjx-container, .MathJax, math') !== null; }", timeout=30_000)
            box.locator(".latex-box-check").click()
            verdict = box.locator(".latex-box-verdict")
            page.wait_for_function(
                "() => { const v = document.querySelector('.latex-box-verdict');"
                " return v && /read as/.test(v.innerText); }", timeout=60_000)
            text = verdict.inner_text()
            box.screenshot(path=str(ARTIFACTS / "latex_box.png"))
            assert "identity matrix of the wrong size" in text, text
            assert "read as: I_h" in text, text
        finally:
            browser.close()
