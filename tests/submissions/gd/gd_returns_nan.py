# Student gd.py: a square-root "brightness bonus" -- its gradient 1/(2 sqrt(x)) is NaN once a pixel
# goes negative, and the big steps make sure one does.
import torch


def gradient_descent(input, model, loss, iterations=30):
    img = input.detach().clone()
    for _ in range(iterations):
        img.requires_grad_(True)
        value = loss(model(img)) + 0.1 * torch.sqrt(img).mean()
        g, = torch.autograd.grad(value, img)
        img = (img + 2.0 * g / g.abs().max()).detach()
    return img
