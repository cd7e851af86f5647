"""Ablations over the tricks: the same seeded run with tricks switched off (or on) one at a time.

* ``"leave_one_out"``: all tricks on, then each trick switched off alone, then all off — what each
  trick is worth among the others;
* ``"add_one_in"``: all tricks off, then each trick switched on alone, then all on — what each
  trick buys by itself.

``run_ablation`` is the one loop (the studio's grid, notebook 07's figures and ``ablation`` run it);
``ablation`` adds the measures of each picture (``scores.picture_metrics``).
"""
from .models import find_info
from .objectives import ClassLogit
from .render import guess_model_name, visualize
from .scores import picture_metrics
from .settings import DEFAULTS_FOR, TRICKS, all_tricks_off, default_settings

ABLATIONS = ("leave_one_out", "add_one_in")
ALL_ON, ALL_OFF = "all tricks on", "all tricks off"
# TRICKS key -> its leave-one-out column (all tricks on, this one off)
WITHOUT = {
    "jitter": "no jitter",
    "blur": "no image blur",
    "clamp": "no clamp",
    "weight_decay": "no weight decay",
    "grad_blur": "no gradient blur",
    "octaves": "one octave",
    "normalized_step": "plain step",
    "mean_start": "noise start",
}
# TRICKS key -> its add-one-in column (all tricks off, this one on)
ONLY = {
    "jitter": "+ jitter",
    "blur": "+ image blur",
    "clamp": "+ clamp",
    "weight_decay": "+ weight decay",
    "grad_blur": "+ gradient blur",
    "octaves": "+ octaves",
    "normalized_step": "+ normalized step",
    "mean_start": "+ mean-image start",
}


def ablation_variants(settings, direction="leave_one_out"):
    """The runs of an ablation over ``TRICKS`` as [(title, Settings)]: ``settings`` is "all tricks on"."""
    if direction not in ABLATIONS:
        raise ValueError(f"unknown ablation direction {direction!r}; allowed: {', '.join(ABLATIONS)}")
    off = all_tricks_off(settings)
    if direction == "leave_one_out":
        runs = [(ALL_ON, settings)]
        runs += [(WITHOUT[k], settings.replace(**changes)) for k, changes in TRICKS.items()]
        return runs + [(ALL_OFF, off)]
    runs = [(ALL_OFF, off)]
    for k, changes in TRICKS.items():  # the trick's fields back at their values in ``settings``
        runs.append((ONLY[k], off.replace(**{f: getattr(settings, f) for f in changes})))
    return runs + [(ALL_ON, settings)]


def run_ablation(model, objective, settings, direction="leave_one_out", info=None, init=None):
    """Run ``objective`` once per variant of ``ablation_variants(settings, direction)`` — same seed,
    same start.  Returns [(title, Settings, Result)]."""
    return [(title, s, visualize(model, objective, info=info, settings=s, init=init))
            for title, s in ablation_variants(settings, direction)]


def ablation(model, label, direction="leave_one_out", settings=None, seed=0, info=None, init=None):
    """``run_ablation`` for class ``label`` with seed ``seed``, each picture measured
    (``picture_metrics``).  ``settings``: "all tricks on" (default: the model's defaults).
    Returns [(title, image, metrics)]."""
    info = info if info is not None else find_info(model)
    if settings is None:
        settings = default_settings(info.name if info is not None and info.name in DEFAULTS_FOR
                                    else guess_model_name(model))
    runs = run_ablation(model, ClassLogit(label), settings.replace(seed=seed), direction, info, init)
    images = [res.image for _, _, res in runs]
    metrics = picture_metrics(model, images, [label] * len(images), info)
    return [(title, img, m) for (title, _, _), img, m in zip(runs, images, metrics)]
