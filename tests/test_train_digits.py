"""tools/train_digits.py's augmentation pieces (the training run itself is not repeated here:
the committed weights are checked by hash and held-out accuracy in tests/dream/test_models.py)."""
import importlib.util
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent


def _load():
    spec = importlib.util.spec_from_file_location("train_digits", ROOT / "tools" / "train_digits.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_cutout_blanks_one_square_per_image_and_zero_is_off():
    td = _load()
    x = torch.ones(64, 3, 32, 32)
    g = torch.Generator().manual_seed(0)
    assert torch.equal(td.cutout(x, g, 0), x)
    out = td.cutout(x, g, 12)
    assert torch.equal(out[:, 0], out[:, 2])                      # the same hole in every channel
    for img in out[:, 0]:
        hole = (img == 0).nonzero()
        rows, cols = hole[:, 0], hole[:, 1]
        h = rows.max() - rows.min() + 1
        w = cols.max() - cols.min() + 1
        assert len(hole) == h * w                                 # one filled rectangle ...
        assert 6 <= h <= 12 and 6 <= w <= 12                      # ... the square, maybe cut by a border
        assert (h == 12 or rows.min() == 0 or rows.max() == 31) and (w == 12 or cols.min() == 0 or cols.max() == 31)
    assert x.min() == 1                                           # the input is left alone


def test_fit_logit_scale_recovers_a_shrunk_temperature(one_thread):
    # the shipped model is already calibrated (scale ~1); shrink its logits 2x and the fit says ~2
    import dream

    td = _load()
    X8, y = dream.digits_data()
    tr, _ = dream.digits_split()
    x = dream.digits_to_images(X8[tr])
    model, _ = dream.load_model("digits")
    assert abs(td.fit_logit_scale(model, x, y[tr]) - 1.0) < 0.05
    shrunk = dream.DigitsCNN()
    shrunk.load_state_dict(model.state_dict())
    with torch.no_grad():
        shrunk.classifier.fc2.weight.mul_(0.5)
        shrunk.classifier.fc2.bias.mul_(0.5)
    assert abs(td.fit_logit_scale(shrunk, x, y[tr]) - 2.0) < 0.1


def test_presets_set_the_recipe_and_explicit_flags_win():
    td = _load()
    std = td.parse_args(["--preset", "standard"])
    assert (std.eps, std.cutout, std.noise, std.calibrate) == (0.0, 0, 0.0, False)
    assert std.out.endswith("models/digits_standard_cnn.pt")
    robust = td.parse_args([])
    assert (robust.eps, robust.cutout, robust.noise, robust.calibrate) == (2.5, 12, 0.1, True)
    assert robust.out.endswith("models/digits_cnn.pt")
    mixed = td.parse_args(["--preset", "standard", "--eps", "1.0", "--out", "/tmp/x.pt"])
    assert mixed.eps == 1.0 and mixed.cutout == 0 and mixed.out == "/tmp/x.pt"
