# Student gd.py written on a GPU machine: the device is hard-coded and used at import time.
import torch

DEVICE = "cuda"
MEAN = torch.tensor([0.485, 0.456, 0.406], device=DEVICE).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225], device=DEVICE).view(1, 3, 1, 1)


def gradient_descent(input, model, loss, iterations=256):
    img = input.to(DEVICE)
    for _ in range(iterations):
        g, = torch.autograd.grad(loss(model((img - MEAN) / STD)), img)
        img = img + 0.01 * g
    return img.cpu()
