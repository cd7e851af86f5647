"""Calibrate and check dream.recognize_digits, the legibility judge, on pictures labelled by eye.

    python tools/calibrate_judge.py            # prints the confusion table (a few minutes)

The labelled pictures (label -1 = "no digit"; "?" = a person could argue either way, left out of
the table and listed on their own):

* real held-out digits (load_digits' test split), at 32 px (all 360) and at 224 px (the first 100);
* the robust model's (``load_model("digits")``) class visualizations at default settings, seeds
  0-2 at 32 px, and the course's call at 224 px: labelled as their class, except two sevens that
  are a tangle (seed 1 at 32 px, the 224-px one): "?";
* the standard model's (``digits_standard``) pictures with every default trick (seeds 0-2, and
  the course's call at 224 px): smooth blobs, dark holes in a gray field — no digit; the 1 (a
  bright bar among dark holes) and the 8 (a bright hourglass on black) are "?";
* the robust model's pictures with every trick off: faint digits under pixel noise — some a
  person reads, some not: "?" (the judge calls pixel noise "no digit");
* the standard model's pictures with every trick off: pixel noise, -1;
* noise and blobs not seen in training: uniform noise, the course's gray start image,
  ``not_digits`` with another seed, the average of all digits, averages of 8 held-out digits: -1.

The labels were set by looking at these pictures as PNG galleries.  The two figures the issue
asks for are printed last: the share of real held-out digits read (>= 95 %), and per set of ten
of the standard model's blobs (every trick on) how many the judge rejects (>= 8 in 10).
"""
from collections import Counter

import torch

import dream
from dream.judges import not_digits, superposed_digits

AMBIGUOUS = "?"
# (model, setting) -> {class: label by eye} for the pictures that do NOT read as their own class
BLOBS = {d: -1 for d in range(10)} | {1: AMBIGUOUS, 8: AMBIGUOUS}
BY_EYE = {
    ("digits", "on_s1"): {7: AMBIGUOUS},
    ("digits", "course224"): {7: AMBIGUOUS},
    ("digits", "off"): {d: AMBIGUOUS for d in range(10)},
    ("digits_standard", "on"): BLOBS,
    ("digits_standard", "course224"): BLOBS,
    ("digits_standard", "off"): {d: -1 for d in range(10)},
}


def course_call(model, label, size=224):
    """The course's main(): gray-noise start, gd.gradient_descent without iterations."""
    import gd

    return gd.gradient_descent(dream.course_start(label, size), model, lambda t: t[0, label].mean())


def labelled_pictures():
    """[(group, image (1, 3, H, W), label)], label an int (-1 = no digit) or "?"."""
    items = []
    X8, y = dream.digits_data()
    _, te = dream.digits_split()
    for size, idx in ((32, te), (224, te[:100])):
        for img, lab in zip(dream.digits_to_images(X8[idx], size=size), y[idx].tolist()):
            items.append((f"real digits {size} px", img[None], lab))
    for name in ("digits", "digits_standard"):
        model, info = dream.load_model(name)
        base = dream.default_settings(name)
        runs = [(f"on_s{seed}", base.replace(seed=seed)) for seed in (0, 1, 2)]
        runs += [(f"off_s{seed}", dream.all_tricks_off(base.replace(seed=seed))) for seed in (0, 1, 2)]
        for tag, s in runs:
            for d in range(10):
                img = dream.visualize(model, d, info=info, settings=s).image
                eye = BY_EYE.get((name, tag), BY_EYE.get((name, tag[:-3]), {}))
                items.append((f"{name} tricks {tag}", img, eye.get(d, d)))
        for d in range(10):
            eye = BY_EYE.get((name, "course224"), {})
            items.append((f"{name} course call 224 px", course_call(model, d), eye.get(d, d)))
    g = torch.Generator().manual_seed(7)
    for i in range(20):
        items.append(("uniform noise", torch.rand(1, 3, 32, 32, generator=g), -1))
        start = (torch.randn(1, 224, 224, 3, generator=g) * 8 + 128) / 255
        items.append(("course start image", start.permute(0, 3, 1, 2), -1))
    for img in not_digits(100, seed=123):
        items.append(("blobs, fields, noise", img[None], -1))
    _, info = dream.load_model("digits")
    items.append(("the average digit", info.mean_image, -1))
    for img in superposed_digits(dream.digits_to_images(X8[te]), 20, g):  # held-out digits, unseen
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
    with dream.limit_threads(1):
        items = labelled_pictures()
        readings = [dream.recognize_digits(img)[0] for _, img, _ in items]
    classes, table = confusion(items, readings)
    name = lambda c: "none" if c == -1 else str(c)  # noqa: E731
    print("confusion table of dream.recognize_digits (rows: label by eye, columns: reading; none = no digit)")
    print("true\\read " + "".join(f"{name(c):>6}" for c in classes) + "   total")
    for t in classes:
        row = table[t]
        print(f"{name(t):>9} " + "".join(f"{row[c]:>6}" for c in classes) + f"   {sum(row.values()):>5}")
    print("\nper group (reading right / labelled; '?' pictures: their readings)")
    groups = {}
    for (group, _, lab), r in zip(items, readings):
        groups.setdefault(group, []).append((lab, r))
    for group, pairs in groups.items():
        known = [(lab, r) for lab, r in pairs if lab != AMBIGUOUS]
        right = sum(lab == r for lab, r in known)
        amb = [r for lab, r in pairs if lab == AMBIGUOUS]
        extra = f"   '?': {len(amb)} pictures read as {dict(sorted(Counter(amb).items()))}" if amb else ""
        print(f"  {group:<34} {right:>4}/{len(known):<4} ({right / max(1, len(known)):6.1%}){extra}")
    digits = [(lab, r) for (_, _, lab), r in zip(items, readings) if lab not in (AMBIGUOUS, -1)]
    real = [(lab, r) for (g, _, lab), r in zip(items, readings) if g.startswith("real digits")]
    nones = [r for (_, _, lab), r in zip(items, readings) if lab == -1]
    print(f"\nDIGITS_READ: {sum(lab == r for lab, r in digits) / len(digits):.3f} of {len(digits)} labelled digits")
    print(f"REAL_HELD_OUT_READ: {sum(lab == r for lab, r in real) / len(real):.3f} of {len(real)} real held-out digits")
    print(f"NO_DIGIT_REJECTED: {sum(r == -1 for r in nones) / len(nones):.3f} of {len(nones)} labelled no-digit pictures")
    for group in [g for g in groups if g.startswith("digits_standard tricks on") or g == "digits_standard course call 224 px"]:
        rejected = sum(r == -1 for _, r in groups[group])
        print(f"STANDARD_BLOBS_REJECTED ({group}): {rejected}/10")
    for group in [g for g in groups if g.startswith("digits tricks on_s") or g == "digits course call 224 px"]:
        read = sum(r == d for d, (_, r) in enumerate(groups[group]))   # ten pictures, classes 0-9 in turn
        print(f"ROBUST_GALLERY_READ ({group}): {read}/10 read as their class")
    return table


if __name__ == "__main__":
    main()
