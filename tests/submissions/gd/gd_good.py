"""Student gd.py, without torchvision: jitter, normalize, gradient ascent on the logit, blur every
few steps, clamp to [0, 1]. (The usual version imports torchvision's Normalize and GaussianBlur.)"""
import numpy as np
import torch
import torch.nn.functional as F

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def normalize_and_jitter(img, step=32):
    dx, dy = np.random.randint(-step, step - 1, 2)
    return (img.roll(int(dx), -1).roll(int(dy), -2) - MEAN) / STD


def blur(img, sigma=1.0):
    r = 3
    x = torch.arange(-r, r + 1, dtype=img.dtype)
    k = torch.exp(-x ** 2 / (2 * sigma ** 2))
    k = k / k.sum()
    c = img.shape[1]
    img = F.conv2d(F.pad(img, (r, r, 0, 0), mode="reflect"), k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(F.pad(img, (0, 0, r, r), mode="reflect"), k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


def gradient_descent(input, model, loss, iterations=128):
    model.eval()
    img = input.detach().clone()
    lr = 0.05
    for i in range(iterations):
        img.requires_grad_(True)
        value = loss(model(normalize_and_jitter(img)))
        grad, = torch.autograd.grad(value, img)
        with torch.no_grad():
            img = img + lr * grad / (grad.abs().mean() + 1e-8)
            if i % 4 == 0:
                img = blur(img)
            img = img.clamp(0, 1)
    model.train()
    return img.detach()
