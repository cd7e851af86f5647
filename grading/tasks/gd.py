"""The gd.py check's work inside the sandbox: call the submission's ``gradient_descent`` exactly
as the course's ``main()`` calls it and send back the image it returns, nothing more.

    image = ((torch.randn(1, 224, 224, 3) * 8 + 128) / 255).permute(0, 3, 1, 2).requires_grad_(True)
    image = gradient_descent(image, model, lambda tensor: tensor[0, label].mean())

on the embedded digits model, handed over as the course hands over its VGG (training mode,
parameters requiring grad). What it returns — the image, the seconds it took, whether the
model's mode or weights changed here — are raw facts; the parent (grading/gd_check.py) scores
the image on its own untouched copy of the model, so nothing done to this copy or to torch in
this process can raise a score.

Imports: stdlib, torch, grading.wire and dream (the sandbox's rule for task modules).
"""
from __future__ import annotations

import sys
import time

import torch

from grading import wire

FILENAME = "gd.py"
SIZE = 224
_MODEL = {}


def prepare() -> None:
    """Load the digits model once per zygote (children inherit it)."""
    from dream.models import load_model

    torch.set_num_threads(1)
    model, info = load_model("digits", quiet=True)
    _MODEL.update(model=model, info=info)


def course_start(label: int, size: int = SIZE) -> torch.Tensor:
    """The course's start image for one label: gray noise (1, 3, size, size) that requires grad."""
    torch.manual_seed(label)
    image = (torch.randn(1, size, size, 3) * 8 + 128) / 255
    return image.permute(0, 3, 1, 2).requires_grad_(True)


def seed_everything(seed: int) -> None:
    """Seed every generator a student's gradient_descent may draw from (jitter is random): Python's
    random, NumPy's global generator and torch's. Without it the extra-credit pictures, so the
    score, change from one run to the next."""
    import random

    random.seed(seed)
    torch.manual_seed(seed)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed(seed)


def _as_course_model(model):
    model.train()
    for p in model.parameters():
        p.requires_grad_(True)


def _one_line(exc):
    if isinstance(exc, SystemExit):
        return f"sys.exit({exc.code!r}) called"
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {(lines[0] if lines else '')[:160]}".rstrip(": ")


def run_case(module, case: dict) -> dict:
    """One label: {"image": encoded or {"problem": ...}, "seconds", "error", "training_after", "changed"}."""
    if not callable(getattr(module, "gradient_descent", None)):
        return {"api_missing": ["gradient_descent"]}
    if not _MODEL:
        prepare()
    model = _MODEL["model"]
    label, size = int(case["label"]), int(case.get("size", SIZE))
    _as_course_model(model)
    snapshot = {k: v.detach().clone() for k, v in model.state_dict().items()}
    start = course_start(label, size)
    seed_everything(label)   # the same submission gets the same pictures, so the same points, every run
    out = dict(image=None, seconds=0.0, error=None, error_type=None, training_after=True, changed=[])
    t0 = time.perf_counter()
    try:
        image = module.gradient_descent(start, model, lambda tensor: tensor[0, label].mean())
    except BaseException as exc:
        image = None
        out["error"], out["error_type"] = _one_line(exc), type(exc).__name__
    out["seconds"] = round(time.perf_counter() - t0, 4)
    out["training_after"] = bool(model.training)
    state = model.state_dict()
    out["changed"] = [k for k, v in snapshot.items() if k not in state or not torch.equal(state[k], v)][:20]
    if out["changed"]:
        model.load_state_dict(snapshot)       # the next label starts from the same model
    if out["error"] is None:
        if not isinstance(image, torch.Tensor):
            out["image"] = {"problem": f"returned a {type(image).__name__}, not a tensor"}
        elif image.numel() > wire.MAX_ELEMENTS or image.dtype not in wire._NAMES:
            out["image"] = {"problem": f"returned a tensor of shape {tuple(image.shape)} and dtype {image.dtype}"}
        else:
            out["image"] = wire.encode(image.detach().cpu())
    return out
