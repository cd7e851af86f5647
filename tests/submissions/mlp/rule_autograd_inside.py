# Student K: gets every number right by letting autograd do the backward pass inside mlp.py,
# which the homework forbids ("implement your own forward and backward pass without using
# autograd"). The grader runs forward/backward under torch.no_grad(), so the graph is switched
# back on locally.
import torch

ACTS = {'relu': torch.relu, 'sigmoid': torch.sigmoid, 'identity': lambda z: z}


class MLP:
    def __init__(self, linear_1_in_features, linear_1_out_features, f_function,
                 linear_2_in_features, linear_2_out_features, g_function):
        self.f_function = f_function
        self.g_function = g_function
        self.parameters = dict(W1=torch.randn(linear_1_out_features, linear_1_in_features),
                               b1=torch.randn(linear_1_out_features),
                               W2=torch.randn(linear_2_out_features, linear_2_in_features),
                               b2=torch.randn(linear_2_out_features))
        self.grads = {}
        self.cache = {}

    def forward(self, x):
        self.cache['x'] = x
        p = self.parameters
        z1 = x @ p['W1'].T + p['b1']
        z3 = ACTS[self.f_function](z1) @ p['W2'].T + p['b2']
        return ACTS[self.g_function](z3)

    def backward(self, dJdy_hat):
        x = self.cache['x']
        with torch.enable_grad():
            leaves = {k: v.detach().clone().requires_grad_(True) for k, v in self.parameters.items()}
            z1 = x @ leaves['W1'].T + leaves['b1']
            z3 = ACTS[self.f_function](z1) @ leaves['W2'].T + leaves['b2']
            y_hat = ACTS[self.g_function](z3)
            y_hat.backward(dJdy_hat)
        for k, v in leaves.items():
            self.grads['dJd' + k] = v.grad

    def clear_grad_and_cache(self):
        self.grads = {'dJd' + k: torch.zeros_like(v) for k, v in self.parameters.items()}
        self.cache = {}


def mse_loss(y, y_hat):
    d = y_hat - y
    return (d ** 2).mean(), 2 * d / d.numel()


def bce_loss(y, y_hat):
    J = -(y * torch.log(y_hat) + (1 - y) * torch.log(1 - y_hat)).mean()
    return J, (y_hat - y) / (y_hat * (1 - y_hat)) / y_hat.numel()
