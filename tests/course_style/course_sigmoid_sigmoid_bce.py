"""Course-style check: f = sigmoid, g = sigmoid, BCE, 10 x 2-20-5, constructor called positionally.

Run with mlp.py in the same folder:  python course_sigmoid_sigmoid_bce.py
Every printed line must be True.
"""
from collections import OrderedDict

import torch
import torch.nn as nn

from mlp import MLP, bce_loss

torch.manual_seed(202)
net = MLP(2, 20, "sigmoid", 20, 5, "sigmoid")
x = torch.randn(10, 2)
y = torch.rand(10, 5)          # BCE targets lie in [0, 1]

net.clear_grad_and_cache()
y_hat = net.forward(x)
J, dJdy_hat = bce_loss(y, y_hat)
net.backward(dJdy_hat)

net_autograd = nn.Sequential(OrderedDict([
    ("linear1", nn.Linear(2, 20)),
    ("sigmoid1", nn.Sigmoid()),
    ("linear2", nn.Linear(20, 5)),
    ("sigmoid2", nn.Sigmoid()),
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

print(((y_hat - y_hat_autograd).norm() < 1e-3).item())
print(((J - J_autograd).norm() < 1e-3).item())
print(((dJdy_hat - y_hat_autograd.grad).norm() < 1e-3).item())
print(((net.grads["dJdW1"] - net_autograd.linear1.weight.grad).norm() < 1e-3).item())
print(((net.grads["dJdb1"] - net_autograd.linear1.bias.grad).norm() < 1e-3).item())
print(((net.grads["dJdW2"] - net_autograd.linear2.weight.grad).norm() < 1e-3).item())
print(((net.grads["dJdb2"] - net_autograd.linear2.bias.grad).norm() < 1e-3).item())
