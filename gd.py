"""Gradient ascent on the input image: class visualization and DeepDream, with every trick.

The course's file (see shared CONTRACT.md): its functions keep their names, argument order and
meaning, and its call ``gradient_descent(input, model, loss)`` climbs the class logit
``loss(model(normalize_and_jitter(img)))``.  Read it top to bottom:

1. the course's helpers: ``normalize_and_jitter``, ``forward_and_return_activation``, ``save_img``;
2. ``gradient_descent``: the optimization loop, one named step per trick (the homework's extra
   credit: blur the image, clamp, weight decay, blur the gradient, several scales; plus jitter);
3. ``main``: the command line (``python gd.py --help``), writing into ``out/``.

Everything else lives in the ``dream`` package: ``dream.settings`` (``Settings``: one field per
trick, ``default_settings`` per model), ``dream.render`` (``visualize``: the same loop for any
objective and start, used by the studio), ``dream.objectives`` (class logit, middle layers),
``dream.models`` (the embedded digits CNNs and VGG-13-BN), ``dream.judges`` (the legibility
judge), ``dream.ablation``, ``dream.cli``.  The names in ``__all__`` below stay importable from gd.

Promises to the caller: the model's weights and buffers never change; every submodule's
train/eval flag and every parameter's ``requires_grad`` are restored afterwards; the caller's
``input`` tensor is never modified in place — the optimized image is returned as a NEW,
detached tensor.
"""
import random
import sys

import torch

from dream import (NO_DIGIT, TRICKS, ClassLogit, DigitsCNN, LayerChannel, LayerDream, LayerUnit,
                   MODEL_NAMES, ModelInfo, Objective, Result, Settings, StopRequested, WeightsUnavailable,
                   ablation, ablation_variants, all_tricks_off, class_probability, default_settings,
                   high_frequency_share, load_model, mean_image, picture_metrics, recognize_digits, robustness,
                   save_gallery, total_variation, vgg_available, visualize)
from dream.gallery import save_image
from dream.models import eval_frozen, model_device
from dream.objectives import LossObjective, forward_with_activation
from dream.param import octave_plan, resize
from dream.render import ascent_mode, check_input, guess_model_name
from dream.transforms import ascent_step_, blur_, clamp_, gaussian_blur, normalize, weight_decay_

__all__ = [
    "normalize_and_jitter", "forward_and_return_activation", "gradient_descent", "save_img",
    "main", "Settings", "TRICKS", "default_settings", "all_tricks_off", "load_model", "vgg_available",
    "ModelInfo", "DigitsCNN", "ClassLogit", "LayerChannel", "LayerUnit", "LayerDream", "Objective",
    "visualize", "Result", "StopRequested", "class_probability", "recognize_digits", "robustness",
    "MODEL_NAMES", "WeightsUnavailable", "save_gallery", "mean_image", "ablation", "ablation_variants",
    "picture_metrics", "high_frequency_share", "total_variation", "NO_DIGIT",
]


# ----------------------------------------------------------------------------------------------
# The course's helpers
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
    return normalize(img)


def forward_and_return_activation(model, input, module):
    """Run ``model(input)`` and return the output of ``module`` (caught with a forward hook; the
    hook is removed afterwards, also on error)."""
    return forward_with_activation(model, input, module)[0]


def save_img(image, path):
    """Save a (1, C, H, W) (or (C, H, W)) tensor as an image file; values are clamped to [0, 1]."""
    return save_image(image, path)


# ----------------------------------------------------------------------------------------------
# The optimization
# ----------------------------------------------------------------------------------------------
def gradient_descent(input, model, loss, iterations=256, *, settings=None):
    """The course's function: optimize the image ``input`` so that ``loss(model(x))`` — the class
    logit in the course's call — goes UP (gradient ascent on the logit = descent on the energy).

    ``input``: (1, 3, H, W) in [0, 1]; it is not modified (it may require grad).  Returns a NEW,
    detached image tensor of the same shape.  The model is used in eval mode and left exactly as
    found (modes, requires_grad, weights, batch-norm statistics).  ``settings`` (the tricks)
    defaults to ``default_settings`` for the model (digits for a ``DigitsCNN``, else vgg13_bn) at
    the image's size, with ``iterations`` as given.
    """
    if not isinstance(iterations, int) or isinstance(iterations, bool) or iterations < 0:
        raise ValueError(f"iterations must be an integer >= 0; got {iterations!r}")
    check_input(input, model)
    if settings is None:  # tuned for this model at this image size (pixel lengths scale with it)
        settings = default_settings(guess_model_name(model), size=input.shape[-1])
    s = settings.replace(iterations=iterations).validate()
    image = input.detach().to(model_device(model), torch.float32)
    with eval_frozen(model), ascent_mode(model, image):
        out = ascend(model, LossObjective(loss), image, s)
    return out.to(input.device, input.dtype)


def ascend(model, objective, image, s):
    """The loop: gradient ascent of ``objective(model, x)`` on ``image``, ``x`` being the image as
    the network sees it (full size, jittered, normalized), with the tricks of ``s`` after each step.

    It works coarse to fine (octaves): the parameter is a small image first, upsampled for the
    network, and upsampled itself when the next octave begins.  Pixel lengths (blur sigmas) are
    given at full size and scaled to the octave's."""
    h, w = image.shape[-2:]
    if s.iterations == 0:
        return image.clone()
    rng = random.Random(s.seed)           # jitter offsets: our own generator, the caller's is untouched
    jitter = range(-s.jitter, s.jitter + 1)
    plan = octave_plan(s, h, w)           # [(size, iterations)] coarse to fine
    param = resize(image, plan[0][0]).clone()
    step = 0
    for size, iters in plan:
        param = resize(param, size).clone()                      # 5. several scales: next octave
        scale = size[0] / h                                      # px at full size -> px at this octave
        for _ in range(iters):
            dy, dx = rng.choices(jitter, k=2)
            x = param.clone().requires_grad_(True)
            seen = normalize(resize(x, (h, w)).roll((dy, dx), dims=(-2, -1)))   # upsample, jitter, normalize
            value = objective(model, seen)
            (grad,) = torch.autograd.grad(value, x)              # d value / d pixels (the network only)
            if not torch.isfinite(value):
                raise FloatingPointError(f"the image or the objective became NaN/inf at step {step} "
                                         f"(lr={s.lr}, step_rule={s.step_rule!r}); try a smaller lr")
            grad = gaussian_blur(grad, s.grad_blur_sigma * scale)    # 4. blur the gradient
            ascent_step_(param, grad, s.step_rule, s.lr)             # climb: x += lr * g (or g / mean|g|)
            weight_decay_(param, s.weight_decay, s.decay_to)         # 3. weight decay on the image
            if s.blur_every and (step + 1) % s.blur_every == 0:
                blur_(param, s.blur_sigma * scale)                   # 1. blur the image every N steps
            if s.clamp:
                clamp_(param)                                        # 2. clamp pixels to [0, 1]
            step += 1
    out = resize(param, (h, w))
    if not torch.isfinite(out).all():
        raise FloatingPointError(f"the image became NaN/inf at step {step - 1} (lr={s.lr}, "
                                 f"step_rule={s.step_rule!r}); try a smaller lr")
    return out.clamp(0, 1) if s.clamp else out


# ----------------------------------------------------------------------------------------------
# The command line
# ----------------------------------------------------------------------------------------------
def check_other_gd(argv):
    """``python gd.py --check PATH... [--json FILE] ...``: check other gd.py files the way the
    course grades them (the grading package; ``python gd.py --check --help`` lists the options)."""
    try:
        from grading.cli import main as grading_main
    except ModuleNotFoundError as e:
        if e.name not in ("grading", "grading.cli"):
            raise
        raise SystemExit("gd.py --check needs the grading package (grading/), which this copy of "
                         "the project does not have")
    return grading_main(argv, kind="gd")


def main(argv=None):
    """The course's main job, and the command line: ``python gd.py --help`` (dream/cli.py)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--check" in argv:
        return check_other_gd([a for a in argv if a != "--check"])
    from dream.cli import run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
