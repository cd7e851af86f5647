"""The image operations the tricks are made of: normalization, jitter (a roll), Gaussian blur as two
small matrix products, and the in-place steps the optimization loop takes on its image."""
import math

import torch

from .models import IMAGENET_MEAN, IMAGENET_STD


def normalize(img, mean=IMAGENET_MEAN, std=IMAGENET_STD):
    """(img - mean) / std per channel (default: ImageNet's): what the networks expect as input.
    An image with another number of channels (a gray model) uses the channels' average mean and std."""
    if img.shape[1] != len(mean):
        mean, std = (sum(mean) / len(mean),), (sum(std) / len(std),)
    m = torch.as_tensor(mean, dtype=img.dtype, device=img.device).view(1, -1, 1, 1)
    s = torch.as_tensor(std, dtype=img.dtype, device=img.device).view(1, -1, 1, 1)
    return (img - m) / s


def gaussian_kernel(sigma, dtype=torch.float64):
    """The one Gaussian kernel of the project: 1-D, radius ceil(2.5 sigma) (at least 1), summing to 1.
    Blurring the image, blurring the gradient and thickening the judge's training digits use it."""
    radius = max(1, int(math.ceil(2.5 * sigma)))
    x = torch.arange(-radius, radius + 1, dtype=torch.float64)
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    return (k / k.sum()).to(dtype)


_BLUR_MATRICES = {}


def blur_matrix(n, sigma, device, dtype, transposed=False):
    """(n, n) matrix applying a 1-D Gaussian (radius 2.5 sigma, reflect padding) to a length-n
    signal (``transposed``: its transpose, stored contiguous, which ``mm`` multiplies faster).
    Blurring as two small matrix products is several times faster on a CPU than a small
    convolution for the image sizes used here."""
    key = (n, sigma, device, dtype, transposed)
    m = _BLUR_MATRICES.get(key)
    if m is None and transposed:
        m = _BLUR_MATRICES[key] = blur_matrix(n, sigma, device, dtype).t().contiguous()
    if m is None:
        k = gaussian_kernel(sigma)
        radius = len(k) // 2
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


# Above LARGE pixels, rolls and convolutions beat the dense matrices (whose products cost O(h^3)),
# as long as the Gaussian's radius stays short: measured on one CPU thread at 224 px, the matrices
# take 2.6 ms per step with a 7-px gradient blur (radius 18) and the convolutions 5.9 ms.
LARGE = 64 * 64
MAX_CONV_RADIUS = 8


def use_convolutions(h, w, sigma):
    """Whether a blur of ``sigma`` px on an h x w image is cheaper as 1-D convolutions."""
    return h * w > LARGE and math.ceil(2.5 * sigma) <= MAX_CONV_RADIUS


def _blur_conv(img, sigma):
    """The same blur as ``blur_matrix`` (radius 2.5 sigma, reflect padding without repeating
    the edge), as a 1-D convolution along W, then along H."""
    k = gaussian_kernel(sigma, img.dtype).to(img.device)
    radius = len(k) // 2
    n, c, h, w = img.shape
    if radius >= min(h, w):  # reflect padding needs a wider image: use the matrices
        return _blur_matrix_path(img, sigma)
    y = img.reshape(n * c, 1, h, w)
    y = torch.nn.functional.conv2d(torch.nn.functional.pad(y, (radius, radius, 0, 0), mode="reflect"),
                                   k.view(1, 1, 1, -1))
    y = torch.nn.functional.conv2d(torch.nn.functional.pad(y, (0, 0, radius, radius), mode="reflect"),
                                   k.view(1, 1, -1, 1))
    return y.view(n, c, h, w)


def _blur_matrix_path(img, sigma):
    h, w = img.shape[-2:]
    mh = blur_matrix(h, sigma, img.device, img.dtype)
    mwt = blur_matrix(w, sigma, img.device, img.dtype, transposed=True)
    return torch.matmul(mh, torch.matmul(img, mwt))


def gaussian_blur(img, sigma, out=None):
    """Gaussian blur per channel of (N, C, H, W) (sigma in pixels, radius 2.5 sigma, reflect
    padding; 0 = identity).  ``out``: a contiguous tensor of img's shape to write into (may be
    ``img`` itself); returns it."""
    if sigma <= 0:
        return img if out is None else out.copy_(img)
    h, w = img.shape[-2:]
    if use_convolutions(h, w, sigma):  # big images, short kernels: two 1-D convolutions
        res = _blur_conv(img, sigma)
        return res if out is None else out.copy_(res)
    mh = blur_matrix(h, sigma, img.device, img.dtype)
    mwt = blur_matrix(w, sigma, img.device, img.dtype, transposed=True)
    rows = torch.mm(img.reshape(-1, w), mwt).view(-1, h, w)  # along W, every row at once
    if out is None:
        out = torch.empty_like(img, memory_format=torch.contiguous_format)
    torch.bmm(mh.expand(rows.shape[0], h, h), rows, out=out.view(-1, h, w))  # then along H
    return out


# ---------------------------------------------------------------------------------------------
# the in-place steps of the optimization loop, one per trick (``param`` never requires grad)
# ---------------------------------------------------------------------------------------------
def ascent_step_(param, grad, rule, lr):
    """Climb: ``param += lr * grad`` ("plain"), or ``lr * grad / mean|grad|`` per image
    ("normalized": every step moves pixels by about ``lr``, whatever the gradient's scale)."""
    if rule == "normalized":
        l1 = torch.linalg.vector_norm(grad, 1, dim=(1, 2, 3), keepdim=True)  # one reduction ...
        return param.addcdiv_(grad, l1.clamp_(min=1e-12), value=lr * param[0].numel())  # ... one fused update
    return param.add_(grad, alpha=lr)


def weight_decay_(param, amount, to=0.0):
    """Weight decay on the image: ``param -= amount * (param - to)`` (0 = off)."""
    if amount > 0:
        param.mul_(1.0 - amount)
        if amount * to:
            param.add_(amount * to)
    return param


def blur_(param, sigma):
    """Gaussian-blur the image in place (``sigma`` in pixels of ``param``)."""
    return gaussian_blur(param, sigma, out=param)


def clamp_(param):
    """Keep pixels in [0, 1]."""
    return param.clamp_(0, 1)
