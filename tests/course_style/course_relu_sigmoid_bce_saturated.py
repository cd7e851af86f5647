"""Course-style check: f = relu, g = sigmoid, BCE, ONE output (8 x 3-6-1), saturated sigmoid.

The second layer's weights are scaled up so that some sigmoid outputs round to exactly 0 or 1.
nn.BCELoss clamps each log term at -100 and divides its gradient by max(y_hat(1 - y_hat), 1e-12),
so J and every gradient stay finite; mlp.py must match it. Where y_hat is exactly 0 or 1, dJdy_hat
is of order 1e12 / N, so that one line compares relative to the size of autograd's value.
Run with mlp.py in the same folder:  python course_relu_sigmoid_bce_saturated.py
Every printed line must be True.
"""
from collections import OrderedDict

import torch
import torch.nn as nn

from mlp import MLP, bce_loss

torch.manual_seed(404)
net = MLP(3, 6, "relu", 6, 1, "sigmoid")
net.parameters["W2"] = net.parameters["W2"] * 200    # tests may swap the parameters' tensors
net.parameters["b2"] = net.parameters["b2"] * 200
x = torch.randn(8, 3)
y = torch.tensor([[0.0], [1.0], [0.3], [0.7], [0.0], [1.0], [0.5], [0.9]])

net.clear_grad_and_cache()
y_hat = net.forward(x)
J, dJdy_hat = bce_loss(y, y_hat)
net.backward(dJdy_hat)

net_autograd = nn.Sequential(OrderedDict([
    ("linear1", nn.Linear(3, 6)),
    ("relu", nn.ReLU()),
    ("linear2", nn.Linear(6, 1)),
    ("sigmoid", nn.Sigmoid()),
]))
net_autograd.linear1.weight.data = net.parameters["W1"].clone()
net_autograd.linear1.bias.data = net.parameters["b1"].clone()
net_autograd.linear2.weight.data = net.parameters["W2"].clone()
net_autograd.linear2.bias.data = net.parameters["b2"].clone()

y_hat_autograd = net_autograd(x)
y_hat_autograd.retain_grad()
J_autograd = nn.BCELoss()(y_hat_autograd, y)
net_autograd.zero_grad()
J_autograd.backward()

# The case is really saturated: some outputs are exactly 0 or 1 in float32.
print(((y_hat == 0) | (y_hat == 1)).any().item())
print(torch.isfinite(J).item() and torch.isfinite(dJdy_hat).all().item())
print(((y_hat - y_hat_autograd).norm() < 1e-3).item())
print(((J - J_autograd).norm() < 1e-3).item())
print(((dJdy_hat - y_hat_autograd.grad).norm() < 1e-3 * max(1.0, y_hat_autograd.grad.norm().item())).item())
print(((net.grads["dJdW1"] - net_autograd.linear1.weight.grad).norm() < 1e-3).item())
print(((net.grads["dJdb1"] - net_autograd.linear1.bias.grad).norm() < 1e-3).item())
print(((net.grads["dJdW2"] - net_autograd.linear2.weight.grad).norm() < 1e-3).item())
print(((net.grads["dJdb2"] - net_autograd.linear2.bias.grad).norm() < 1e-3).item())
