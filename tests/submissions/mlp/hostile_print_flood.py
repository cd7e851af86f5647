# Hostile: debugging prints inside an endless training loop at import time.
import torch

step = 0
while True:
    print(f"step {step}: loss = {torch.rand(1).item():.6f} " + "#" * 200)
    step += 1
