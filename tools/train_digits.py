"""Train the embedded digits classifier (dream/models.py) (seeded, reproducible, well under 2 minutes on a CPU).

    python tools/train_digits.py                 # writes models/digits_cnn.pt, prints accuracy + SHA-256
    python tools/train_digits.py --out /tmp/x.pt # somewhere else (e.g. to compare variants)
    python tools/train_digits.py --preset standard   # models/digits_standard_cnn.pt, trained the
                                                     # ordinary way (load_model("digits_standard"))

Data: scikit-learn's bundled 8x8 digits (no download), a seeded stratified 80/20 split
(``dream.digits_split``), upsampled to 32x32 and fed as the course feeds VGG: 3 channels in [0, 1],
ImageNet-normalized.

Training is chosen so that the model's input gradients look like digits (what gd.py follows):
random shifts / rotations / rescalings / brightness-contrast changes, Gaussian pixel noise,
cutout (a 12-px square blanked in every image, so that no single part of a digit is always
there and the model must use all of it), and adversarial training — each batch is also
attacked with an L2 PGD perturbation of radius ``--eps`` (in [0, 1] pixel units of the 32x32
image) and the model learns to classify both.  Adversarially robust models have perceptually
aligned gradients (Santurkar et al. 2019).

All that makes the model under-confident on clean digits, so at the end a logit scale is fitted
on the clean training images (temperature scaling, Guo et al. 2017) and folded into the last
layer: it changes no prediction and no gradient direction, and lowers the held-out cross-entropy
(printed; the script stops if it does not).  The training images can serve here because the
model is far from fitting them — its clean-training NLL (0.166) is close to its held-out NLL
(0.196).  (Holding a tenth of the training split back for the fit instead gave accuracy 97.5 %
and less readable class visualizations.)

Measured when the defaults were chosen (gallery of ``gd.py``, default settings): eps 1.5 without
cutout gives confident but partly unreadable digits (1, 4, 7); cutout 12 with eps 2.5 or 3 gives
readable ones, and needs the calibration to be confident about them.
"""
import argparse
import hashlib
import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F

import dream
from dream.data import random_affine
from dream.transforms import normalize

ROOT = Path(__file__).resolve().parent.parent


def cutout(x, g, size):
    """Blank one random size x size square (to the background, 0) in each image, possibly cut by
    the border: no single part of a digit is always there, so the model must use all of it."""
    if size <= 0:
        return x
    n, _, h, w = x.shape
    top = torch.randint(-(size // 2), h - size // 2, (n, 1, 1, 1), generator=g)
    left = torch.randint(-(size // 2), w - size // 2, (n, 1, 1, 1), generator=g)
    rows = torch.arange(h).view(1, 1, h, 1)
    cols = torch.arange(w).view(1, 1, 1, w)
    hole = (rows >= top) & (rows < top + size) & (cols >= left) & (cols < left + size)
    return x.masked_fill(hole, 0.0)


def augment(x, g, shift=3.0, degrees=15.0, scale=(0.85, 1.15), cutout_size=0):
    """Random affine (shift px, rotation, scale) of a batch of (N, C, 32, 32) images in [0, 1],
    then ``cutout`` (0 = off)."""
    n = x.shape[0]
    x = cutout(random_affine(x, g, shift, degrees, scale), g, cutout_size)
    # brightness/contrast: ink level 0.6..1, background 0..0.15
    lo = torch.rand(n, 1, 1, 1, generator=g) * 0.15
    hi = 0.6 + torch.rand(n, 1, 1, 1, generator=g) * 0.4
    return lo + (hi - lo) * x


def pgd_l2(model, x, y, eps, steps, g):
    """L2 PGD in [0, 1] image space: returns x + delta with ||delta||_2 <= eps per image."""
    if eps <= 0 or steps <= 0:
        return x
    alpha = 2.5 * eps / steps
    delta = torch.randn(x.shape, generator=g)
    delta = delta / delta.flatten(1).norm(dim=1).view(-1, 1, 1, 1) * eps * 0.5
    for _ in range(steps):
        delta.requires_grad_(True)
        loss = F.cross_entropy(model(normalize((x + delta).clamp(0, 1))), y)
        (grad,) = torch.autograd.grad(loss, delta)
        gn = grad.flatten(1).norm(dim=1).view(-1, 1, 1, 1) + 1e-12
        delta = delta.detach() + alpha * grad / gn
        dn = delta.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
        delta = delta * torch.clamp(eps / (dn + 1e-12), max=1.0)
    return (x + delta).clamp(0, 1).detach()


def fit_logit_scale(model, x, y):
    """Temperature scaling (Guo et al. 2017), fitted on clean images: the factor ``s`` on the logits
    that minimizes the cross-entropy of ``softmax(s * logits)``.  Augmented and adversarial
    training leave the model under-confident on clean digits (s > 1 sharpens); the scale changes
    no prediction and no input-gradient direction, only how sure the probabilities say it is."""
    logits = clean_logits(model, x)
    scales = torch.logspace(-1, 1, 401)  # 0.1 .. 10
    nll = torch.stack([F.cross_entropy(logits * sc, y) for sc in scales])
    return scales[nll.argmin()].item()


def clean_logits(model, x):
    """The model's logits for images ``x`` in [0, 1] (eval mode, no gradients)."""
    model.eval()
    with torch.no_grad():
        return model(normalize(x))


def nll(model, x, y):
    return F.cross_entropy(clean_logits(model, x), y).item()


def evaluate(model, x, y):
    return (clean_logits(model, x).argmax(1) == y).float().mean().item()


# Named recipes.  "robust" (the default) makes models/digits_cnn.pt, load_model("digits");
# "standard" makes models/digits_standard_cnn.pt, load_model("digits_standard"): the same
# network and data, trained the ordinary way (augmentation only, no adversarial examples, no
# cutout, no pixel noise, no temperature fit) — like the course's VGG, its input gradients are
# high-frequency noise, which is what the tricks are for.
PRESETS = {
    "robust": {"help": "adversarial (L2 PGD eps 2.5) + cutout 12 + noise 0.1 + calibrated -> models/digits_cnn.pt",
               "options": {"out": str(ROOT / "models" / "digits_cnn.pt")}},
    "standard": {"help": "--eps 0 --cutout 0 --noise 0 --no-calibrate -> models/digits_standard_cnn.pt",
                 "options": {"eps": 0.0, "cutout": 0, "noise": 0.0, "calibrate": False,
                             "out": str(ROOT / "models" / "digits_standard_cnn.pt")}},
}


def parse_with_preset(ap, argv):
    """Parse ``argv``; the preset's options replace the defaults, and flags given explicitly on
    the command line win over the preset."""
    args = ap.parse_args(argv)
    ap.set_defaults(**PRESETS[args.preset]["options"])
    return ap.parse_args(argv)


def parse_args(argv=None):
    """The command line, with the chosen preset applied (see ``PRESETS``)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=None, help="where to write the weights (default: the preset's file)")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--eps", type=float, default=2.5, help="L2 radius of the adversarial perturbation (0 = off)")
    ap.add_argument("--pgd-steps", type=int, default=3)
    ap.add_argument("--noise", type=float, default=0.1, help="std of Gaussian pixel noise (0 = off)")
    ap.add_argument("--shift", type=float, default=1.5, help="random shift augmentation, ± px of 32")
    ap.add_argument("--degrees", type=float, default=15.0, help="random rotation augmentation, ± degrees")
    ap.add_argument("--cutout", type=int, default=12,
                    help="side of a square blanked in each training image, px of 32 (0 = off)")
    ap.add_argument("--no-calibrate", dest="calibrate", action="store_false",
                    help="keep the raw logits (default: fit a temperature on the clean training images)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--preset", choices=sorted(PRESETS), default="robust",
                    help="named recipe (its options override the defaults; later flags override it): "
                         + "; ".join(f"{k}: {v['help']}" for k, v in PRESETS.items()))
    return parse_with_preset(ap, argv)


def main(argv=None):
    args = parse_args(argv)

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(args.seed)
    X8, y = dream.digits_data()
    tr, te = dream.digits_split(seed=0)
    x_all = dream.digits_to_images(X8)
    xtr, ytr, xte, yte = x_all[tr], y[tr], x_all[te], y[te]

    model = dream.DigitsCNN(width=args.width)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps_per_epoch = math.ceil(len(ytr) / args.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch)
    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(ytr), generator=g)
        tot, correct, n = 0.0, 0, 0
        for i in range(0, len(ytr), args.batch):
            idx = perm[i:i + args.batch]
            xb, yb = augment(xtr[idx], g, shift=args.shift, degrees=args.degrees, cutout_size=args.cutout), ytr[idx]
            if args.noise > 0:
                xb = (xb + args.noise * torch.randn(xb.shape, generator=g)).clamp(0, 1)
            model.eval()
            xa = pgd_l2(model, xb, yb, args.eps, args.pgd_steps, g)
            model.train()
            xin = torch.cat([xb, xa]) if args.eps > 0 else xb
            yin = torch.cat([yb, yb]) if args.eps > 0 else yb
            logits = model(normalize(xin))
            loss = F.cross_entropy(logits, yin)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += loss.item() * len(yin)
            correct += (logits.argmax(1) == yin).sum().item()
            n += len(yin)
        if epoch % 5 == 4 or epoch == args.epochs - 1:
            print(f"epoch {epoch + 1:3d}  loss {tot / n:.3f}  train acc (aug+adv) {correct / n:.3f}  "
                  f"held-out acc {evaluate(model, xte, yte):.4f}  ({time.perf_counter() - t0:.0f} s)")
    acc = evaluate(model, xte, yte)
    nll_before = nll(model, xte, yte)
    scale = fit_logit_scale(model, xtr, ytr) if args.calibrate else 1.0
    with torch.no_grad():  # fold the scale into the last layer: logits * s
        model.classifier.fc2.weight.mul_(scale)
        model.classifier.fc2.bias.mul_(scale)
    nll_after = nll(model, xte, yte)
    how = "fitted on the clean training images" if args.calibrate else "not fitted: --no-calibrate"
    print(f"LOGIT_SCALE: {scale:.4f} ({how}); held-out NLL {nll_before:.4f} -> {nll_after:.4f}")
    if nll_after > nll_before:
        # Fitting on training images is fair only while the model does not fit them (augmented,
        # adversarial training: its clean-training NLL is close to its held-out NLL); a model that
        # fits them gets a scale that is too large, which the held-out NLL gives away.
        raise SystemExit("the fitted logit scale makes the held-out cross-entropy worse: this model "
                         "fits its training images, so they cannot calibrate it; use --no-calibrate")
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    state["_width"] = torch.tensor(args.width)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, out)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    print(f"HELD_OUT_ACCURACY: {acc:.4f} ({len(yte)} images, stratified 20 % split, seed 0)")
    print(f"TRAIN_SECONDS: {time.perf_counter() - t0:.1f}")
    print(f"WROTE: {out}")
    print(f"SHA256: {digest}")
    return acc


if __name__ == "__main__":
    main()
