"""Both ablations over gd.TRICKS on both digits models, with the measures under each tile.

    python tools/ablations.py [--labels 0-9] [--figure figures/ablations.png]

For every run (leave-one-out: all on, each trick off alone, all off; add-one-in: all off, each
trick on alone, all on) it prints, over the labels: the median high-frequency share, the median
total variation, how many pictures the legibility judge reads as their class, and the mean target
probability.  ``--figure`` also draws one label's tiles (default 3) with the measures underneath.
"""
import argparse
import statistics
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import gd  # noqa: E402


def table(model_name, direction, labels):
    model, info = gd.load_model(model_name)
    per_label = [gd.ablation(model, d, direction, info=info) for d in labels]
    rows = []
    for i, (name, _, _) in enumerate(per_label[0]):
        ms = [runs[i][2] for runs in per_label]
        rows.append((name, statistics.median(m["high_frequency"] for m in ms),
                     statistics.median(m["total_variation"] for m in ms),
                     sum(m["legible"] for m in ms), statistics.mean(m["p_target"] for m in ms)))
    return rows, per_label


def figure(path, results, label):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    rows = list(results.items())
    cols = max(len(runs) for _, runs in rows)
    fig, axes = plt.subplots(len(rows), cols, figsize=(1.75 * cols, 2.35 * len(rows)), squeeze=False,
                             layout="constrained")
    for r, ((model_name, direction), runs) in enumerate(rows):
        for c, ax in enumerate(axes[r]):
            ax.axis("off")
            if c >= len(runs):
                continue
            name, img, m = runs[c]
            ax.imshow(img[0].permute(1, 2, 0).clamp(0, 1).numpy(), interpolation="nearest")
            read = "no digit" if m["reads_as"] == -1 else f"reads {m['reads_as']}"
            ax.set_title(f"{name}\nHF {m['high_frequency']:.3f} TV {m['total_variation']:.1f}\n"
                         f"{read}, p {m['p_target']:.2f}", fontsize=7)
        axes[r][0].set_title(f"[{model_name}, {direction}]\n" + axes[r][0].get_title(), fontsize=7)
    fig.suptitle(f"Ablations over the tricks, class {label} (HF: high-frequency share, TV: total variation)",
                 fontsize=10)
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--labels", default="0-9", help="e.g. 0-9 or 3,8")
    ap.add_argument("--figure", default=None, help="write a figure of one label's tiles here")
    ap.add_argument("--figure-label", type=int, default=3)
    args = ap.parse_args(argv)
    if "-" in args.labels:
        lo, hi = (int(v) for v in args.labels.split("-"))
        labels = list(range(lo, hi + 1))
    else:
        labels = [int(v) for v in args.labels.split(",")]
    torch.set_num_threads(1)
    tiles = {}
    for model_name in ("digits_standard", "digits"):
        for direction in gd.ABLATIONS:
            rows, per_label = table(model_name, direction, labels)
            if args.figure_label in labels:
                tiles[(model_name, direction)] = per_label[labels.index(args.figure_label)]
            print(f"\n{model_name}, {direction} (over labels {labels})")
            print(f"  {'run':<24} {'HF share':>9} {'TV':>6} {'legible':>8} {'p_target':>9}")
            for name, hf, tv, leg, p in rows:
                print(f"  {name:<24} {hf:>9.4f} {tv:>6.2f} {leg:>5}/{len(labels):<2} {p:>9.3f}")
    if args.figure:
        figure(args.figure, tiles, args.figure_label)
        print(f"\nWROTE: {args.figure}")


if __name__ == "__main__":
    main()
