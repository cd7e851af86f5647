# Student gd.py: the iteration counter is never incremented.
import torch


def gradient_descent(input, model, loss, iterations=256):
    i = 0
    img = input.detach().clone()
    while i < iterations:
        img.requires_grad_(True)
        g, = torch.autograd.grad(loss(model(img)), img)
        img = (img + 0.01 * g).detach()
    return img
