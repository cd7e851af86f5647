# Hostile: does not even parse.
import torch

class MLP:
    def forward(self, x)
        return x
