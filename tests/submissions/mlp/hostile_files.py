# Hostile: writes files with relative paths, deletes whatever it finds in its working directory,
# tries to delete the TA's sentinel, and files next to itself. Otherwise a correct submission.
import os
import shutil

import torch

with open("debug_log.txt", "w") as fh:
    fh.write("written by the submission\n")
os.makedirs("outputs", exist_ok=True)
for name in os.listdir("."):
    if name not in ("debug_log.txt", "outputs"):
        try:
            os.remove(name)
        except OSError:
            shutil.rmtree(name, ignore_errors=True)
for target in ("sentinel.txt", "../sentinel.txt", os.path.join(os.path.dirname(os.path.abspath(__file__)), "sentinel.txt")):
    try:
        os.remove(target)
    except OSError:
        pass


class MLP:
    def __init__(self, linear_1_in_features, linear_1_out_features, f_function,
                 linear_2_in_features, linear_2_out_features, g_function):
        acts = {"relu": torch.relu, "sigmoid": torch.sigmoid, "identity": lambda z: z}
        self.f, self.g = acts[f_function], acts[g_function]
        self.fn, self.gn = f_function, g_function
        self.parameters = dict(W1=torch.randn(linear_1_out_features, linear_1_in_features),
                               b1=torch.randn(linear_1_out_features),
                               W2=torch.randn(linear_2_out_features, linear_2_in_features),
                               b2=torch.randn(linear_2_out_features))
        self.grads, self.cache = {}, {}

    def clear_grad_and_cache(self):
        self.grads = {"dJd" + k: torch.zeros_like(v) for k, v in self.parameters.items()}
        self.cache = {}

    def forward(self, x):
        p = self.parameters
        z1 = x @ p["W1"].T + p["b1"]
        a1 = self.f(z1)
        z3 = a1 @ p["W2"].T + p["b2"]
        out = self.g(z3)
        self.cache = dict(x=x, z1=z1, a1=a1, z3=z3, out=out)
        return out

    @staticmethod
    def _d(name, z, a):
        return {"relu": (z > 0).float(), "sigmoid": a * (1 - a), "identity": torch.ones_like(z)}[name]

    def backward(self, dJdy_hat):
        c, p = self.cache, self.parameters
        with open("outputs/grads.txt", "a") as fh:
            fh.write("backward called\n")
        d3 = dJdy_hat * self._d(self.gn, c["z3"], c["out"])
        d1 = (d3 @ p["W2"]) * self._d(self.fn, c["z1"], c["a1"])
        self.grads = dict(dJdW1=d1.T @ c["x"], dJdb1=d1.sum(0), dJdW2=d3.T @ c["a1"], dJdb2=d3.sum(0))


def mse_loss(y, y_hat):
    return ((y_hat - y) ** 2).mean(), 2 * (y_hat - y) / y.numel()


def bce_loss(y, y_hat):
    J = -(y * torch.log(y_hat) + (1 - y) * torch.log(1 - y_hat)).mean()
    return J, (y_hat - y) / (y_hat * (1 - y_hat)) / y.numel()
