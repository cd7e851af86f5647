"""Who reads a picture as a digit — honestly, with "no digit" as an answer — and measures of a picture.

``recognize_digits(images)`` is the judge the studio, the CLI's gallery and the checker use.  It
does not use the CNN whose pictures it judges: three scikit-learn classifiers (RBF SVC, 5-NN,
logistic regression) read the picture, gray and area-averaged to 8x8 like load_digits, contrast
stretched to [0, 1].  Each knows an eleventh answer, -1 = "no digit", learnt from pictures that
are not digits (noise, smooth random fields, blobs on black, dark holes in a gray field, blocky
noise, averages of several digits); the digits they learn from are load_digits' training split, also shifted, rotated,
rescaled and with thickened strokes (a visualization draws bolder strokes than a pen).  The
reading is a digit only if at least two of the three say that same digit.  Two checks happen at
the picture's own resolution, where a blurry 8x8 view would hide them: a picture without
contrast is no digit, and neither is one whose spectral energy above 8 cycles per width (more
than an 8x8 digit can hold) exceeds ``MAX_HIGH_FREQUENCY`` — pixel noise that only looks like a
digit once averaged down.

``reject=False`` gives the old reading (the same three classifiers, trained on digits only,
majority vote, ties to the SVC): it always names a digit, whatever the picture is.

The thresholds were calibrated on labelled pictures (``python tools/calibrate_judge.py`` prints
the confusion table): real held-out digits, the robust model's pictures, the standard model's
pictures with and without tricks, noise and blobs.
"""
from collections import Counter

import torch
import torch.nn.functional as F

from .data import as_batch, digits_data, digits_split, digits_to_images, random_affine, random_transforms
from .models import IMAGENET_MEAN, IMAGENET_STD, _eval_frozen, _model_device, find_info
from .transforms import _normalize

_as_batch = as_batch

NO_DIGIT = -1
MAX_HIGH_FREQUENCY = 0.03  # real digits: at most 0.023 at 32 px, 0.030 at 224 px; the standard model without tricks: 0.03-0.09
MIN_CONTRAST = 0.05        # (max - min) of the 8x8 gray view; a flat picture is no digit
HIGH_FREQUENCY_CUTOFF = 8.0  # cycles per image width: twice the finest detail of an 8x8 digit


# ---------------------------------------------------------------------------------------------
# measures of a picture
# ---------------------------------------------------------------------------------------------
def gray(images):
    """(N, C, H, W) or (C, H, W) or a list of them -> (N, H, W) float: the channel mean."""
    if isinstance(images, (list, tuple)):
        images = torch.cat([as_batch(t) for t in images])
    return as_batch(images).detach().float().cpu().mean(dim=1)


def high_frequency_share(images, cutoff=HIGH_FREQUENCY_CUTOFF):
    """Per image: the share of the (mean-removed, gray) image's spectral energy above ``cutoff``
    cycles per image width — 8 by default, twice the finest detail of an 8x8 digit, so a real
    digit upsampled to any size has almost none (~0.002) and pixel-level noise has a lot.
    Independent of the image's size and contrast.  Returns a (N,) tensor in [0, 1]."""
    g = gray(images)
    g = g - g.mean(dim=(-2, -1), keepdim=True)
    power = torch.fft.fft2(g).abs() ** 2
    h, w = g.shape[-2:]
    fy = torch.fft.fftfreq(h, d=1.0 / h).view(-1, 1)  # cycles per image height
    fx = torch.fft.fftfreq(w, d=1.0 / w).view(1, -1)
    high = (fy ** 2 + fx ** 2).sqrt() > cutoff
    return (power * high).sum(dim=(-2, -1)) / power.sum(dim=(-2, -1)).clamp_min(1e-20)


def total_variation(images):
    """Per image: mean absolute difference between neighbouring pixels of the gray image after
    standardizing it (zero mean, unit std — what the digits model itself sees), times the image
    width: how often the picture flips between ink and background along a line, whatever its
    contrast or size.  A real digit: about 5; uniform noise: more than 30.  Returns a (N,) tensor."""
    g = gray(images)
    g = (g - g.mean(dim=(-2, -1), keepdim=True)) / g.std(dim=(-2, -1), keepdim=True).clamp_min(1e-6)
    dy = (g[:, 1:, :] - g[:, :-1, :]).abs().mean(dim=(-2, -1))
    dx = (g[:, :, 1:] - g[:, :, :-1]).abs().mean(dim=(-2, -1))
    return (dy + dx) / 2 * g.shape[-1]


# ---------------------------------------------------------------------------------------------
# features
# ---------------------------------------------------------------------------------------------
def images_to_8x8(images):
    """(N, C, H, W) images in [0, 1] -> (N, 64) features in 0..16 as load_digits has them: gray
    (channel mean), clamped, area-averaged to 8x8, times 16."""
    x = as_batch(images).detach().float().cpu().mean(dim=1, keepdim=True).clamp(0, 1)
    x = F.adaptive_avg_pool2d(x, (8, 8)) * 16.0
    return x.reshape(x.shape[0], 64)


def stretched_8x8(images):
    """(features (N, 64) in [0, 1], contrast (N,)): the 8x8 gray view stretched so that its darkest
    cell is 0 and its brightest 1 (a faint digit reads like a bold one), and its range before."""
    x = images_to_8x8(images) / 16.0
    lo, hi = x.min(dim=1, keepdim=True).values, x.max(dim=1, keepdim=True).values
    return (x - lo) / (hi - lo).clamp_min(1e-3), (hi - lo).squeeze(1)


def _over16(a):
    return a / 16.0


def _one_blas_thread():
    """numpy/scikit-learn BLAS and OpenMP pools limited to one thread for the duration (threadpoolctl,
    listed in requirements.txt). Measured on a busy 2-core machine: fitting the recognizers took 44 s
    with the default pools and 0.2 s with one thread."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1)


# ---------------------------------------------------------------------------------------------
# training pictures: digits (augmented) and not-digits
# ---------------------------------------------------------------------------------------------
def _blur(x, sigma):
    r = max(1, int(2.5 * sigma + 0.5))
    t = torch.arange(-r, r + 1, dtype=x.dtype)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = k / k.sum()
    c = x.shape[1]
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), padding=(0, r), groups=c)
    return F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), padding=(r, 0), groups=c)


def bolder_digits(images, g, copies=3):
    """``copies`` randomly shifted (±3 px), rotated (±12°), rescaled (0.9-1.35) copies of each
    digit image, with strokes thickened by a random amount (blur, then brighten)."""
    out = [images]
    for _ in range(copies):
        a = random_affine(images, g, shift=3.0, degrees=12.0, scale=(0.9, 1.35))
        sigma = torch.rand(len(a), 1, 1, 1, generator=g) * 1.5 + 0.3
        gain = 1.3 + torch.rand(len(a), 1, 1, 1, generator=g)
        thick = torch.cat([_blur(a[i:i + 1], float(sigma[i])) for i in range(len(a))])
        out.append((thick * gain).clamp(0, 1))
    return torch.cat(out)


def superposed_digits(images, n, g, k=8):
    """``n`` averages of ``k`` random digit images each: blurry blobs where ink often is (the
    average digit is one), which no person reads as a digit."""
    idx = torch.randint(0, len(images), (n, k), generator=g)
    return images[idx].mean(dim=1)


def not_digits(n, seed=0, size=32):
    """``n`` pictures that are no digit, five kinds in turn: uniform noise, a smooth random field,
    1-3 round blobs on black, 1-3 dark holes in a gray field, blocky noise plus pixel noise.
    (N, 3, size, size) in [0, 1], each stretched to full contrast."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(float(size)), torch.arange(float(size)), indexing="ij")
    u = size / 32.0
    out = []
    for i in range(n):
        kind = i % 5
        if kind == 0:
            x = torch.rand(size, size, generator=g)
        elif kind == 1:
            k = int(torch.randint(2, 7, (1,), generator=g))
            x = F.interpolate(torch.randn(1, 1, k, k, generator=g), size=size, mode="bicubic", align_corners=False)[0, 0]
        elif kind == 2:
            x = torch.zeros(size, size)
            for _ in range(int(torch.randint(1, 4, (1,), generator=g))):
                c = (torch.rand(2, generator=g) * 24 + 4) * u
                s = (float(torch.rand(1, generator=g)) * 5 + 2) * u
                x = x + torch.exp(-((yy - c[0]) ** 2 + (xx - c[1]) ** 2) / (2 * s * s))
        elif kind == 3:
            x = 0.6 + 0.1 * F.interpolate(torch.randn(1, 1, 4, 4, generator=g), size=size, mode="bilinear",
                                          align_corners=False)[0, 0]
            for _ in range(int(torch.randint(1, 4, (1,), generator=g))):
                c = (torch.rand(2, generator=g) * 24 + 4) * u
                sy, sx = ((torch.rand(2, generator=g) * 5 + 2) * u).tolist()
                x = x - 0.6 * torch.exp(-((yy - c[0]) ** 2 / (2 * sy * sy) + (xx - c[1]) ** 2 / (2 * sx * sx)))
        else:
            x = F.interpolate(torch.randn(1, 1, 8, 8, generator=g), size=size, mode="nearest")[0, 0]
            x = x + torch.randn(size, size, generator=g)
        x = x - x.min()
        out.append((x / x.max().clamp_min(1e-6)).expand(1, 3, size, size))
    return torch.cat(out)


# ---------------------------------------------------------------------------------------------
# the classifiers (fitted once per process, ~1 s)
# ---------------------------------------------------------------------------------------------
_PLAIN = None
_HONEST = None


def _three_classifiers():
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.svm import SVC

    return SVC(gamma="scale", C=10.0), KNeighborsClassifier(n_neighbors=5), LogisticRegression(max_iter=3000, C=1.0)


def plain_recognizers():
    """Three classifiers on the raw 8x8 digits (training split), no "no digit" answer."""
    global _PLAIN
    if _PLAIN is None:
        from sklearn.linear_model import LogisticRegression
        from sklearn.neighbors import KNeighborsClassifier
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import FunctionTransformer
        from sklearn.svm import SVC

        X, y = digits_data()
        tr, _ = digits_split()
        Xtr, ytr = X[tr].reshape(len(tr), -1).numpy(), y[tr].numpy()
        with _one_blas_thread():  # the fits take ~0.1 s instead of tens of seconds on a busy CPU
            _PLAIN = [
                SVC(gamma=0.001, C=10.0).fit(Xtr, ytr),
                KNeighborsClassifier(n_neighbors=5).fit(Xtr, ytr),
                make_pipeline(FunctionTransformer(_over16), LogisticRegression(max_iter=2000, C=1.0)).fit(Xtr, ytr),
            ]
    return _PLAIN


def honest_recognizers():
    """Three classifiers with eleven answers (0-9 and -1 = no digit) on the stretched 8x8 view:
    the training split's digits made bolder (``bolder_digits``), 1500 ``not_digits`` and 300
    ``superposed_digits``."""
    global _HONEST
    if _HONEST is None:
        import numpy as np

        X, y = digits_data()
        tr, _ = digits_split()
        g = torch.Generator().manual_seed(0)
        digits = bolder_digits(digits_to_images(X[tr]), g)
        labels = y[tr].repeat(len(digits) // len(tr))
        nots = torch.cat([not_digits(1500, seed=1), superposed_digits(digits_to_images(X[tr]), 300, g)])
        feats = torch.cat([stretched_8x8(digits)[0], stretched_8x8(nots)[0]]).numpy()
        answers = np.concatenate([labels.numpy(), np.full(len(nots), NO_DIGIT)])
        with _one_blas_thread():
            _HONEST = [clf.fit(feats, answers) for clf in _three_classifiers()]
    return _HONEST


# ---------------------------------------------------------------------------------------------
# the judge
# ---------------------------------------------------------------------------------------------
def _stack(images):
    if isinstance(images, (list, tuple)):
        images = torch.cat([as_batch(t).detach().float().cpu() for t in images])
    return as_batch(images)


def recognize_digits(images, *, votes=False, reject=True):
    """Which digit does a person see in each picture?  ``images``: a tensor (N, C, H, W) /
    (C, H, W) in [0, 1], or a list of such (any sizes).  Returns a list of ints, -1 meaning
    "no digit" (with ``votes=True`` also each classifier's answers, one list per classifier).

    ``reject=True`` (the default): the honest judge (module docstring) — a digit only when two of
    three classifiers that know "no digit" agree on it, the picture has contrast, and it is not
    pixel noise (high-frequency share at most ``MAX_HIGH_FREQUENCY``).  Calibrated
    (tools/calibrate_judge.py): 97.2 % of the real held-out digits read at 32 px, 99 % at 224 px;
    98.2 % of the pictures labelled "no digit" (the standard model's blobs and noise, noise, blobs)
    rejected.
    ``reject=False``: always a digit — the majority of three classifiers trained on digits only
    (ties: the SVC), the reading that said yes to blobs.
    """
    if not reject:
        feats = images_to_8x8(_stack(images)).numpy()
        with _one_blas_thread():
            answers = [clf.predict(feats).tolist() for clf in plain_recognizers()]
        result = []
        for col in zip(*answers):
            best, count = Counter(col).most_common(1)[0]
            result.append(int(best) if count >= 2 else int(col[0]))
        return (result, answers) if votes else result
    result, answers = [], [[] for _ in range(3)]
    if isinstance(images, (list, tuple)) and len({tuple(t.shape[-2:]) for t in images}) > 1:
        for img in images:  # pictures of different sizes: judge one by one
            r, a = recognize_digits(img, votes=True)
            result += r
            for k in range(3):
                answers[k] += a[k]
        return (result, answers) if votes else result
    x = _stack(images)
    feats, contrast = stretched_8x8(x)
    hf = high_frequency_share(x)
    with _one_blas_thread():
        answers = [clf.predict(feats.numpy()).tolist() for clf in honest_recognizers()]
    for i, col in enumerate(zip(*answers)):
        best, count = Counter(col).most_common(1)[0]
        ok = count >= 2 and contrast[i] >= MIN_CONTRAST and hf[i] <= MAX_HIGH_FREQUENCY
        result.append(int(best) if ok else NO_DIGIT)
    answers = [[int(v) for v in a] for a in answers]
    return (result, answers) if votes else result


def reading_text(reading, label=None):
    """How a gallery tile says it: "reads as 3 ✓", "reads as 5 ✗", "no digit ✗"."""
    text = "no digit" if reading == NO_DIGIT else f"reads as {reading}"
    if label is None:
        return text
    return text + (" ✓" if reading == label else " ✗")


# ---------------------------------------------------------------------------------------------
# what the model says: probability, robustness, and the measures an ablation tile shows
# ---------------------------------------------------------------------------------------------
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
