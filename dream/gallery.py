"""Pictures as files: one image (``save_image``), or a gallery of them as a PNG with labels,
probabilities and the judge's readings (``save_gallery``)."""
import math
from pathlib import Path

import torch

from .data import as_batch
from .judges import reading_text


def save_image(image, path):
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
        img = as_batch(images[i])[0].detach().cpu().clamp(0, 1).permute(1, 2, 0).numpy()
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
