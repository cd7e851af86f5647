"""Measures of a picture, independent of any model: its gray view, how much of its energy sits at
high spatial frequencies, its total variation, and the 8x8 view the judge reads."""
import torch
import torch.nn.functional as F

from .data import as_batch

HIGH_FREQUENCY_CUTOFF = 8.0  # cycles per image width: twice the finest detail of an 8x8 digit


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


def dark_share(images, level=0.25):
    """Per image: the share of the stretched 8x8 view's cells darker than ``level`` (of its range) —
    the background.  A digit is ink on a dark background: real held-out digits have at least 0.375
    of their cells dark, a gray field with dark holes in it 0.08-0.25.  Returns a (N,) tensor."""
    x, _ = stretched_8x8(images)
    return (x < level).float().mean(dim=1)
