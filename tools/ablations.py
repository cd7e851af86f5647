"""Both ablations over the tricks (dream.TRICKS) on both digits models, with the measures of each picture.

    python tools/ablations.py [--labels 0-9] [--figure out/ablations.png]

For every run (leave-one-out: all on, each trick off alone, all off; add-one-in: all off, each
trick on alone, all on) it prints, over the labels: the median high-frequency share, the median
total variation, how many pictures the legibility judge reads as their class, and the mean target
probability.  ``--figure`` also draws one label's tiles (default 3) with the measures underneath
(the same figure as notebook 07's, ``dream.studio.ablation_figure``).
"""
import argparse
import statistics

import dream
from dream.studio import MODELS, ablation_figure


def table(model_name, direction, labels):
    model, info = dream.load_model(model_name)
    per_label = [dream.ablation(model, d, direction, info=info) for d in labels]
    rows = []
    for i, (name, _, _) in enumerate(per_label[0]):
        ms = [runs[i][2] for runs in per_label]
        rows.append((name, statistics.median(m["high_frequency"] for m in ms),
                     statistics.median(m["total_variation"] for m in ms),
                     sum(m["legible"] for m in ms), statistics.mean(m["p_target"] for m in ms)))
    return rows


def figure(path, label):
    """One label's tiles: a row per model and direction."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    rows = []
    for model_name in ("digits", "digits_standard"):
        model, info = dream.load_model(model_name)
        for direction in dream.ABLATIONS:
            runs = dream.run_ablation(model, dream.ClassLogit(label), dream.default_settings(model_name), direction,
                                      info=info)
            rows.append((f"{MODELS[model_name]}\n{direction.replace('_', '-')}", model, info, runs))
    fig = ablation_figure(rows, labels=[label] * len(rows), title=f"Ablations over the tricks, class {label}")
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
    with dream.limit_threads(1):
        for model_name in ("digits_standard", "digits"):
            for direction in dream.ABLATIONS:
                print(f"\n{model_name}, {direction} (over labels {labels})")
                print(f"  {'run':<24} {'HF share':>9} {'TV':>6} {'legible':>8} {'p_target':>9}")
                for name, hf, tv, leg, p in table(model_name, direction, labels):
                    print(f"  {name:<24} {hf:>9.4f} {tv:>6.2f} {leg:>5}/{len(labels):<2} {p:>9.3f}")
        if args.figure:
            figure(args.figure, args.figure_label)
            print(f"\nWROTE: {args.figure}")


if __name__ == "__main__":
    main()
