# Hostile: a "cache" of 16 GiB allocated at import time.
import torch

CACHE = torch.ones(4 * 2**30)   # 4 Gi float32 = 16 GiB
