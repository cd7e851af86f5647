"""Gradient ascent on the input image: class visualization and DeepDream, with every trick.

Drop-in for the course's ``gd.py`` (see shared CONTRACT.md): the course's functions keep their
names, argument order and meaning, and its call ``gradient_descent(input, model, loss)`` climbs
the class logit ``loss(model(normalize_and_jitter(img)))``.  Everything else is an extension:

* ``Settings`` — one field per trick (jitter, blur, clamp, weight decay, gradient blur,
  octaves, step rule, start), so a notebook slider can bind to each; ``TRICKS`` says how to
  switch each one off; ``default_settings(model_name)`` gives tuned defaults.
* Objectives — ``ClassLogit``, ``LayerChannel``, ``LayerUnit``, ``LayerDream``; ``visualize``
  runs any of them from gray noise, from the model's average training image (``mean_image``),
  or from a given picture ("dream on a picture").
* Models — ``load_model("digits" | "digits_standard" | "vgg13_bn" | "auto")``.  ``digits`` is a small CNN trained
  on scikit-learn's bundled 8x8 handwritten digits (``tools/train_digits.py``); its weights
  ship in ``models/digits_cnn.pt`` and are checked against a recorded SHA-256.  It takes the
  same input as the course's VGG: (N, 3, S, S) images in [0, 1] normalized with the ImageNet
  mean/std, S = 32 (its own size) or any square size above, e.g. the course's 224 (area-resized
  to 32 inside the model).  Wrapped models (nn.Sequential, DataParallel, a module calling it) are
  recognized by what they contain.  torchvision is imported only for ``vgg13_bn``; ``vgg_available()`` says (offline)
  whether it can be loaded.
* Scoring — ``class_probability`` (as the course scores it, and on the normalized input),
  ``recognize_digits`` (independent scikit-learn classifiers reading the 8x8 downsample),
  ``robustness`` (target probability under random shifts/rotations/rescalings).
* CLI — ``python gd.py --help``.

Promises to the caller: the model's weights and buffers never change; every submodule's
train/eval flag and every parameter's ``requires_grad`` are restored afterwards; the caller's
``input`` tensor is never modified in place — the optimized image is returned as a NEW,
detached tensor.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import math
import os
import random
import socket
import sys
import time
from collections import Counter, OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from dream.data import as_batch as _as_batch
from dream.data import digits_data, digits_split, digits_to_images, random_affine, random_transforms
from dream.judges import (NO_DIGIT, high_frequency_share, images_to_8x8, reading_text, recognize_digits,
                          total_variation)

__all__ = [
    "normalize_and_jitter", "forward_and_return_activation", "gradient_descent", "save_img",
    "main", "Settings", "TRICKS", "default_settings", "load_model", "vgg_available", "ModelInfo", "DigitsCNN",
    "ClassLogit", "LayerChannel", "LayerUnit", "LayerDream", "Objective", "visualize", "Result",
    "StopRequested", "class_probability", "recognize_digits", "robustness", "MODEL_NAMES",
    "WeightsUnavailable", "save_gallery", "mean_image",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
MODEL_NAMES = ("auto", "digits", "digits_standard", "vgg13_bn")
COURSE_LABELS = (0, 12, 954)  # tench, house finch, banana — the course's main()

HERE = Path(__file__).resolve().parent
DIGITS_WEIGHTS = HERE / "models" / "digits_cnn.pt"
DIGITS_STANDARD_WEIGHTS = HERE / "models" / "digits_standard_cnn.pt"
# SHA-256 of models/digits_cnn.pt as written by `python tools/train_digits.py` (checked on every load;
# the tensors are bit-identical on rerun, the bytes too when written to the same file name).
DIGITS_SHA256 = "5497a7703d6661b9c50d19e5c09f2f4017d6f71390a0e30410e8c777cd9defb6"
# ... and of models/digits_standard_cnn.pt (`python tools/train_digits.py --preset standard`).
DIGITS_STANDARD_SHA256 = "8c01efe1c925b3d90036fd94655b4882c6c93b7d3546290101335d334522613a"
VGG13_BN_URL = "https://download.pytorch.org/models/vgg13_bn-abd245e5.pth"


# ----------------------------------------------------------------------------------------------
# The course's API
# ----------------------------------------------------------------------------------------------
def _normalize(img, mean=IMAGENET_MEAN, std=IMAGENET_STD):
    m = torch.as_tensor(mean, dtype=img.dtype, device=img.device).view(1, -1, 1, 1)
    s = torch.as_tensor(std, dtype=img.dtype, device=img.device).view(1, -1, 1, 1)
    return (img - m) / s


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


def _jitter(img, px):
    """Roll by random (dx, dy), each uniform in [-px, px] (symmetric; 0 = identity)."""
    if px <= 0:
        return img
    dx, dy = (int(v) for v in torch.randint(-px, px + 1, (2,)))
    return img.roll((dy, dx), dims=(-2, -1))


def forward_and_return_activation(model, input, module):
    """Run ``model(input)`` and return the output of ``module`` (caught with a forward hook; the
    hook is removed afterwards, also on error)."""
    return _forward_with_activation(model, input, module)[0]


def _forward_with_activation(model, input, module):
    store = {}

    def hook(_m, _inp, out):
        store["act"] = out

    handle = module.register_forward_hook(hook)
    try:
        out = model(input)
    finally:
        handle.remove()
    if "act" not in store:
        raise ValueError(f"module {module.__class__.__name__} was not called by the model's forward")
    return store["act"], out


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
# Small image operations
# ----------------------------------------------------------------------------------------------
_BLUR_MATRICES = {}


def _blur_matrix(n, sigma, device, dtype, transposed=False):
    """(n, n) matrix applying a 1-D Gaussian (radius 2.5 sigma, reflect padding) to a length-n
    signal (``transposed``: its transpose, stored contiguous, which ``mm`` multiplies faster).
    Blurring as two small matrix products is several times faster on a CPU than a small
    convolution for the image sizes used here."""
    key = (n, sigma, device, dtype, transposed)
    m = _BLUR_MATRICES.get(key)
    if m is None and transposed:
        m = _BLUR_MATRICES[key] = _blur_matrix(n, sigma, device, dtype).t().contiguous()
    if m is None:
        radius = max(1, int(math.ceil(2.5 * sigma)))
        x = torch.arange(-radius, radius + 1, dtype=torch.float64)
        k = torch.exp(-0.5 * (x / sigma) ** 2)
        k = k / k.sum()
        m = torch.zeros(n, n, dtype=torch.float64)
        for i in range(n):
            for j, wgt in zip(range(i - radius, i + radius + 1), k.tolist()):
                if n > 1:  # reflect without repeating the edge: -1 -> 1, n -> n-2
                    period = 2 * (n - 1)
                    j = j % period
                    j = period - j if j >= n else j
                else:
                    j = 0
                m[i, j] += wgt
        m = m.to(device=device, dtype=dtype)
        if len(_BLUR_MATRICES) > 256:  # a slider swept through many sigmas: start over
            _BLUR_MATRICES.clear()
        _BLUR_MATRICES[key] = m
    return m


def gaussian_blur(img, sigma, out=None):
    """Gaussian blur per channel of (N, C, H, W) (sigma in pixels, radius 2.5 sigma, reflect
    padding; 0 = identity).  ``out``: a contiguous tensor of img's shape to write into (may be
    ``img`` itself); returns it."""
    if sigma <= 0:
        return img if out is None else out.copy_(img)
    h, w = img.shape[-2:]
    mh = _blur_matrix(h, sigma, img.device, img.dtype)
    mwt = _blur_matrix(w, sigma, img.device, img.dtype, transposed=True)
    rows = torch.mm(img.reshape(-1, w), mwt).view(-1, h, w)  # along W, every row at once
    if out is None:
        out = torch.empty_like(img, memory_format=torch.contiguous_format)
    torch.bmm(mh.expand(rows.shape[0], h, h), rows, out=out.view(-1, h, w))  # then along H
    return out


_INTERP_MATRICES = {}


def _interp_matrix(n_in, n_out, device, dtype):
    """(n_out, n_in) matrix of 1-D linear interpolation as ``F.interpolate(..., align_corners=False)``
    does it; bilinear resizing is this along H and along W, so its adjoint is the transposes."""
    key = (n_in, n_out, str(device), dtype)
    m = _INTERP_MATRICES.get(key)
    if m is None:
        eye = torch.eye(n_in, dtype=torch.float64).view(n_in, 1, n_in)
        m = F.interpolate(eye, size=n_out, mode="linear", align_corners=False)[:, 0, :].t()
        m = m.to(device=device, dtype=dtype).contiguous()
        _INTERP_MATRICES[key] = m
    return m


def _resize(img, size):
    if tuple(img.shape[-2:]) == tuple(size):
        return img
    return F.interpolate(img, size=size, mode="bilinear", align_corners=False)


# ----------------------------------------------------------------------------------------------
# Keeping the caller's model as it was
# ----------------------------------------------------------------------------------------------
@contextmanager
def _eval_frozen(model):
    """Eval mode and frozen parameters for the duration; every flag restored afterwards."""
    modes = [(m, m.training) for m in model.modules()]
    grads = [(p, p.requires_grad) for p in model.parameters()]
    try:
        model.eval()
        for p, _ in grads:
            p.requires_grad_(False)
        yield model
    finally:
        for m, was_training in modes:
            m.training = was_training
        for p, rg in grads:
            p.requires_grad_(rg)


def _model_device(model):
    for p in model.parameters():
        return p.device
    for b in model.buffers():
        return b.device
    return torch.device("cpu")


# ----------------------------------------------------------------------------------------------
# Objectives
# ----------------------------------------------------------------------------------------------
class StopRequested(Exception):
    """Raise inside a ``callback`` to end a run cleanly; the current image is returned."""


class Objective:
    """Something to maximize: ``objective(model, x)`` -> scalar tensor, ``x`` the network input
    (normalized).  ``resolve(model, info)`` binds layer names to modules."""
    name = "objective"

    def resolve(self, model, info=None):
        return self

    def __call__(self, model, x):  # pragma: no cover - abstract
        raise NotImplementedError


class ClassLogit(Objective):
    """The course's objective: the logit of class ``label`` (an int, or one label per image)."""

    def __init__(self, label):
        self.label = label
        self.name = f"class {label}"

    def __call__(self, model, x):
        out = model(x)
        if out.dim() != 2:
            raise ValueError(f"ClassLogit needs a model returning (N, classes) logits; got {tuple(out.shape)}")
        if isinstance(self.label, int) and 0 <= self.label < out.shape[1]:
            return out[0, self.label] if out.shape[0] == 1 else out[:, self.label].sum()
        labels = self.label if isinstance(self.label, (list, tuple)) else [self.label] * out.shape[0]
        if len(labels) != out.shape[0]:
            raise ValueError(f"{len(labels)} labels for a batch of {out.shape[0]} images")
        for lab in labels:
            if not (isinstance(lab, int) and 0 <= lab < out.shape[1]):
                raise ValueError(f"label {lab!r} out of range: the model has {out.shape[1]} classes (0..{out.shape[1] - 1})")
        idx = torch.as_tensor(labels, device=out.device)
        return out.gather(1, idx.view(-1, 1)).sum()


class _LossObjective(Objective):
    """Wraps the course's ``loss(output)`` (e.g. ``lambda t: t[0, label].mean()``)."""

    def __init__(self, loss):
        if not callable(loss):
            raise TypeError(f"loss must be callable (e.g. lambda t: t[0, label].mean()); got {type(loss).__name__}")
        self.loss = loss
        self.name = "loss"

    def __call__(self, model, x):
        value = self.loss(model(x))
        if not torch.is_tensor(value) or value.numel() != 1:
            shape = tuple(value.shape) if torch.is_tensor(value) else type(value).__name__
            raise ValueError(f"loss must return a scalar tensor (one element), e.g. t[0, label].mean(); got {shape}")
        return value.reshape(())


def _resolve_layer(model, layer, info=None):
    if isinstance(layer, nn.Module):
        if not any(m is layer for m in model.modules()):
            raise ValueError("the given layer module is not part of the model")
        return layer
    if not isinstance(layer, str):
        raise TypeError(f"layer must be a name or an nn.Module; got {type(layer).__name__}")
    if info is not None and layer in info.layers:
        return info.layers[layer]
    named = dict(model.named_modules())
    if layer in named and layer != "":
        return named[layer]
    valid = list(info.layers) if info is not None else [n for n in named if n]
    raise ValueError(f"unknown layer {layer!r}; valid layer names: {', '.join(valid)}")


class _LayerObjective(Objective):
    def __init__(self, layer):
        self.layer = layer
        self.module = layer if isinstance(layer, nn.Module) else None
        self.layer_name = layer if isinstance(layer, str) else layer.__class__.__name__

    def resolve(self, model, info=None):
        self.module = _resolve_layer(model, self.layer, info)
        return self

    def activation(self, model, x):
        if self.module is None:
            self.resolve(model)
        act, _ = _forward_with_activation(model, x, self.module)
        if act.dim() != 4:
            raise ValueError(f"layer {self.layer_name} gives a {act.dim()}-D activation; pick a conv layer (N, C, H, W)")
        return act

    def _channel(self, act, channel):
        if not 0 <= channel < act.shape[1]:
            raise ValueError(f"channel {channel} out of range: layer {self.layer_name} has {act.shape[1]} channels (0..{act.shape[1] - 1})")
        return act[:, channel]


class LayerChannel(_LayerObjective):
    """Mean activation of one channel of a middle layer (DeepDream-style)."""

    def __init__(self, layer, channel):
        super().__init__(layer)
        self.channel = int(channel)
        self.name = f"{self.layer_name} channel {channel}"

    def __call__(self, model, x):
        return self._channel(self.activation(model, x), self.channel).mean(dim=(1, 2)).sum()


class LayerUnit(_LayerObjective):
    """One unit (the centre one by default) of a channel of a middle layer."""

    def __init__(self, layer, channel, y=None, x=None):
        super().__init__(layer)
        self.channel, self.y, self.x = int(channel), y, x
        self.name = f"{self.layer_name} channel {channel} unit"

    def __call__(self, model, x):
        a = self._channel(self.activation(model, x), self.channel)
        yy = a.shape[1] // 2 if self.y is None else self.y
        xx = a.shape[2] // 2 if self.x is None else self.x
        if not (0 <= yy < a.shape[1] and 0 <= xx < a.shape[2]):
            raise ValueError(f"unit ({yy}, {xx}) outside the {a.shape[1]}x{a.shape[2]} map of {self.layer_name}")
        return a[:, yy, xx].sum()


class LayerDream(_LayerObjective):
    """DeepDream: mean of the squared activations of a whole layer."""

    def __init__(self, layer):
        super().__init__(layer)
        self.name = f"{self.layer_name} dream"

    def __call__(self, model, x):
        return self.activation(model, x).pow(2).mean(dim=(1, 2, 3)).sum()


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


def find_digits_model(model):
    """The DigitsCNN inside ``model`` (the model itself, or wrapped: nn.Sequential, DataParallel, a
    module that calls it), else None.  Models are identified by what they contain, never by the
    type of the top module."""
    for m in model.modules():
        if isinstance(m, DigitsCNN):
            return m
    return None


def find_info(model):
    """The ``ModelInfo`` that ``load_model`` attached (``gd_info``) to ``model`` or any module inside
    it, else None."""
    for m in model.modules():
        info = getattr(m, "gd_info", None)
        if isinstance(info, ModelInfo):
            return info
    return None


def _first_conv_channels(model):
    if find_digits_model(model) is not None:
        return 3  # the digits CNN takes 3 channels and makes them gray itself (its conv1 has 1)
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            return m.in_channels
    return None


def _optimize(model, objective, img0, settings, callback=None, progress=False):
    """Gradient ASCENT of ``objective(model, normalize(jitter(image)))`` on the image."""
    s = settings.validate()
    # Small images (the digits): one thread is several times faster than two on a busy CPU
    # (per-op overhead dominates); the caller's thread count is restored afterwards.
    threads = torch.get_num_threads()
    small = img0.shape[-1] * img0.shape[-2] <= 64 * 64 and img0.device.type == "cpu"
    if small:
        torch.set_num_threads(1)
    try:
        # gradients are the method: on even when the caller runs us under no_grad/inference_mode
        with torch.inference_mode(False), torch.enable_grad():
            return _optimize_inner(model, objective, img0, s, callback, progress)
    finally:
        if small:
            torch.set_num_threads(threads)


def _octave_plan(s, h, w):
    sizes = []
    for k in range(s.octaves):
        f = s.octave_scale ** (s.octaves - 1 - k)
        sizes.append((max(4, int(round(h / f))), max(4, int(round(w / f)))))
    base, extra = divmod(s.iterations, s.octaves)
    iters = [base + (1 if k < extra else 0) for k in range(s.octaves)]
    return list(zip(sizes, iters))


class _Warp:
    """What one step does to the image before the network and to the gradient after it, as
    small matrices (one octave, one set of tricks).

    Forward: the parameter P (the octave's size m x n) is upsampled to the full h x w, rolled by
    the jitter (dy, dx) and normalized, per channel c::

        x_c = inv_std_c * (A_dy @ P_c @ B_dx^T) + shift_c

    where A_dy is the (h, m) interpolation matrix with its rows rolled by dy (the identity,
    rolled, at full size) and B_dx the same along the width.  Backward: the exact adjoint,
    with the gradient blur G (reflect-padded Gaussian) folded in::

        dP_c = inv_std_c * (G_m @ A_dy^T) @ dX_c @ (G_n @ B_dx^T)^T

    Two matrix products each way replace resize, two rolls, the normalization and the blur:
    fewer tensor operations per step, which is what costs time on small images.  The matrices
    are built once per jitter offset and kept for the octave.
    """

    def __init__(self, size, full, shape, grad_sigma, inv_std, shift):
        (self.m, self.n), (self.h, self.w) = size, full
        self.batch, self.channels = shape[0], shape[1]
        dev, dt = inv_std.device, inv_std.dtype
        self.uh = _interp_matrix(self.m, self.h, dev, dt)  # (h, m); the identity when m == h
        self.uw = _interp_matrix(self.n, self.w, dev, dt)
        self.gm = _blur_matrix(self.m, grad_sigma, dev, dt) if grad_sigma > 0 else None
        self.gn = _blur_matrix(self.n, grad_sigma, dev, dt) if grad_sigma > 0 else None
        self.scale = inv_std.view(-1, 1, 1)  # (C or 1, 1, 1)
        self.shift = self._per_image(shift.view(-1, 1, 1))  # (N*C, 1, 1)
        self._rows, self._cols = {}, {}

    def _per_image(self, t):
        """(C or 1, r, c) -> (N*C, r, c): one matrix per image and channel, for ``bmm``."""
        return t.expand(self.batch, self.channels, *t.shape[-2:]).reshape(-1, *t.shape[-2:]).contiguous()

    def rows(self, dy):
        """(inv_std * A_dy, inv_std * G_m @ A_dy^T), each repeated per image and channel."""
        r = self._rows.get(dy)
        if r is None:
            a = self.uh.roll(dy, dims=0)
            ga = a.t() if self.gm is None else self.gm @ a.t()
            r = self._rows[dy] = (self._per_image(self.scale * a), self._per_image(self.scale * ga))
        return r

    def cols(self, dx):
        """(B_dx^T, (G_n @ B_dx^T)^T): shapes (n, w) and (w, n)."""
        r = self._cols.get(dx)
        if r is None:
            b = self.uw.roll(dx, dims=0)
            gb = b.t() if self.gn is None else self.gn @ b.t()
            r = self._cols[dx] = (b.t().contiguous(), gb.t().contiguous())
        return r

    def forward(self, param, dy, dx):
        """The network's input for this step (a new tensor; ``param`` is only read)."""
        a, bt = self.rows(dy)[0], self.cols(dx)[0]
        y = torch.mm(param.reshape(-1, self.n), bt).view(-1, self.m, self.w)
        return torch.baddbmm(self.shift, a, y).view(self.batch, self.channels, self.h, self.w)

    def backward(self, grad, dy, dx):
        """The gradient on the network's input pulled back to ``param``, blurred."""
        ga, gbt = self.rows(dy)[1], self.cols(dx)[1]
        z = torch.mm(grad.reshape(-1, self.w), gbt).view(-1, self.h, self.n)
        return torch.bmm(ga, z).view(self.batch, self.channels, self.m, self.n)


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
    bar = None
    if progress:
        try:
            from tqdm.auto import tqdm
            bar = tqdm(total=s.iterations, desc=getattr(objective, "name", "gd"), leave=False)
        except Exception:  # tqdm missing: no bar, the run itself is unaffected
            bar = None
    decay_keep, decay_add = 1.0 - s.weight_decay, s.weight_decay * s.decay_to
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
            per_image = param[0].numel()
            # No torch.no_grad() needed below: ``param`` never requires grad, and the leaf ``x``
            # is made fresh from it each step, so autograd records only the network.
            for i in range(iters):
                dy, dx = offsets[2 * i], offsets[2 * i + 1]
                x = warp.forward(param, dy, dx).requires_grad_(True)
                value = objective(model, x)
                (grad,) = torch.autograd.grad(value, x)
                grad = warp.backward(grad, dy, dx)
                v = value.item()
                values.append(v)
                # A NaN/inf image shows up in the next objective value (checked every step, free);
                # the last image is checked after the loop.
                if not math.isfinite(v):
                    raise FloatingPointError(
                        f"the image or the objective became NaN/inf at step {step} "
                        f"(lr={s.lr}, step_rule={s.step_rule!r}); try a smaller lr")
                if s.step_rule == "normalized":
                    # lr * grad / mean|grad| (per image): one reduction, one fused update
                    l1 = torch.linalg.vector_norm(grad, 1, dim=(1, 2, 3), keepdim=True)
                    param.addcdiv_(grad, l1.clamp_(min=1e-12), value=s.lr * per_image)
                else:
                    param.add_(grad, alpha=s.lr)
                if s.weight_decay > 0:  # img -= weight_decay * (img - decay_to)
                    param.mul_(decay_keep)
                    if decay_add:
                        param.add_(decay_add)
                if s.blur_every and (step + 1) % s.blur_every == 0:
                    gaussian_blur(param, bsig, out=param)
                if s.clamp:
                    param.clamp_(0, 1)
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
# The embedded digits model
# ----------------------------------------------------------------------------------------------
class DigitsCNN(nn.Module):
    """Small CNN for scikit-learn's 8x8 digits, upsampled to 32x32.

    Input: (N, 3, S, S) with S >= 32 — 32 (its own size) or the course's 224 — an image in [0, 1]
    normalized with the ImageNet mean/std, exactly what the course's ``normalize_and_jitter``
    produces.  Larger images are first area-averaged down to 32x32 (``resize_to_32``:
    differentiable, so gradients reach every pixel of the big image).  Then the normalization is undone, the image
    turned to gray (channel mean) and standardized per image (zero mean, unit variance), so the
    model reads bright ink on a dark background whatever the brightness/contrast.  The head keeps
    the spatial layout (flatten + fully connected, no global average pooling) and the
    activations are smooth (ELU), which keeps input gradients shaped like digits.
    """

    def __init__(self, width=16):
        super().__init__()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        w = width
        self.features = nn.Sequential(OrderedDict([
            ("pool0", nn.AvgPool2d(2)),                    # 32 -> 16 (the data are 8x8)
            ("conv1", nn.Conv2d(1, w, 3, padding=1)), ("act1", nn.ELU()),
            ("pool1", nn.AvgPool2d(2)),                    # 16 -> 8
            ("conv2", nn.Conv2d(w, 2 * w, 3, padding=1)), ("act2", nn.ELU()),
            ("pool2", nn.AvgPool2d(2)),                    # 8 -> 4
            ("conv3", nn.Conv2d(2 * w, 2 * w, 3, padding=1)), ("act3", nn.ELU()),
        ]))
        self.classifier = nn.Sequential(OrderedDict([
            ("flatten", nn.Flatten()),
            ("fc1", nn.Linear(2 * w * 16, 64)), ("act4", nn.ELU()),
            ("fc2", nn.Linear(64, 10)),
        ]))

    def to_gray(self, x):
        """Undo the ImageNet normalization and average the channels: (N, 1, H, W) in image units."""
        return (x * self.std + self.mean).mean(dim=1, keepdim=True)

    def forward(self, x):
        check_digits_shape(x)
        g = self.to_gray(resize_to_32(x))
        mu = g.mean(dim=(2, 3), keepdim=True)
        var = g.var(dim=(2, 3), keepdim=True, unbiased=False)
        g = (g - mu) / torch.sqrt(var + 1e-4)
        return self.classifier(self.features(g))


DIGITS_SIZE = 32  # the digits model's own input size; larger square images are resized to it


def check_digits_shape(x):
    """Raise a clear error unless ``x`` is (N, 3, S, S) with S >= 32 (the digits model's input)."""
    if x.dim() != 4 or x.shape[1] != 3 or x.shape[2] != x.shape[3] or x.shape[2] < DIGITS_SIZE:
        raise ValueError(f"the digits model needs square (N, 3, S, S) images with S >= {DIGITS_SIZE}, "
                         f"e.g. 32x32 or the course's 224x224; got {tuple(x.shape)}")


def resize_to_32(x):
    """Area-average (N, C, S, S) down to 32x32 (identity at 32): each output pixel is the mean of
    the input pixels it covers, so nothing aliases, and the gradient spreads evenly back over them."""
    if x.shape[-1] == DIGITS_SIZE:
        return x
    return F.adaptive_avg_pool2d(x, DIGITS_SIZE)


def _digits_mean_image():
    """The average of all 1797 digits as a (1, 3, 32, 32) image (a faint blob where ink usually is)."""
    X8, _ = digits_data()
    return digits_to_images(X8.mean(0, keepdim=True))


# ----------------------------------------------------------------------------------------------
# Models and their info
# ----------------------------------------------------------------------------------------------
@dataclass
class ModelInfo:
    name: str
    input_size: tuple              # (C, H, W)
    mean: tuple
    std: tuple
    class_names: list
    layers: dict = field(default_factory=dict)     # name -> module (for the middle-layer picker)
    channels: dict = field(default_factory=dict)   # name -> number of channels of its output
    mean_image: Optional[torch.Tensor] = None      # (1, C, H, W) in [0, 1]: the training set's average


def mean_image(info):
    """The start ``Settings(start="mean_image")`` uses: ``info.mean_image`` if the model has one,
    else the flat image of its per-channel mean colour (for ImageNet models that *is* the average
    training image, up to its faint centre bias)."""
    if info is not None and info.mean_image is not None:
        return info.mean_image
    c, h, w = info.input_size if info is not None else (3, 224, 224)
    mean = info.mean if info is not None else IMAGENET_MEAN
    colour = torch.tensor(mean, dtype=torch.float32)
    if colour.numel() != c:
        colour = colour.mean().expand(c)
    return colour.view(1, c, 1, 1).expand(1, c, h, w)


class WeightsUnavailable(RuntimeError):
    """Model weights could not be loaded (not cached and not downloadable)."""


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# name -> (weights file, its SHA-256, the command that makes it)
DIGITS_MODELS = {
    "digits": (DIGITS_WEIGHTS, DIGITS_SHA256, "python tools/train_digits.py"),
    "digits_standard": (DIGITS_STANDARD_WEIGHTS, DIGITS_STANDARD_SHA256,
                        "python tools/train_digits.py --preset standard"),
}


def _load_digits(device="cpu", weights_path=None, expected_sha256=None, name="digits"):
    default_path, default_sha, rebuild = DIGITS_MODELS[name]
    path = Path(weights_path) if weights_path is not None else default_path
    expected = expected_sha256 if expected_sha256 is not None else default_sha
    if not path.is_file():
        raise WeightsUnavailable(f"{name} weights not found at {path}; they ship with the project "
                                 f"(models/{default_path.name}) — or rebuild them: {rebuild}")
    digest = _sha256(path)
    if digest != expected:
        raise WeightsUnavailable(f"{name} weights {path} have SHA-256 {digest}, expected {expected}: "
                                 f"the file is corrupted or from another training run; restore it "
                                 f"from git or retrain with {rebuild}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    width = int(state.pop("_width").item()) if "_width" in state else 16
    model = DigitsCNN(width=width)
    model.load_state_dict(state)
    model.to(device)
    feats = model.features
    layers = {n: m for n, m in feats.named_children() if n.startswith("act")}
    channels = {n: getattr(feats, "conv" + n[3:]).out_channels for n in layers}
    info = ModelInfo(name, (3, 32, 32), IMAGENET_MEAN, IMAGENET_STD,
                     [str(i) for i in range(10)], layers, channels, mean_image=_digits_mean_image())
    return model, info


def _import_torchvision():
    import torchvision  # noqa: F401  (lazy: optional dependency)

    return torchvision


def _vgg_cache_path():
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(VGG13_BN_URL).name


def vgg_available() -> bool:
    """True when ``load_model("vgg13_bn")`` can work offline: torchvision imports AND the vgg13_bn
    ImageNet weights are in torch.hub's cache. Never touches the network."""
    try:
        _import_torchvision()
    except Exception:  # any import failure (missing, or a build that does not match torch) means no
        return False
    return _vgg_cache_path().is_file()


def _vgg_state_dict(allow_download=True, timeout=10.0):
    """The vgg13_bn ImageNet weights: from torch.hub's cache, else downloaded (``timeout`` s)."""
    cached = _vgg_cache_path()
    if cached.is_file():
        return torch.load(cached, map_location="cpu", weights_only=True)
    if not allow_download:
        raise WeightsUnavailable(f"vgg13_bn weights are not cached at {cached}")
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        return torch.hub.load_state_dict_from_url(VGG13_BN_URL, map_location="cpu", progress=False)
    except Exception as e:
        raise WeightsUnavailable(f"could not download the vgg13_bn weights ({type(e).__name__}: {e})") from e
    finally:
        socket.setdefaulttimeout(old)


def _vgg_how_to():
    return (f"to use vgg13_bn: pip install torchvision (a build matching your torch), then either "
            f"have internet on first use or download {VGG13_BN_URL} into {_vgg_cache_path().parent}/")


def _load_vgg(device="cpu", timeout=10.0):
    try:
        tv = _import_torchvision()
    except Exception as e:
        raise WeightsUnavailable(f"torchvision cannot be imported ({type(e).__name__}: {e}); " + _vgg_how_to()) from e
    try:
        state = _vgg_state_dict(allow_download=True, timeout=timeout)
    except WeightsUnavailable as e:
        raise WeightsUnavailable(f"{e}; " + _vgg_how_to()) from e
    model = tv.models.vgg13_bn(weights=None)
    model.load_state_dict(state)
    try:
        names = list(tv.models.VGG13_BN_Weights.IMAGENET1K_V1.meta["categories"])
    except Exception:
        names = [str(i) for i in range(1000)]
    return model.to(device), _vgg_info(model, names)


def _vgg_info(model, class_names):
    layers, channels, last_c = {}, {}, None
    for i, m in enumerate(model.features):
        if isinstance(m, nn.Conv2d):
            last_c = m.out_channels
        if isinstance(m, nn.ReLU):
            layers[f"features.{i}"] = m
            channels[f"features.{i}"] = last_c
    return ModelInfo("vgg13_bn", (3, 224, 224), IMAGENET_MEAN, IMAGENET_STD, class_names, layers, channels)


def _check_device(device):
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r} requested but CUDA is not available on this machine; use device='cpu'")
    if dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise RuntimeError(f"device {device!r} requested but MPS is not available; use device='cpu'")
    return dev


def load_model(name="auto", device="cpu", *, quiet=False):
    """Return ``(model, info)``: the model in eval mode with frozen parameters, and its ModelInfo.

    ``"digits"``: the embedded digits CNN, adversarially trained (its gradients draw digits).
    ``"digits_standard"``: the same network trained the standard way (its gradients are
    high-frequency noise, as the course's VGG's are: the tricks matter).  ``"vgg13_bn"``: torchvision's ImageNet VGG-13-BN
    (torchvision imported here, lazily; weights from torch.hub's cache or downloaded).
    ``"auto"``: vgg13_bn if torchvision imports and its weights are cached or downloadable within
    10 s, else digits with a one-line notice on stderr.
    """
    if name not in MODEL_NAMES:
        raise ValueError(f"unknown model {name!r}; valid names: {', '.join(MODEL_NAMES)}")
    dev = _check_device(device)
    if name in DIGITS_MODELS:
        model, info = _load_digits(dev, name=name)
    elif name == "vgg13_bn":
        model, info = _load_vgg(dev)
    else:
        try:
            model, info = _load_vgg(dev, timeout=10.0)
        except WeightsUnavailable as e:
            if not quiet:
                first = str(e).split(";")[0]
                print(f"gd.py: vgg13_bn unavailable ({first}); using the embedded digits model",
                      file=sys.stderr)
            model, info = _load_digits(dev)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    model.gd_info = info
    return model, info


# ----------------------------------------------------------------------------------------------
# Scoring: probabilities, independent recognizers, robustness
# ----------------------------------------------------------------------------------------------
def class_probability(model, image, label, info=None):
    """``(p_course, p_normalized)``: softmax probability of ``label`` for ``model(image)`` on the
    raw [0, 1] image — as the course's main() scores it — and on the normalized image (what the
    network expects).  Computed in eval mode without gradients; the model is left unchanged."""
    info = info if info is not None else find_info(model)
    mean = info.mean if info is not None else IMAGENET_MEAN
    std = info.std if info is not None else IMAGENET_STD
    x = _as_batch(image).detach().to(_model_device(model), torch.float32)
    with torch.no_grad(), _eval_frozen(model):
        p_course = F.softmax(model(x), dim=1)[0, label].item()
        p_norm = F.softmax(model(_normalize(x, mean, std)), dim=1)[0, label].item()
    return p_course, p_norm


def robustness(model, image, label, info=None, n=32, seed=0):
    """Mean probability of ``label`` (normalized input) over ``n`` random shifts (±1.5 px),
    rotations (±12°) and rescalings (0.9–1.1) — transforms the optimization never used."""
    info = info if info is not None else find_info(model)
    mean = info.mean if info is not None else IMAGENET_MEAN
    std = info.std if info is not None else IMAGENET_STD
    xs = random_transforms(image.to(_model_device(model)), n=n, seed=seed)
    with torch.no_grad(), _eval_frozen(model):
        p = F.softmax(model(_normalize(xs, mean, std)), dim=1)[:, label]
    return float(p.mean())


# ----------------------------------------------------------------------------------------------
# Measures of a picture, and ablations over the tricks
# ----------------------------------------------------------------------------------------------
def picture_metrics(model, images, labels, info=None):
    """One dict per image, the measures an ablation tile shows:

    * ``p_target``: softmax probability of its label (normalized input) — what the run climbed;
    * ``reads_as``: the legibility judge's reading (-1 = no digit; None for non-digit models) and
      ``legible``: whether it reads as the label;
    * ``high_frequency``: share of spectral energy above 8 cycles per width (real digits ~0.002,
      pixel noise ~0.05 and up);
    * ``total_variation``: ink/background flips along a line of the standardized image (real
      digits ~5).
    """
    info = info if info is not None else find_info(model)
    images = [_as_batch(im) for im in images]
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    digits = info is not None and info.name.startswith("digits")
    reads = recognize_digits(images) if digits else [None] * len(images)
    hf = [float(high_frequency_share(im)[0]) for im in images]
    tv = [float(total_variation(im)[0]) for im in images]
    out = []
    for im, lab, r, h, t in zip(images, labels, reads, hf, tv):
        out.append({"p_target": class_probability(model, im, lab, info)[1], "reads_as": r,
                    "legible": None if r is None else r == lab, "high_frequency": h, "total_variation": t})
    return out


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
# Gallery and CLI
# ----------------------------------------------------------------------------------------------
def save_gallery(images, labels, path, probs=None, title=None, reads=None, targets=None):
    """A row/grid of tiles with their labels (and probabilities, and the judge's readings
    ``reads`` — "reads as 3 ✓" / "no digit ✗", checked against ``targets``) as a PNG."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    n = len(images)
    cols = min(5, n)
    rows = int(math.ceil(n / cols))
    # constrained layout keeps each row's two-line titles clear of the row above
    fig, axes = plt.subplots(rows, cols, figsize=(2.2 * cols, (2.9 if reads is None else 3.1) * rows), squeeze=False,
                             layout="constrained")
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = _as_batch(images[i])[0].detach().cpu().clamp(0, 1).permute(1, 2, 0).numpy()
        ax.imshow(img, interpolation="nearest")
        t = f"label {labels[i]}"
        if probs is not None:
            t += f"\np = {probs[i]:.3f}"
        if reads is not None:
            t += "\n" + reading_text(reads[i], None if targets is None else targets[i])
        ax.set_title(t, fontsize=10)
    if title:
        fig.suptitle(title)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
    return path


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
                    "and NORMALIZED_PROB_FOR_LABEL_{label}: <prob> (on the normalized input).")
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


def main(argv=None):
    """The course's main job (and the CLI): see ``python gd.py --help``."""
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
