"""The legibility judge: who reads a picture as a digit — honestly, with "no digit" as an answer —
the classifiers it is made of, and the pictures they learn from.

``recognize_digits(images)`` is the judge the studio, the CLI's gallery and the checker use.  It
does not use the CNN whose pictures it judges: three scikit-learn classifiers (RBF SVC, 5-NN,
logistic regression) read the picture, gray and area-averaged to 8x8 like load_digits, contrast
stretched to [0, 1].  Each knows an eleventh answer, -1 = "no digit", learnt from pictures that
are not digits (noise, smooth random fields, blobs on black, dark holes in a gray field, blocky
noise, averages of several digits); the digits they learn from are load_digits' training split, also shifted, rotated,
rescaled and with thickened strokes (a visualization draws bolder strokes than a pen).  The
reading is a digit only if at least two of the three say that same digit.  Three checks do not
need the classifiers: a picture without contrast is no digit; neither is one whose spectral
energy above 8 cycles per width (more than an 8x8 digit can hold) exceeds ``MAX_HIGH_FREQUENCY``
— pixel noise that only looks like a digit once averaged down, checked at the picture's own
resolution; nor one without a dark background (``MIN_DARK_SHARE`` of its stretched 8x8 view):
a digit is ink on a dark ground, while the standard model's smooth blobs are dark holes in a
gray field, which the classifiers, seeing only shapes, could take for a 0 or a 9.

``reject=False`` gives the old reading (the same three classifiers, trained on digits only,
majority vote, ties to the SVC): it always names a digit, whatever the picture is.

The thresholds were calibrated on labelled pictures (``python tools/calibrate_judge.py`` prints
the confusion table): real held-out digits, the robust model's pictures, the standard model's
pictures with and without tricks, noise and blobs.
"""
from collections import Counter

import torch
import torch.nn.functional as F

from .data import as_batch, digits_data, digits_split, digits_to_images, random_affine
from .measures import dark_share, high_frequency_share, images_to_8x8, stretched_8x8
from .threads import limit_threads
from .transforms import gaussian_kernel

NO_DIGIT = -1
MAX_HIGH_FREQUENCY = 0.03  # real digits: at most 0.023 at 32 px, 0.030 at 224 px; the standard model without tricks: 0.03-0.09
MIN_CONTRAST = 0.05        # (max - min) of the 8x8 gray view; a flat picture is no digit
MIN_DARK_SHARE = 0.3       # background cells of the stretched 8x8 view: real digits >= 0.375, gray fields with holes <= 0.25


def _over16(a):
    return a / 16.0


# ---------------------------------------------------------------------------------------------
# training pictures: digits (augmented) and not-digits
# ---------------------------------------------------------------------------------------------
def _thicken(x, sigma):
    """Blur (N, C, H, W) with the project's Gaussian kernel (zero padding: ink spreads onto the
    black background, strokes get thicker)."""
    k = gaussian_kernel(sigma, x.dtype)
    r, c = len(k) // 2, x.shape[1]
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
        thick = torch.cat([_thicken(a[i:i + 1], float(sigma[i])) for i in range(len(a))])
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
        with limit_threads(1):  # the fits take ~0.1 s instead of tens of seconds on a busy CPU
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
        with limit_threads(1):
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
    three classifiers that know "no digit" agree on it, the picture has contrast, it is not pixel
    noise (high-frequency share at most ``MAX_HIGH_FREQUENCY``) and it has a dark background
    (``MIN_DARK_SHARE``).  Calibrated with tools/calibrate_judge.py (its confusion table).
    ``reject=False``: always a digit — the majority of three classifiers trained on digits only
    (ties: the SVC), the reading that said yes to blobs.
    """
    if not reject:
        feats = images_to_8x8(_stack(images)).numpy()
        with limit_threads(1):
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
    dark = dark_share(x)
    with limit_threads(1):
        answers = [clf.predict(feats.numpy()).tolist() for clf in honest_recognizers()]
    for i, col in enumerate(zip(*answers)):
        best, count = Counter(col).most_common(1)[0]
        ok = (count >= 2 and contrast[i] >= MIN_CONTRAST and hf[i] <= MAX_HIGH_FREQUENCY
              and dark[i] >= MIN_DARK_SHARE)
        result.append(int(best) if ok else NO_DIGIT)
    answers = [[int(v) for v in a] for a in answers]
    return (result, answers) if votes else result


def reading_text(reading, label=None):
    """How a gallery tile says it: "reads as 3 ✓", "reads as 5 ✗", "no digit ✗"."""
    text = "no digit" if reading == NO_DIGIT else f"reads as {reading}"
    if label is None:
        return text
    return text + (" ✓" if reading == label else " ✗")
