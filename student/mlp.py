"""Your mlp.py: a two-layer MLP whose forward and backward passes you write by hand.

    x ──Linear₁──▶ z1 ──f──▶ z2 ──Linear₂──▶ z3 ──g──▶ ŷ          J = loss(y, ŷ)

This is the starter of the student edition (homework 1, part 2.1). The names, the argument
order and the shapes are the course's: the grading scripts do ``from mlp import MLP, mse_loss,
bce_loss``. Replace every ``raise NotImplementedError(...)`` with your code; do not use autograd
(everything must work under ``torch.no_grad()``).

* ``x`` has shape (batch, linear_1_in_features); ``W1`` is (out, in), as in ``nn.Linear``.
* ``f_function`` / ``g_function`` are 'relu', 'sigmoid' or 'identity' (the theory questions also
  use 'tanh' and 5·ReLU).
* ``self.grads[...]`` has the shape of its parameter (the layout of PyTorch's ``.grad``).
* Both losses are the mean over every element, as ``nn.MSELoss()`` and ``nn.BCELoss()``.

Notebook 06 checks each piece against autograd as you fill it in.
"""
import torch


class MLP:
    def __init__(self, linear_1_in_features, linear_1_out_features, f_function,
                 linear_2_in_features, linear_2_out_features, g_function):
        """Linear(in1 → out1) → f → Linear(in2 → out2) → g, with out1 == in2."""
        self.f_function = f_function
        self.g_function = g_function

        self.parameters = dict(
            W1=torch.randn(linear_1_out_features, linear_1_in_features),
            b1=torch.randn(linear_1_out_features),
            W2=torch.randn(linear_2_out_features, linear_2_in_features),
            b2=torch.randn(linear_2_out_features),
        )
        self.grads = dict(
            dJdW1=torch.zeros(linear_1_out_features, linear_1_in_features),
            dJdb1=torch.zeros(linear_1_out_features),
            dJdW2=torch.zeros(linear_2_out_features, linear_2_in_features),
            dJdb2=torch.zeros(linear_2_out_features),
        )
        # put anything here that backward() will need from forward()
        self.cache = dict()

    def forward(self, x):
        """x: (batch, linear_1_in_features) → ŷ: (batch, linear_2_out_features)."""
        raise NotImplementedError(
            "MLP.forward is yours to write: apply Linear₁, f, Linear₂ and g to x (shape (batch, in1)), "
            "keep in self.cache what backward() needs, and return ŷ of shape (batch, out2)")

    def backward(self, dJdy_hat):
        """dJdy_hat: (batch, linear_2_out_features). Fill self.grads; return nothing."""
        raise NotImplementedError(
            "MLP.backward is yours to write: from dJdy_hat (shape of ŷ) and self.cache, go back through "
            "g, Linear₂, f and Linear₁ and store dJdW1, dJdb1, dJdW2, dJdb2 in self.grads, each shaped "
            "like its parameter")

    def clear_grad_and_cache(self):
        for grad in self.grads:
            self.grads[grad].zero_()
        self.cache = dict()


def mse_loss(y, y_hat):
    """Return (J, dJdy_hat): the mean squared error over every element and its gradient
    with respect to y_hat. Note the order: target first."""
    raise NotImplementedError(
        "mse_loss is yours to write: return J, the mean of the squared errors over every element "
        "(as nn.MSELoss()), and dJdy_hat, the gradient of that J with respect to y_hat (shape of y_hat)")


def bce_loss(y, y_hat):
    """Return (J, dJdy_hat): the binary cross-entropy, mean over every element, and its
    gradient with respect to y_hat. Note the order: target first."""
    raise NotImplementedError(
        "bce_loss is yours to write: return J, the binary cross-entropy averaged over every element "
        "(as nn.BCELoss()), and dJdy_hat, the gradient of that J with respect to y_hat (shape of y_hat)")
