# Hostile: a sys.exit() left at the bottom of a script-style file.
import sys

import torch


def mse_loss(y, y_hat):
    return ((y_hat - y) ** 2).mean(), 2 * (y_hat - y) / y.numel()


print("my tests pass!")
sys.exit(0)
