"""Opening a notebook in JupyterLab leaves it clean: no unsaved mark, and saving it rewrites nothing.

The browser test works on a temporary copy of the notebooks (and their paired text sources): it
starts JupyterLab there, opens each notebook in headless Chromium, waits for its kernel to be
running and idle (JupyterLab writes the kernel's name into the notebook then), checks that the tab
carries no unsaved mark, saves the notebook explicitly (what autosave would do), and checks that
the notebook and its text source on disk are byte for byte what they were.

The fast tests say the same without a browser: every stored notebook is already written the way
JupyterLab saves it (tools/normalize_notebooks.py --check), and that script's rules hold.

Skipped with a reason where /usr/bin/chromium or playwright is missing — unless
BACKPROP_REQUIRE_BROWSER=1 (CI), where that is a failure.
"""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest

from browser_helpers import REQUIRE_ENV, ROOT, JupyterLabServer, browser_unavailable_reason, launch_chromium

NOTEBOOKS = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").glob("*.ipynb"))
TOOL = ROOT / "tools" / "normalize_notebooks.py"


def _tool():
    spec = importlib.util.spec_from_file_location("normalize_notebooks", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ----------------------------------------------------------------------------
# Without a browser
# ----------------------------------------------------------------------------
def test_every_notebook_is_stored_as_jupyterlab_saves_it():
    proc = subprocess.run([sys.executable, str(TOOL), "--check", *NOTEBOOKS], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"run `make notebooks` (or tools/normalize_notebooks.py):\n{proc.stdout}{proc.stderr}"


def test_the_kernel_name_is_the_installed_kernels():
    """The name the notebooks carry is the one JupyterLab will write when the kernel starts."""
    from jupyter_client.kernelspec import KernelSpecManager
    spec = KernelSpecManager().get_kernel_spec("python3")
    assert spec.display_name == _tool().KERNELSPEC["display_name"]


def test_whole_floats_become_ints_and_nothing_else_changes():
    tool = _tool()
    value = {"max": 3.0, "min": 0.1, "step": [1.0, 2.5, -0.0], "n": 4, "s": "3.0", "flag": True, "none": None}
    out = tool.whole_floats_as_ints(value)
    assert out == {"max": 3, "min": 0.1, "step": [1, 2.5, 0], "n": 4, "s": "3.0", "flag": True, "none": None}
    assert type(out["max"]) is int and type(out["min"]) is float and out["flag"] is True


def test_the_source_header_gets_the_kernel_name_and_the_cells_do_not():
    tool = _tool()
    text = ("# ---\n# jupyter:\n#   kernelspec:\n#     display_name: Python 3\n#     language: python\n# ---\n\n"
            "# %%\n#     display_name: Python 3\n")
    out = tool.normalized_source(text)
    assert "#     display_name: Python 3 (ipykernel)\n#     language" in out
    assert out.endswith("# %%\n#     display_name: Python 3\n")       # only the header is touched
    assert tool.normalized_source("print(1)\n") == "print(1)\n"


def test_the_check_fails_on_a_notebook_as_nbconvert_writes_it(tmp_path):
    """The --check can fail: the kernel name nbconvert leaves, and a float slider's bound 3.0."""
    nb = json.loads((ROOT / NOTEBOOKS[0]).read_text())
    nb["metadata"]["kernelspec"]["display_name"] = "Python 3"
    nb["metadata"].pop("jupytext", None)
    path = tmp_path / "x.ipynb"
    path.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    check = [sys.executable, str(TOOL), "--check", str(path)]
    assert subprocess.run(check, capture_output=True, timeout=60).returncode == 1
    assert subprocess.run(check[:2] + [str(path)], capture_output=True, timeout=60).returncode == 0
    assert subprocess.run(check, capture_output=True, timeout=60).returncode == 0
    nb = json.loads(path.read_text())
    nb["metadata"]["widgets"] = {"state": {"m": {"state": {"max": 3.0}}}}
    path.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    assert subprocess.run(check, capture_output=True, timeout=60).returncode == 1


# ----------------------------------------------------------------------------
# In JupyterLab
# ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser_available():
    reason = browser_unavailable_reason()
    if reason is not None:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but the browser test cannot run: {reason}")
        pytest.skip(reason)


def _copy_of_the_notebooks(root):
    """notebooks/, and the text sources and jupytext config wherever they live, under ``root``."""
    for name in ("notebooks", "nbsrc"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for name in ("jupytext.toml", "pyproject.toml"):
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, root / name)
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and p.suffix in (".ipynb", ".py")}


def _kernel_idle(lab, path, timeout=120):
    """Wait until the notebook at ``path`` has a session whose kernel is idle."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with urllib.request.urlopen(lab.url("api/sessions"), timeout=5) as r:
            sessions = json.load(r)
        if any(s.get("path") == path and s["kernel"]["execution_state"] == "idle" for s in sessions):
            return
        time.sleep(0.5)
    raise TimeoutError(f"no idle kernel for {path} within {timeout} s")


@pytest.mark.browser
@pytest.mark.slow
def test_opening_and_saving_each_notebook_changes_nothing(browser_available, tmp_path):
    from playwright.sync_api import sync_playwright

    root = tmp_path / "repo"
    root.mkdir()
    before = _copy_of_the_notebooks(root)
    problems = []
    with JupyterLabServer(tmp_path / "server", root=root) as lab, sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(60_000)
            for notebook in NOTEBOOKS:
                page.goto(lab.url(f"lab/tree/{notebook}?reset"))
                page.locator(".jp-Notebook .jp-Cell").first.wait_for(state="visible", timeout=90_000)
                _kernel_idle(lab, notebook)
                time.sleep(2)     # let the kernel's name and language reach the notebook's model
                tab = page.locator(".lm-TabBar-tab.jp-mod-current")
                if "jp-mod-dirty" in (tab.first.get_attribute("class") or ""):
                    problems.append(f"{notebook}: marked unsaved right after opening")
                saved = root / notebook
                mtime = saved.stat().st_mtime_ns
                page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
                page.keyboard.press("Control+s")
                end = time.monotonic() + 30
                while saved.stat().st_mtime_ns == mtime and time.monotonic() < end:
                    time.sleep(0.2)
                assert saved.stat().st_mtime_ns != mtime, f"{notebook}: Ctrl+S did not save the notebook"
                time.sleep(1)     # jupytext writes the paired text source right after the notebook
                for path, data in before.items():
                    if path.read_bytes() != data:
                        problems.append(f"{notebook}: saving it rewrote {path.relative_to(root)}")
                        before[path] = path.read_bytes()     # report each change once
        finally:
            browser.close()
    assert not problems, "\n".join(problems)
