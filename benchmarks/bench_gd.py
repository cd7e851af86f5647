"""Benchmark gd.py on the embedded digits model (CPU).

    python benchmarks/bench_gd.py [--repeats 5]

Prints (medians over --repeats):
* GALLERY_SECONDS: the ten-digit gallery at default settings (target <= 10 s);
* PREVIEW_SECONDS: one digit, as the studio's live preview asks for it (target <= 1 s);
* per-iteration time of gradient ascent with every default trick vs. a bare forward + backward
  of the model on the same input (what any gradient step must pay), and their ratio
  OVERHEAD_RATIO (target <= 1.3);
* the per-iteration time with all tricks off, and with each trick switched off alone.
Both sides run with one thread (what gd.py uses for images up to 64x64).
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import gd  # noqa: E402


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=9)
    args = ap.parse_args(argv)
    model, info = gd.load_model("digits")
    s = gd.default_settings("digits")
    n_iter = s.iterations

    torch.set_num_threads(1)
    x = torch.rand(1, 3, 32, 32)

    def bare():
        for _ in range(n_iter):
            xi = x.clone().requires_grad_(True)
            v = model(xi)[0, 3]
            torch.autograd.grad(v, xi)

    def run(settings):
        return lambda: gd.visualize(model, gd.ClassLogit(3), info=info, settings=settings)

    bare()  # warm-up
    run(s)()
    # interleave bare and tricks runs so that load from other processes hits both alike
    pairs = []
    for _ in range(args.repeats):
        tb = median_time(bare, 1) / n_iter
        tt = median_time(run(s), 1) / n_iter
        pairs.append((tb, tt, tt / tb))
    t_bare = statistics.median(p[0] for p in pairs)
    t_tricks = statistics.median(p[1] for p in pairs)
    ratio = statistics.median(p[2] for p in pairs)
    t_off = median_time(run(gd.all_tricks_off(s)), args.repeats) / n_iter
    print(f"torch {torch.__version__}, threads 1, digits model, {n_iter} iterations, median of {args.repeats}")
    print(f"bare forward+backward per iteration:     {t_bare * 1e3:7.3f} ms")
    print(f"gd.visualize, all tricks, per iteration: {t_tricks * 1e3:7.3f} ms")
    print(f"gd.visualize, no tricks, per iteration:  {t_off * 1e3:7.3f} ms")
    for name, off in gd.TRICKS.items():
        t = median_time(run(s.replace(**off)), args.repeats) / n_iter
        print(f"  without {name:16s} {t * 1e3:7.3f} ms/iteration")
    print(f"OVERHEAD_RATIO: {ratio:.2f} (median of paired runs, tricks vs bare forward+backward; target <= 1.3)")

    preview = median_time(run(s), args.repeats)
    print(f"PREVIEW_SECONDS: {preview:.3f} (one digit at default settings; target <= 1 s)")

    def gallery():
        imgs = [gd.visualize(model, gd.ClassLogit(d), info=info, settings=s).image for d in range(10)]
        gd.recognize_digits(imgs)

    gd.recognize_digits(torch.zeros(1, 3, 32, 32))  # fit the recognizers once (cached)
    t_gal = median_time(gallery, max(1, args.repeats // 2))
    print(f"GALLERY_SECONDS: {t_gal:.2f} (ten digits + recognition; target <= 10 s)")


if __name__ == "__main__":
    main()
