"""scikit-learn's bundled 8x8 handwritten digits (no download) as images the networks take."""
import math

import torch
import torch.nn.functional as F


def digits_data():
    """scikit-learn's bundled digits: (X (N, 8, 8) in 0..16 float32, y (N,) int64)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return torch.tensor(d.images, dtype=torch.float32), torch.tensor(d.target, dtype=torch.int64)


def digits_split(seed=0, test_fraction=0.2):
    """Seeded stratified split of the digits: (train_idx, test_idx) as index tensors."""
    from sklearn.model_selection import train_test_split

    _, y = digits_data()
    idx = list(range(len(y)))
    tr, te = train_test_split(idx, test_size=test_fraction, random_state=seed, stratify=y.numpy())
    return torch.tensor(sorted(tr)), torch.tensor(sorted(te))


def digits_to_images(X8, size=32):
    """(N, 8, 8) digits in 0..16 -> (N, 3, size, size) images in [0, 1] (bilinear upsampling)."""
    x = (X8.float() / 16.0).unsqueeze(1)
    x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False).clamp(0, 1)
    return x.expand(-1, 3, -1, -1).contiguous()


def as_batch(image):
    """(C, H, W) -> (1, C, H, W); (N, C, H, W) unchanged."""
    return image.unsqueeze(0) if image.dim() == 3 else image


def random_affine(x, g, shift=1.5, degrees=12.0, scale=(0.9, 1.1)):
    """Each image of the batch ``x`` (N, C, H, W) shifted (±shift px), rotated (±degrees) and
    rescaled at random (draws from the generator ``g``; bilinear, black outside)."""
    n, c, h, w = x.shape
    ang = (torch.rand(n, generator=g) * 2 - 1) * math.radians(degrees)
    sc = torch.rand(n, generator=g) * (scale[1] - scale[0]) + scale[0]
    tx = (torch.rand(n, generator=g) * 2 - 1) * shift * 2 / w
    ty = (torch.rand(n, generator=g) * 2 - 1) * shift * 2 / h
    cos, sin = torch.cos(ang) / sc, torch.sin(ang) / sc
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, (n, c, h, w), align_corners=False)
    return F.grid_sample(x, grid.to(x.device), mode="bilinear", padding_mode="zeros", align_corners=False)


def random_transforms(image, n=32, seed=0, shift=1.5, degrees=12.0, scale=(0.9, 1.1)):
    """``n`` randomly shifted (±shift px), rotated (±degrees) and rescaled copies of one image
    (bilinear, black outside)."""
    x = as_batch(image).detach().float()
    g = torch.Generator().manual_seed(seed)
    return random_affine(x.expand(n, -1, -1, -1), g, shift, degrees, scale)
