"""dream/param.py: the octave plan and Warp, the matrices that move the image to the network and
the gradient back."""
import pytest
import torch
import torch.nn.functional as F

from dream.models import IMAGENET_MEAN, IMAGENET_STD
from dream.param import Warp, interp_matrix, octave_plan
from dream.settings import default_settings
from dream.transforms import gaussian_blur


def test_interp_matrices_reproduce_bilinear_resize_and_its_gradient():
    # gd applies the upsampling's adjoint by hand (transposed matrices): it must equal autograd's
    p = torch.rand(1, 3, 16, 16, dtype=torch.float64, requires_grad=True)
    g = torch.rand(1, 3, 32, 32, dtype=torch.float64)
    up = F.interpolate(p, size=(32, 32), mode="bilinear", align_corners=False)
    (ref,) = torch.autograd.grad((up * g).sum(), p)
    uh = interp_matrix(16, 32, "cpu", torch.float64)
    assert torch.allclose(uh @ p.detach() @ uh.t(), up.detach(), atol=1e-12)
    assert torch.allclose(uh.t() @ g @ uh, ref, atol=1e-12)


@pytest.mark.parametrize("size,full", [((16, 16), (32, 32)), ((32, 32), (32, 32)), ((12, 20), (32, 32)),
                                       ((149, 149), (224, 224)), ((224, 224), (224, 224))])


def test_warp_is_resize_roll_normalize_and_its_adjoint_with_the_gradient_blur(size, full):
    # one optimization step's image path (upsample -> roll by the jitter -> normalize) and the
    # gradient's way back (autograd through that path, then the gradient blur), against _Warp's
    # four matrix products (small images) or rolls and convolutions (224 px), for two images of
    # 3 channels
    gen = torch.Generator().manual_seed(0)
    inv_std = 1.0 / torch.tensor(IMAGENET_STD, dtype=torch.float64).view(1, 3, 1, 1)
    shift = -torch.tensor(IMAGENET_MEAN, dtype=torch.float64).view(1, 3, 1, 1) * inv_std
    p = torch.rand(2, 3, *size, generator=gen, dtype=torch.float64, requires_grad=True)
    g = torch.randn(2, 3, *full, generator=gen, dtype=torch.float64)
    for sigma in (0.0, 0.7, 4.0):  # 4 px at 224: the matrices again (a long kernel)
        warp = Warp(size, full, p.shape, sigma, inv_std, shift)
        assert warp.direct == (full == (224, 224) and sigma < 4)
        for dy, dx in [(0, 0), (2, -1), (-3, 3)]:
            up = F.interpolate(p, size=full, mode="bilinear", align_corners=False)
            ref_x = up.roll((dy, dx), dims=(-2, -1)) * inv_std + shift
            (ref_g,) = torch.autograd.grad((ref_x * g).sum(), p)
            ref_g = gaussian_blur(ref_g, sigma)
            torch.testing.assert_close(warp.forward(p.detach(), dy, dx), ref_x.detach(), atol=1e-12, rtol=0)
            torch.testing.assert_close(warp.backward(g, dy, dx), ref_g, atol=1e-12, rtol=0)


def test_octaves_share_the_iterations_coarse_to_fine():
    s = default_settings("digits").replace(iterations=25, octaves=3, octave_scale=1.5)
    plan = octave_plan(s, 32, 32)
    assert [it for _, it in plan] == [9, 8, 8]
    assert [size for size, _ in plan] == [(14, 14), (21, 21), (32, 32)]
    assert octave_plan(s.replace(octaves=1), 32, 32) == [((32, 32), 25)]
