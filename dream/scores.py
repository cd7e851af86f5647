"""What the model says about a picture: the probability of a class (as the course scores it and on
the normalized input), its robustness to small transforms, and the numbers an ablation tile shows."""
import torch
import torch.nn.functional as F

from .data import as_batch, random_transforms
from .judges import recognize_digits
from .measures import high_frequency_share, total_variation
from .models import IMAGENET_MEAN, IMAGENET_STD, eval_frozen, find_info, model_device
from .transforms import normalize


def class_probability(model, image, label, info=None):
    """``(p_course, p_normalized)``: softmax probability of ``label`` for ``model(image)`` on the
    raw [0, 1] image — as the course's main() scores it — and on the normalized image (what the
    network expects).  Computed in eval mode without gradients; the model is left unchanged."""
    info = info if info is not None else find_info(model)
    mean = info.mean if info is not None else IMAGENET_MEAN
    std = info.std if info is not None else IMAGENET_STD
    x = as_batch(image).detach().to(model_device(model), torch.float32)
    with torch.no_grad(), eval_frozen(model):
        p_course = F.softmax(model(x), dim=1)[0, label].item()
        p_norm = F.softmax(model(normalize(x, mean, std)), dim=1)[0, label].item()
    return p_course, p_norm


def robustness(model, image, label, info=None, n=32, seed=0):
    """Mean probability of ``label`` (normalized input) over ``n`` random shifts (±1.5 px),
    rotations (±12°) and rescalings (0.9–1.1) — transforms the optimization never used."""
    info = info if info is not None else find_info(model)
    mean = info.mean if info is not None else IMAGENET_MEAN
    std = info.std if info is not None else IMAGENET_STD
    xs = random_transforms(image.to(model_device(model)), n=n, seed=seed)
    with torch.no_grad(), eval_frozen(model):
        p = F.softmax(model(normalize(xs, mean, std)), dim=1)[:, label]
    return float(p.mean())


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
    images = [as_batch(im) for im in images]
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
