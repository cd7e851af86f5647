"""Real-browser tests of the DeepDream studio in headless Chromium: notebook 07 in JupyterLab, and
the standalone studio page (notebooks/studio_app.ipynb) served by Voilà.

JupyterLab steps: start JupyterLab (loopback, free port, no token), open notebooks/07_deepdream_studio.ipynb,
"Run" menu → "Run All Cells", wait for the last cell, find the studio's sliders, move the blur-sigma
slider with the keyboard several times (each move re-runs the preview: the latency from the key
press to the metric line reporting the finished run is measured), press Run, press Stop during a
long run, and check that the preview <img> and the metric text change. Screenshots go to
artifacts/browser/.

Voilà steps: serve notebooks/studio_app.ipynb (loopback, free port), open the page, check that no
code cell is shown, wait for the first preview, move two sliders with the keyboard and check that the
readout, the metric line and the preview image's bytes change after each move.

Skipped with a reason where /usr/bin/chromium or playwright is missing — unless
BACKPROP_REQUIRE_BROWSER=1 (CI), where that is a failure.
"""
import hashlib
import json
import os
import re
import shutil
import statistics
import time

import pytest

from browser_helpers import (ARTIFACTS, REQUIRE_ENV, ROOT, JupyterLabServer, VoilaServer,
                             browser_unavailable_reason, launch_chromium)
from dream.studio import MODELS  # what the model menu calls each model

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOK = "notebooks/07_deepdream_studio.ipynb"
LAST_CELL_TEXT = "objective rose in"        # printed by the notebook's last code cell
# JupyterLab renders a cell's error (traceback) as a stderr output
ERROR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
PREVIEW_BUDGET_S = 1.0                      # the issue: a default-settings preview within 1 s
SMALL_SCREEN = {"width": 1366, "height": 768}   # the issue: the panel fits a 1366x768 screen
MAX_EMPTY_PX = 60                           # no large empty area under "start from"


@pytest.fixture(scope="module")
def browser_available():
    reason = browser_unavailable_reason()
    if reason is not None:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but the browser test cannot run: {reason}")
        pytest.skip(reason)


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _metric(page):
    return page.locator(".studio-metric").inner_text()


def _run_number(text):
    m = re.search(r"run (\d+) · (\w+)", text)
    return (int(m.group(1)), m.group(2)) if m else (None, None)


def _wait_for_new_run(page, old_text, state="done", timeout=30_000):
    """Wait until the metric line reports a run other than the one in ``old_text``, in ``state``."""
    old_run, _ = _run_number(old_text)
    page.wait_for_function(
        """([oldRun, state]) => {
            const el = document.querySelector('.studio-metric');
            if (!el) return false;
            const m = el.innerText.match(/run (\\d+) · (\\w+)/);
            return m !== null && Number(m[1]) !== oldRun && m[2] === state;
        }""", arg=[old_run, state], timeout=timeout, polling=10)
    return _metric(page)


def _accept_kernel_dialog(page, timeout=15_000):
    """JupyterLab may ask which kernel to start: accept its proposal (Python 3)."""
    try:
        page.locator(".jp-Dialog .jp-mod-accept").click(timeout=timeout)
    except Exception:
        return False   # no dialog: the kernel started by itself
    return True


def _dismiss_news(page):
    """JupyterLab's "get notified about news?" toast covers part of the screenshots: answer No."""
    try:
        page.locator(".jp-toast-button", has_text=re.compile("^No$")).click(timeout=5_000)
    except Exception:
        pass   # no toast in this version / already answered: nothing to dismiss


def _menu(page, menu, item):
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{item}$")).click()


def _preview_src(page):
    return page.locator("img.studio-preview").get_attribute("src")


def _preview_digest(page):
    """SHA-256 of the bytes the preview <img> shows (ipywidgets gives it a fresh blob: URL on every
    update, so comparing ``src`` alone would pass even if the picture stayed the same)."""
    return page.evaluate("""async () => {
        const img = document.querySelector('img.studio-preview');
        if (!img || !img.src) return null;
        const bytes = await (await fetch(img.src)).arrayBuffer();
        const hash = await crypto.subtle.digest('SHA-256', bytes);
        return [...new Uint8Array(hash)].map(b => b.toString(16).padStart(2, '0')).join('');
    }""")


def _check_fits_small_screen(page, studio, shot, report, key):
    """At 1366x768, with the panel's top at the top of what scrolls: Run, Stop and Ablation grid are
    on screen, the whole panel (without an ablation grid) fits, every number of the metric line has
    its label, and the column under "start from" leaves no large empty area. Saves a screenshot."""
    page.set_viewport_size(SMALL_SCREEN)
    studio.evaluate("el => el.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(300)
    boxes = {name: studio.locator(f"button.studio-{name}").bounding_box() for name in ("run", "stop", "ablation")}
    panel = studio.bounding_box()
    upload = studio.locator(".studio-upload").bounding_box()
    row = studio.locator(".studio-row").bounding_box()
    page.screenshot(path=str(ARTIFACTS / shot), full_page=False)
    studio.screenshot(path=str(ARTIFACTS / shot.replace(".png", "_panel.png")))
    report[key] = {"panel": panel, "buttons": boxes, "empty_under_start_px": round(row["y"] + row["height"]
                                                                                  - upload["y"] - upload["height"])}
    for name, box in boxes.items():
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= SMALL_SCREEN["height"], \
            f"the {name} button is not on a 1366x768 screen: {box}"
        assert box["x"] + box["width"] <= SMALL_SCREEN["width"], f"the {name} button is off to the right: {box}"
    assert panel["y"] + panel["height"] <= SMALL_SCREEN["height"], f"the panel does not fit 1366x768: {panel}"
    assert report[key]["empty_under_start_px"] <= MAX_EMPTY_PX, f"a large empty area under 'start from': {report[key]}"
    metric = _metric(page)
    for label in ("run ", "step ", "objective value ", "p_course ", "p_normalized ", "run time "):
        assert label in metric, f"{label!r} missing from the metric text: {metric}"
    numbers = re.findall(r"(\S+)\s+(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)\b", metric)
    unlabelled = [n for word, n in numbers if not re.search(r"[A-Za-z_)]", word)]
    assert not unlabelled, f"numbers without a label in the metric text: {unlabelled}: {metric}"


def test_studio_in_jupyterlab(browser_available, tmp_path):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    nb_path = ROOT / NOTEBOOK
    digest_before = _sha(nb_path)
    t_start = time.perf_counter()
    report = {}
    with JupyterLabServer(tmp_path) as lab, sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1700})
            page.set_default_timeout(60_000)
            page.goto(lab.url(f"lab/tree/{NOTEBOOK}?reset"))
            page.locator(".jp-Notebook").first.wait_for(state="visible", timeout=90_000)
            # wait for the kernel to be connected before running (the toolbar shows its name)
            page.locator(".jp-Notebook .jp-Cell").first.wait_for(state="visible")

            _accept_kernel_dialog(page)
            _dismiss_news(page)
            # the stored outputs are on screen: clear them (Edit menu) so that what follows is fresh
            _menu(page, "Edit", "Clear Outputs of All Cells")
            page.wait_for_function("() => document.querySelectorAll('.jp-OutputArea-output').length === 0")
            # Run → Run All Cells, through the real menu bar
            _menu(page, "Run", "Run All Cells")
            t_run_all = time.perf_counter()
            # wait for the last cell's output — or for an error, which stops "Run All" for good
            page.wait_for_function(
                """(last) => [...document.querySelectorAll('.jp-OutputArea-output')].some(
                        el => el.innerText.includes(last))
                      || [...document.querySelectorAll(ERR)].some(el => /Error|Traceback/.test(el.innerText))"""
                .replace("ERR", json.dumps(ERROR_OUTPUT)),
                arg=LAST_CELL_TEXT, timeout=240_000, polling=250)
            errors = page.locator(ERROR_OUTPUT, has_text=re.compile("Error|Traceback"))
            assert errors.count() == 0, f"a notebook cell failed in JupyterLab:\n{errors.first.inner_text()[-2000:]}"
            report["run_all_cells_s"] = round(time.perf_counter() - t_run_all, 1)

            studio = page.locator(".studio")
            try:
                studio.wait_for(state="visible", timeout=30_000)
            except Exception:
                cell = page.locator(".jp-CodeCell", has_text="panel.show()")
                cell.scroll_into_view_if_needed()
                cell.screenshot(path=str(ARTIFACTS / "studio_cell.png"))
                raise
            studio.scroll_into_view_if_needed()
            sliders = studio.locator(".widget-slider")
            n_sliders = sliders.count()
            report["sliders"] = n_sliders
            assert n_sliders >= 8, f"expected a slider per trick, found {n_sliders}"
            for cls in ["iterations", "lr", "jitter", "blur_every", "blur_sigma", "weight_decay",
                        "grad_blur_sigma", "octaves", "octave_scale"]:
                assert studio.locator(f".studio-{cls}").count() == 1, f"no slider for {cls}"
            for cls in ["step_rule", "clamp", "run", "stop", "ablation", "preview", "progress", "metric"]:
                assert studio.locator(f".studio-{cls}").count() >= 1, f"no widget .studio-{cls}"

            # the initial automatic preview has finished
            first = _wait_for_new_run(page, "", timeout=60_000)
            assert "p_course" in first and "p_normalized" in first and "the independent judge" in first, first
            page.screenshot(path=str(ARTIFACTS / "after_run_all.png"), full_page=False)
            _check_fits_small_screen(page, studio, "studio_1366x768.png", report, "small_screen")
            page.set_viewport_size({"width": 1400, "height": 1700})

            # move the blur-sigma slider with the keyboard; each move re-runs the preview (live)
            sigma = studio.locator(".studio-blur_sigma")
            readout = sigma.locator(".widget-readout")
            handle = sigma.locator(".noUi-handle")
            latencies = []
            for i, key in enumerate(["ArrowRight"] * 4 + ["ArrowLeft"] * 3):
                old_text, old_png, old_value = _metric(page), _preview_digest(page), readout.inner_text()
                handle.focus()
                t0 = time.perf_counter()
                page.keyboard.press(key)
                new_text = _wait_for_new_run(page, old_text)
                latencies.append(time.perf_counter() - t0)
                assert readout.inner_text() != old_value, "the slider did not move"
                assert _preview_digest(page) != old_png, "the preview image did not change"
                assert new_text != old_text
            report["slider_to_metric_s"] = [round(v, 3) for v in latencies]
            report["median_slider_to_metric_s"] = round(statistics.median(latencies), 3)
            print(f"\nslider change -> metric update (s): {report['slider_to_metric_s']}; "
                  f"median {report['median_slider_to_metric_s']}")

            # press Run: a new run, a new preview pushed (the same seed gives the same picture: compare src)
            old_text, old_src = _metric(page), _preview_src(page)
            t0 = time.perf_counter()
            studio.locator("button.studio-run").click()
            new_text = _wait_for_new_run(page, old_text)
            report["run_click_to_metric_s"] = round(time.perf_counter() - t0, 3)
            assert _preview_src(page) != old_src
            assert re.search(r"class 7 \(7\): p_course [01]\.\d{3}", new_text), new_text   # default target 7
            assert re.search(r"(reads as \d [✓✗]|no digit ✗) \(the independent judge", new_text), new_text

            # the ablation grid button: one run per trick switched off, shown as an image in the panel
            grid = studio.locator("img.studio-ablation-grid")
            old_grid_src = grid.get_attribute("src")
            assert grid.evaluate("img => img.naturalWidth") == 0, "the ablation grid should start empty"
            t0 = time.perf_counter()
            studio.locator("button.studio-ablation").click()
            page.wait_for_function(
                "() => /ablation grid \\(run \\d+\\) done/.test(document.querySelector('.studio-status').innerText)",
                timeout=120_000)
            report["ablation_grid_s"] = round(time.perf_counter() - t0, 1)
            assert grid.get_attribute("src") != old_grid_src, "the ablation grid image did not change"
            page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=grid.element_handle())
            assert grid.evaluate("img => img.naturalWidth") > 500
            preview_box = page.locator("img.studio-preview").bounding_box()
            report["preview_box_after_ablation"] = preview_box
            assert preview_box and preview_box["height"] >= 150, f"the preview image is not shown: {preview_box}"
            page.screenshot(path=str(ARTIFACTS / "studio.png"), full_page=False)
            studio.screenshot(path=str(ARTIFACTS / "studio_panel.png"))
            if os.environ.get("BACKPROP_SAVE_FIGURES"):      # `make figures`-style export for the README
                shutil.copyfile(ARTIFACTS / "studio_1366x768_panel.png", ROOT / "figures" / "studio.png")

            # Stop: a long run (iterations slider to its maximum) stopped from the browser
            old_text = _metric(page)
            iterations = studio.locator(".studio-iterations")
            iterations.locator(".noUi-handle").focus()
            page.keyboard.press("End")
            page.wait_for_function(
                """(old) => { const t = document.querySelector('.studio-metric').innerText;
                               return t !== old && t.includes('· running ·'); }""", arg=old_text)
            studio.locator("button.studio-stop").click()
            stopped = _wait_for_new_run(page, old_text, state="stopped")
            m = re.search(r"step (\d+)/(\d+)", stopped)
            assert m and int(m.group(1)) < int(m.group(2)) == 512, stopped
            report["stopped_at"] = f"{m.group(1)}/{m.group(2)}"
            page.screenshot(path=str(ARTIFACTS / "stopped.png"), full_page=False)
        except BaseException:
            try:
                page.screenshot(path=str(ARTIFACTS / "failure.png"), full_page=False)
                cells = page.evaluate("""() => [...document.querySelectorAll('.jp-CodeCell')].map(c =>
                    (c.querySelector('.jp-InputPrompt') || {}).innerText + ' ' +
                    ((c.querySelector('.jp-OutputArea') || {}).innerText || '').slice(0, 400))""")
                (ARTIFACTS / "failure_cells.txt").write_text("\n---\n".join(cells))
                (ARTIFACTS / "jupyterlab.log").write_text(lab.log())
            except Exception as e:   # a failure screenshot must not hide the real error
                print(f"(could not save the failure screenshot: {e})")
            raise
        finally:
            browser.close()
    report["total_s"] = round(time.perf_counter() - t_start, 1)
    (ARTIFACTS / "report.json").write_text(json.dumps(report, indent=1))
    print("browser test:", json.dumps(report))
    assert _sha(nb_path) == digest_before, f"the browser session modified {NOTEBOOK}"
    assert report["median_slider_to_metric_s"] <= PREVIEW_BUDGET_S, (
        f"median preview latency {report['median_slider_to_metric_s']} s > {PREVIEW_BUDGET_S} s: {report}")


STUDIO_APP = "notebooks/studio_app.ipynb"


def _move_slider(page, studio, name, key, report):
    """Press ``key`` on slider ``.studio-<name>``; wait for the re-run; return the latency in s."""
    slider = studio.locator(f".studio-{name}")
    readout = slider.locator(".widget-readout")
    old_text, old_png, old_value = _metric(page), _preview_digest(page), readout.inner_text()
    slider.locator(".noUi-handle").focus()
    t0 = time.perf_counter()
    page.keyboard.press(key)
    new_text = _wait_for_new_run(page, old_text, timeout=60_000)
    latency = time.perf_counter() - t0
    new_value = readout.inner_text()
    assert new_value != old_value, f"the {name} slider did not move ({old_value})"
    assert new_text != old_text
    assert _preview_digest(page) != old_png, f"the preview image did not change after {name} {old_value} -> {new_value}"
    report.setdefault("moves", []).append(f"{name} {old_value}->{new_value}")
    return latency


def test_studio_page_in_voila(browser_available, tmp_path):
    """`make studio`'s page: the studio alone, no code cells; sliders move and the preview changes."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    nb_path = ROOT / STUDIO_APP
    digest_before = _sha(nb_path)
    t_start = time.perf_counter()
    report = {}
    with VoilaServer(tmp_path, STUDIO_APP) as voila, sync_playwright() as pw:
        report["server_start_s"] = round(time.perf_counter() - t_start, 1)
        browser = launch_chromium(pw)
        try:
            page = browser.new_page(viewport=SMALL_SCREEN)
            page.set_default_timeout(60_000)
            t0 = time.perf_counter()
            page.goto(voila.url("/"), timeout=180_000)   # Voilà runs the notebook before it answers
            studio = page.locator(".studio")
            studio.wait_for(state="visible", timeout=180_000)
            report["page_to_panel_s"] = round(time.perf_counter() - t0, 1)

            # a page, not a notebook: the markdown is there, no code (no input areas, no source text)
            assert page.get_by_text("DeepDream studio", exact=False).first.is_visible()
            code_cells = ".jp-CodeCell .jp-InputArea, .jp-InputPrompt, .jp-Editor, .cm-editor, div.highlight"
            assert page.locator(code_cells).count() == 0, "Voilà shows code cells"
            body = page.locator("body").inner_text()
            for code in ("import ", "Studio()", "sys.path"):
                assert code not in body, f"the page shows code ({code!r})"
            assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0

            sliders = studio.locator(".widget-slider")
            report["sliders"] = sliders.count()
            assert report["sliders"] >= 8, f"expected a slider per trick, found {report['sliders']}"

            first = _wait_for_new_run(page, "", timeout=120_000)        # the automatic first preview
            report["first_preview_s"] = round(time.perf_counter() - t0, 1)
            assert "p_normalized" in first, first
            assert _preview_digest(page) is not None, "no preview image"
            # the page as opened on a 1366x768 screen: the buttons are there without scrolling
            page.evaluate("window.scrollTo(0, 0)")
            for name in ("run", "stop", "ablation"):
                box = studio.locator(f"button.studio-{name}").bounding_box()
                assert box and box["y"] + box["height"] <= SMALL_SCREEN["height"], f"{name} below the fold: {box}"
            page.screenshot(path=str(ARTIFACTS / "voila_1366x768.png"), full_page=False)
            _check_fits_small_screen(page, studio, "voila_panel_1366x768.png", report, "small_screen")

            latencies = [_move_slider(page, studio, "blur_sigma", "ArrowRight", report),
                         _move_slider(page, studio, "blur_sigma", "ArrowRight", report),
                         _move_slider(page, studio, "lr", "ArrowLeft", report),
                         _move_slider(page, studio, "jitter", "ArrowRight", report)]
            report["slider_to_metric_s"] = [round(v, 3) for v in latencies]
            report["median_slider_to_metric_s"] = round(statistics.median(latencies), 3)

            # the model picker: the standard-trained digits model draws another picture
            old_text, old_png = _metric(page), _preview_digest(page)
            t0 = time.perf_counter()
            studio.locator(".studio-model select").select_option(label=MODELS["digits_standard"], timeout=15_000)
            new_text = _wait_for_new_run(page, old_text, timeout=60_000)
            report["model_switch_to_metric_s"] = round(time.perf_counter() - t0, 3)
            assert _preview_digest(page) != old_png, "switching to the standard model did not change the preview"
            assert re.search(r"(reads as \d [✓✗]|no digit ✗) \(the independent judge", new_text), new_text
            page.screenshot(path=str(ARTIFACTS / "voila.png"), full_page=True)
        except BaseException:
            try:
                page.screenshot(path=str(ARTIFACTS / "voila_failure.png"), full_page=True)
                (ARTIFACTS / "voila.log").write_text(voila.log())
            except Exception as e:   # a failure screenshot must not hide the real error
                print(f"(could not save the failure screenshot: {e})")
            raise
        finally:
            browser.close()
    report["total_s"] = round(time.perf_counter() - t_start, 1)
    (ARTIFACTS / "voila_report.json").write_text(json.dumps(report, indent=1))
    print("\nvoila test:", json.dumps(report))
    assert _sha(nb_path) == digest_before, f"the Voilà session modified {STUDIO_APP}"
