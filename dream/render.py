"""Rendering: gradient ascent of an objective on the input image, with every trick of ``Settings``.

``visualize(model, objective, settings=..., init=...)`` is the library's entry point (the studio,
the CLI and the ablations use it); ``optimize`` is its loop.  gd.py's ``gradient_descent`` is the
same algorithm written out for the course's call (tests/test_gd.py checks that the two agree).

The loop differs from gd.py's written-out one in one way only: the image's path to the network
(octave upsampling, jitter roll, normalization) and the gradient's way back (with the gradient
blur) are ``param.Warp``'s small matrices instead of autograd through those operations — the
same arithmetic with fewer tensor operations per step, which is what costs time on small images.

Promises to the caller: the model's weights and buffers never change; every submodule's
train/eval flag and every parameter's ``requires_grad`` are restored afterwards (``eval_frozen``);
the start image is never modified in place — the result is a NEW, detached tensor.
"""
import math
import random
import time
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from .models import (IMAGENET_MEAN, IMAGENET_STD, check_digits_shape, eval_frozen, find_digits_model, find_info,
                     input_channels, mean_image, model_device)
from .objectives import StopRequested, as_objective
from .param import Warp, octave_plan, resize
from .settings import DEFAULTS_FOR, Settings, default_settings
from .threads import limit_threads
from .transforms import ascent_step_, blur_, clamp_, weight_decay_


@dataclass
class Result:
    image: torch.Tensor            # (N, C, H, W) in [0, 1] if clamped, detached, a new tensor
    values: list                   # objective value at every step (before the step)
    settings: Settings
    stopped_early: bool = False
    seconds: float = 0.0


# ----------------------------------------------------------------------------------------------
# what may be optimized, and where it starts
# ----------------------------------------------------------------------------------------------
def check_input(img, model=None, info=None):
    """Raise a clear error unless ``img`` is a finite floating-point (N, C, H, W) tensor with the
    channels (and, for the digits models, the square size of at least 32 px) the model takes."""
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
        expected = input_channels(model)
    if expected is not None and img.shape[1] != expected:
        raise ValueError(f"input has {img.shape[1]} channels but the model expects {expected} "
                         f"(shape (N, {expected}, H, W)); got {tuple(img.shape)}")
    is_digits = (info is not None and info.name.startswith("digits")) or (
        model is not None and find_digits_model(model) is not None)
    if is_digits:
        check_digits_shape(img)
    if not torch.isfinite(img).all():
        raise ValueError("input contains NaN or inf")


def guess_model_name(model):
    """Which default settings suit ``model``: the name ``load_model`` recorded (``gd_info`` on any
    module inside), else "digits" if a DigitsCNN is inside, else "vgg13_bn"."""
    info = find_info(model)
    if info is not None and info.name in DEFAULTS_FOR:
        return info.name
    return "digits" if find_digits_model(model) is not None else "vgg13_bn"


def start_image(info, settings):
    """``settings.start``: ``"noise"`` is the gray level ``init_mean``, ``"mean_image"`` the model's
    average training image (Simonyan et al. 2013 start there), each plus seeded gray noise of std
    ``init_std`` (the same noise in every channel).  (1, C, H, W) in [0, 1]."""
    c, h, w = info.input_size if info is not None else (3, 224, 224)
    seed = settings.seed if settings.seed is not None else int(torch.randint(0, 2 ** 31, (1,)))
    noise = torch.randn(1, 1, h, w, generator=torch.Generator().manual_seed(seed)) * settings.init_std
    base = mean_image(info) if settings.start == "mean_image" else settings.init_mean
    return (base + noise).expand(1, c, h, w).clamp(0, 1)


def course_start(label, size=224):
    """The course's main()'s start for one label: ``torch.manual_seed(label)``, then gray noise
    ``(randn(1, size, size, 3) * 8 + 128) / 255`` permuted to (1, 3, size, size), requiring grad."""
    torch.manual_seed(label)
    image = (torch.randn(1, size, size, 3) * 8 + 128) / 255
    return image.permute(0, 3, 1, 2).requires_grad_(True)


# ----------------------------------------------------------------------------------------------
# the loop
# ----------------------------------------------------------------------------------------------
@contextmanager
def ascent_mode(model, img):
    """What gradient ascent on ``img`` runs under: gradients on (even when the caller runs us under
    no_grad or inference_mode), and one torch thread for small work — images up to 64x64, or the
    tiny digits CNN even at 224 px — several times faster than two on a busy CPU (measured at
    224 px under load: 2.4 s vs 33 s per label).  The caller's settings are restored."""
    small = (img.shape[-1] * img.shape[-2] <= 64 * 64 or find_digits_model(model) is not None) \
        and img.device.type == "cpu"
    with limit_threads(1 if small else None, blas=False), torch.inference_mode(False), torch.enable_grad():
        yield


def optimize(model, objective, img0, settings, callback=None, progress=False):
    """Gradient ASCENT of ``objective(model, normalize(jitter(image)))`` on the image ``img0``
    (not modified); returns a ``Result``.  The caller holds ``eval_frozen(model)``."""
    s = settings.validate()
    with ascent_mode(model, img0):
        return _ascend(model, objective, img0, s, callback, progress)


def _progress_bar(total, desc):
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm missing: no bar, the run itself is unaffected
        return None
    return tqdm(total=total, desc=desc, leave=False)


def _normalization(img0):
    """(1/std, -mean/std) per channel, so that normalize(x) = x * (1/std) + (-mean/std) (``Warp``
    folds it into its matrices); a model with other channel counts: the channels' average mean and std."""
    mean, std = IMAGENET_MEAN, IMAGENET_STD
    if img0.shape[1] != len(mean):
        mean, std = (sum(mean) / len(mean),), (sum(std) / len(std),)
    inv_std = 1.0 / torch.tensor(std, dtype=img0.dtype, device=img0.device).view(1, -1, 1, 1)
    return inv_std, -torch.tensor(mean, dtype=img0.dtype, device=img0.device).view(1, -1, 1, 1) * inv_std


def _ascend(model, objective, img0, s, callback, progress):
    n, c, h, w = img0.shape
    if s.iterations == 0:  # nothing to do: the start image itself (not a down/up-sampled copy)
        return Result(img0.detach().clone(), [], s, False, 0.0)
    plan = octave_plan(s, h, w)
    rng = random.Random(s.seed)  # the jitter's own generator: the caller's torch RNG is never touched
    inv_std, shift = _normalization(img0)
    param = resize(img0.detach(), plan[0][0]).clone()  # lives at the octave's size; the network sees full size
    values, stopped, step = [], False, 0
    bar = _progress_bar(s.iterations, getattr(objective, "name", "gd")) if progress else None
    t0 = time.perf_counter()
    try:
        for k, (size, iters) in enumerate(plan):
            if k > 0:
                param = resize(param.detach(), size).clone()           # next octave: upsample
            ratio = size[0] / h                                          # pixel lengths at this octave
            warp = Warp(size, (h, w), param.shape, s.grad_blur_sigma * ratio, inv_std, shift)
            span = range(-s.jitter, s.jitter + 1)
            for _ in range(iters):
                dy, dx = rng.choices(span, k=2)                          # jitter offsets
                x = warp.forward(param, dy, dx).requires_grad_(True)     # upsample, roll, normalize
                value = objective(model, x)
                (grad,) = torch.autograd.grad(value, x)
                grad = warp.backward(grad, dy, dx)                       # back to param; gradient blur
                v = value.item()
                values.append(v)
                if not math.isfinite(v):   # a NaN/inf image shows up in the next value (free to check)
                    raise FloatingPointError(f"the image or the objective became NaN/inf at step {step} "
                                             f"(lr={s.lr}, step_rule={s.step_rule!r}); try a smaller lr")
                ascent_step_(param, grad, s.step_rule, s.lr)             # climb
                weight_decay_(param, s.weight_decay, s.decay_to)         # weight decay
                if s.blur_every and (step + 1) % s.blur_every == 0:
                    blur_(param, s.blur_sigma * ratio)                   # blur the image every N steps
                if s.clamp:
                    clamp_(param)                                        # clamp to [0, 1]
                step += 1
                if bar is not None:
                    bar.update(1)
                if callback is not None and (step % s.callback_every == 0 or step == s.iterations):
                    try:
                        callback(step, resize(param.detach(), (h, w)).clone(), v)
                    except StopRequested:
                        stopped = True
                        break
            if stopped:
                break
    finally:
        if bar is not None:
            bar.close()
    out = resize(param.detach(), (h, w))
    if not torch.isfinite(out).all():
        raise FloatingPointError(f"the image became NaN/inf at step {step - 1} (lr={s.lr}, "
                                 f"step_rule={s.step_rule!r}); try a smaller lr")
    if s.clamp:
        out = out.clamp(0, 1)
    return Result(out.detach().clone(), values, s, stopped, time.perf_counter() - t0)


def visualize(model, objective, *, info=None, settings=None, init=None, callback=None, progress=False):
    """Maximize ``objective`` (``ClassLogit``, ``LayerChannel``, ``LayerUnit``, ``LayerDream``, an
    int label, or a course-style ``loss(output)`` callable) by gradient ascent on the input.

    ``settings``: default ``default_settings`` for the model at the start's size.  ``init``: None
    starts from ``start_image(info, settings)``; an image tensor (N, C, H, W) in [0, 1] starts from
    that picture ("dream on a picture"; it is copied, never modified).
    ``callback(step, image, value)`` is called every ``settings.callback_every`` steps; raising
    ``StopRequested`` in it ends the run and returns the current image.  Returns a ``Result``.
    """
    info = info if info is not None else find_info(model)
    if settings is None:
        name = info.name if info is not None and info.name in DEFAULTS_FOR else guess_model_name(model)
        settings = default_settings(name, size=init.shape[-1] if torch.is_tensor(init) else None)
    settings.validate()
    objective = as_objective(objective)
    if init is None:
        init = start_image(info, settings)
    check_input(init, model, info)
    with eval_frozen(model):
        objective = objective.resolve(model, info)
        return optimize(model, objective, init.detach().to(model_device(model), torch.float32).clone(),
                        settings, callback, progress)
