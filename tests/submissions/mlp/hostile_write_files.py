# Hostile: writes a file named PWNED_BY_SUBMISSION.txt into every folder it can find that holds a
# class of submissions or a gradebook (a mlp.py, a gd.py or a .csv in it), under /tmp, /var/tmp,
# /dev/shm, $HOME, /root, /home, /work and the folders above its working directory (6 levels, 3000 folders
# at most), plus those roots themselves. New files only (O_EXCL), never overwriting. Otherwise a
# correct mlp.py.
# Safety interlock (a real attacker would not have it): it acts only inside the bubblewrap sandbox
# (its working directory is under /sandbox), so that checking the class folder without the sandbox
# (--sandbox off, macOS) does not litter or poke this machine. Inside, nothing holds it back.
import os

NAME = "PWNED_BY_SUBMISSION.txt"
ARMED = os.getcwd().startswith("/sandbox/")
ROOTS = ["/tmp", "/var/tmp", "/dev/shm", os.path.expanduser("~"), "/root", "/home", "/work"]
here = os.path.abspath(os.getcwd())
while here != "/":
    here = os.path.dirname(here)
    ROOTS.append(here)
WROTE = []


def plant(folder):
    if not ARMED:
        return
    try:
        fd = os.open(os.path.join(folder, NAME), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, b"written by hostile_write_files.py\n")
        os.close(fd)
        WROTE.append(folder)
    except OSError:
        pass


seen = 0
for root in ROOTS:
    plant(root)
    for folder, subfolders, files in os.walk(root):
        seen += 1
        if seen > 3000 or folder.count(os.sep) - root.count(os.sep) >= 6:
            subfolders[:] = []
            continue
        if any(f in ("mlp.py", "gd.py") or f.endswith(".csv") for f in files):
            plant(folder)
print("wrote into:", *WROTE, sep="\n  ")


# ---- below: an ordinary mlp.py (forward and backward by hand) ----
import torch

SIGN = 1.0   # the sign of dJdy_hat (so of every gradient, through backward)

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
