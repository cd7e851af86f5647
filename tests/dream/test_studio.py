"""Kernel-side tests of the DeepDream studio (dream/studio.py): no browser, no kernel.

ipywidgets objects work in plain Python (their values change, nothing is sent anywhere), so the
panel's logic — widgets → Settings, the worker thread, debounce, Stop, uploads, the ablation
helpers — is tested here directly. tests/test_browser.py checks the same panel in JupyterLab.
"""
import dataclasses
import io
import re
import time
from pathlib import Path

import pytest
import torch

import dream
from dream import studio as S  # a missing ipywidgets must fail here, not skip
from dream.ablation import ALL_OFF, ALL_ON, ONLY, WITHOUT, ablation_variants, run_ablation
from dream.judges import NO_DIGIT, reading_text
from dream.threads import limit_threads


@pytest.fixture
def panel():
    p = S.Studio(autorun=False, live=True, debounce=0.05)
    yield p
    p.close()


def _png(size=(20, 12), color=(255, 255, 255)):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def test_every_trick_has_a_widget_bound_to_settings(panel):
    trick_fields = {f for off in dream.TRICKS.values() for f in off}
    knobs = trick_fields | {"iterations", "lr", "blur_sigma", "octave_scale", "seed"}
    widgets = dict(panel.t, start=panel.start)      # the start toggle also offers "picture"
    assert knobs <= set(widgets), f"no widget for {sorted(knobs - set(widgets))}"
    assert panel.settings() == dream.default_settings("digits")
    assert panel.start.value == "mean_image" and panel.init_image() is None
    new = dict(blur_sigma=1.3, jitter=3, clamp=False, step_rule="plain", octaves=3, weight_decay=0.02,
               start="noise")
    for name, value in new.items():
        widgets[name].value = value
    s = panel.settings()
    for name, value in new.items():
        assert getattr(s, name) == value, name
    panel.start.value = "picture"                   # a picture is an init image, not a Settings start
    assert panel.init_image() is not None and panel.settings().validate()
    panel.reset_defaults()
    panel.stop()
    assert panel.settings() == dream.default_settings("digits") and panel.start.value == "mean_image"


def test_bad_constructor_arguments_are_named():
    with pytest.raises(ValueError, match="model must be one of 'digits', 'digits_standard', 'vgg13_bn'; got 'resnet'"):
        S.Studio(model="resnet", autorun=False)
    with pytest.raises(ValueError, match="debounce"):
        S.Studio(debounce=-1, autorun=False)
    with pytest.raises(ValueError, match="objective"):
        S._objective("pixels", 0, "act1", 0)


def test_run_updates_preview_progress_and_metric(panel):
    assert panel.preview.value == b"" and "not run yet" in panel.metric.value
    threads = torch.get_num_threads()
    panel.request("preview")
    assert panel.wait_idle(60)
    rec = panel.history[-1]
    assert not rec.stopped and rec.steps == panel.settings().iterations
    assert panel.preview.value[:8] == b"\x89PNG\r\n\x1a\n"
    n = dream.default_settings("digits").iterations
    assert panel.progress.value == panel.progress.max == n
    assert f"run 1 · done · step {n}/{n}" in panel.metric.value
    assert "p_course" in panel.metric.value and "p_normalized" in panel.metric.value
    assert "reads as 7 ✓" in panel.metric.value          # default target 7 at the default settings
    assert torch.get_num_threads() == threads            # limit_threads() restored the setting


def test_slider_moves_are_debounced_into_one_run(panel):
    for v in (0.8, 0.9, 1.0, 1.1):
        panel.t["blur_sigma"].value = v               # four quick moves, < debounce apart
    assert panel.wait_idle(60)
    finished = [r for r in panel.history if not r.superseded]
    assert len(finished) == 1, [dataclasses.astuple(r)[:6] for r in panel.history]
    assert finished[0].settings.blur_sigma == 1.1


def test_live_off_does_not_run(panel):
    panel.live.value = False
    panel.t["jitter"].value = 2
    time.sleep(0.3)
    assert panel.wait_idle(5) and panel.history == []


def _start_long_run(panel, iterations=512, timeout=30):
    """Start a preview of ``iterations`` steps (live preview off) and wait until it is running."""
    panel.live.value = False
    panel.t["iterations"].value = iterations
    panel.request("preview")
    end = time.monotonic() + timeout
    while "running" not in panel.metric.value and time.monotonic() < end:
        time.sleep(0.01)


def test_stop_ends_a_long_run(panel):
    _start_long_run(panel)
    panel.stop()
    assert panel.wait_idle(30)
    rec = panel.history[-1]
    assert rec.stopped and not rec.superseded and rec.steps < 512
    assert "· stopped ·" in panel.metric.value


def test_a_newer_request_supersedes_a_running_preview(panel):
    _start_long_run(panel)
    panel.t["iterations"].value = 16
    panel.request("preview")
    assert panel.wait_idle(30)
    first, second = panel.history[-2:]
    assert first.superseded and first.steps < 512
    assert not second.stopped and second.steps == 16


def test_objectives_and_layer_picker(panel, digits):
    _, info = digits
    panel.live.value = False
    panel.objective.value = "channel"
    panel.layer.value = "act1"
    assert panel.channel.max == info.channels["act1"] - 1 == 15
    panel.channel.value = 5
    assert panel.objective_obj().name == "act1 channel 5"
    assert not panel.channel.disabled and panel.target.disabled
    panel.objective.value = "dream"
    assert isinstance(panel.objective_obj(), dream.LayerDream) and panel.channel.disabled
    panel.t["iterations"].value = 16
    panel.request("preview")
    assert panel.wait_idle(30)
    assert panel.history[-1].objective == "act1 dream" and "· done ·" in panel.metric.value


def test_dream_on_a_shipped_picture_starts_from_it(panel):
    panel.live.value = False
    panel.start.value = "picture"
    panel.picture.value = "a real 3 (load_digits #3)"
    panel.t["iterations"].value = 0                     # zero steps at one octave: the result is the start
    panel.t["octaves"].value = 1                        # (with 2 octaves gd starts from a downsampled copy)
    panel.request("preview")
    assert panel.wait_idle(30)
    assert torch.equal(panel.history[-1].image, S.shipped_pictures()["a real 3 (load_digits #3)"])


def test_upload_good_and_bad_files(panel):
    panel.live.value = False
    panel.t["iterations"].value = 0
    panel._on_upload({"new": ({"name": "white.png", "content": memoryview(_png())},)})
    assert panel.wait_idle(30)
    assert panel.start.value == "picture" and panel.picture.value == "uploaded"
    assert "uploaded white.png" in panel.status.value
    img = panel.history[-1].image
    assert img.shape == (1, 3, 32, 32) and torch.allclose(img, torch.ones_like(img))
    n = len(panel.history)
    panel._on_upload({"new": ({"name": "notes.txt", "content": memoryview(b"not an image")},)})
    assert "could not read 'notes.txt' as an image" in panel.status.value
    assert panel.wait_idle(5) and len(panel.history) == n       # nothing ran


def test_picture_from_bytes_and_to_png():
    from PIL import Image

    t = S.picture_from_bytes(_png((40, 10), (255, 0, 0)), (32, 32))
    assert t.shape == (1, 3, 32, 32)
    assert torch.allclose(t[0, 0], torch.ones(32, 32)) and torch.allclose(t[0, 1:], torch.zeros(2, 32, 32))
    with pytest.raises(ValueError, match="upload a PNG"):
        S.picture_from_bytes(b"\x00\x01", (32, 32), "x.bin")
    png = S.to_png(torch.rand(1, 3, 32, 32), px=256)
    assert Image.open(io.BytesIO(png)).size == (256, 256)


def test_shipped_pictures_are_real_digits():
    pics = S.shipped_pictures()
    assert len(pics) == 10
    X, y = dream.digits_data()
    for d, (name, img) in enumerate(pics.items()):
        i = int(name.split("#")[1].rstrip(")"))
        assert int(y[i]) == d and f"a real {d}" in name
        assert img.shape == (1, 3, 32, 32) and 0 <= img.min() and img.max() <= 1


def test_ablation_columns_have_readable_titles():
    assert set(WITHOUT) == set(dream.TRICKS) == set(ONLY)   # every column has a readable title
    s = dream.default_settings("digits")
    assert [t for t, _ in ablation_variants(s, "add_one_in")][1:-1] == [ONLY[k] for k in dream.TRICKS]


def test_ablation_figure_numbers_are_the_tiles_metrics(digits):
    """Under every tile: p, the judge's verdict, HF and TV of that very image (gd's metrics)."""
    import matplotlib.pyplot as plt

    model, info = digits
    s = dream.default_settings("digits").replace(iterations=8)
    rows = [(d, model, info, run_ablation(model, dream.ClassLogit(3), s, d, info=info)) for d in dream.ABLATIONS]
    fig = S.ablation_figure(rows, labels=[3, 3])
    try:
        for r, (*_, runs) in enumerate(rows):
            for c, (title, _s, res) in enumerate(runs):
                m = fig.tile_metrics[r][c]
                assert m["hf"] == pytest.approx(float(dream.high_frequency_share(res.image)[0]))
                assert m["tv"] == pytest.approx(float(dream.total_variation(res.image)[0]))
                assert m["p"] == dream.class_probability(model, res.image, 3, info)[1]
                assert m["reads_as"] == int(dream.recognize_digits(res.image)[0])
                ax = fig.axes[r * len(runs) + c]
                assert ax.xaxis.label.get_fontsize() >= 10, "captions must be legible at the figure's size"
                label = ax.get_xlabel()
                assert label.startswith(title) and f"HF {m['hf']:.3f}" in label, label
                assert reading_text(m["reads_as"]) in label, label
    finally:
        plt.close(fig)


def test_both_digits_models_are_offered_and_switchable(panel):
    assert [v for _, v in panel.model_menu.options][:2] == ["digits", "digits_standard"]
    panel.live.value = False
    panel.model_menu.value = "digits_standard"
    assert panel.settings() == dream.default_settings("digits_standard")
    panel.t["iterations"].value = 16
    panel.request("preview")
    assert panel.wait_idle(60)
    assert "· done · step 16/16" in panel.metric.value
    assert re.search(r"(reads as \d [✓✗]|no digit ✗) \(the independent judge", panel.metric.value), panel.metric.value
    # the run used the standard model: its picture is what dream.visualize draws with it
    model, info = dream.load_model("digits_standard")
    with limit_threads(1):
        ref = dream.visualize(model, dream.ClassLogit(7), info=info, settings=panel.settings())
    assert torch.equal(panel.history[-1].image, ref.image)


def test_the_ablation_button_shows_both_directions(panel, monkeypatch):
    calls = []
    real = S.run_ablation

    def spy(*a, **kw):
        calls.append(a[3])
        return real(*a, **kw)

    monkeypatch.setattr(S, "run_ablation", spy)
    panel.t["iterations"].value = 8
    panel.live.value = False
    assert panel.ablation_image.layout.display == "none"      # hidden while empty
    panel.request("ablation")
    assert panel.wait_idle(120)
    assert calls == list(dream.ABLATIONS)
    assert panel.ablation_image.value[:8] == b"\x89PNG\r\n\x1a\n" and panel.ablation_image.layout.display is None
    assert "done" in panel.status.value


def test_describe_matches_gd(digits):
    model, info = digits
    three = S.shipped_pictures()["a real 3 (load_digits #3)"]
    m = S.describe(model, info, three, 3)
    assert (m["p_course"], m["p_normalized"]) == dream.class_probability(model, three, 3, info)
    assert m["reads_as"] == 3 and m["top"] == 3 and 0 <= m["robustness"] <= 1


def test_close_stops_the_worker():
    p = S.Studio(autorun=False)
    assert p._worker.is_alive()
    p.close()
    assert not p._worker.is_alive()


class _FakeVGG(torch.nn.Module):
    """A tiny stand-in with vgg13_bn's interface (224-px input, ReLU layers, 5 classes here)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.features = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(),
                                            torch.nn.AvgPool2d(8))
        self.classifier = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4 * 28 * 28, 5))

    def forward(self, x):
        return self.classifier(self.features(x))


def test_vgg_is_offered_only_when_it_loads(monkeypatch):
    real_load = dream.load_model

    def fake_load(name="auto", device="cpu", *, quiet=False):
        if name != "vgg13_bn":
            return real_load(name, device, quiet=quiet)
        if fake_load.fail:
            raise dream.WeightsUnavailable("no weights here")
        model = _FakeVGG().eval()
        info = dream.ModelInfo("vgg13_bn", (3, 224, 224), dream.IMAGENET_MEAN, dream.IMAGENET_STD,
                            ["tench", "goldfish", "shark", "ray", "hen"], {"features.1": model.features[1]},
                            {"features.1": 4})
        return model, info

    monkeypatch.setattr(S, "load_model", fake_load)
    fake_load.fail = True
    p = S.Studio(offer_vgg=True, autorun=False)
    try:
        assert [v for _, v in p.model_menu.options] == ["digits", "digits_standard"] and "no weights here" in p.vgg_note
    finally:
        p.close()
    with pytest.raises(dream.WeightsUnavailable):
        S.Studio(model="vgg13_bn", autorun=False)

    fake_load.fail = False
    p = S.Studio(offer_vgg=True, autorun=False, live=False)
    try:
        assert [v for _, v in p.model_menu.options] == ["digits", "digits_standard", "vgg13_bn"]
        p.model_menu.value = "vgg13_bn"
        assert p.settings() == dream.default_settings("vgg13_bn")
        assert p.target.options[0] == ("0: tench", 0) and list(p.layer.options) == ["features.1"]
        p.t["iterations"].value = 8
        p.t["octaves"].value = 1
        p.request("preview")
        assert p.wait_idle(60)
        assert "· done · step 8/8" in p.metric.value and "network's top class" in p.metric.value
        assert p.history[-1].image.shape == (1, 3, 224, 224)
    finally:
        p.close()


def test_the_voila_app_notebook_is_in_sync_with_its_source():
    """nbsrc/studio_app.py (what contributors edit) and the .ipynb that Voilà serves hold the same
    cells; the page shows the studio from one code cell (Voilà hides the code)."""
    import jupytext
    import nbformat

    root = Path(__file__).resolve().parents[2]
    text = jupytext.read(root / "nbsrc" / "studio_app.py")
    stored = nbformat.read(root / "notebooks" / "studio_app.ipynb", as_version=4)
    assert [(c.cell_type, c.source) for c in text.cells] == [(c.cell_type, c.source) for c in stored.cells], \
        "run: jupytext --update --to ipynb --output notebooks/studio_app.ipynb nbsrc/studio_app.py, then execute it"
    code = [c for c in stored.cells if c.cell_type == "code"]
    assert len(code) == 1 and "Studio()" in code[0].source and "panel.show()" in code[0].source
    assert stored.metadata["jupytext"]["formats"] == "notebooks///ipynb,nbsrc///py:percent"
