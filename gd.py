"""Gradient ascent on the input image: class visualization and DeepDream, with every trick.

Drop-in for the course's ``gd.py`` (see shared CONTRACT.md): the course's functions keep their
names, argument order and meaning, and its call ``gradient_descent(input, model, loss)`` climbs
the class logit ``loss(model(normalize_and_jitter(img)))``.  Read it top to bottom:

1. the course's API (``normalize_and_jitter``, ``forward_and_return_activation``, ``save_img``);
2. ``Settings`` — one field per trick — with ``TRICKS``, ``all_tricks_off`` and
   ``default_settings(model_name, size)``;
3. the optimizer: ``_optimize_inner`` is the loop, one named step per trick;
   ``gradient_descent`` (the course's call) and ``visualize`` (any objective, any start) run it;
4. ablations over the tricks (``ablation``), with measures per picture;
5. the CLI (``python gd.py --help``; ``python gd.py --check PATH`` checks another gd.py).

The rest lives in the ``dream`` package, one small file per concern: ``dream.objectives``
(ClassLogit, LayerChannel, LayerUnit, LayerDream), ``dream.param`` (octaves and the matrices
that resize, roll and normalize), ``dream.transforms`` (blur, jitter, the in-place trick
steps), ``dream.models`` (the embedded digits CNNs — robust ``digits`` and standard
``digits_standard``, any square input from 32 px up — VGG-13-BN, ``load_model``),
``dream.judges`` (the legibility judge ``recognize_digits`` with -1 = no digit, probabilities,
robustness, picture measures), ``dream.gallery``, ``dream.data`` (the 8x8 digits).  Everything
this file used to define is still importable from ``gd``.

Promises to the caller: the model's weights and buffers never change; every submodule's
train/eval flag and every parameter's ``requires_grad`` are restored afterwards; the caller's
``input`` tensor is never modified in place — the optimized image is returned as a NEW,
detached tensor.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch

# Re-exported: gd.<name> keeps working for everything gd.py used to define.
from dream.data import digits_data, digits_split, digits_to_images, random_affine, random_transforms  # noqa: F401
from dream.gallery import save_gallery
from dream.judges import (NO_DIGIT, class_probability, high_frequency_share, images_to_8x8,  # noqa: F401
                          picture_metrics, reading_text, recognize_digits, robustness, total_variation)
from dream.models import (DIGITS_MODELS, DIGITS_SHA256, DIGITS_SIZE, DIGITS_STANDARD_SHA256,  # noqa: F401
                          DIGITS_STANDARD_WEIGHTS, DIGITS_WEIGHTS, IMAGENET_MEAN, IMAGENET_STD, MODEL_NAMES,
                          VGG13_BN_URL, DigitsCNN, ModelInfo, WeightsUnavailable, _eval_frozen,
                          _first_conv_channels, _import_torchvision, _load_digits, _model_device, _sha256,
                          _vgg_info, _vgg_state_dict, check_digits_shape, find_digits_model, find_info,
                          load_model, mean_image, resize_to_32, vgg_available)
from dream.objectives import (ClassLogit, LayerChannel, LayerDream, LayerUnit, Objective,  # noqa: F401
                              StopRequested, _forward_with_activation, _LossObjective)
from dream.param import _interp_matrix, _octave_plan, _resize, _Warp  # noqa: F401
from dream.transforms import _normalize, ascent_step_, blur_, clamp_, gaussian_blur, weight_decay_  # noqa: F401

__all__ = [
    "normalize_and_jitter", "forward_and_return_activation", "gradient_descent", "save_img",
    "main", "Settings", "TRICKS", "default_settings", "all_tricks_off", "load_model", "vgg_available",
    "ModelInfo", "DigitsCNN", "ClassLogit", "LayerChannel", "LayerUnit", "LayerDream", "Objective",
    "visualize", "Result", "StopRequested", "class_probability", "recognize_digits", "robustness",
    "MODEL_NAMES", "WeightsUnavailable", "save_gallery", "mean_image", "ablation", "ablation_variants",
    "picture_metrics", "high_frequency_share", "total_variation", "NO_DIGIT",
]

COURSE_LABELS = (0, 12, 954)  # tench, house finch, banana — the course's main()


# ----------------------------------------------------------------------------------------------
# The course's API
# ----------------------------------------------------------------------------------------------


def normalize_and_jitter(img, step=32):
    """Roll ``img`` by random (dx, dy) in [-step, step-1) along the last two axes, then normalize
    with the ImageNet mean/std (what the network expects).  ``step=0`` rolls nothing.

    The course's default ``step=32`` suits its 224-px images (a shift of up to 1/7 of the width).
    On a 32-px image it is far too much: a roll of up to 32 px wraps the picture all the way
    round, so every step sees a different arrangement.  Scale it with the image: about
    ``size // 7`` (4 px at 32 px; ``default_settings`` uses 2 px at 32 and 14 px at 224)."""
    if step and step > 0:
        dx, dy = (int(v) for v in torch.randint(-step, max(step - 1, -step + 1), (2,)))
        img = img.roll(dx, -1).roll(dy, -2)
    return _normalize(img)


def forward_and_return_activation(model, input, module):
    """Run ``model(input)`` and return the output of ``module`` (caught with a forward hook; the
    hook is removed afterwards, also on error)."""
    return _forward_with_activation(model, input, module)[0]


def save_img(image, path):
    """Save a (1, C, H, W) (or (C, H, W)) tensor as an image file; values are clamped to [0, 1]."""
    from PIL import Image

    t = image.detach().to("cpu", torch.float32)
    if t.dim() == 4:
        if t.shape[0] != 1:
            raise ValueError(f"save_img saves one image: got a batch of {t.shape[0]}")
        t = t[0]
    if t.dim() != 3 or t.shape[0] not in (1, 3):
        raise ValueError(f"save_img needs (1, C, H, W) or (C, H, W) with C in (1, 3); got {tuple(image.shape)}")
    arr = (t.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    if arr.shape[2] == 1:
        arr = arr[:, :, 0]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(str(path))
    return path


# ----------------------------------------------------------------------------------------------
# Settings and tricks
# ----------------------------------------------------------------------------------------------
STEP_RULES = ("plain", "normalized")
STARTS = ("noise", "mean_image")


@dataclass
class Settings:
    """One field per trick; every field can be bound to a notebook slider.

    Units: pixels of the full-resolution image unless said otherwise; the image lives in [0, 1].
    """
    iterations: int = 256          # total gradient steps (shared among the octaves)
    lr: float = 0.05               # step size (image units per step)
    step_rule: str = "normalized"  # "plain": img += lr*grad;  "normalized": img += lr*grad/mean|grad|
    jitter: int = 0                # roll by random dx, dy in [-jitter, jitter] px before each forward (0 = off)
    blur_every: int = 0            # Gaussian-blur the image every N steps (0 = off)
    blur_sigma: float = 0.5        # ... with this sigma (px)
    clamp: bool = True             # clamp pixels to [0, 1] after every step
    weight_decay: float = 0.0      # per step: img -= weight_decay * (img - decay_to)   (0 = off)
    decay_to: float = 0.0          # the value weight decay pulls towards (0 = black background)
    grad_blur_sigma: float = 0.0   # Gaussian-blur the gradient with this sigma (px) (0 = off)
    octaves: int = 1               # optimize at this many scales, coarse to fine (1 = off)
    octave_scale: float = 2.0      # size ratio between consecutive octaves (> 1)
    start: str = "noise"           # "noise": gray level init_mean; "mean_image": the training set's average image
    init_mean: float = 0.5         # noise start: gray level ...
    init_std: float = 8 / 255      # ... and std of the gray noise added to either start (the course: (randn*8+128)/255)
    seed: Optional[int] = 0        # seeds the noise start and the jitter (None = don't seed)
    callback_every: int = 1        # call the callback every N steps

    def validate(self):
        def bad(name, value, allowed):
            raise ValueError(f"Settings.{name}={value!r} is invalid: {allowed}")

        if not isinstance(self.iterations, int) or isinstance(self.iterations, bool) or self.iterations < 0:
            bad("iterations", self.iterations, "must be an integer >= 0")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            bad("lr", self.lr, "must be a finite number > 0")
        if self.step_rule not in STEP_RULES:
            bad("step_rule", self.step_rule, f"allowed: {', '.join(STEP_RULES)}")
        if not isinstance(self.jitter, int) or self.jitter < 0:
            bad("jitter", self.jitter, "must be an integer number of pixels >= 0 (0 = off)")
        if not isinstance(self.blur_every, int) or self.blur_every < 0:
            bad("blur_every", self.blur_every, "must be an integer >= 0 (0 = off)")
        if not self.blur_sigma > 0:
            bad("blur_sigma", self.blur_sigma, "must be > 0 pixels")
        if not 0 <= self.weight_decay < 1:
            bad("weight_decay", self.weight_decay, "must be in [0, 1) (0 = off)")
        if not self.grad_blur_sigma >= 0:
            bad("grad_blur_sigma", self.grad_blur_sigma, "must be >= 0 pixels (0 = off)")
        if not isinstance(self.octaves, int) or self.octaves < 1:
            bad("octaves", self.octaves, "must be an integer >= 1 (1 = off)")
        if not self.octave_scale > 1:
            bad("octave_scale", self.octave_scale, "must be > 1")
        if self.start not in STARTS:
            bad("start", self.start, f"allowed: {', '.join(STARTS)}")
        if not self.init_std >= 0:
            bad("init_std", self.init_std, "must be >= 0")
        if not isinstance(self.callback_every, int) or self.callback_every < 1:
            bad("callback_every", self.callback_every, "must be an integer >= 1")
        return self

    def replace(self, **changes):
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise TypeError(f"unknown Settings field(s) {sorted(unknown)}; valid: "
                            f"{[f.name for f in dataclasses.fields(self)]}")
        return dataclasses.replace(self, **changes)


# trick name -> the Settings overrides that switch it OFF (for ablations).
TRICKS = {
    "jitter": {"jitter": 0},
    "blur": {"blur_every": 0},
    "clamp": {"clamp": False},
    "weight_decay": {"weight_decay": 0.0},
    "grad_blur": {"grad_blur_sigma": 0.0},
    "octaves": {"octaves": 1},
    "normalized_step": {"step_rule": "plain"},
    "mean_start": {"start": "noise"},
}


def all_tricks_off(settings: Settings) -> Settings:
    """``settings`` with every trick in TRICKS switched off (plain gradient ascent)."""
    changes = {}
    for off in TRICKS.values():
        changes.update(off)
    return settings.replace(**changes)


DEFAULTS_FOR = ("digits", "digits_standard", "vgg13_bn")


def default_settings(model_name: str = "digits", size: Optional[int] = None) -> Settings:
    """Tuned defaults per model (``"digits"``, ``"digits_standard"`` or ``"vgg13_bn"``) for images ``size`` px wide
    (default: the model's own size, 32 for digits and 224 for vgg13_bn).

    Every length in pixels (jitter, blur and gradient-blur sigmas) is tuned at the model's own
    size and scaled with the image: a jitter of 2 px at 32 px is 14 px at 224 px.  The course's
    ``normalize_and_jitter(img, step=32)`` is in this sense right for 224-px images (a roll of up
    to 1/7 of the width) and far too much for 32-px ones (it rolls the whole picture around).
    """
    if model_name not in DEFAULTS_FOR:
        raise ValueError(f"no default settings for model {model_name!r}; known: {', '.join(DEFAULTS_FOR)}")
    if size is not None and not (isinstance(size, int) and size >= 1):
        raise ValueError(f"size must be a positive integer number of pixels; got {size!r}")
    if model_name.startswith("digits"):
        # The same for both digits models (so that an ablation compares models, not settings).
        # Measured on the shipped model (all ten digits): p >= 0.9999, 10/10 read by the
        # recognizers, robustness 1.00.  Start from the average digit (Simonyan et al. 2013 start
        # from the data mean); 160 steps (96 give the same p and 10/10 with rougher 6 and 7).
        s = Settings(iterations=160, lr=0.05, step_rule="normalized", jitter=2, blur_every=4,
                     blur_sigma=0.6, clamp=True, weight_decay=0.01, decay_to=0.0,
                     grad_blur_sigma=1.0, octaves=2, octave_scale=2.0, start="mean_image",
                     init_mean=0.1, init_std=0.02, seed=0)
        return _scaled(s, (size or DIGITS_SIZE) / DIGITS_SIZE)
    # The course's jitter of 32 px is for 224-px images; lr as in the homework's hint range.
    s = Settings(iterations=256, lr=0.01, step_rule="normalized", jitter=16, blur_every=4,
                 blur_sigma=0.5, clamp=True, weight_decay=0.001, decay_to=0.5,
                 grad_blur_sigma=1.0, octaves=3, octave_scale=1.5, init_mean=0.5,
                 init_std=8 / 255, seed=0)
    return _scaled(s, (size or 224) / 224)


def _scaled(s: Settings, factor: float) -> Settings:
    """``s`` with its pixel lengths (jitter, blur sigma, gradient-blur sigma) times ``factor``."""
    if factor == 1:
        return s
    return s.replace(jitter=int(round(s.jitter * factor)), blur_sigma=s.blur_sigma * factor,
                     grad_blur_sigma=s.grad_blur_sigma * factor)


# ----------------------------------------------------------------------------------------------
# The optimizer
# ----------------------------------------------------------------------------------------------
@dataclass
class Result:
    image: torch.Tensor            # (N, C, H, W) in [0, 1] if clamped, detached, a new tensor
    values: list                   # objective value at every step (before the step)
    settings: Settings
    stopped_early: bool = False
    seconds: float = 0.0


def _check_input(img, model=None, info=None):
    if not torch.is_tensor(img):
        raise TypeError(f"input must be a torch.Tensor of shape (1, C, H, W); got {type(img).__name__}")
    if img.dim() != 4:
        raise ValueError(f"input must be 4-D (N, C, H, W), e.g. (1, 3, 224, 224); got shape {tuple(img.shape)}")
    if not img.is_floating_point():
        raise TypeError(f"input must be a floating-point tensor in [0, 1]; got {img.dtype}")
    if info is None and model is not None:
        info = find_info(model)
    expected = info.input_size[0] if info is not None else None
    if expected is None and model is not None:
        expected = _first_conv_channels(model)
    if expected is not None and img.shape[1] != expected:
        raise ValueError(f"input has {img.shape[1]} channels but the model expects {expected} "
                         f"(shape (N, {expected}, H, W)); got {tuple(img.shape)}")
    is_digits = (info is not None and info.name.startswith("digits")) or (
        model is not None and find_digits_model(model) is not None)
    if is_digits:
        check_digits_shape(img)
    if not torch.isfinite(img).all():
        raise ValueError("input contains NaN or inf")


def _optimize(model, objective, img0, settings, callback=None, progress=False):
    """Gradient ASCENT of ``objective(model, normalize(jitter(image)))`` on the image."""
    s = settings.validate()
    # Small work (images up to 64x64, or the tiny digits CNN even at 224 px): one thread is
    # several times faster than two on a busy CPU — measured at 224 px under load: 2.4 s vs 33 s
    # per label (per-op overhead and thread contention dominate); the caller's count is restored.
    threads = torch.get_num_threads()
    tiny = img0.shape[-1] * img0.shape[-2] <= 64 * 64 or find_digits_model(model) is not None
    small = tiny and img0.device.type == "cpu"
    if small:
        torch.set_num_threads(1)
    try:
        # gradients are the method: on even when the caller runs us under no_grad/inference_mode
        with torch.inference_mode(False), torch.enable_grad():
            return _optimize_inner(model, objective, img0, s, callback, progress)
    finally:
        if small:
            torch.set_num_threads(threads)


def _progress_bar(total, desc):
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm missing: no bar, the run itself is unaffected
        return None
    return tqdm(total=total, desc=desc, leave=False)


def _optimize_inner(model, objective, img0, s, callback, progress):
    n, c, h, w = img0.shape
    if s.iterations == 0:  # nothing to do: the start image itself (not a down/up-sampled copy)
        return Result(img0.detach().clone(), [], s, False, 0.0)
    plan = _octave_plan(s, h, w)
    # Jitter offsets come from a private generator: the caller's torch RNG is never touched.
    rng = random.Random(s.seed)
    # normalize(x) = (x - mean) / std = x * (1/std) + (-mean/std); _Warp folds it into its matrices
    inv_std = 1.0 / torch.tensor(IMAGENET_STD, dtype=img0.dtype, device=img0.device).view(1, -1, 1, 1)
    shift = -torch.tensor(IMAGENET_MEAN, dtype=img0.dtype, device=img0.device).view(1, -1, 1, 1) * inv_std
    if c != 3:  # a model with other channel counts: normalize with the channel means of ImageNet's
        inv_std = inv_std.mean().view(1, 1, 1, 1)
        shift = shift.mean().view(1, 1, 1, 1)
    # The parameter lives at the octave's resolution; the network always sees full size.
    param = _resize(img0.detach(), plan[0][0]).clone()
    values, stopped, step = [], False, 0
    bar = _progress_bar(s.iterations, getattr(objective, "name", "gd")) if progress else None
    t0 = time.perf_counter()
    try:
        for k, (size, iters) in enumerate(plan):
            if k > 0:
                param = _resize(param.detach(), size).clone()
            ratio = size[0] / h  # pixel lengths at this octave
            gsig, bsig = s.grad_blur_sigma * ratio, s.blur_sigma * ratio
            # Only the network is differentiated by autograd: the leaf is its (normalized,
            # full-size, jittered) input; the rest of the step is _Warp's matrices.
            warp = _Warp(size, (h, w), param.shape, gsig, inv_std, shift)
            # this octave's jitter offsets, drawn at once: (dy, dx) per step
            span = range(-s.jitter, s.jitter + 1)
            offsets = rng.choices(span, k=2 * iters)
            # No torch.no_grad() needed below: ``param`` never requires grad, and the leaf ``x``
            # is made fresh from it each step, so autograd records only the network.
            for i in range(iters):
                dy, dx = offsets[2 * i], offsets[2 * i + 1]
                # octave upsampling, jitter (a roll by dy, dx) and normalization, as matrices
                x = warp.forward(param, dy, dx).requires_grad_(True)
                value = objective(model, x)
                (grad,) = torch.autograd.grad(value, x)
                grad = warp.backward(grad, dy, dx)                    # back to param, blurred (gradient blur)
                v = value.item()
                values.append(v)
                # A NaN/inf image shows up in the next objective value (checked every step, free);
                # the last image is checked after the loop.
                if not math.isfinite(v):
                    raise FloatingPointError(
                        f"the image or the objective became NaN/inf at step {step} "
                        f"(lr={s.lr}, step_rule={s.step_rule!r}); try a smaller lr")
                # --- the tricks, one named step each -----------------------------------------
                ascent_step_(param, grad, s.step_rule, s.lr)          # climb (plain or normalized step)
                weight_decay_(param, s.weight_decay, s.decay_to)      # weight decay towards decay_to
                if s.blur_every and (step + 1) % s.blur_every == 0:
                    blur_(param, bsig)                                # blur the image every N steps
                if s.clamp:
                    clamp_(param)                                     # clamp to [0, 1]
                step += 1
                if bar is not None:
                    bar.update(1)
                if callback is not None and (step % s.callback_every == 0 or step == s.iterations):
                    try:
                        callback(step, _resize(param.detach(), (h, w)).clone(), v)
                    except StopRequested:
                        stopped = True
                        break
            if stopped:
                break
    finally:
        if bar is not None:
            bar.close()
    out = _resize(param.detach(), (h, w))
    if not torch.isfinite(out).all():
        raise FloatingPointError(f"the image became NaN/inf at step {step - 1} (lr={s.lr}, "
                                 f"step_rule={s.step_rule!r}); try a smaller lr")
    if s.clamp:
        out = out.clamp(0, 1)
    return Result(out.detach().clone(), values, s, stopped, time.perf_counter() - t0)


def _guess_model_name(model, img=None):
    """Which default settings suit ``model``: the name ``load_model`` recorded (``gd_info`` on any
    module inside), else "digits" if a DigitsCNN is inside, else "vgg13_bn"."""
    info = find_info(model)
    if info is not None and info.name in DEFAULTS_FOR:
        return info.name
    return "digits" if find_digits_model(model) is not None else "vgg13_bn"


def gradient_descent(input, model, loss, iterations=256, *, settings=None, callback=None, progress=None):
    """The course's function: optimize the image ``input`` so that ``loss(model(x))`` — the class
    logit in the course's call — goes UP (gradient ascent on the logit = descent on the energy).

    ``input``: (1, 3, H, W) in [0, 1]; it is not modified (it may require grad).  Returns a NEW,
    detached image tensor of the same shape.  The model is used in eval mode and left exactly as
    found (modes, requires_grad, weights, batch-norm statistics).  ``settings`` defaults to
    ``default_settings`` for the model (digits for ``DigitsCNN``, else vgg13_bn) with
    ``iterations`` as given; ``progress=None`` shows a bar for long runs on a terminal.
    """
    if not isinstance(iterations, int) or isinstance(iterations, bool) or iterations < 0:
        raise ValueError(f"iterations must be an integer >= 0; got {iterations!r}")
    _check_input(input, model)
    if settings is None:  # tuned for this model at this image size (pixel lengths scale with it)
        settings = default_settings(_guess_model_name(model), size=input.shape[-1])
    s = settings.replace(iterations=iterations)
    if progress is None:
        progress = iterations >= 100 and sys.stderr.isatty()
    device = _model_device(model)
    with _eval_frozen(model):
        res = _optimize(model, _LossObjective(loss), input.detach().to(device, torch.float32),
                        s, callback, progress)
    return res.image.to(input.device, input.dtype)


def visualize(model, objective, *, info=None, settings=None, init=None, callback=None, progress=False):
    """Maximize ``objective`` (``ClassLogit``, ``LayerChannel``, ``LayerUnit``, ``LayerDream``, an
    int label, or a course-style ``loss(output)`` callable) by gradient ascent on the input.

    ``init``: None starts from ``settings.start``: ``"noise"`` is the gray level
    ``settings.init_mean``, ``"mean_image"`` the model's average training image (``mean_image``;
    Simonyan et al. 2013 start class visualizations there), each plus seeded gray noise of std
    ``settings.init_std`` (the same noise in every channel).  An image tensor (N, C, H, W) in
    [0, 1] starts from that picture ("dream on a picture"; it is copied, never modified).
    ``callback(step, image, value)`` is called every ``settings.callback_every`` steps; raising
    ``StopRequested`` in it ends the run and returns the current image.  Returns a ``Result``.
    """
    info = info if info is not None else find_info(model)
    if settings is None:
        name = info.name if info is not None and info.name in DEFAULTS_FOR else _guess_model_name(model)
        settings = default_settings(name, size=init.shape[-1] if torch.is_tensor(init) else None)
    settings.validate()
    if isinstance(objective, int):
        objective = ClassLogit(objective)
    elif not isinstance(objective, Objective):
        objective = _LossObjective(objective)
    device = _model_device(model)
    if init is None:
        c, h, w = info.input_size if info is not None else (3, 224, 224)
        g = torch.Generator().manual_seed(settings.seed if settings.seed is not None else
                                          int(torch.randint(0, 2 ** 31, (1,))))
        noise = torch.randn(1, 1, h, w, generator=g) * settings.init_std
        base = mean_image(info) if settings.start == "mean_image" else settings.init_mean
        init = (base + noise).expand(1, c, h, w).clamp(0, 1)
    _check_input(init, model, info)
    with _eval_frozen(model):
        objective = objective.resolve(model, info)
        return _optimize(model, objective, init.detach().to(device, torch.float32).clone(),
                         settings, callback, progress)


# ----------------------------------------------------------------------------------------------
# Ablations over the tricks (the measures per picture: dream.judges.picture_metrics)
# ----------------------------------------------------------------------------------------------


ABLATIONS = ("leave_one_out", "add_one_in")


def ablation_variants(settings, direction="leave_one_out"):
    """The runs of an ablation over ``TRICKS``, as (name, Settings):

    * ``"leave_one_out"``: all tricks on, then each trick switched off alone ("without jitter",
      ...), then all off — what each trick is worth among the others;
    * ``"add_one_in"``: all tricks off, then each trick switched on alone ("only jitter", ...),
      then all on — what each trick buys by itself.
    """
    if direction not in ABLATIONS:
        raise ValueError(f"unknown ablation direction {direction!r}; allowed: {', '.join(ABLATIONS)}")
    off = all_tricks_off(settings)
    if direction == "leave_one_out":
        runs = [("all tricks on", settings)]
        runs += [(f"without {k}", settings.replace(**changes)) for k, changes in TRICKS.items()]
        return runs + [("all tricks off", off)]
    runs = [("all tricks off", off)]
    for k, changes in TRICKS.items():  # the trick's fields back at their values in ``settings``
        runs.append((f"only {k}", off.replace(**{f: getattr(settings, f) for f in changes})))
    return runs + [("all tricks on", settings)]


def ablation(model, label, direction="leave_one_out", settings=None, seed=0, info=None, init=None):
    """Run an ablation (``ablation_variants``) for class ``label`` — same start, same seed for
    every run — and measure each picture (``picture_metrics``).  ``settings``: the "all tricks on"
    settings (default: ``default_settings`` for the model).  Returns a list of
    ``(name, image, metrics)``."""
    info = info if info is not None else find_info(model)
    if settings is None:
        settings = default_settings(info.name if info is not None and info.name in DEFAULTS_FOR
                                    else _guess_model_name(model))
    runs = ablation_variants(settings.replace(seed=seed), direction)
    images = [visualize(model, ClassLogit(label), info=info, settings=s, init=init).image for _, s in runs]
    metrics = picture_metrics(model, images, [label] * len(images), info)
    return [(name, img, m) for (name, _), img, m in zip(runs, images, metrics)]


# ----------------------------------------------------------------------------------------------
# The CLI (the gallery PNG: dream.gallery.save_gallery)
# ----------------------------------------------------------------------------------------------


def _parse_labels(text):
    try:
        return [int(t) for t in text.replace(",", " ").split()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--labels takes integers separated by commas or spaces; got {text!r}")


def build_parser():
    p = argparse.ArgumentParser(
        prog="gd.py",
        description="Gradient ascent on the input image: class visualization (the course's main job) "
                    "and middle-layer visualization. Writes img_{label}.png per label and prints "
                    "ANSWER_FOR_LABEL_{label}: <prob> (the course's score: softmax on the raw image) "
                    "and NORMALIZED_PROB_FOR_LABEL_{label}: <prob> (on the normalized input).",
        epilog="python gd.py --check PATH... [--json FILE]: check other gd.py files as the course grades "
               "them (grading/gd_check.py; python gd.py --check --help lists its options).")
    p.add_argument("--model", choices=MODEL_NAMES, default="auto",
                   help="auto: vgg13_bn if torchvision and its weights are available, else digits")
    p.add_argument("--labels", type=_parse_labels, default=None,
                   help="labels to visualize, e.g. '0,12,954' (default: 0,12,954 for ImageNet, 0-9 for digits)")
    p.add_argument("--iterations", type=int, default=None, help="gradient steps per image (default: the model's)")
    p.add_argument("--lr", type=float, default=None, help="step size (default: the model's)")
    p.add_argument("--out", default=".", help="output directory for img_{label}.png (default: .)")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:1, ...")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--layer", default=None, help="visualize a middle layer instead of classes (name; see --list-layers)")
    p.add_argument("--channel", type=int, default=None, help="channel of --layer (omit: DeepDream on the whole layer)")
    p.add_argument("--list-layers", action="store_true", help="print the model's layer names and channel counts")
    p.add_argument("--no-tricks", action="store_true", help="plain gradient ascent (every trick off)")
    p.add_argument("--gallery", default=None, help="also write a gallery PNG of all labels to this path")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def check_other_gd(argv):
    """``python gd.py --check PATH... [--json FILE] ...``: check other gd.py files the way the
    course grades them (grading/gd_check.py; its own ``--help`` lists the options)."""
    try:
        from grading.cli import main as grading_main
    except ModuleNotFoundError as e:
        if e.name not in ("grading", "grading.cli"):
            raise
        raise SystemExit("gd.py --check needs the grading package (the TA's checker), which this copy of "
                         "the project does not have")
    return grading_main(argv, kind="gd")


def main(argv=None):
    """The course's main job (and the CLI): see ``python gd.py --help``."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--check" in argv:
        return check_other_gd([a for a in argv if a != "--check"])
    args = build_parser().parse_args(argv)
    if args.iterations is not None and args.iterations < 0:
        raise SystemExit(f"gd.py: --iterations must be >= 0; got {args.iterations}")
    try:
        model, info = load_model(args.model, args.device)
    except (RuntimeError, ValueError) as e:
        raise SystemExit(f"gd.py: {e}")
    if args.list_layers:
        for n, c in info.channels.items():
            print(f"{n}\t{c} channels")
        return 0
    s = default_settings(info.name).replace(seed=args.seed)
    if args.no_tricks:
        s = all_tricks_off(s)
    if args.iterations is not None:
        s = s.replace(iterations=args.iterations)
    if args.lr is not None:
        s = s.replace(lr=args.lr)
    try:
        s.validate()
    except ValueError as e:
        raise SystemExit(f"gd.py: {e}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    progress = not args.no_progress and sys.stderr.isatty() and s.iterations >= 100
    if args.layer is not None:
        try:
            obj = (LayerDream(args.layer) if args.channel is None else LayerChannel(args.layer, args.channel))
            res = visualize(model, obj, info=info, settings=s, progress=progress)
        except ValueError as e:
            raise SystemExit(f"gd.py: {e}")
        tag = args.layer.replace(".", "_") + ("" if args.channel is None else f"_ch{args.channel}")
        path = out / f"img_layer_{tag}.png"
        save_img(res.image, path)
        print(f"LAYER_{tag}: objective {res.values[-1] if res.values else float('nan'):.4f} -> {path}")
        return 0
    labels = args.labels if args.labels is not None else (list(range(10)) if info.name.startswith("digits") else list(COURSE_LABELS))
    n_classes = len(info.class_names)
    bad = [l for l in labels if not 0 <= l < n_classes]
    if bad:
        raise SystemExit(f"gd.py: labels {bad} out of range for {info.name} (0..{n_classes - 1})")
    images, probs = [], []
    t0 = time.perf_counter()
    for label in labels:
        res = visualize(model, ClassLogit(label), info=info, settings=s, progress=progress)
        save_img(res.image, out / f"img_{label}.png")
        p_course, p_norm = class_probability(model, res.image, label, info)
        print(f"ANSWER_FOR_LABEL_{label}: {p_course:.6f}")
        print(f"NORMALIZED_PROB_FOR_LABEL_{label}: {p_norm:.6f}")
        images.append(res.image)
        probs.append(p_norm)
    elapsed = time.perf_counter() - t0
    read = None
    if info.name.startswith("digits"):
        read = recognize_digits(images)
        ok = sum(int(r == l) for r, l in zip(read, labels))
        print(f"RECOGNIZED: {ok}/{len(labels)} (the legibility judge reads {read}; -1 = no digit)")
    print(f"TIME: {elapsed:.2f} s for {len(labels)} labels ({info.name}, {s.iterations} iterations each)")
    if args.gallery:
        names = [f"{l}" if info.name.startswith("digits") else f"{l} {info.class_names[l]}" for l in labels]
        save_gallery(images, names, args.gallery, probs=probs, reads=read, targets=labels,
                     title=f"gd.py {info.name}: class visualizations (p on normalized input)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
