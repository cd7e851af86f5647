"""The DeepDream studio: an ipywidgets panel bound to ``dream.Settings`` (notebook 07).

    from dream.studio import Studio
    Studio().show()

Every trick of ``Settings`` has a slider or toggle; the objective is a class logit, one channel
of a middle layer, or a whole layer ("dream"); the start is seeded noise, the model's average
training image, a picture the project ships (real digits from scikit-learn's ``load_digits``) or an
uploaded image.

How it stays responsive: the optimization runs in one background worker thread, so the kernel's
main thread keeps handling widget events (Stop, slider moves) while a run is going. The worker
takes the *latest* request only: moving a slider during a run stops that run and starts a new one
after a short debounce ("live preview"). Progress, preview image and metrics are pushed from the
``dream.visualize`` callback every few steps.

Models: the robust digits CNN ("digits", adversarially trained: its input gradients already draw
digits), the same network trained the standard way ("digits_standard": its gradients are
high-frequency noise until the tricks tame them), and vgg13_bn where it loads without a download.

The same functions build the static figures of the notebook (``gallery_figure``,
``run_ablation`` / ``ablation_figure``), so what a static renderer shows is what the panel computes.
The ablation runs in both directions: leave-one-out (all tricks on, each switched off in turn: what
a trick is worth among the others) and add-one-in (all tricks off, each switched on alone: what it
buys by itself); every tile carries its measured numbers (``tile_metrics``).
"""
import dataclasses
import io
import threading
import time

import numpy as np
import torch

from .ablation import ABLATIONS, run_ablation
from .data import digits_data, digits_to_images
from .judges import NO_DIGIT, reading_text, recognize_digits
from .models import WeightsUnavailable, load_model, vgg_available
from .objectives import ClassLogit, LayerChannel, LayerDream, StopRequested
from .render import visualize
from .scores import class_probability, picture_metrics, robustness
from .settings import STARTS, STEP_RULES, TRICKS, Settings, default_settings
from .threads import limit_threads
from .transforms import normalize

__all__ = ["Studio", "shipped_pictures", "picture_from_bytes", "to_png", "describe", "tile_metrics",
           "ablation_figure", "gallery_grid", "gallery_figure", "OBJECTIVES", "MODELS"]

OBJECTIVES = ("class", "channel", "dream")
MODELS = {     # name -> what the model menu calls it
    "digits": "digits (robust)",
    "digits_standard": "digits (standard training)",
    "vgg13_bn": "vgg13_bn (ImageNet)",
}
CHECK_EVERY = 4      # steps between checks for Stop / a newer request during a run
CAPTION_PT = 10      # font size of every caption in the figures (legible at the figure's own size)
TILE_IN = 2.1        # width of a tile in inches: three caption lines of 10 pt fit under it


def is_digits(info):
    """True for both embedded digits models (the judge and the legibility numbers apply)."""
    return info.name.startswith("digits")


# ----------------------------------------------------------------------------------------------
# Helpers shared by the panel, the notebook's static cells and the tests
# ----------------------------------------------------------------------------------------------
def shipped_pictures(size=32):
    """{name: (1, 3, size, size) image in [0, 1]}: the first example of each digit in scikit-learn's
    bundled ``load_digits`` (real handwriting, 8x8, upsampled bilinearly) — ships with the project's
    dependencies, works offline."""
    X, y = digits_data()
    pictures = {}
    for d in range(10):
        i = int((y == d).nonzero()[0, 0])
        pictures[f"a real {d} (load_digits #{i})"] = digits_to_images(X[i:i + 1], size=size)
    return pictures


def picture_from_bytes(data, size, name="upload"):
    """Decode an uploaded image file (PNG, JPEG, …) into a (1, 3, H, W) tensor in [0, 1]."""
    from PIL import Image, UnidentifiedImageError

    try:
        img = Image.open(io.BytesIO(bytes(data)))
        img.load()
    except (UnidentifiedImageError, OSError) as e:
        raise ValueError(f"could not read {name!r} as an image ({type(e).__name__}); "
                         f"upload a PNG, JPEG, GIF or BMP file") from e
    img = img.convert("RGB").resize((size[1], size[0]), Image.BILINEAR)
    t = torch.from_numpy(np.asarray(img, dtype=np.float32).copy())      # (H, W, 3) in 0..255
    return (t / 255.0).permute(2, 0, 1).unsqueeze(0).contiguous()


def to_png(image, px=256):
    """(1, C, H, W) tensor in [0, 1] -> PNG bytes, upscaled to ``px`` pixels (nearest) to be visible."""
    from PIL import Image

    x = image.detach().float().cpu()[0].clamp(0, 1)
    arr = (x.permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()
    img = Image.fromarray(arr if arr.shape[2] == 3 else arr[:, :, 0])
    h, w = arr.shape[:2]
    scale = max(1, px // max(h, w))
    img = img.resize((w * scale, h * scale), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def describe(model, info, image, label, robust=True):
    """The course's metric and the recognizability check for one image, as a dict.

    ``p_course``: softmax probability of ``label`` on the raw [0, 1] image (how the course's main()
    scores it); ``p_normalized``: on the normalized image (what the network expects); ``top``: the
    network's own top class on the normalized image; ``reads_as``: what the independent judge
    (``recognize_digits``) reads — a digit, or ``NO_DIGIT`` (−1) for a picture it rejects
    (digits models only, else None); ``robustness``: mean p of ``label`` under random
    shifts/rotations/rescalings (None with ``robust=False``)."""
    p_course, p_norm = class_probability(model, image, label, info)
    with torch.no_grad():
        logits = model(normalize(image.detach().float().cpu(), info.mean, info.std))
    top = int(logits.argmax(dim=1)[0])
    reads_as = int(recognize_digits(image)[0]) if is_digits(info) else None
    return dict(label=label, p_course=p_course, p_normalized=p_norm, top=top, reads_as=reads_as,
                robustness=robustness(model, image, label, info) if robust else None)


def tile_metrics(model, info, image, label):
    """The numbers under an ablation or gallery tile (``picture_metrics``), as a dict: ``p``
    (softmax probability of ``label`` on the normalized image), ``reads_as`` (the judge: a digit or
    NO_DIGIT; None for non-digit models), ``hf`` (share of the picture's spectral energy at high
    spatial frequencies) and ``tv`` (total variation of the standardized picture)."""
    m = picture_metrics(model, [image], [label], info)[0]
    return dict(p=m["p_target"], reads_as=m["reads_as"], hf=m["high_frequency"], tv=m["total_variation"])


def _objective(kind, label, layer, channel):
    if kind == "class":
        return ClassLogit(int(label))
    if kind == "channel":
        return LayerChannel(layer, int(channel))
    if kind == "dream":
        return LayerDream(layer)
    raise ValueError(f"unknown objective {kind!r}; allowed: {', '.join(OBJECTIVES)}")


def _tile_text(title, m):
    if m is None:
        return title
    line = f"p={m['p']:.2f}"
    if m["reads_as"] is not None:
        line += " " + reading_text(m["reads_as"])
    return f"{title}\n{line}\nHF {m['hf']:.3f} TV {m['tv']:.1f}"


def _tiles(n_rows, n_cols, title):
    """A figure of n_rows x n_cols tiles, each TILE_IN wide with room for three caption lines."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(n_rows, n_cols, figsize=(TILE_IN * n_cols + 0.4, 2.9 * n_rows + 0.5),
                             squeeze=False, layout="constrained")
    fig.suptitle(title, fontsize=CAPTION_PT + 2)
    fig.tile_metrics = []
    return fig, axes


def _show(ax, image):
    img = image[0].detach().cpu().clamp(0, 1).permute(1, 2, 0).numpy()
    ax.imshow(img if img.shape[2] == 3 else img[:, :, 0], interpolation="nearest", vmin=0, vmax=1)
    ax.set_xticks([]), ax.set_yticks([])


def ablation_figure(rows, labels=None, title=None):
    """A grid of ablation runs: ``rows`` is a list of (row_title, model, info, ``run_ablation``
    output); one tile per variant, with its numbers underneath (``tile_metrics`` for the row's
    target in ``labels``: p, the judge's reading, high-frequency share HF, total variation TV).
    Returns the figure; the numbers are in ``fig.tile_metrics`` [row][column] (None where no label
    was given)."""
    ncols = max(len(runs) for *_, runs in rows)
    fig, axes = _tiles(len(rows), ncols, title or "Ablation: the same seeded run with tricks switched off or on "
                       "(p = softmax prob. of the target; HF = high-frequency energy share; TV = total variation)")
    for r, (row_title, model, info, runs) in enumerate(rows):
        label = labels[r] if labels is not None else None
        fig.tile_metrics.append([])
        for c in range(ncols):
            ax = axes[r, c]
            if c >= len(runs):
                ax.axis("off")
                continue
            title_c, _s, res = runs[c]
            _show(ax, res.image)
            m = tile_metrics(model, info, res.image, label) if label is not None else None
            fig.tile_metrics[-1].append(m)
            ax.set_xlabel(_tile_text(title_c, m), fontsize=CAPTION_PT)
        axes[r, 0].set_ylabel(row_title, fontsize=CAPTION_PT + 1)
    return fig


def gallery_grid(rows, labels=range(10), threads=1, title=None):
    """One row of class visualizations per (row_title, model, info, settings) in ``rows``; under each
    tile its numbers (p, the judge's reading, HF, TV — ``tile_metrics``). Returns
    (fig, {row_title: {label: Result}}); the numbers are in ``fig.tile_metrics[row][column]``."""
    labels = list(labels)
    results = {}
    with limit_threads(threads):
        for row_title, model, info, settings in rows:
            results[row_title] = {lab: visualize(model, ClassLogit(lab), info=info, settings=settings)
                                  for lab in labels}
    fig, axes = _tiles(len(rows), len(labels), title or "Class visualizations (p = softmax prob. on the "
                       "normalized image; HF = high-frequency energy share; TV = total variation)")
    for r, (row_title, model, info, _settings) in enumerate(rows):
        fig.tile_metrics.append([])
        for ax, lab in zip(axes[r], labels):
            image = results[row_title][lab].image
            m = tile_metrics(model, info, image, lab)
            fig.tile_metrics[-1].append(m)
            _show(ax, image)
            ax.set_xlabel(_tile_text(f"class {lab}", m), fontsize=CAPTION_PT)
        axes[r, 0].set_ylabel(row_title, fontsize=CAPTION_PT + 1)
    return fig, results


def gallery_figure(model, info, settings, labels=range(10), threads=1):
    """Visualize every class of a digits model at ``settings``; returns (fig, {label: Result})."""
    row = f"{info.name}, {settings.iterations} steps"
    fig, results = gallery_grid([(row, model, info, settings)], labels, threads,
                                title=f"Class visualizations at the default settings ({settings.iterations} steps, "
                                      f"32×32 px, seed {settings.seed}); p = softmax prob. on the normalized image")
    return fig, results[row]


# ----------------------------------------------------------------------------------------------
# The panel
# ----------------------------------------------------------------------------------------------
@dataclasses.dataclass
class RunRecord:
    """What one finished (or stopped) run of the panel produced — kept in ``Studio.history``."""
    job: int
    settings: Settings
    objective: str
    steps: int
    stopped: bool
    superseded: bool
    metric_text: str
    seconds: float
    image: torch.Tensor = None
    latency: float = None    # seconds from the request (slider change / Run click) to the final metric


class Studio:
    """The DeepDream studio panel. ``Studio().show()`` displays it; see the module docstring.

    ``model``: the model selected first: "digits" (embedded, robust), "digits_standard" (embedded,
    standard training) or "vgg13_bn". Both digits models are always offered; vgg13_bn is offered in the model menu
    only when it loads without a download (torchvision importable and its weights in torch.hub's
    cache), or always with ``offer_vgg=True`` (which may download ~500 MB on first use).
    ``debounce``: seconds a slider must rest before the live preview re-runs.
    ``preview_every``: seconds between live updates of the preview image and metric during a run
    (the first comes after 4 steps; Stop and newer requests are checked every 4 steps).
    ``threads``: torch threads during a run (1 is fastest for the digits CNN on a busy CPU;
    ``None`` leaves torch's setting alone).
    """

    def __init__(self, model="digits", *, offer_vgg="if-cached", live=True, debounce=0.1,
                 preview_every=0.1, preview_px=192, threads=1, autorun=True):
        if model not in MODELS:
            raise ValueError(f"model must be one of {', '.join(map(repr, MODELS))}; got {model!r}")
        if offer_vgg not in (True, False, "if-cached"):
            raise ValueError(f"offer_vgg must be True, False or 'if-cached', got {offer_vgg!r}")
        if not (isinstance(debounce, (int, float)) and 0 <= debounce <= 5):
            raise ValueError(f"debounce must be a number of seconds in [0, 5], got {debounce!r}")
        if not (isinstance(preview_every, (int, float)) and 0 <= preview_every <= 10):
            raise ValueError(f"preview_every must be a number of seconds in [0, 10], got {preview_every!r}")
        self.debounce, self.preview_every, self.preview_px, self.threads = debounce, preview_every, preview_px, threads
        self.models = {}
        self.vgg_note = ""
        self.models["digits"] = load_model("digits")
        self.models["digits_standard"] = load_model("digits_standard")
        if model == "vgg13_bn" or offer_vgg is True or (offer_vgg == "if-cached" and self._vgg_cached()):
            try:
                self.models["vgg13_bn"] = load_model("vgg13_bn")
            except WeightsUnavailable as e:
                if model == "vgg13_bn":
                    raise
                self.vgg_note = f"vgg13_bn not offered: {e}"
        else:
            self.vgg_note = "vgg13_bn not offered: torchvision or its cached ImageNet weights are missing"
        recognize_digits(torch.zeros(1, 3, 32, 32))   # fit the judge's classifiers now, not during the first run
        self.history = []
        self._job = 0
        self._pending = None            # (job, kind, not_before, requested_at) — the latest request wins
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._closed = False
        self._running = None
        self._build(model, live)
        self._worker = threading.Thread(target=self._loop, name="studio-worker", daemon=True)
        self._worker.start()
        if autorun:
            self.request("preview")

    # ------------------------------------------------------------------ widgets
    def _build(self, model_name, live):
        import ipywidgets as W

        s = default_settings(model_name)
        style = {"description_width": "105px"}
        wide = W.Layout(width="310px")

        def slider(cls, name, description, **kw):
            w = cls(value=getattr(s, name), description=description, style=style, layout=wide,
                    continuous_update=False, **kw)
            w.add_class(f"studio-{name}")
            return w

        self.title = W.HTML("<b>DeepDream studio</b>", layout=W.Layout(width="180px"))
        self.model_menu = W.Dropdown(options=[(MODELS[n], n) for n in self.models], value=model_name,
                                     description="model", style=style)
        self.model_menu.add_class("studio-model")
        toggles = dict(style={"description_width": "105px", "button_width": "78px"},
                       layout=W.Layout(width="360px"))
        self.objective = W.ToggleButtons(options=list(OBJECTIVES), value="class", description="objective",
                                         **toggles, tooltips=["a class logit", "one channel of a layer",
                                                                "a whole layer (DeepDream)"])
        self.target = W.Dropdown(description="target class", style=style)
        self.layer = W.Dropdown(description="layer", style=style)
        self.channel = W.IntSlider(description="channel", min=0, max=1, style=style, layout=wide,
                                   continuous_update=False)
        self.start = W.Dropdown(options=[("seeded gray noise", "noise"), ("mean image + noise", "mean_image"),
                                         ("a picture (dream on it)", "picture")], value=s.start,
                                description="start from", style=style, layout=wide)
        self.picture = W.Dropdown(description="picture", style=style, layout=wide)
        self.upload = W.FileUpload(accept="image/*", multiple=False, description="upload a picture…",
                                   layout=W.Layout(margin="0 0 0 109px"))
        self.t = {
            "iterations": slider(W.IntSlider, "iterations", "iterations", min=0, max=512, step=8),
            "lr": slider(W.FloatLogSlider, "lr", "step size (lr)", base=10, min=-3, max=0, step=0.1),
            "step_rule": W.Dropdown(options=list(STEP_RULES), value=s.step_rule, description="step rule",
                                    style=style, layout=wide),
            "jitter": slider(W.IntSlider, "jitter", "jitter (px)", min=0, max=32),
            "blur_every": slider(W.IntSlider, "blur_every", "blur every N", min=0, max=32),
            "blur_sigma": slider(W.FloatSlider, "blur_sigma", "blur sigma (px)", min=0.1, max=3.0, step=0.1),
            "clamp": W.Checkbox(value=s.clamp, description="clamp to [0, 1]", style=style),
            "weight_decay": slider(W.FloatSlider, "weight_decay", "weight decay", min=0.0, max=0.1,
                                   step=0.002, readout_format=".3f"),
            "grad_blur_sigma": slider(W.FloatSlider, "grad_blur_sigma", "gradient blur σ", min=0.0, max=3.0, step=0.1),
            "octaves": slider(W.IntSlider, "octaves", "octaves", min=1, max=4),
            "octave_scale": slider(W.FloatSlider, "octave_scale", "octave scale", min=1.1, max=3.0, step=0.1),
            "seed": W.BoundedIntText(value=s.seed, min=0, max=2 ** 31 - 1, description="seed", style=style,
                                     layout=wide),
        }
        self.t["step_rule"].add_class("studio-step_rule")
        self.t["clamp"].add_class("studio-clamp")
        self.live = W.Checkbox(value=live, description="live preview (re-run when a slider moves)",
                               style={"description_width": "initial"})
        self.run_button = W.Button(description="Run", button_style="primary", icon="play")
        self.stop_button = W.Button(description="Stop", button_style="warning", icon="stop")
        self.reset_button = W.Button(description="Defaults", icon="undo")
        self.ablation_button = W.Button(description="Ablation grid", icon="th")
        for w, cls in [(self.run_button, "studio-run"), (self.stop_button, "studio-stop"),
                       (self.ablation_button, "studio-ablation"), (self.reset_button, "studio-defaults")]:
            w.add_class(cls)
            w.layout.width = "auto"
        self.preview = W.Image(format="png", layout=W.Layout(width=f"{self.preview_px}px",
                                                             height=f"{self.preview_px}px"))
        self.preview.add_class("studio-preview")
        self.progress = W.IntProgress(value=0, min=0, max=max(1, s.iterations), description="steps done",
                                      style={"description_width": "80px"}, layout=W.Layout(width="360px"))
        self.progress.add_class("studio-progress")
        self.metric = W.HTML("<span>not run yet</span>")
        self.metric.add_class("studio-metric")
        self.status = W.HTML(f"<small>{self.vgg_note}</small>")
        self.status.add_class("studio-status")
        # hidden until the first grid arrives (an empty <img> shows as a broken-image icon)
        self.ablation_image = W.Image(format="png", layout=W.Layout(max_width="100%", display="none"))
        self.ablation_image.add_class("studio-ablation-grid")

        self._set_model_options(model_name)
        self._sync_enabled()
        self.objective.observe(lambda _c: self._sync_enabled(), names="value")
        self.start.observe(lambda _c: self._sync_enabled(), names="value")
        self.run_button.on_click(lambda _b: self.request("preview", delay=0.0))
        self.stop_button.on_click(lambda _b: self.stop())
        self.reset_button.on_click(lambda _b: self.reset_defaults())
        self.ablation_button.on_click(lambda _b: self.request("ablation", delay=0.0))
        self.model_menu.observe(self._on_model, names="value")
        self.layer.observe(self._on_layer, names="value")
        self.upload.observe(self._on_upload, names="value")
        for w in [self.objective, self.target, self.layer, self.channel, self.start, self.picture, *self.t.values()]:
            w.observe(self._on_change, names="value")

        # Laid out for a 1366x768 screen: the buttons first, then what to optimize beside the
        # preview and its numbers, then the tricks in three columns of four.
        t = self.t
        buttons = W.HBox([self.run_button, self.stop_button, self.reset_button, self.ablation_button, self.live])
        what = W.VBox([self.model_menu, self.objective, self.target, self.layer, self.channel,
                       self.start, self.picture, self.upload])
        numbers = W.VBox([self.progress, self.metric, self.status], layout=W.Layout(width="360px"))
        tricks = W.HBox([W.VBox([t[k] for k in keys]) for keys in (
            ("iterations", "lr", "step_rule", "seed"),
            ("jitter", "blur_every", "blur_sigma", "clamp"),
            ("weight_decay", "grad_blur_sigma", "octaves", "octave_scale"))])
        row = W.HBox([what, self.preview, numbers])
        row.add_class("studio-row")
        self.upload.add_class("studio-upload")
        self.panel = W.VBox([W.HBox([self.title, buttons]), row, W.HTML("<b>tricks</b>"), tricks,
                             self.ablation_image])
        self.panel.add_class("studio")

    def _set_model_options(self, name):
        model, info = self.models[name]
        self._muted = True
        try:
            self.target.options = [(n if n == str(i) else f"{i}: {n}", i) for i, n in enumerate(info.class_names)]
            self.target.value = 7 if is_digits(info) else 0
            self.layer.options = list(info.layers)
            self.layer.value = list(info.layers)[-1]
            self.channel.max = max(0, info.channels[self.layer.value] - 1)
            self.channel.value = 0
            size = info.input_size[1]
            self._pictures = shipped_pictures(size)
            self.picture.options = list(self._pictures)
            self.picture.value = list(self._pictures)[3]
            self._apply_settings(default_settings(name))
        finally:
            self._muted = False

    def _sync_enabled(self):
        """Grey out the pickers the current objective / start do not use."""
        kind = self.objective.value
        self.target.disabled = kind != "class"
        self.layer.disabled = kind == "class"
        self.channel.disabled = kind != "channel"
        self.picture.disabled = self.start.value != "picture"

    def _apply_settings(self, s):
        was = getattr(self, "_muted", False)
        self._muted = True
        try:
            for name, w in self.t.items():
                w.value = getattr(s, name)
            self.start.value = s.start
        finally:
            self._muted = was

    # ------------------------------------------------------------------ state -> dream objects
    def settings(self):
        """The Settings the widgets describe now (validated)."""
        name = self.model_menu.value
        values = {name_: w.value for name_, w in self.t.items()}
        values["lr"] = float(round(values["lr"], 6))
        if self.start.value in STARTS:  # ("picture" is not a Settings start: init_image gives it)
            values["start"] = self.start.value
        return default_settings(name).replace(**values).validate()

    def objective_obj(self):
        return _objective(self.objective.value, self.target.value, self.layer.value, self.channel.value)

    def init_image(self):
        if self.start.value != "picture":
            return None
        if self.picture.value == "uploaded" and getattr(self, "_uploaded", None) is not None:
            return self._uploaded
        return self._pictures[self.picture.value]

    # ------------------------------------------------------------------ events (kernel main thread)
    def _on_change(self, change):
        if getattr(self, "_muted", False):
            return
        if self.live.value:
            self.request("preview", delay=self.debounce)

    def _on_model(self, change):
        self.stop()
        self._set_model_options(change["new"])
        if self.live.value:
            self.request("preview", delay=self.debounce)

    def _on_layer(self, change):
        if change["new"] is None:
            return
        _, info = self.models[self.model_menu.value]
        self.channel.max = max(0, info.channels[change["new"]] - 1)

    def _on_upload(self, change):
        files = change["new"]
        if not files:
            return
        f = files[0] if isinstance(files, (list, tuple)) else list(files.values())[0]
        _, info = self.models[self.model_menu.value]
        try:
            self._uploaded = picture_from_bytes(f["content"], info.input_size[1:], f.get("name", "upload"))
        except ValueError as e:
            self.status.value = f"<span style='color:#b00'>{e}</span>"
            return
        self._pictures["uploaded"] = self._uploaded
        self._muted = True
        try:
            self.picture.options = list(self._pictures)
            self.picture.value = "uploaded"
            self.start.value = "picture"
        finally:
            self._muted = False
        self.status.value = f"<small>uploaded {f.get('name', 'file')}: dreaming on it</small>"
        self.request("preview", delay=0.0)

    def reset_defaults(self):
        self._apply_settings(default_settings(self.model_menu.value))
        self.request("preview", delay=0.0)

    def request(self, kind="preview", delay=0.0):
        """Ask the worker for a run ("preview" or "ablation") in ``delay`` s; a newer request replaces
        an older one that has not started, and stops a preview that is running."""
        if kind not in ("preview", "ablation"):
            raise ValueError(f"kind must be 'preview' or 'ablation', got {kind!r}")
        with self._cond:
            self._job += 1
            now = time.monotonic()
            self._pending = (self._job, kind, now + delay, now)
            self._cond.notify_all()
            return self._job

    def stop(self):
        """Stop the running optimization (at its next callback) and drop any pending request."""
        with self._cond:
            self._pending = None
            self._stop.set()
            self._cond.notify_all()

    def close(self):
        """Stop the worker thread and close the widgets."""
        with self._cond:
            self._closed = True
            self._pending = None
            self._stop.set()
            self._cond.notify_all()
        self._worker.join(timeout=10)
        self.panel.close()

    def show(self):
        from IPython.display import display

        display(self.panel)

    def wait_idle(self, timeout=60.0):
        """Block until no run is pending or running (for tests and scripts); True if idle in time."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._cond:
                if self._pending is None and self._running is None:
                    return True
            time.sleep(0.01)
        return False

    # ------------------------------------------------------------------ the worker thread
    def _loop(self):
        while True:
            with self._cond:
                while not self._closed:
                    if self._pending is not None:
                        wait = self._pending[2] - time.monotonic()
                        if wait <= 0:
                            break
                        self._cond.wait(wait)
                    else:
                        self._cond.wait()
                if self._closed:
                    return
                job, kind, _, requested = self._pending
                self._pending = None
                self._stop.clear()
                self._running = job
            try:
                with limit_threads(self.threads):
                    if kind == "preview":
                        self._run_preview(job, requested)
                    else:
                        self._run_ablation(job)
            except Exception as e:  # shown in the panel: a thread has nowhere else to report
                self.status.value = f"<span style='color:#b00'>run {job} failed: {type(e).__name__}: {e}</span>"
                self.history.append(RunRecord(job, None, kind, 0, True, False, f"error: {e}", 0.0))
            finally:
                with self._cond:
                    self._running = None

    def _superseded(self):
        return self._pending is not None

    def _metric_html(self, job, step, total, value, image, state):
        model, info = self.models[self.model_menu.value]
        kind = self.objective.value
        label = self.target.value if kind == "class" else None
        final = state != "running" and is_digits(info)   # robustness: 32 extra forwards, cheap at 32 px only
        m = describe(model, info, image, label if label is not None else 0, robust=final)
        if label is None:
            label = m["top"]
            m = describe(model, info, image, label, robust=final)
        name = info.class_names[label]
        parts = [f"run {job} · {state} · step {step}/{total}", f"objective value {value:.3g}",
                 f"class {label} ({name}): p_course {m['p_course']:.3f} · p_normalized {m['p_normalized']:.3f}"]
        if m["reads_as"] is not None:
            parts.append(f"{reading_text(m['reads_as'], label)} (the independent judge)")
        else:
            parts.append(f"network's top class: {info.class_names[m['top']]}")
        if m["robustness"] is not None:
            parts.append(f"robustness (mean p under small shifts/rotations) {m['robustness']:.2f}")
        return "<br>".join(parts), m

    def _run_preview(self, job, requested):
        model, info = self.models[self.model_menu.value]
        s = self.settings().replace(callback_every=CHECK_EVERY)
        objective = self.objective_obj()
        init = self.init_image()
        self.progress.max = max(1, s.iterations)
        self.progress.value = 0
        t0 = time.perf_counter()
        last = {"step": 0, "value": float("nan"), "pushed": None}

        def callback(step, image, value):
            last.update(step=step, value=value)
            if self._stop.is_set() or self._superseded():
                raise StopRequested
            now = time.perf_counter()
            if step >= s.iterations or (last["pushed"] is not None and now - last["pushed"] < self.preview_every):
                return      # the final image is pushed below, with the final metric
            last["pushed"] = now
            self.preview.value = to_png(image, self.preview_px)
            self.progress.value = step
            html, _ = self._metric_html(job, step, s.iterations, value, image, "running")
            self.metric.value = html

        res = visualize(model, objective, info=info, settings=s, init=init, callback=callback)
        superseded = res.stopped_early and self._superseded()
        if superseded:
            self.history.append(RunRecord(job, s, objective.name, last["step"], True, True, "", 0.0))
            return
        state = "stopped" if res.stopped_early else "done"
        value = res.values[-1] if res.values else float("nan")
        html, _ = self._metric_html(job, last["step"] if res.stopped_early else s.iterations, s.iterations,
                                    value, res.image, state)
        self.preview.value = to_png(res.image, self.preview_px)
        self.progress.value = last["step"] if res.stopped_early else s.iterations
        seconds = time.perf_counter() - t0
        self.metric.value = html + f"<br>run time {seconds:.2f} s"
        self.history.append(RunRecord(job, s, objective.name, len(res.values), res.stopped_early, False,
                                      html, seconds, res.image, time.monotonic() - requested))

    def _run_ablation(self, job):
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        model, info = self.models[self.model_menu.value]
        s = self.settings()
        label = self.target.value if self.objective.value == "class" else None
        self.status.value = f"<small>ablation grid (run {job}): {2 * (len(TRICKS) + 2)} runs…</small>"
        objective = self.objective_obj()
        rows = [(f"{objective.name}\n{direction.replace('_', '-')}", model, info,
                 run_ablation(model, objective, s, direction, info=info, init=self.init_image()))
                for direction in ABLATIONS]
        fig = ablation_figure(rows, labels=None if label is None else [label] * len(rows),
                              title=f"{MODELS[info.name]}: leave-one-out (top) and add-one-in (bottom)")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
        plt.close(fig)
        self.ablation_image.value = buf.getvalue()
        self.ablation_image.layout.display = None
        self.status.value = f"<small>ablation grid (run {job}) done</small>"
        self.history.append(RunRecord(job, s, "ablation", 0, False, False, "", 0.0))

    @staticmethod
    def _vgg_cached():
        return vgg_available()   # torchvision imports and the weights are cached (offline check)
