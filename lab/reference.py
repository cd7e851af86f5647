"""The one reference for the activations and losses of the homework, written once.

Everything that needs the truth about an activation or a loss — the exercises' checks, the
gradient-check helpers, the TA's checker and its diagnosis — takes it from here, so a formula is
never written twice. Each activation is built from PyTorch's own functions (the truth autograd
differentiates); its derivative is written out beside it and tested against autograd in
``tests/lab/test_reference.py``.

    >>> from lab import reference as ref
    >>> ref.activation("5relu")(torch.tensor([-1.0, 2.0]))
    tensor([ 0., 10.])
    >>> J, dJdy_hat = ref.loss("mse")(y, y_hat)        # target first, like mlp.py
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ACTIVATIONS", "ALIASES", "LOSSES", "SCALE", "LEAK", "canonical", "activation", "derivative",
           "loss", "torch_module", "mse", "bce"]

SCALE = 5.0     # the 5·ReLU of question 1.2
LEAK = 0.01     # LeakyReLU's slope for z < 0 (PyTorch's default)


def _sigmoid_prime(z):
    s = torch.sigmoid(z)
    return s * (1 - s)


def _gelu_prime(z):
    # exact GELU: z·Φ(z), so d/dz = Φ(z) + z·φ(z)
    cdf = 0.5 * (1 + torch.erf(z / 2 ** 0.5))
    pdf = torch.exp(-0.5 * z * z) / (2 * torch.pi) ** 0.5
    return cdf + z * pdf


# name -> (activation, its derivative as a function of the pre-activation z).
# At a kink (z = 0) the derivative follows PyTorch's autograd: ReLU' (0) = 0.
ACTIVATIONS = {
    "identity": (lambda z: z, torch.ones_like),
    "relu": (F.relu, lambda z: (z > 0).to(z.dtype)),
    "scaled_relu": (lambda z: SCALE * F.relu(z), lambda z: SCALE * (z > 0).to(z.dtype)),
    "leaky_relu": (lambda z: F.leaky_relu(z, LEAK), lambda z: torch.where(z > 0, 1.0, LEAK).to(z.dtype)),
    "sigmoid": (torch.sigmoid, _sigmoid_prime),
    "tanh": (torch.tanh, lambda z: 1 - torch.tanh(z) ** 2),
    "softplus": (lambda z: F.softplus(z, beta=1), torch.sigmoid),
    "gelu": (F.gelu, _gelu_prime),
}
ALIASES = {"5relu": "scaled_relu", "linear": "identity", "none": "identity"}


def canonical(name):
    """The canonical name of an activation ('5relu' -> 'scaled_relu'); ValueError if unknown."""
    key = str(name).strip().lower()
    key = ALIASES.get(key, key)
    if key not in ACTIVATIONS:
        raise ValueError(f"no reference for activation {name!r}; known: "
                         f"{', '.join(sorted(ACTIVATIONS) + sorted(ALIASES))}")
    return key


def activation(name):
    """The activation function called ``name``."""
    return ACTIVATIONS[canonical(name)][0]


def derivative(name):
    """The derivative of activation ``name``, as a function of the pre-activation z."""
    return ACTIVATIONS[canonical(name)][1]


class _Lambda(nn.Module):
    def __init__(self, name):
        super().__init__()
        self.name = canonical(name)

    def forward(self, z):
        return activation(self.name)(z)

    def extra_repr(self):
        return self.name


def torch_module(name):
    """An ``nn.Module`` for activation ``name`` (nn.ReLU, nn.Sigmoid, ... where PyTorch has one)."""
    key = canonical(name)
    builtin = {"identity": nn.Identity, "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
               "softplus": nn.Softplus, "gelu": nn.GELU}
    return builtin[key]() if key in builtin else _Lambda(key)


def mse(y, y_hat):
    """(J, dJ/dŷ) of ``nn.MSELoss()``: the mean over every entry, and its gradient."""
    d = y_hat - y
    return (d * d).mean(), 2 * d / y_hat.numel()


def bce(y, y_hat):
    """(J, dJ/dŷ) of ``nn.BCELoss()``: the mean over every entry with each log clamped at −100."""
    p = y_hat
    log_p = torch.log(p).clamp(min=-100)
    log_q = torch.log(1 - p).clamp(min=-100)
    J = -(y * log_p + (1 - y) * log_q).mean()
    return J, (p - y) / (p * (1 - p)).clamp(min=1e-12) / p.numel()


LOSSES = {"mse": mse, "bce": bce}


def loss(name):
    """The loss function called ``name`` ('mse' or 'bce'), as ``(y, y_hat) -> (J, dJdy_hat)``."""
    key = str(name).strip().lower()
    if key not in LOSSES:
        raise ValueError(f"no reference for loss {name!r}; known: {', '.join(LOSSES)}")
    return LOSSES[key]
