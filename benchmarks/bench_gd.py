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

At the course's size (224 px):
* COURSE_224_SECONDS_PER_LABEL: the course's call ``gradient_descent(x, model, loss)`` (256
  iterations, default settings for a 224-px digits call) with ``load_model("digits")`` on the
  course's gray start image (target <= 2 s);
* VGG_OVERHEAD_RATIO: per iteration, ``gd.visualize`` with vgg13_bn's default tricks vs a bare
  forward + backward to the input, on a VGG-13-BN-shaped network built here without torchvision
  (random weights, 224 px; target <= 1.1).  ``--vgg-width 0.25`` scales its channels (quick runs).
``--quick``: fewer repeats and a quarter-width VGG (for the smoke test).
"""
import argparse
import statistics
import time

import torch

import gd   # the project is installed (pip install -e .), so this runs from any folder


def _sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        _sync()
        t = time.perf_counter()
        fn()
        _sync()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def vgg13_bn_shaped(width=1.0, classes=1000, seed=0):
    """torchvision's VGG-13-BN layout (conv-BN-ReLU blocks, five max-pools, 7x7 adaptive pool,
    4096-4096-classes classifier with dropout), random weights, channels times ``width``."""
    import torch.nn as nn

    torch.manual_seed(seed)
    layers, c_in = [], 3
    for v in (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"):
        if v == "M":
            layers.append(nn.MaxPool2d(2))
            continue
        c = max(1, int(v * width))
        layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
        c_in = c
    hidden = max(8, int(4096 * width))
    model = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(7), nn.Flatten(),
                          nn.Linear(c_in * 49, hidden), nn.ReLU(True), nn.Dropout(),
                          nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(), nn.Linear(hidden, classes))
    return model.eval()


def course_start(label, size=224):
    torch.manual_seed(label)
    return ((torch.randn(1, size, size, 3) * 8 + 128) / 255).permute(0, 3, 1, 2).requires_grad_()


def bench_224(args):
    """The 224-px figures: the course's call with the digits model, and the trick overhead on a
    VGG-shaped network."""
    torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    model, _ = gd.load_model("digits", device=args.device)
    labels = list(range(args.labels_224))
    gd.gradient_descent(course_start(0), model, lambda t: t[0, 0].mean(), iterations=8)  # warm-up
    times = []
    for label in labels:
        x = course_start(label)
        times.append(median_time(lambda: gd.gradient_descent(x, model, lambda t: t[0, label].mean()), 1))
    per_label = statistics.median(times)
    print(f"COURSE_224_SECONDS_PER_LABEL: {per_label:.2f} (digits model, 256 iterations, median over "
          f"{len(labels)} labels, {args.device}, {args.threads} threads; target <= 2 s)")

    vgg = vgg13_bn_shaped(args.vgg_width).to(dev)
    n_iter = args.vgg_iterations
    s = gd.default_settings("vgg13_bn").replace(iterations=n_iter)
    x = torch.rand(1, 3, 224, 224, device=dev)

    def bare():
        for _ in range(n_iter):
            xi = x.clone().requires_grad_(True)
            v = vgg(xi)[0, 954]
            torch.autograd.grad(v, xi)

    def tricks():
        gd.visualize(vgg, gd.ClassLogit(954), settings=s, init=x)

    for p in vgg.parameters():
        p.requires_grad_(False)
    bare()
    tricks()
    pairs = []
    for _ in range(args.vgg_repeats):  # interleaved, so that load from other processes hits both alike
        tb, tt = median_time(bare, 1) / n_iter, median_time(tricks, 1) / n_iter
        pairs.append((tb, tt, tt / tb))
    tb = statistics.median(p[0] for p in pairs)
    tt = statistics.median(p[1] for p in pairs)
    ratio = statistics.median(p[2] for p in pairs)
    print(f"VGG-13-BN-shaped (width x{args.vgg_width}, random weights, 224 px, {args.device}, {args.threads} threads): "
          f"bare forward+backward {tb * 1e3:.1f} ms/iteration, gd.visualize with vgg13_bn's tricks "
          f"{tt * 1e3:.1f} ms/iteration")
    print(f"VGG_OVERHEAD_RATIO: {ratio:.3f} (median of {args.vgg_repeats} paired runs of {n_iter} iterations; "
          f"target <= 1.1)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--quick", action="store_true", help="few repeats, quarter-width VGG (smoke test)")
    ap.add_argument("--threads", type=int, default=torch.get_num_threads(), help="threads for the 224-px figures")
    ap.add_argument("--labels-224", type=int, default=3, help="labels timed for the course's 224-px call")
    ap.add_argument("--vgg-width", type=float, default=1.0, help="channel multiplier of the VGG-shaped net")
    ap.add_argument("--vgg-iterations", type=int, default=6)
    ap.add_argument("--vgg-repeats", type=int, default=3)
    ap.add_argument("--device", default="cpu", help="device for the 224-px figures (cpu, cuda)")
    ap.add_argument("--only-224", action="store_true", help="only the 224-px figures")
    args = ap.parse_args(argv)
    if args.quick:
        args.repeats, args.labels_224, args.vgg_width, args.vgg_iterations, args.vgg_repeats = 1, 1, 0.25, 3, 1
    bench_224(args)
    if args.only_224:
        return
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
