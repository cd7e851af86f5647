"""Calibrate and check gd.recognize_digits, the legibility judge, on pictures labelled by eye.

    python tools/calibrate_judge.py            # prints the confusion table (about a minute)

The labelled pictures (label -1 = "no digit"; "?" = a person could argue either way, left out of
the table and listed on their own):

* real held-out digits (load_digits' test split), at 32 px (all 360) and at 224 px (the first 100);
* the robust model's (``load_model("digits")``) class visualizations at default settings, seeds
  0-2 at 32 px, and the course's call at 224 px: labelled as their class, except two sevens that
  are a tangle (seed 1 at 32 px, the 224-px one): "?";
* the standard model's (``digits_standard``) pictures with every default trick (seeds 0-2, and
  the course's call at 224 px): smooth blobs; only the 0 (a ring) reads as its class, the 1 (one
  bright bar among dark holes) and the 8 (an hourglass) are "?", the rest -1;
* the robust model's pictures with every trick off: faint digits under pixel noise — some a
  person reads, some not: "?" (the judge calls pixel noise "no digit");
* the standard model's pictures with every trick off: pixel noise, -1;
* noise and blobs not seen in training: uniform noise, the course's gray start image,
  ``not_digits`` with another seed, the average of all digits, averages of 8 held-out digits: -1.

The labels were set by looking at these pictures as PNG galleries.
"""
import sys
from collections import Counter
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import gd  # noqa: E402
from dream import judges  # noqa: E402

AMBIGUOUS = "?"
# (model, setting) -> {class: label by eye} for the pictures that do NOT read as their own class
BY_EYE = {
    ("digits", "on_s1"): {7: AMBIGUOUS},
    ("digits", "course224"): {7: AMBIGUOUS},
    ("digits", "off"): {d: AMBIGUOUS for d in range(10)},
    ("digits_standard", "on"): {d: -1 for d in range(2, 10)} | {1: AMBIGUOUS, 8: AMBIGUOUS},
    ("digits_standard", "course224"): {d: -1 for d in range(2, 10)} | {1: AMBIGUOUS, 8: AMBIGUOUS},
    ("digits_standard", "off"): {d: -1 for d in range(10)},
}


def course_call(model, label, size=224):
    """The course's main(): gray-noise start, gradient_descent without iterations."""
    torch.manual_seed(label)
    image = ((torch.randn(1, size, size, 3) * 8 + 128) / 255).permute(0, 3, 1, 2)
    return gd.gradient_descent(image.requires_grad_(), model, lambda t: t[0, label].mean())


def labelled_pictures():
    """[(group, image (1, 3, H, W), label)], label an int (-1 = no digit) or "?"."""
    items = []
    X8, y = gd.digits_data()
    _, te = gd.digits_split()
    for size, idx in ((32, te), (224, te[:100])):
        for img, lab in zip(gd.digits_to_images(X8[idx], size=size), y[idx].tolist()):
            items.append((f"real digits {size} px", img[None], lab))
    for name in ("digits", "digits_standard"):
        model, info = gd.load_model(name)
        base = gd.default_settings(name)
        runs = [(f"on_s{seed}", base.replace(seed=seed)) for seed in (0, 1, 2)]
        runs += [(f"off_s{seed}", gd.all_tricks_off(base.replace(seed=seed))) for seed in (0, 1, 2)]
        for tag, s in runs:
            for d in range(10):
                img = gd.visualize(model, d, info=info, settings=s).image
                eye = BY_EYE.get((name, tag), BY_EYE.get((name, tag[:-3]), {}))
                items.append((f"{name} tricks {tag[:-3]}", img, eye.get(d, d)))
        for d in range(10):
            eye = BY_EYE.get((name, "course224"), {})
            items.append((f"{name} course call 224 px", course_call(model, d), eye.get(d, d)))
    g = torch.Generator().manual_seed(7)
    for i in range(20):
        items.append(("uniform noise", torch.rand(1, 3, 32, 32, generator=g), -1))
        start = (torch.randn(1, 224, 224, 3, generator=g) * 8 + 128) / 255
        items.append(("course start image", start.permute(0, 3, 1, 2), -1))
    for img in judges.not_digits(100, seed=123):
        items.append(("blobs, fields, noise", img[None], -1))
    _, info = gd.load_model("digits")
    items.append(("the average digit", info.mean_image, -1))
    tr, _ = gd.digits_split()
    for img in judges.superposed_digits(gd.digits_to_images(X8[te]), 20, g):  # held-out digits, unseen
        items.append(("averages of 8 held-out digits", img[None], -1))
    return items


def confusion(items, readings):
    classes = list(range(10)) + [-1]
    table = {t: {r: 0 for r in classes} for t in classes}
    for (_, _, lab), r in zip(items, readings):
        if lab != AMBIGUOUS:
            table[lab][r] += 1
    return classes, table


def main():
    torch.set_num_threads(1)
    items = labelled_pictures()
    readings = [gd.recognize_digits(img)[0] for _, img, _ in items]
    classes, table = confusion(items, readings)
    name = lambda c: "none" if c == -1 else str(c)  # noqa: E731
    print("confusion table of gd.recognize_digits (rows: label by eye, columns: reading; none = no digit)")
    print("true\\read " + "".join(f"{name(c):>6}" for c in classes) + "   total")
    for t in classes:
        row = table[t]
        print(f"{name(t):>9} " + "".join(f"{row[c]:>6}" for c in classes) + f"   {sum(row.values()):>5}")
    print("\nper group (reading right / labelled; '?' pictures: their readings)")
    groups = {}
    for (group, _, lab), r in zip(items, readings):
        groups.setdefault(group, []).append((lab, r))
    for group, pairs in groups.items():
        known = [(l, r) for l, r in pairs if l != AMBIGUOUS]
        right = sum(l == r for l, r in known)
        amb = [r for l, r in pairs if l == AMBIGUOUS]
        extra = f"   '?': {len(amb)} pictures read as {dict(sorted(Counter(amb).items()))}" if amb else ""
        print(f"  {group:<34} {right:>4}/{len(known):<4} ({right / max(1, len(known)):6.1%}){extra}")
    digits = [(l, r) for (_, _, l), r in zip(items, readings) if l not in (AMBIGUOUS, -1)]
    nones = [r for (_, _, l), r in zip(items, readings) if l == -1]
    print(f"\nDIGITS_READ: {sum(l == r for l, r in digits) / len(digits):.3f} of {len(digits)} labelled digits")
    print(f"NO_DIGIT_REJECTED: {sum(r == -1 for r in nones) / len(nones):.3f} of {len(nones)} labelled no-digit pictures")
    return table


if __name__ == "__main__":
    main()
