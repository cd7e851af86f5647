"""dream/transforms.py: normalization, the one Gaussian kernel and the blur built on it."""
import math

import torch
import torch.nn.functional as F

from dream import transforms
from dream.transforms import gaussian_blur, gaussian_kernel, normalize


def test_gaussian_blur_matches_a_reflect_padded_convolution():
    import math

    import torch.nn.functional as F

    g = torch.Generator().manual_seed(0)
    img = torch.rand(2, 3, 16, 20, generator=g, dtype=torch.float64)
    for sigma in (0.5, 1.0, 2.0):
        r = max(1, math.ceil(2.5 * sigma))
        x = torch.arange(-r, r + 1, dtype=torch.float64)
        k = torch.exp(-0.5 * (x / sigma) ** 2)
        k = torch.outer(k, k) / k.sum() ** 2
        ref = F.conv2d(F.pad(img.reshape(6, 1, 16, 20), (r, r, r, r), mode="reflect"),
                       k.view(1, 1, 2 * r + 1, 2 * r + 1)).reshape(2, 3, 16, 20)
        torch.testing.assert_close(gaussian_blur(img, sigma), ref)
    assert torch.equal(gaussian_blur(img, 0), img)
    # big images take the convolution path: the same blur
    big = torch.rand(1, 3, 70, 90, generator=g, dtype=torch.float64)
    for sigma in (0.5, 3.5):
        r = max(1, math.ceil(2.5 * sigma))
        x = torch.arange(-r, r + 1, dtype=torch.float64)
        k = torch.exp(-0.5 * (x / sigma) ** 2)
        k = torch.outer(k, k) / k.sum() ** 2
        ref = F.conv2d(F.pad(big.reshape(3, 1, 70, 90), (r, r, r, r), mode="reflect"),
                       k.view(1, 1, 2 * r + 1, 2 * r + 1)).reshape(1, 3, 70, 90)
        torch.testing.assert_close(gaussian_blur(big, sigma), ref)
        out = big.clone()
        torch.testing.assert_close(gaussian_blur(out, sigma, out=out), ref)
    # blurring keeps the mean of a constant image and lowers the variance of noise
    assert gaussian_blur(img, 1.0).var() < img.var()


def test_gaussian_blur_in_place_equals_out_of_place():
    img = torch.rand(2, 3, 16, 20, generator=torch.Generator().manual_seed(1))
    ref = gaussian_blur(img, 0.8)
    same = img.clone()
    assert gaussian_blur(same, 0.8, out=same) is same
    torch.testing.assert_close(same, ref, atol=1e-6, rtol=0)


def test_normalize_is_imagenet_by_default_and_averages_for_other_channel_counts():
    img = torch.rand(2, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    mean = torch.tensor((0.485, 0.456, 0.406)).view(1, 3, 1, 1)
    std = torch.tensor((0.229, 0.224, 0.225)).view(1, 3, 1, 1)
    torch.testing.assert_close(normalize(img), (img - mean) / std)
    gray = img[:, :1]
    torch.testing.assert_close(normalize(gray), (gray - mean.mean()) / std.mean())


def test_the_one_gaussian_kernel():
    for sigma in (0.3, 0.6, 1.0, 2.5, 7.0):
        k = gaussian_kernel(sigma)
        radius = max(1, math.ceil(2.5 * sigma))
        assert len(k) == 2 * radius + 1 and abs(float(k.sum()) - 1) < 1e-12
        assert torch.equal(k, k.flip(0)) and int(k.argmax()) == radius
    # the blur matrices are made of it: a row away from the edges is the kernel itself
    m = transforms.blur_matrix(20, 1.0, "cpu", torch.float64)
    torch.testing.assert_close(m[10, 7:14], gaussian_kernel(1.0))
