"""Course-style check: f = relu, g = identity, MSE, on the course's 10 x 2-20-5 network.

Run with mlp.py in the same folder:  python course_relu_identity_mse.py
Every printed line must be True.
"""
from collections import OrderedDict

import torch
import torch.nn as nn

from mlp import MLP, mse_loss

torch.manual_seed(101)
net = MLP(
    linear_1_in_features=2,
    linear_1_out_features=20,
    f_function="relu",
    linear_2_in_features=20,
    linear_2_out_features=5,
    g_function="identity",
)
x = torch.randn(10, 2)
y = torch.randn(10, 5)

net.clear_grad_and_cache()
y_hat = net.forward(x)
J, dJdy_hat = mse_loss(y, y_hat)
net.backward(dJdy_hat)

# The same network for autograd, weights copied from ours.
net_autograd = nn.Sequential(OrderedDict([
    ("linear1", nn.Linear(2, 20)),
    ("relu", nn.ReLU()),
    ("linear2", nn.Linear(20, 5)),
]))
net_autograd.linear1.weight.data = net.parameters["W1"].clone()
net_autograd.linear1.bias.data = net.parameters["b1"].clone()
net_autograd.linear2.weight.data = net.parameters["W2"].clone()
net_autograd.linear2.bias.data = net.parameters["b2"].clone()

y_hat_autograd = net_autograd(x)
y_hat_autograd.retain_grad()
J_autograd = nn.MSELoss()(y_hat_autograd, y)
net_autograd.zero_grad()
J_autograd.backward()

print(((y_hat - y_hat_autograd).norm() < 1e-3).item())
print(((J - J_autograd).norm() < 1e-3).item())
print(((dJdy_hat - y_hat_autograd.grad).norm() < 1e-3).item())
print(((net.grads["dJdW1"] - net_autograd.linear1.weight.grad).norm() < 1e-3).item())
print(((net.grads["dJdb1"] - net_autograd.linear1.bias.grad).norm() < 1e-3).item())
print(((net.grads["dJdW2"] - net_autograd.linear2.weight.grad).norm() < 1e-3).item())
print(((net.grads["dJdb2"] - net_autograd.linear2.bias.grad).norm() < 1e-3).item())
# A norm of a broadcast difference can hide a wrong shape: check the layout too.
print(net.grads["dJdW1"].shape == net_autograd.linear1.weight.grad.shape)
print(net.grads["dJdb1"].shape == net_autograd.linear1.bias.grad.shape)
print(net.grads["dJdW2"].shape == net_autograd.linear2.weight.grad.shape)
print(net.grads["dJdb2"].shape == net_autograd.linear2.bias.grad.shape)
