# Student H: uses sigma'(z) = sigma(z) * sigma(-z) ("no cancellation in 1 - sigma") and the
# compact BCE gradient (y_hat - y) / (y_hat (1 - y_hat)) / n, with small functions per layer.
import torch

F_NAMES = ('relu', 'sigmoid', 'identity')


def act(name, z):
    if name == 'relu':
        return torch.relu(z)
    if name == 'sigmoid':
        return torch.sigmoid(z)
    if name == 'identity':
        return z.clone()
    raise ValueError(f'unknown activation {name}')


def act_grad(name, z):
    if name == 'relu':
        return torch.where(z > 0, torch.ones_like(z), torch.zeros_like(z))
    if name == 'sigmoid':
        return torch.sigmoid(z) * torch.sigmoid(-z)
    if name == 'identity':
        return torch.ones_like(z)
    raise ValueError(f'unknown activation {name}')


def linear(x, W, b):
    return x @ W.T + b


def linear_back(dz, x, W):
    return dz.T @ x, dz.sum(dim=0), dz @ W


class MLP:
    def __init__(self, linear_1_in_features, linear_1_out_features, f_function,
                 linear_2_in_features, linear_2_out_features, g_function):
        self.f_function, self.g_function = f_function, g_function
        self.parameters = {
            'W1': torch.randn(linear_1_out_features, linear_1_in_features),
            'b1': torch.randn(linear_1_out_features),
            'W2': torch.randn(linear_2_out_features, linear_2_in_features),
            'b2': torch.randn(linear_2_out_features),
        }
        self.grads = {}
        self.cache = {}
        self.clear_grad_and_cache()

    def forward(self, x):
        P = self.parameters
        s1 = linear(x, P['W1'], P['b1'])
        h = act(self.f_function, s1)
        s2 = linear(h, P['W2'], P['b2'])
        self.cache = {'x': x, 's1': s1, 'h': h, 's2': s2}
        return act(self.g_function, s2)

    def backward(self, dJdy_hat):
        P, c = self.parameters, self.cache
        ds2 = dJdy_hat * act_grad(self.g_function, c['s2'])
        dW2, db2, dh = linear_back(ds2, c['h'], P['W2'])
        ds1 = dh * act_grad(self.f_function, c['s1'])
        dW1, db1, _ = linear_back(ds1, c['x'], P['W1'])
        self.grads.update(dJdW1=dW1, dJdb1=db1, dJdW2=dW2, dJdb2=db2)

    def clear_grad_and_cache(self):
        self.grads = {'dJd' + k: torch.zeros_like(v) for k, v in self.parameters.items()}
        self.cache = {}


def mse_loss(y, y_hat):
    diff = y_hat - y
    return diff.pow(2).mean(), 2 * diff / diff.numel()


def bce_loss(y, y_hat):
    n = y_hat.numel()
    loss = -(y * y_hat.log() + (1 - y) * (1 - y_hat).log()).mean()
    grad = (y_hat - y) / (y_hat * (1 - y_hat) * n)
    return loss, grad
