# Bug: bias gradients not summed over the batch: one row per sample, shape (N, out).
import torch


def apply(name, z):
    if name == "relu":
        return torch.relu(z)
    elif name == "sigmoid":
        return torch.sigmoid(z)
    elif name == "identity":
        return z
    elif name == "tanh":
        return torch.tanh(z)
    else:
        raise ValueError("unknown activation: " + str(name))


def derivative(name, z):
    if name == "relu":
        return (z > 0).float()
    elif name == "sigmoid":
        return torch.sigmoid(z) * (1 - torch.sigmoid(z))
    elif name == "identity":
        return torch.ones_like(z)
    elif name == "tanh":
        return 1 - torch.tanh(z) ** 2
    else:
        raise ValueError("unknown activation: " + str(name))


class MLP:
    def __init__(self, linear_1_in_features, linear_1_out_features, f_function,
                 linear_2_in_features, linear_2_out_features, g_function):
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
        self.cache = dict()

    def forward(self, x):
        z1 = x @ self.parameters["W1"].T + self.parameters["b1"]
        z2 = apply(self.f_function, z1)
        z3 = z2 @ self.parameters["W2"].T + self.parameters["b2"]
        y_hat = apply(self.g_function, z3)
        self.cache = dict(x=x, z1=z1, z2=z2, z3=z3, y_hat=y_hat)
        return y_hat

    def backward(self, dJdy_hat):
        c = self.cache
        dJdz3 = dJdy_hat * derivative(self.g_function, c["z3"])
        self.grads["dJdW2"] = dJdz3.T @ c["z2"]
        self.grads["dJdb2"] = dJdz3
        dJdz1 = (dJdz3 @ self.parameters["W2"]) * derivative(self.f_function, c["z1"])
        self.grads["dJdW1"] = dJdz1.T @ c["x"]
        self.grads["dJdb1"] = dJdz1

    def clear_grad_and_cache(self):
        for k in self.grads:
            self.grads[k] = torch.zeros_like(self.grads[k])
        self.cache = dict()


def mse_loss(y, y_hat):
    J = ((y_hat - y) ** 2).mean()
    dJdy_hat = 2 * (y_hat - y) / y.numel()
    return J, dJdy_hat


def bce_loss(y, y_hat):
    J = -(y * torch.log(y_hat) + (1 - y) * torch.log(1 - y_hat)).mean()
    dJdy_hat = (y_hat - y) / (y_hat * (1 - y_hat)) / y.numel()
    return J, dJdy_hat
