"""A two-layer MLP whose forward and backward passes are written by hand.

    x ──Linear₁──▶ z1 ──f──▶ z2 ──Linear₂──▶ z3 ──g──▶ ŷ          J = loss(y, ŷ)

Every layer is a pair of small functions, the forward right above its backward:
``<name>(...)`` computes the layer's output, ``<name>_backward(dJd_out, ...)`` turns the
gradient of the loss with respect to that output into the gradient with respect to its
input(s). ``MLP.backward`` is nothing but those functions called in reverse order.

No autograd is used anywhere: everything runs under ``torch.no_grad()``.

Course compatibility (CSCI-GA 2572, homework 1, part 2.1): the names, argument order, shapes
and reductions below are those of the course's starter file, so this file can be dropped next
to the grading scripts (``python testN.py``). Gradients are stored in PyTorch's layout:
``grads['dJdW1']`` has the shape of ``W1`` (the transpose of the numerator-layout Jacobian
used in the theory).

Activation names accepted for ``f_function`` / ``g_function``: ``'relu'``, ``'sigmoid'``,
``'identity'``, ``'tanh'``, ``'scaled_relu'`` (5·ReLU, question 1.2; alias ``'5relu'``),
``'leaky_relu'`` (slope 0.01), ``'softplus'`` (β = 1) and ``'gelu'`` (exact, erf form).

Bad input (a wrong shape, dtype or name, NaN, a BCE target outside [0, 1]) is caught at the
API's edge — ``MLP()``, ``forward``, ``backward``, ``mse_loss``, ``bce_loss`` — by the checks
gathered at the end of this file, so the math above them reads without interruption.

Run ``python mlp.py --check [path/to/other/mlp.py]`` for the course-style self-check table
(the grading package, ``grading/mlp_check.py``).
"""
import math

import torch

__all__ = ["MLP", "mse_loss", "bce_loss", "ACTIVATIONS"]


# ----------------------------------------------------------------------------
# Linear: z = x Wᵀ + b        x: (N, in)   W: (out, in)   b: (out,)   z: (N, out)
# ----------------------------------------------------------------------------
def linear(x, W, b):
    return x @ W.T + b


def linear_backward(dJdz, x, W, need_dJdx=True):
    """Return (dJdx, dJdW, dJdb) given dJdz of shape (N, out).

    The first layer's input is the data, whose gradient nobody needs (autograd skips it too):
    ``need_dJdx=False`` returns None for dJdx instead of computing it.
    """
    dJdW = dJdz.T @ x                           # (out, N) @ (N, in)   -> (out, in), W's shape
    dJdb = dJdz.sum(dim=0)                      # b is added to every row, so its gradients add up
    dJdx = dJdz @ W if need_dJdx else None      # (N, out) @ (out, in) -> (N, in), x's shape
    return dJdx, dJdW, dJdb


# ----------------------------------------------------------------------------
# Element-wise activations a = φ(z). Each backward receives dJ/da, the input z and the
# output a, uses whichever gives φ'(z) most simply, and returns dJ/dz = dJ/da · φ'(z).
# ----------------------------------------------------------------------------
def identity(z):
    return z


def identity_backward(dJda, z, a):
    return dJda                                 # φ'(z) = 1


def relu(z):
    return z.clamp(min=0)


def relu_backward(dJda, z, a):
    return dJda * (z > 0)                       # φ'(z) = 1 where z > 0, else 0 (0 at z = 0, like PyTorch)


RELU_SCALE = 5.0   # question 1.2: f(z) = 5·ReLU(z)


def scaled_relu(z):
    return RELU_SCALE * z.clamp(min=0)


def scaled_relu_backward(dJda, z, a):
    return RELU_SCALE * dJda * (z > 0)          # slope 5 where z > 0, not 1


LEAKY_SLOPE = 0.01


def leaky_relu(z):
    return torch.where(z > 0, z, LEAKY_SLOPE * z)


def leaky_relu_backward(dJda, z, a):
    return torch.where(z > 0, dJda, LEAKY_SLOPE * dJda)   # slope 1 where z > 0, else 0.01


def sigmoid(z):
    return torch.sigmoid(z)


def sigmoid_backward(dJda, z, a):
    return dJda * a * (1 - a)                   # σ'(z) = σ(z)(1 − σ(z)) = a(1 − a)


def tanh(z):
    return torch.tanh(z)


def tanh_backward(dJda, z, a):
    return dJda * (1 - a * a)                   # tanh'(z) = 1 − tanh²(z) = 1 − a²


SOFTPLUS_THRESHOLD = 20.0   # like nn.Softplus: above it, softplus(z) = z (exp would overflow)


def softplus(z):
    return torch.where(z > SOFTPLUS_THRESHOLD, z, torch.log1p(torch.exp(z.clamp(max=SOFTPLUS_THRESHOLD))))


def softplus_backward(dJda, z, a):
    slope = torch.where(z > SOFTPLUS_THRESHOLD, 1.0, torch.sigmoid(z))   # (log(1 + eᶻ))' = σ(z); 1 where softplus(z) = z
    return dJda * slope


def gelu(z):
    return z * _normal_cdf(z)


def gelu_backward(dJda, z, a):
    pdf = torch.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    return dJda * (_normal_cdf(z) + z * pdf)    # (z·Φ(z))' = Φ(z) + z·φ(z)


def _normal_cdf(z):
    return 0.5 * (1 + torch.erf(z / math.sqrt(2)))


ACTIVATIONS = {
    "identity": (identity, identity_backward),
    "relu": (relu, relu_backward),
    "scaled_relu": (scaled_relu, scaled_relu_backward),
    "5relu": (scaled_relu, scaled_relu_backward),
    "leaky_relu": (leaky_relu, leaky_relu_backward),
    "sigmoid": (sigmoid, sigmoid_backward),
    "tanh": (tanh, tanh_backward),
    "softplus": (softplus, softplus_backward),
    "gelu": (gelu, gelu_backward),
}


# ----------------------------------------------------------------------------
# The network
# ----------------------------------------------------------------------------
class MLP:
    def __init__(self, linear_1_in_features, linear_1_out_features, f_function,
                 linear_2_in_features, linear_2_out_features, g_function):
        """Linear(in1 → out1) → f → Linear(in2 → out2) → g, with out1 == in2."""
        _check_sizes(linear_1_in_features, linear_1_out_features, linear_2_in_features, linear_2_out_features)
        _check_activation_name(f_function, "f_function")
        _check_activation_name(g_function, "g_function")
        self.f_function = f_function
        self.g_function = g_function
        self.f, self.f_backward = ACTIVATIONS[f_function]
        self.g, self.g_backward = ACTIVATIONS[g_function]

        self.parameters = dict(
            W1=torch.randn(linear_1_out_features, linear_1_in_features),
            b1=torch.randn(linear_1_out_features),
            W2=torch.randn(linear_2_out_features, linear_2_in_features),
            b2=torch.randn(linear_2_out_features),
        )
        self.grads = {}
        self.cache = {}
        self.clear_grad_and_cache()

    @torch.no_grad()
    def forward(self, x):
        """x: (batch, in1) → ŷ: (batch, out2). Keeps what backward needs in self.cache."""
        _check_x(x, self.parameters["W1"])
        p = self.parameters
        z1 = linear(x, p["W1"], p["b1"])
        z2 = self.f(z1)
        z3 = linear(z2, p["W2"], p["b2"])
        y_hat = self.g(z3)
        self.cache = dict(x=x, z1=z1, z2=z2, z3=z3, y_hat=y_hat)
        return y_hat

    @torch.no_grad()
    def backward(self, dJdy_hat):
        """dJdy_hat: (batch, out2). Fills self.grads (gradients of this batch's J)."""
        _check_dJdy_hat(dJdy_hat, self.cache)
        c, p = self.cache, self.parameters
        self.grads = {}   # let the old gradients go first, so the new ones can reuse their memory
        dJdz3 = self.g_backward(dJdy_hat, c["z3"], c["y_hat"])
        dJdz2, dJdW2, dJdb2 = linear_backward(dJdz3, c["z2"], p["W2"])
        dJdz1 = self.f_backward(dJdz2, c["z1"], c["z2"])
        _, dJdW1, dJdb1 = linear_backward(dJdz1, c["x"], p["W1"], need_dJdx=False)
        self.grads = dict(dJdW1=dJdW1, dJdb1=dJdb1, dJdW2=dJdW2, dJdb2=dJdb2)

    def clear_grad_and_cache(self):
        """Zero every gradient (shaped and typed like its parameter) and forget the cache."""
        self.grads, self.cache = {}, {}   # let the old tensors go first, so the new ones can reuse their memory
        self.grads = {f"dJd{name}": torch.zeros_like(t) for name, t in self.parameters.items()}


# ----------------------------------------------------------------------------
# Losses: return (J, dJ/dŷ). J is the mean over every element, like nn.MSELoss() and
# nn.BCELoss() with their default reduction='mean', so dJ/dŷ carries a 1/numel.
# ----------------------------------------------------------------------------
@torch.no_grad()
def mse_loss(y, y_hat):
    _check_loss_inputs(y, y_hat)
    diff = y_hat - y
    J = (diff * diff).mean()
    dJdy_hat = 2 * diff / diff.numel()
    return J, dJdy_hat


BCE_LOG_FLOOR = -100.0   # nn.BCELoss clamps each log at −100, so J stays finite at ŷ ∈ {0, 1}
# ... and its gradient divides by max(ŷ(1 − ŷ), ε) with ε = 1e-12 *as a float32* (9.99999996e-13),
# even for float64 inputs; using that same number keeps float64 saturated gradients equal to PyTorch's.
BCE_EPS = float(torch.tensor(1e-12, dtype=torch.float32))


@torch.no_grad()
def bce_loss(y, y_hat):
    _check_loss_inputs(y, y_hat, in_unit_interval=True)
    log_p = torch.log(y_hat).clamp(min=BCE_LOG_FLOOR)
    log_q = torch.log(1 - y_hat).clamp(min=BCE_LOG_FLOOR)
    J = -(y * log_p + (1 - y) * log_q).mean()
    # d/dŷ of −[y log ŷ + (1 − y) log(1 − ŷ)] is (ŷ − y) / (ŷ(1 − ŷ)); then 1/numel for the mean
    dJdy_hat = (y_hat - y) / (y_hat * (1 - y_hat)).clamp(min=BCE_EPS) / y_hat.numel()
    return J, dJdy_hat


# ----------------------------------------------------------------------------
# Input checks, all in one place: each API function above calls one of these first, and
# each error names what was wrong and what is allowed.
# ----------------------------------------------------------------------------
def _check_sizes(linear_1_in_features, linear_1_out_features, linear_2_in_features, linear_2_out_features):
    sizes = dict(linear_1_in_features=linear_1_in_features, linear_1_out_features=linear_1_out_features,
                 linear_2_in_features=linear_2_in_features, linear_2_out_features=linear_2_out_features)
    for key, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{key} must be a positive int, got {value!r}")
    if linear_1_out_features != linear_2_in_features:
        raise ValueError(
            f"linear_1_out_features ({linear_1_out_features}) must equal linear_2_in_features "
            f"({linear_2_in_features}): the hidden layer feeds the second linear layer")


def _check_activation_name(name, role):
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"unknown {role} {name!r}; allowed: {', '.join(sorted(ACTIVATIONS))}")


def _check_x(x, W1):
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor of shape (batch, {W1.shape[1]}), got {type(x).__name__}")
    if x.dim() != 2 or x.shape[1] != W1.shape[1]:
        raise ValueError(f"x must have shape (batch, {W1.shape[1]}), got {tuple(x.shape)}")
    if x.dtype != W1.dtype:
        raise TypeError(f"x has dtype {x.dtype} but the parameters are {W1.dtype}; convert one to match")
    _check_finite(x, "x")


def _check_dJdy_hat(dJdy_hat, cache):
    if "y_hat" not in cache:
        raise RuntimeError("backward() called before forward(): run y_hat = net.forward(x) first")
    y_hat = cache["y_hat"]
    if not isinstance(dJdy_hat, torch.Tensor):
        raise TypeError(f"dJdy_hat must be a torch.Tensor shaped like y_hat {tuple(y_hat.shape)}, "
                        f"got {type(dJdy_hat).__name__}")
    if dJdy_hat.shape != y_hat.shape:
        raise ValueError(f"dJdy_hat must have the shape of y_hat {tuple(y_hat.shape)}, got {tuple(dJdy_hat.shape)}")
    if dJdy_hat.dtype != y_hat.dtype:
        raise TypeError(f"dJdy_hat has dtype {dJdy_hat.dtype} but y_hat is {y_hat.dtype}; convert one to match")


def _check_loss_inputs(y, y_hat, in_unit_interval=False):
    for name, t in (("y", y), ("y_hat", y_hat)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if y.shape != y_hat.shape:
        raise ValueError(f"y and y_hat must have the same shape (the loss is (y, y_hat), target first); "
                         f"got y {tuple(y.shape)} and y_hat {tuple(y_hat.shape)}")
    _check_finite(y, "y")
    _check_finite(y_hat, "y_hat")
    if in_unit_interval:
        for name, t in (("y", y), ("y_hat", y_hat)):
            lo, hi = (v.item() for v in torch.aminmax(t))
            if lo < 0 or hi > 1:
                raise ValueError(f"bce_loss needs {name} in [0, 1]; got values from {lo:.4g} to {hi:.4g}")


def _check_finite(t, name):
    if math.isfinite(t.sum()):       # a sum of finite numbers is finite: one cheap pass, no temporary
        return
    if not torch.isfinite(t).all():  # (a finite sum can still overflow: look element by element)
        raise ValueError(f"{name} contains NaN or inf ({int((~torch.isfinite(t)).sum())} of {t.numel()} values)")


if __name__ == "__main__":
    import sys

    from grading.cli import main
    sys.exit(main(sys.argv[1:], kind="mlp"))
