"""DeepDream: gradient ascent on the input image, the library behind gd.py, the studio and the checker.

One small module per concern (in the spirit of lucent); nothing here imports gd.py, lab/ or grading/:

* ``settings``    — ``Settings`` (one field per trick), ``TRICKS`` as data, ``default_settings``;
* ``render``      — ``visualize`` and its loop ``optimize``; start images (``course_start``);
* ``ablation``    — the same run with tricks switched off or on one at a time;
* ``objectives``  — what to maximize: ClassLogit, the course's loss, LayerChannel/Unit/Dream;
* ``param``       — octave sizes, and the matrices that resize, roll and normalize the image (``Warp``);
* ``transforms``  — normalization, the one Gaussian kernel and blur, the in-place trick steps;
* ``models``      — the embedded digits CNNs (robust and standard), VGG-13-BN, ``load_model``,
                    ``eval_frozen`` and ``model_device``;
* ``measures``    — measures of a picture (high-frequency share, total variation, the 8x8 view);
* ``judges``      — the legibility judge ``recognize_digits`` (-1 = no digit) and its training data;
* ``scores``      — what the model says: class probability, robustness, the numbers under a tile;
* ``gallery``     — image files and PNG galleries;  ``data`` — the 8x8 digits as images;
* ``threads``     — ``limit_threads``, the one thread-control helper;
* ``cli``         — ``python gd.py``;  ``studio`` — the ipywidgets panel (imports ipywidgets; not
                    imported here).
"""
from .ablation import ABLATIONS, ablation, ablation_variants, run_ablation
from .data import digits_data, digits_split, digits_to_images
from .gallery import save_gallery, save_image
from .judges import NO_DIGIT, reading_text, recognize_digits
from .measures import high_frequency_share, total_variation
from .models import (IMAGENET_MEAN, IMAGENET_STD, MODEL_NAMES, DigitsCNN, ModelInfo, WeightsUnavailable,
                     eval_frozen, find_digits_model, find_info, load_digits_model, load_model, mean_image,
                     model_device, vgg_available)
from .objectives import ClassLogit, LayerChannel, LayerDream, LayerUnit, Objective, StopRequested
from .render import Result, course_start, optimize, visualize
from .scores import class_probability, picture_metrics, robustness
from .settings import TRICKS, Settings, all_tricks_off, default_settings
from .threads import limit_threads
from .transforms import gaussian_blur, normalize

__all__ = [
    "ABLATIONS", "ablation", "ablation_variants", "run_ablation", "digits_data", "digits_split",
    "digits_to_images", "save_gallery", "save_image", "NO_DIGIT", "reading_text", "recognize_digits",
    "high_frequency_share", "total_variation", "IMAGENET_MEAN", "IMAGENET_STD", "MODEL_NAMES", "DigitsCNN",
    "ModelInfo", "WeightsUnavailable", "eval_frozen", "find_digits_model", "find_info", "load_digits_model",
    "load_model", "mean_image", "model_device", "vgg_available", "ClassLogit", "LayerChannel", "LayerDream",
    "LayerUnit", "Objective", "StopRequested", "Result", "course_start", "optimize", "visualize",
    "class_probability", "picture_metrics", "robustness", "TRICKS", "Settings", "all_tricks_off",
    "default_settings", "limit_threads", "gaussian_blur", "normalize",
]
