"""Course-style check: f = identity, g = relu, MSE, a batch of ONE sample (3-7-4).

With one sample, a backward that sums over the wrong axis or drops the batch dimension
shows up at once. Run with mlp.py in the same folder:  python course_identity_relu_batch1.py
Every printed line must be True.
"""
from collections import OrderedDict

import torch
import torch.nn as nn

from mlp import MLP, mse_loss

torch.manual_seed(303)
net = MLP(
    linear_1_in_features=3,
    linear_1_out_features=7,
    f_function="identity",
    linear_2_in_features=7,
    linear_2_out_features=4,
    g_function="relu",
)
x = torch.randn(1, 3)
y = torch.randn(1, 4)

net.clear_grad_and_cache()
y_hat = net.forward(x)
J, dJdy_hat = mse_loss(y, y_hat)
net.backward(dJdy_hat)

net_autograd = nn.Sequential(OrderedDict([
    ("linear1", nn.Linear(3, 7)),
    ("linear2", nn.Linear(7, 4)),
    ("relu", nn.ReLU()),
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
print(net.grads["dJdb1"].shape == net_autograd.linear1.bias.grad.shape)
print(net.grads["dJdb2"].shape == net_autograd.linear2.bias.grad.shape)
