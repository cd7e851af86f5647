"""The command line behind ``python gd.py`` (see ``python gd.py --help``): class visualizations or a
middle layer, written as PNG files into an output folder (``out/`` by default, ignored by git)."""
import argparse
import sys
import time
from pathlib import Path

from .gallery import save_gallery, save_image
from .judges import recognize_digits
from .models import MODEL_NAMES, load_model
from .objectives import ClassLogit, LayerChannel, LayerDream
from .render import visualize
from .scores import class_probability
from .settings import all_tricks_off, default_settings

COURSE_LABELS = (0, 12, 954)  # tench, house finch, banana — the course's main()
DEFAULT_OUT = "out"


def _parse_labels(text):
    try:
        return [int(t) for t in text.replace(",", " ").split()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--labels takes integers separated by commas or spaces; got {text!r}")


def build_parser():
    p = argparse.ArgumentParser(
        prog="gd.py",
        description="Gradient ascent on the input image: class visualization (the course's main job) "
                    "and middle-layer visualization. Writes img_{label}.png per label into --out "
                    f"(default: {DEFAULT_OUT}/, which git ignores) and prints "
                    "ANSWER_FOR_LABEL_{label}: <prob> (the course's score: softmax on the raw image) "
                    "and NORMALIZED_PROB_FOR_LABEL_{label}: <prob> (on the normalized input).",
        epilog="python gd.py --check PATH... [--json FILE]: check other gd.py files as the course grades "
               "them (python gd.py --check --help lists its options).")
    p.add_argument("--model", choices=MODEL_NAMES, default="auto",
                   help="auto: vgg13_bn if torchvision and its weights are available, else digits")
    p.add_argument("--labels", type=_parse_labels, default=None,
                   help="labels to visualize, e.g. '0,12,954' (default: 0,12,954 for ImageNet, 0-9 for digits)")
    p.add_argument("--iterations", type=int, default=None, help="gradient steps per image (default: the model's)")
    p.add_argument("--lr", type=float, default=None, help="step size (default: the model's)")
    p.add_argument("--out", default=DEFAULT_OUT, help=f"output folder for the images (default: {DEFAULT_OUT}/)")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:1, ...")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--layer", default=None, help="visualize a middle layer instead of classes (name; see --list-layers)")
    p.add_argument("--channel", type=int, default=None, help="channel of --layer (omit: DeepDream on the whole layer)")
    p.add_argument("--list-layers", action="store_true", help="print the model's layer names and channel counts")
    p.add_argument("--no-tricks", action="store_true", help="plain gradient ascent (every trick off)")
    p.add_argument("--gallery", default=None, help="also write a gallery PNG of all labels to this path")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _settings(args, info):
    s = default_settings(info.name).replace(seed=args.seed)
    if args.no_tricks:
        s = all_tricks_off(s)
    if args.iterations is not None:
        s = s.replace(iterations=args.iterations)
    if args.lr is not None:
        s = s.replace(lr=args.lr)
    try:
        return s.validate()
    except ValueError as e:
        raise SystemExit(f"gd.py: {e}")


def _middle_layer(args, model, info, s, out, progress):
    try:
        obj = LayerDream(args.layer) if args.channel is None else LayerChannel(args.layer, args.channel)
        res = visualize(model, obj, info=info, settings=s, progress=progress)
    except ValueError as e:
        raise SystemExit(f"gd.py: {e}")
    tag = args.layer.replace(".", "_") + ("" if args.channel is None else f"_ch{args.channel}")
    path = out / f"img_layer_{tag}.png"
    save_image(res.image, path)
    print(f"LAYER_{tag}: objective {res.values[-1] if res.values else float('nan'):.4f} -> {path}")
    return 0


def run(argv):
    """``python gd.py [options]`` (everything but ``--check``); returns the exit status."""
    args = build_parser().parse_args(argv)
    if args.iterations is not None and args.iterations < 0:
        raise SystemExit(f"gd.py: --iterations must be >= 0; got {args.iterations}")
    try:
        model, info = load_model(args.model, args.device)
    except (RuntimeError, ValueError) as e:
        raise SystemExit(f"gd.py: {e}")
    if args.list_layers:
        for n, c in info.channels.items():
            print(f"{n}\t{c} channels")
        return 0
    s = _settings(args, info)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"gd.py: writing images into {out.resolve()}/ (--out to change)")
    progress = not args.no_progress and sys.stderr.isatty() and s.iterations >= 100
    if args.layer is not None:
        return _middle_layer(args, model, info, s, out, progress)
    digits = info.name.startswith("digits")
    labels = args.labels if args.labels is not None else (list(range(10)) if digits else list(COURSE_LABELS))
    bad = [lab for lab in labels if not 0 <= lab < len(info.class_names)]
    if bad:
        raise SystemExit(f"gd.py: labels {bad} out of range for {info.name} (0..{len(info.class_names) - 1})")
    images, probs = [], []
    t0 = time.perf_counter()
    for label in labels:
        res = visualize(model, ClassLogit(label), info=info, settings=s, progress=progress)
        save_image(res.image, out / f"img_{label}.png")
        p_course, p_norm = class_probability(model, res.image, label, info)
        print(f"ANSWER_FOR_LABEL_{label}: {p_course:.6f}")
        print(f"NORMALIZED_PROB_FOR_LABEL_{label}: {p_norm:.6f}")
        images.append(res.image)
        probs.append(p_norm)
    elapsed = time.perf_counter() - t0
    read = None
    if digits:
        read = recognize_digits(images)
        ok = sum(int(r == lab) for r, lab in zip(read, labels))
        print(f"RECOGNIZED: {ok}/{len(labels)} (the legibility judge reads {read}; -1 = no digit)")
    print(f"TIME: {elapsed:.2f} s for {len(labels)} labels ({info.name}, {s.iterations} iterations each)")
    if args.gallery:
        names = [f"{lab}" if digits else f"{lab} {info.class_names[lab]}" for lab in labels]
        save_gallery(images, names, args.gallery, probs=probs, reads=read, targets=labels,
                     title=f"gd.py {info.name}: class visualizations (p on normalized input)")
    return 0
