# Hostile: starts sleeping processes as fast as it can, stopping at the first refused one or at
# 1000 (a bound so that a test of this file cannot hurt the machine where the limit is missing;
# a real fork bomb has none). posix_spawn does not copy the parent's memory map, so a thousand
# take well under a second. The sandbox caps one submission's processes (RLIMIT_NPROC, and a
# per-namespace pid_max where the grader runs as root, whom RLIMIT_NPROC exempts), so the start
# is refused at a few hundred at most; if all 1000 started, every gradient's sign flips, so a
# PASS means the cap held. The sleepers die with its PID namespace.
import os

STARTED = 0
for _ in range(1000):
    try:
        os.posix_spawn("/bin/sleep", ["sleep", "120"], dict(os.environ))
    except OSError:
        break
    STARTED += 1
print("started", STARTED, "processes before the first refusal")
CAPPED = STARTED < 1000


# ---- below: an ordinary mlp.py (forward and backward by hand) ----
import torch

SIGN = 1.0 if CAPPED else -1.0   # the sign of dJdy_hat (so of every gradient, through backward)

ACTIVATIONS = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "identity": lambda z: z}


def derivative(name, z):
    if name == "relu":
        return (z > 0).to(z.dtype)
    if name == "sigmoid":
        s = torch.sigmoid(z)
        return s * (1 - s)
    if name == "tanh":
        return 1 - torch.tanh(z) ** 2
    return torch.ones_like(z)


class MLP:
    def __init__(self, linear_1_in_features, linear_1_out_features, f_function,
                 linear_2_in_features, linear_2_out_features, g_function):
        self.f_function, self.g_function = f_function, g_function
        self.parameters = dict(W1=torch.randn(linear_1_out_features, linear_1_in_features),
                               b1=torch.randn(linear_1_out_features),
                               W2=torch.randn(linear_2_out_features, linear_2_in_features),
                               b2=torch.randn(linear_2_out_features))
        self.grads = {k: torch.zeros_like(v) for k, v in
                      dict(dJdW1=self.parameters["W1"], dJdb1=self.parameters["b1"],
                           dJdW2=self.parameters["W2"], dJdb2=self.parameters["b2"]).items()}
        self.cache = dict()

    def forward(self, x):
        p = self.parameters
        z1 = x @ p["W1"].T + p["b1"]
        a1 = ACTIVATIONS[self.f_function](z1)
        z2 = a1 @ p["W2"].T + p["b2"]
        self.cache = dict(x=x, z1=z1, a1=a1, z2=z2)
        return ACTIVATIONS[self.g_function](z2)

    def backward(self, dJdy_hat):
        c, p = self.cache, self.parameters
        dz2 = dJdy_hat * derivative(self.g_function, c["z2"])
        dz1 = (dz2 @ p["W2"]) * derivative(self.f_function, c["z1"])
        self.grads["dJdW2"] = dz2.T @ c["a1"]
        self.grads["dJdb2"] = dz2.sum(0)
        self.grads["dJdW1"] = dz1.T @ c["x"]
        self.grads["dJdb1"] = dz1.sum(0)

    def clear_grad_and_cache(self):
        for k in self.grads:
            self.grads[k].zero_()
        self.cache = dict()


def mse_loss(y, y_hat):
    J = ((y_hat - y) ** 2).mean()
    return J, SIGN * 2 * (y_hat - y) / y_hat.numel()


def bce_loss(y, y_hat):
    J = -(y * torch.log(y_hat) + (1 - y) * torch.log(1 - y_hat)).mean()
    return J, SIGN * (y_hat - y) / (y_hat * (1 - y_hat)) / y_hat.numel()
