"""The image's parameterization: at which sizes (octaves) it is optimized, and how one step maps it
to the network's input and the gradient back (``Warp``: resize, roll, normalize and gradient
blur as small matrices)."""
import torch
import torch.nn.functional as F

from .transforms import blur_matrix, gaussian_blur, use_convolutions


_INTERP_MATRICES = {}


def interp_matrix(n_in, n_out, device, dtype):
    """(n_out, n_in) matrix of 1-D linear interpolation as ``F.interpolate(..., align_corners=False)``
    does it; bilinear resizing is this along H and along W, so its adjoint is the transposes."""
    key = (n_in, n_out, str(device), dtype)
    m = _INTERP_MATRICES.get(key)
    if m is None:
        eye = torch.eye(n_in, dtype=torch.float64).view(n_in, 1, n_in)
        m = F.interpolate(eye, size=n_out, mode="linear", align_corners=False)[:, 0, :].t()
        m = m.to(device=device, dtype=dtype).contiguous()
        _INTERP_MATRICES[key] = m
    return m


def resize(img, size):
    """Bilinear resize of (N, C, H, W) to ``size`` (h, w); the image itself when it has that size."""
    if tuple(img.shape[-2:]) == tuple(size):
        return img
    return F.interpolate(img, size=size, mode="bilinear", align_corners=False)


def octave_plan(s, h, w):
    """[((h, w), iterations)] per octave, coarse to fine: ``s.octaves`` sizes ``s.octave_scale`` apart,
    ending at the full size, sharing ``s.iterations`` among them (the earlier ones get the remainder)."""
    sizes = []
    for k in range(s.octaves):
        f = s.octave_scale ** (s.octaves - 1 - k)
        sizes.append((max(4, int(round(h / f))), max(4, int(round(w / f)))))
    base, extra = divmod(s.iterations, s.octaves)
    iters = [base + (1 if k < extra else 0) for k in range(s.octaves)]
    return list(zip(sizes, iters))


class Warp:
    """What one step does to the image before the network and to the gradient after it, as
    small matrices (one octave, one set of tricks).

    Forward: the parameter P (the octave's size m x n) is upsampled to the full h x w, rolled by
    the jitter (dy, dx) and normalized, per channel c::

        x_c = inv_std_c * (A_dy @ P_c @ B_dx^T) + shift_c

    where A_dy is the (h, m) interpolation matrix with its rows rolled by dy (the identity,
    rolled, at full size) and B_dx the same along the width.  Backward: the exact adjoint,
    with the gradient blur G (reflect-padded Gaussian) folded in::

        dP_c = inv_std_c * (G_m @ A_dy^T) @ dX_c @ (G_n @ B_dx^T)^T

    Two matrix products each way replace resize, two rolls, the normalization and the blur:
    fewer tensor operations per step, which is what costs time on small images.  The matrices
    are built once per jitter offset and kept for the octave.
    """

    def __init__(self, size, full, shape, grad_sigma, inv_std, shift):
        (self.m, self.n), (self.h, self.w) = size, full
        self.batch, self.channels = shape[0], shape[1]
        dev, dt = inv_std.device, inv_std.dtype
        self.uh = interp_matrix(self.m, self.h, dev, dt)  # (h, m); the identity when m == h
        self.uw = interp_matrix(self.n, self.w, dev, dt)
        self.gm = blur_matrix(self.m, grad_sigma, dev, dt) if grad_sigma > 0 else None
        self.gn = blur_matrix(self.n, grad_sigma, dev, dt) if grad_sigma > 0 else None
        # big images (the course's 224 px) with a short gradient blur: rolls, an affine map and
        # convolutions instead of dense matrices, whose products cost O(h^3) there
        self.direct = use_convolutions(self.h, self.w, grad_sigma)
        self.grad_sigma = grad_sigma
        self.inv_std4, self.shift4 = inv_std.view(1, -1, 1, 1), shift.view(1, -1, 1, 1)
        self.scale = inv_std.view(-1, 1, 1)  # (C or 1, 1, 1)
        self.shift = self._per_image(shift.view(-1, 1, 1))  # (N*C, 1, 1)
        self._rows, self._cols = {}, {}

    def _per_image(self, t):
        """(C or 1, r, c) -> (N*C, r, c): one matrix per image and channel, for ``bmm``."""
        return t.expand(self.batch, self.channels, *t.shape[-2:]).reshape(-1, *t.shape[-2:]).contiguous()

    def rows(self, dy):
        """(inv_std * A_dy, inv_std * G_m @ A_dy^T), each repeated per image and channel."""
        r = self._rows.get(dy)
        if r is None:
            a = self.uh.roll(dy, dims=0)
            ga = a.t() if self.gm is None else self.gm @ a.t()
            r = self._rows[dy] = (self._per_image(self.scale * a), self._per_image(self.scale * ga))
        return r

    def cols(self, dx):
        """(B_dx^T, (G_n @ B_dx^T)^T): shapes (n, w) and (w, n)."""
        r = self._cols.get(dx)
        if r is None:
            b = self.uw.roll(dx, dims=0)
            gb = b.t() if self.gn is None else self.gn @ b.t()
            r = self._cols[dx] = (b.t().contiguous(), gb.t().contiguous())
        return r

    def forward(self, param, dy, dx):
        """The network's input for this step (a new tensor; ``param`` is only read)."""
        if self.direct:
            up = param if (self.m, self.n) == (self.h, self.w) else torch.matmul(torch.matmul(self.uh, param), self.uw.t())
            return torch.addcmul(self.shift4, up.roll((dy, dx), dims=(-2, -1)), self.inv_std4)
        a, bt = self.rows(dy)[0], self.cols(dx)[0]
        y = torch.mm(param.reshape(-1, self.n), bt).view(-1, self.m, self.w)
        return torch.baddbmm(self.shift, a, y).view(self.batch, self.channels, self.h, self.w)

    def backward(self, grad, dy, dx):
        """The gradient on the network's input pulled back to ``param``, blurred."""
        if self.direct:
            g = grad.roll((-dy, -dx), dims=(-2, -1)) * self.inv_std4
            if (self.m, self.n) != (self.h, self.w):  # the adjoint of the upsampling
                g = torch.matmul(torch.matmul(self.uh.t(), g), self.uw)
            return gaussian_blur(g.contiguous(), self.grad_sigma)
        ga, gbt = self.rows(dy)[1], self.cols(dx)[1]
        z = torch.mm(grad.reshape(-1, self.w), gbt).view(-1, self.h, self.n)
        return torch.bmm(ga, z).view(self.batch, self.channels, self.m, self.n)
