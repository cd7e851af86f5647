"""A gallery of pictures as a PNG, with labels, probabilities and the judge's readings."""
import math
from pathlib import Path

from .data import as_batch as _as_batch
from .judges import reading_text


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
