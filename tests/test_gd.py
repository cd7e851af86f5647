"""Tests for gd.py: the course's call, the tricks, the objectives, the embedded digits model,
the quality targets, the CLI and every bad input.

No test downloads anything: the torchvision/weights paths are exercised by monkeypatching
``dream.models._import_torchvision`` / ``dream.models._vgg_state_dict``; the real torchvision test skips where
torchvision cannot be imported (here: a CUDA wheel next to a CPU torch).
"""
import hashlib
import io
import re
import shutil
import subprocess
import sys
import time
from collections import OrderedDict
from pathlib import Path

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import gd  # noqa: E402
import dream.models  # noqa: E402  (load_model lives there: monkeypatch its helpers)


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def state_hash(model):
    """SHA-256 over every parameter AND buffer (BN running statistics included)."""
    h = hashlib.sha256()
    for k, v in model.state_dict().items():
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def course_init(size, seed=0):
    """The course's start: (randn(1, H, W, 3) * 8 + 128) / 255, permuted to (1, 3, H, W)."""
    g = torch.Generator().manual_seed(seed)
    x = (torch.randn(1, size, size, 3, generator=g) * 8 + 128) / 255
    return x.permute(0, 3, 1, 2).contiguous().requires_grad_(True)


def logit(model, img, label):
    with torch.no_grad():
        return model(gd._normalize(img))[0, label].item()


@pytest.fixture(scope="module")
def digits():
    return gd.load_model("digits")


class TinyVGG(nn.Module):
    """torchvision-free stand-in for the course's VGG: features (conv/BN/ReLU/pool), an adaptive
    pool and a classifier with dropout, 3x224x224 input."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(4),
            nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(4),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((4, 4))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(256, 32), nn.ReLU(), nn.Dropout(0.5),
                                        nn.Linear(32, 20))
        # non-trivial running statistics, so that an overwrite would show
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)

    def forward(self, x):
        return self.classifier(self.avgpool(self.features(x)))


# ---------------------------------------------------------------------------------------------
# the course's API
# ---------------------------------------------------------------------------------------------
def test_course_call_digits_climbs_logit_and_harms_nothing(digits):
    model, info = digits
    model.train()  # the course's main never calls eval(): we must cope and restore it
    for p in model.parameters():
        p.requires_grad_(True)
    before = state_hash(model)
    x = course_init(32)
    x_copy = x.detach().clone()
    label = 3
    try:
        out = gd.gradient_descent(x, model, lambda t: t[0, label].mean(), iterations=48)
        assert all(m.training for m in model.modules()), "train mode not restored"
        assert all(p.requires_grad for p in model.parameters()), "requires_grad not restored"
    finally:
        model.eval()
        for p in model.parameters():
            p.requires_grad_(False)
    assert state_hash(model) == before, "the model's weights changed"
    assert torch.equal(x.detach(), x_copy), "the caller's input was modified"
    assert x.grad is None
    assert out.shape == (1, 3, 32, 32) and out is not x and not out.requires_grad
    assert out.min() >= 0 and out.max() <= 1
    assert logit(model, out, label) > logit(model, x_copy, label) + 5.0  # ascended, not descended
    p_course, p_norm = gd.class_probability(model, out, label, info)
    assert p_course > 0.99 and p_norm > 0.99


def test_course_call_on_224px_vgg_like_model_restores_modes_and_bn_stats():
    model = TinyVGG()
    model.train()
    model.features[1].eval()  # a mixed state must come back exactly
    modes = [m.training for m in model.modules()]
    before = state_hash(model)
    x = course_init(224)
    x_copy = x.detach().clone()
    model.eval()
    start = logit(model, x_copy, 5)
    model.train()
    model.features[1].eval()
    out = gd.gradient_descent(x, model, lambda t: t[0, 5].mean(), iterations=6)
    assert [m.training for m in model.modules()] == modes
    assert state_hash(model) == before, "weights or BatchNorm running statistics changed"
    assert torch.equal(x.detach(), x_copy)
    assert out.shape == (1, 3, 224, 224) and 0 <= out.min() and out.max() <= 1
    model.eval()
    assert logit(model, out, 5) > start


# ---------------------------------------------------------------------------------------------
# the course's call at 224 px, offline, with the embedded digits model (bare and wrapped)
# ---------------------------------------------------------------------------------------------
class CallsTheModel(nn.Module):
    """A custom wrapper: its forward calls the digits model (as a student's code might)."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x) * 1.0


def test_course_main_flow_at_224_px_offline_draws_readable_digits(digits, one_thread):
    # the course's main(), with load_model("digits") in place of vgg13_bn, as written:
    # gray-noise start, gradient_descent(image, model, loss) without iterations, p from model(image)
    model, info = digits
    images, probs = [], []
    for label in range(10):
        torch.manual_seed(label)
        image = (torch.randn(1, 224, 224, 3) * 8 + 128) / 255
        image = image.permute(0, 3, 1, 2)
        image.requires_grad_()
        loss = lambda tensor: tensor[0, label].mean()  # noqa: E731
        out = gd.gradient_descent(image, model, loss)
        assert out.shape == (1, 3, 224, 224) and 0 <= out.min() and out.max() <= 1
        with torch.no_grad():
            probs.append(F.softmax(model(out), dim=1)[0, label].item())
        images.append(out)
    assert min(probs) > 0.99, probs
    # the legibility judge reads 9 of 10 (it says "no digit" to the thick, hooked 1) and never a
    # wrong digit
    read = gd.recognize_digits(images)
    assert sum(r == d for d, r in enumerate(read)) >= 9 and all(r in (d, -1) for d, r in enumerate(read)), read


def test_digits_model_takes_any_square_size_from_32_up_by_area_resizing(digits):
    model, _ = digits
    g = torch.Generator().manual_seed(0)
    x224 = torch.rand(2, 3, 224, 224, generator=g)
    with torch.no_grad():
        # 224 = 7 x 32: the model sees the 7x7 block means
        torch.testing.assert_close(model(x224), model(F.avg_pool2d(x224, 7)))
        assert model(torch.rand(1, 3, 50, 50, generator=g)).shape == (1, 10)
    # differentiable: every pixel of the big image gets a gradient
    x = x224[:1].clone().requires_grad_(True)
    model(x)[0, 3].backward()
    assert (x.grad != 0).float().mean() > 0.99
    for bad in [(1, 3, 31, 31), (1, 3, 224, 200), (1, 1, 64, 64)]:
        with pytest.raises(ValueError, match="square"):
            model(torch.rand(*bad))


@pytest.mark.parametrize("wrap", ["sequential", "data_parallel", "custom"])
def test_wrapped_digits_model_is_recognized_by_what_it_contains(digits, wrap, one_thread):
    model, info = digits
    wrapped = {"sequential": lambda m: nn.Sequential(m), "data_parallel": lambda m: nn.DataParallel(m),
               "custom": CallsTheModel}[wrap](model)
    assert gd.find_digits_model(wrapped) is model and gd.find_info(wrapped) is info
    assert gd._guess_model_name(wrapped) == "digits"
    x = course_init(224)
    out = gd.gradient_descent(x, wrapped, lambda t: t[0, 6].mean(), iterations=40)
    assert logit(model, out, 6) > logit(model, x.detach(), 6) + 5.0
    # the channel check reads the digits model (3 channels in), not its 1-channel first conv
    with pytest.raises(ValueError, match="expects 3"):
        gd.gradient_descent(torch.rand(1, 1, 224, 224), wrapped, lambda t: t[0, 6].mean(), iterations=2)
    with pytest.raises(ValueError, match="square"):
        gd.gradient_descent(torch.rand(1, 3, 16, 16), wrapped, lambda t: t[0, 6].mean(), iterations=2)


def test_224_px_digits_call_gets_settings_scaled_to_its_size():
    assert gd.default_settings("digits_standard", size=224) == gd.default_settings("digits", size=224)
    s32, s224 = gd.default_settings("digits"), gd.default_settings("digits", size=224)
    assert (s32.jitter, s224.jitter) == (2, 14)
    assert s224.blur_sigma == pytest.approx(7 * s32.blur_sigma)
    assert s224.grad_blur_sigma == pytest.approx(7 * s32.grad_blur_sigma)
    assert gd.default_settings("vgg13_bn", size=224) == gd.default_settings("vgg13_bn")
    seen = {}
    real = gd._optimize

    def spy(model, objective, img0, settings, *a, **k):
        seen["s"] = settings
        return real(model, objective, img0, settings.replace(iterations=1), *a, **k)

    model, _ = gd.load_model("digits")
    try:
        gd._optimize = spy
        gd.gradient_descent(course_init(224), nn.Sequential(model), lambda t: t[0, 1].mean())
    finally:
        gd._optimize = real
    assert seen["s"] == s224.replace(iterations=256)  # the course's default iteration count
    with pytest.raises(ValueError, match="size"):
        gd.default_settings("digits", size=0)


def test_normalize_and_jitter_docstring_warns_about_32_px_at_32_px():
    doc = gd.normalize_and_jitter.__doc__
    assert "224" in doc and "too much" in doc


def test_normalize_and_jitter_is_the_courses():
    img = torch.rand(1, 3, 8, 8)
    mean = torch.tensor(gd.IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(gd.IMAGENET_STD).view(1, 3, 1, 1)
    torch.testing.assert_close(gd.normalize_and_jitter(img, step=0), (img - mean) / std)
    torch.manual_seed(0)
    out = gd.normalize_and_jitter(img, step=2)
    # some roll of the normalized image with dx, dy in [-2, 1)
    rolls = [((img.roll(dx, -1).roll(dy, -2)) - mean) / std for dx in (-2, -1, 0) for dy in (-2, -1, 0)]
    assert any(torch.allclose(out, r) for r in rolls)


def test_forward_and_return_activation(digits):
    model, info = digits
    act = gd.forward_and_return_activation(model, torch.zeros(1, 3, 32, 32), info.layers["act2"])
    assert act.shape == (1, info.channels["act2"], 8, 8)


def test_save_img_writes_clamped_png(tmp_path):
    from PIL import Image

    img = torch.linspace(-1, 2, 3 * 5 * 7).view(1, 3, 5, 7)
    path = gd.save_img(img, tmp_path / "x.png")
    arr = __import__("numpy").asarray(Image.open(path))
    assert arr.shape == (5, 7, 3) and arr.min() == 0 and arr.max() == 255


# ---------------------------------------------------------------------------------------------
# tricks, objectives, callback
# ---------------------------------------------------------------------------------------------
def _run(model, info, settings, label=2, init=None):
    return gd.visualize(model, gd.ClassLogit(label), info=info, settings=settings, init=init)


def test_every_trick_changes_the_result_and_all_off_still_works(digits):
    model, info = digits
    base = gd.default_settings("digits").replace(iterations=24)
    ref = _run(model, info, base).image
    again = _run(model, info, base).image
    assert torch.equal(ref, again), "a seeded run must be reproducible"
    assert set(gd.TRICKS) == {"jitter", "blur", "clamp", "weight_decay", "grad_blur", "octaves",
                              "normalized_step", "mean_start"}
    for name, off in gd.TRICKS.items():
        s = base.replace(**off)
        assert s != base, name
        img = _run(model, info, s).image
        assert (img - ref).abs().max() > 1e-3, f"switching off {name} changed nothing"
    plain = gd.all_tricks_off(base)
    res = _run(model, info, plain)
    assert res.values[-1] > res.values[0]
    assert (res.image - ref).abs().max() > 1e-3


def test_starts_noise_and_mean_image(digits):
    # zero steps at one octave return the start itself: the gray level or the average digit
    model, info = digits
    X8, _ = gd.digits_data()
    avg = gd.digits_to_images(X8.mean(0, keepdim=True))
    assert info.mean_image.shape == (1, 3, 32, 32) and torch.allclose(info.mean_image, avg)
    assert avg[0, 0, 16, 16] > 0.3 and avg[0, 0, 0, 0] < 0.05      # ink in the middle, dark edge
    s = gd.default_settings("digits").replace(iterations=0, octaves=1, init_std=0.0)
    assert gd.default_settings("digits").start == "mean_image"
    got = gd.visualize(model, 3, info=info, settings=s).image
    assert torch.allclose(got, avg)
    flat = gd.visualize(model, 3, info=info, settings=s.replace(start="noise", init_mean=0.25)).image
    assert torch.equal(flat, torch.full((1, 3, 32, 32), 0.25))
    noisy = gd.visualize(model, 3, info=info, settings=s.replace(init_std=0.02)).image
    assert 0 < (noisy - avg).abs().max() < 0.2
    # a model without its own average image starts from its flat mean colour
    vgg_like = gd.ModelInfo("vgg13_bn", (3, 8, 8), gd.IMAGENET_MEAN, gd.IMAGENET_STD, ["a"])
    assert torch.allclose(gd.mean_image(vgg_like)[0, :, 4, 4], torch.tensor(gd.IMAGENET_MEAN))
    with pytest.raises(ValueError, match="start.*allowed: noise, mean_image"):
        gd.default_settings("digits").replace(start="zeros").validate()


def test_octaves_keep_the_iteration_budget(digits):
    model, info = digits
    s = gd.default_settings("digits").replace(iterations=25, octaves=3, octave_scale=1.5)
    res = _run(model, info, s)
    assert len(res.values) == 25
    assert [it for _, it in gd._octave_plan(s, 32, 32)] == [9, 8, 8]


def test_zero_iterations_return_the_start_image_unchanged(digits):
    model, info = digits
    init = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    for octaves in (1, 2, 3):
        s = gd.default_settings("digits").replace(iterations=0, octaves=octaves)
        res = gd.visualize(model, gd.ClassLogit(4), info=info, settings=s, init=init)
        assert torch.equal(res.image, init) and res.image is not init and res.values == []
    out = gd.gradient_descent(init, model, lambda t: t[0, 4].mean(), iterations=0)
    assert torch.equal(out, init) and out is not init


def test_layer_objectives_increase(digits):
    model, info = digits
    s = gd.default_settings("digits").replace(iterations=20)
    for obj in (gd.LayerChannel("act2", 3), gd.LayerChannel(info.layers["act1"], 0),
                gd.LayerUnit("act3", 5), gd.LayerDream("act2"), gd.LayerChannel("features.act2", 1)):
        res = gd.visualize(model, obj, info=info, settings=s)
        assert res.values[-1] > res.values[0], obj.name


def test_dream_on_a_picture_starts_from_it_and_leaves_it_alone(digits):
    model, info = digits
    X8, y = gd.digits_data()
    picture = gd.digits_to_images(X8[:1])          # a real "0"
    other = gd.digits_to_images(X8[1:2])           # a real "1"
    keep = picture.clone()
    s = gd.default_settings("digits").replace(iterations=10)
    res = gd.visualize(model, gd.LayerDream("act2"), info=info, settings=s, init=picture)
    assert torch.equal(picture, keep)
    assert res.values[-1] > res.values[0]
    # the dream stays closer to its picture than to another digit
    assert (res.image - picture).abs().mean() < (res.image - other).abs().mean()


def test_callback_and_stop_requested(digits):
    model, info = digits
    seen = []

    def cb(step, image, value):
        seen.append((step, tuple(image.shape), value))
        if step == 12:
            raise gd.StopRequested

    s = gd.default_settings("digits").replace(iterations=40, callback_every=4)
    res = gd.visualize(model, 7, info=info, settings=s, callback=cb)
    assert [st for st, _, _ in seen] == [4, 8, 12]
    assert all(shape == (1, 3, 32, 32) for _, shape, _ in seen)
    assert res.stopped_early and len(res.values) == 12
    assert res.image.shape == (1, 3, 32, 32)


# ---------------------------------------------------------------------------------------------
# quality targets (default settings, fixed seed, all ten digits)
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gallery(digits):
    model, info = digits
    return [gd.visualize(model, gd.ClassLogit(d), info=info).image for d in range(10)]


def test_quality_probability(digits, gallery):
    model, info = digits
    for d, img in enumerate(gallery):
        p_course, p_norm = gd.class_probability(model, img, d, info)
        assert p_course >= 0.99 and p_norm >= 0.99, (d, p_course, p_norm)


def test_quality_recognizable_by_independent_classifiers(gallery):
    read = gd.recognize_digits(gallery)
    # 9 of 10: the judge says "no digit" to the robust model's 1 (a thick hooked stroke); it never
    # reads a wrong digit
    assert sum(r == d for d, r in enumerate(read)) >= 9 and all(r in (d, -1) for d, r in enumerate(read)), read
    # the check can fail: the same images scored against shifted labels match nothing
    assert sum(r == (d + 1) % 10 for d, r in enumerate(read)) == 0


def test_quality_robust_to_held_out_transforms(digits, gallery):
    model, info = digits
    for d, img in enumerate(gallery):
        r = gd.robustness(model, img, d, info, n=32, seed=0)
        assert r >= 0.9, (d, r)


def test_recognizers_are_competent_and_can_say_no(digits):
    model, info = digits
    X8, y = gd.digits_data()
    _, te = gd.digits_split()
    read = torch.tensor(gd.recognize_digits(gd.digits_to_images(X8[te])))
    assert (read == y[te]).float().mean().item() >= 0.95
    # the starts are no digit: the average digit (a blurry blob) and the gray noise start
    assert gd.recognize_digits(info.mean_image) == [-1]
    s = gd.default_settings("digits")
    g = torch.Generator().manual_seed(0)
    noise = (torch.randn(10, 1, 32, 32, generator=g) * s.init_std + s.init_mean).clamp(0, 1).expand(-1, 3, -1, -1)
    assert gd.recognize_digits(noise) == [-1] * 10
    # the old reading (reject=False) names a digit whatever it is shown
    assert all(0 <= r <= 9 for r in gd.recognize_digits(noise, reject=False))
    assert 0 <= gd.recognize_digits(info.mean_image, reject=False)[0] <= 9
    # and the CNN is not confident about noise either
    probs = [gd.class_probability(model, noise[d:d + 1], d, info)[1] for d in range(10)]
    assert sum(p > 0.9 for p in probs) <= 1


def test_digits_model_heldout_accuracy(digits):
    model, info = digits
    X8, y = gd.digits_data()
    _, te = gd.digits_split()
    with torch.no_grad():
        pred = model(gd._normalize(gd.digits_to_images(X8[te]))).argmax(1)
    assert (pred == y[te]).float().mean().item() >= 0.97


# ---------------------------------------------------------------------------------------------
# the standard-trained digits model: same network, ordinary training, noisy gradients
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def standard():
    return gd.load_model("digits_standard")


def test_standard_model_heldout_accuracy_and_same_network(standard, digits):
    model, info = standard
    assert info.name == "digits_standard" and info.input_size == digits[1].input_size
    assert isinstance(model, gd.DigitsCNN) and model.state_dict().keys() == digits[0].state_dict().keys()
    X8, y = gd.digits_data()
    _, te = gd.digits_split()
    with torch.no_grad():
        pred = model(gd._normalize(gd.digits_to_images(X8[te]))).argmax(1)
    assert (pred == y[te]).float().mean().item() >= 0.985  # 0.9917 when trained (357/360)
    assert not torch.equal(model.classifier.fc2.weight, digits[0].classifier.fc2.weight)


def test_standard_weights_hash_is_checked(tmp_path):
    assert gd._sha256(gd.DIGITS_STANDARD_WEIGHTS) == gd.DIGITS_STANDARD_SHA256
    bad = tmp_path / "digits_standard_cnn.pt"
    data = bytearray(gd.DIGITS_STANDARD_WEIGHTS.read_bytes())
    data[len(data) // 3] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(gd.WeightsUnavailable, match="SHA-256.*--preset standard"):
        gd._load_digits("cpu", weights_path=bad, name="digits_standard")
    with pytest.raises(gd.WeightsUnavailable, match="digits_standard_cnn.pt.*--preset standard"):
        gd._load_digits("cpu", weights_path=tmp_path / "missing.pt", name="digits_standard")
    # the two models' files are not interchangeable
    with pytest.raises(gd.WeightsUnavailable, match="SHA-256"):
        gd._load_digits("cpu", weights_path=gd.DIGITS_WEIGHTS, name="digits_standard")


def test_image_measures_separate_real_digits_from_noise():
    X8, _ = gd.digits_data()
    for size in (32, 224):
        real = gd.digits_to_images(X8[:200], size=size)
        assert gd.high_frequency_share(real).median() < 0.01
        assert gd.total_variation(real).median() < 8
    noise = torch.rand(20, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    assert gd.high_frequency_share(noise).min() > 0.5 and gd.total_variation(noise).min() > 20
    # both are independent of contrast
    torch.testing.assert_close(gd.high_frequency_share(0.3 * noise), gd.high_frequency_share(noise))
    torch.testing.assert_close(gd.total_variation(0.3 * noise + 0.1), gd.total_variation(noise), rtol=1e-4, atol=1e-4)


def test_standard_model_without_tricks_draws_high_frequency_noise_with_tricks_smooth(standard, one_thread):
    model, info = standard
    s = gd.default_settings("digits_standard")
    on = torch.cat([gd.visualize(model, d, info=info, settings=s).image for d in range(10)])
    off = torch.cat([gd.visualize(model, d, info=info, settings=gd.all_tricks_off(s)).image for d in range(10)])
    hf_on, hf_off = gd.high_frequency_share(on), gd.high_frequency_share(off)
    # measured: median 0.003 with the tricks (real digits: 0.0025), 0.052 without
    assert hf_on.median() < 0.01 and hf_off.median() > 0.03
    assert (hf_off > 3 * hf_on).all(), (hf_on, hf_off)
    # both reach the class: the difference is in the picture, not in the score
    for d in range(10):
        assert gd.class_probability(model, off[d], d, info)[1] > 0.99


# ---------------------------------------------------------------------------------------------
# models: hash check, auto fallback, torchvision
# ---------------------------------------------------------------------------------------------
def test_weights_hash_matches_and_corruption_is_caught(tmp_path):
    assert gd._sha256(gd.DIGITS_WEIGHTS) == gd.DIGITS_SHA256
    bad = tmp_path / "digits_cnn.pt"
    shutil.copy(gd.DIGITS_WEIGHTS, bad)
    data = bytearray(bad.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(gd.WeightsUnavailable, match="SHA-256"):
        gd._load_digits("cpu", weights_path=bad)
    with pytest.raises(gd.WeightsUnavailable, match="not found"):
        gd._load_digits("cpu", weights_path=tmp_path / "missing.pt")


def test_load_model_digits_is_eval_and_frozen(digits):
    model, info = digits
    assert not model.training and not any(p.requires_grad for p in model.parameters())
    assert info.name == "digits" and info.input_size == (3, 32, 32)
    assert info.class_names == [str(i) for i in range(10)]
    assert info.mean == gd.IMAGENET_MEAN and info.std == gd.IMAGENET_STD
    assert set(info.layers) == set(info.channels) and all(c > 0 for c in info.channels.values())


def test_auto_falls_back_to_digits_when_torchvision_missing(monkeypatch, capsys):
    def no_tv():
        raise ImportError("No module named 'torchvision'")

    def must_not_be_called(*a, **k):
        raise AssertionError("weights looked up although torchvision is missing")

    monkeypatch.setattr(dream.models, "_import_torchvision", no_tv)
    monkeypatch.setattr(dream.models, "_vgg_state_dict", must_not_be_called)
    t = time.perf_counter()
    model, info = gd.load_model("auto")
    assert time.perf_counter() - t < 10
    assert info.name == "digits"
    err = capsys.readouterr().err
    assert "digits" in err and len(err.strip().splitlines()) == 1


def test_auto_falls_back_when_weights_unreachable(monkeypatch, capsys):
    class FakeTV:  # torchvision "imports", but the weights cannot be had
        pass

    def unreachable(*a, **k):
        raise gd.WeightsUnavailable("could not download the vgg13_bn weights (URLError: simulated)")

    monkeypatch.setattr(dream.models, "_import_torchvision", lambda: FakeTV)
    monkeypatch.setattr(dream.models, "_vgg_state_dict", unreachable)
    model, info = gd.load_model("auto")
    assert info.name == "digits"
    assert "simulated" in capsys.readouterr().err
    with pytest.raises(gd.WeightsUnavailable, match="download"):
        gd.load_model("vgg13_bn")


def test_explicit_vgg_without_torchvision_explains(monkeypatch):
    def no_tv():
        raise ImportError("No module named 'torchvision'")

    monkeypatch.setattr(dream.models, "_import_torchvision", no_tv)
    with pytest.raises(gd.WeightsUnavailable, match="pip install torchvision"):
        gd.load_model("vgg13_bn")


def test_vgg_cache_is_checked_before_download(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    ckpt = tmp_path / "checkpoints" / Path(gd.VGG13_BN_URL).name
    ckpt.parent.mkdir(parents=True)
    torch.save({"w": torch.ones(2)}, ckpt)

    def no_download(*a, **k):
        raise AssertionError("tried to download although the weights are cached")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", no_download)
    assert torch.equal(gd._vgg_state_dict()["w"], torch.ones(2))
    with pytest.raises(gd.WeightsUnavailable, match="not cached"):
        ckpt.unlink()
        gd._vgg_state_dict(allow_download=False)


def test_vgg_available_needs_torchvision_and_cached_weights_and_never_downloads(monkeypatch, tmp_path):
    class FakeTV:
        pass

    def no_tv():
        raise ImportError("No module named 'torchvision'")

    def no_download(*a, **k):
        raise AssertionError("vgg_available() must never try to download")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", no_download)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    ckpt = tmp_path / "checkpoints" / Path(gd.VGG13_BN_URL).name
    monkeypatch.setattr(dream.models, "_import_torchvision", lambda: FakeTV)
    assert gd.vgg_available() is False          # torchvision imports, weights not cached
    ckpt.parent.mkdir(parents=True)
    ckpt.write_bytes(b"cached")
    assert gd.vgg_available() is True           # both present
    monkeypatch.setattr(dream.models, "_import_torchvision", no_tv)
    assert gd.vgg_available() is False          # weights cached, torchvision missing


def test_torchvision_vgg13_bn_course_path():
    try:
        tv = gd._import_torchvision()
    except Exception as e:  # CUDA wheel next to a CPU torch here: ImportError / OSError / RuntimeError
        pytest.skip(f"torchvision cannot be imported here ({type(e).__name__}): the vgg13_bn path needs it")
    model = tv.models.vgg13_bn(weights=None)  # no download: random weights are enough here
    info = gd._vgg_info(model, [str(i) for i in range(1000)])
    assert "features.2" in info.layers and info.channels["features.2"] == 64
    model.train()
    before = state_hash(model)
    out = gd.gradient_descent(course_init(224), model, lambda t: t[0, 954].mean(), iterations=2)
    assert out.shape == (1, 3, 224, 224) and model.training and state_hash(model) == before


# ---------------------------------------------------------------------------------------------
# bad input -> clear errors
# ---------------------------------------------------------------------------------------------
def test_bad_inputs(digits):
    model, info = digits
    loss = lambda t: t[0, 1].mean()  # noqa: E731
    with pytest.raises(ValueError, match="4-D"):
        gd.gradient_descent(torch.rand(3, 32, 32), model, loss, iterations=2)
    with pytest.raises(ValueError, match="channels"):
        gd.gradient_descent(torch.rand(1, 1, 32, 32), model, loss, iterations=2)
    with pytest.raises(ValueError, match="iterations"):
        gd.gradient_descent(torch.rand(1, 3, 32, 32), model, loss, iterations=-1)
    with pytest.raises(ValueError, match="scalar"):
        gd.gradient_descent(torch.rand(1, 3, 32, 32), model, lambda t: t[0], iterations=2)
    with pytest.raises(ValueError, match="NaN"):
        gd.gradient_descent(torch.full((1, 3, 32, 32), float("nan")), model, loss, iterations=2)
    with pytest.raises(ValueError, match="32x32"):
        gd.visualize(model, 1, info=info, init=torch.rand(1, 3, 28, 28))
    with pytest.raises(ValueError, match="out of range"):
        gd.visualize(model, 10, info=info)


def test_bad_settings():
    s = gd.default_settings("digits")
    for change, word in [({"iterations": -3}, "iterations"), ({"lr": 0}, "lr"), ({"lr": -1e-3}, "lr"),
                         ({"step_rule": "adamw"}, "plain, normalized"), ({"jitter": -1}, "jitter"),
                         ({"octaves": 0}, "octaves"), ({"octave_scale": 1.0}, "octave_scale"),
                         ({"weight_decay": 1.5}, "weight_decay"), ({"blur_sigma": 0}, "blur_sigma")]:
        with pytest.raises(ValueError, match=word):
            s.replace(**change).validate()
    with pytest.raises(TypeError, match="unknown Settings field"):
        s.replace(jiter=3)
    with pytest.raises(ValueError, match="vgg13_bn"):
        gd.default_settings("resnet")


def test_unknown_names_list_the_valid_ones(digits):
    model, info = digits
    with pytest.raises(ValueError, match="auto, digits, digits_standard, vgg13_bn"):
        gd.load_model("resnet50")
    with pytest.raises(ValueError, match="act1, act2, act3"):
        gd.visualize(model, gd.LayerChannel("conv9", 0), info=info)
    with pytest.raises(ValueError, match="channel 99 out of range"):
        gd.visualize(model, gd.LayerChannel("act1", 99), info=info,
                     settings=gd.default_settings("digits").replace(iterations=1))


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: the 'absent' error cannot occur")
def test_cuda_requested_but_absent():
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        gd.load_model("digits", device="cuda")


def test_nan_or_inf_image_stops_with_step_and_advice(digits):
    model, info = digits
    s = gd.default_settings("digits").replace(iterations=5)
    with pytest.raises(FloatingPointError, match=r"step 0.*smaller lr"):
        gd.visualize(model, lambda t: t[0, 0] * float("nan"), info=info, settings=s)
    blowup = gd.all_tricks_off(s).replace(lr=1e38, clamp=False)
    with pytest.raises(FloatingPointError, match=r"at step \d+.*smaller lr"):
        gd.visualize(model, lambda t: t[0, 0] * 1e38, info=info, settings=blowup)


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------
def test_cli_writes_images_and_answer_lines(tmp_path):
    out = tmp_path / "digits"
    gallery = tmp_path / "gallery.png"
    r = subprocess.run([sys.executable, str(ROOT / "gd.py"), "--model", "digits", "--labels", "3,7",
                        "--iterations", "30", "--out", str(out), "--gallery", str(gallery), "--no-progress"],
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for label in (3, 7):
        assert (out / f"img_{label}.png").is_file()
        m = re.search(rf"^ANSWER_FOR_LABEL_{label}: ([0-9.]+)$", r.stdout, re.M)
        n = re.search(rf"^NORMALIZED_PROB_FOR_LABEL_{label}: ([0-9.]+)$", r.stdout, re.M)
        assert m and n and 0 <= float(m.group(1)) <= 1 and 0 <= float(n.group(1)) <= 1
    assert gallery.is_file() and gallery.stat().st_size > 1000


def test_cli_help_and_errors(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "gd.py"), "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "--model" in r.stdout and "--layer" in r.stdout
    with pytest.raises(SystemExit, match="out of range"):
        gd.main(["--model", "digits", "--labels", "11", "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="iterations"):
        gd.main(["--model", "digits", "--iterations", "-2", "--out", str(tmp_path)])


def test_cli_check_delegates_to_lab_gdcheck(monkeypatch):
    import types

    seen = {}
    fake = types.ModuleType("lab.gdcheck")
    fake.main = lambda argv: seen.setdefault("argv", argv) and 0
    monkeypatch.setitem(sys.modules, "lab.gdcheck", fake)
    gd.main(["--check", "a/gd.py", "b", "--json", "out.json"])
    assert seen["argv"] == ["a/gd.py", "b", "--json", "out.json"]
    # without the checker: a clear message, not a traceback
    monkeypatch.setitem(sys.modules, "lab.gdcheck", None)
    with pytest.raises(SystemExit, match="lab/gdcheck.py"):
        gd.main(["--check", "a/gd.py"])


def test_cli_middle_layer(tmp_path, capsys):
    assert gd.main(["--model", "digits", "--layer", "act2", "--channel", "4", "--iterations", "10",
                    "--out", str(tmp_path)]) == 0
    assert (tmp_path / "img_layer_act2_ch4.png").is_file()
    assert "LAYER_act2_ch4" in capsys.readouterr().out


def test_gaussian_blur_matches_a_reflect_padded_convolution():
    import math

    import torch.nn.functional as F

    g = torch.Generator().manual_seed(0)
    img = torch.rand(2, 3, 16, 20, generator=g, dtype=torch.float64)
    for sigma in (0.5, 1.0, 2.0):
        r = max(1, math.ceil(2.5 * sigma))
        x = torch.arange(-r, r + 1, dtype=torch.float64)
        k = torch.exp(-0.5 * (x / sigma) ** 2)
        k = torch.outer(k, k) / k.sum() ** 2
        ref = F.conv2d(F.pad(img.reshape(6, 1, 16, 20), (r, r, r, r), mode="reflect"),
                       k.view(1, 1, 2 * r + 1, 2 * r + 1)).reshape(2, 3, 16, 20)
        torch.testing.assert_close(gd.gaussian_blur(img, sigma), ref)
    assert torch.equal(gd.gaussian_blur(img, 0), img)
    # big images take the convolution path: the same blur
    big = torch.rand(1, 3, 70, 90, generator=g, dtype=torch.float64)
    for sigma in (0.5, 3.5):
        r = max(1, math.ceil(2.5 * sigma))
        x = torch.arange(-r, r + 1, dtype=torch.float64)
        k = torch.exp(-0.5 * (x / sigma) ** 2)
        k = torch.outer(k, k) / k.sum() ** 2
        ref = F.conv2d(F.pad(big.reshape(3, 1, 70, 90), (r, r, r, r), mode="reflect"),
                       k.view(1, 1, 2 * r + 1, 2 * r + 1)).reshape(1, 3, 70, 90)
        torch.testing.assert_close(gd.gaussian_blur(big, sigma), ref)
        out = big.clone()
        torch.testing.assert_close(gd.gaussian_blur(out, sigma, out=out), ref)
    # blurring keeps the mean of a constant image and lowers the variance of noise
    assert gd.gaussian_blur(img, 1.0).var() < img.var()


def test_interp_matrices_reproduce_bilinear_resize_and_its_gradient():
    # gd applies the upsampling's adjoint by hand (transposed matrices): it must equal autograd's
    p = torch.rand(1, 3, 16, 16, dtype=torch.float64, requires_grad=True)
    g = torch.rand(1, 3, 32, 32, dtype=torch.float64)
    up = F.interpolate(p, size=(32, 32), mode="bilinear", align_corners=False)
    (ref,) = torch.autograd.grad((up * g).sum(), p)
    uh = gd._interp_matrix(16, 32, "cpu", torch.float64)
    assert torch.allclose(uh @ p.detach() @ uh.t(), up.detach(), atol=1e-12)
    assert torch.allclose(uh.t() @ g @ uh, ref, atol=1e-12)


@pytest.mark.parametrize("size,full", [((16, 16), (32, 32)), ((32, 32), (32, 32)), ((12, 20), (32, 32)),
                                       ((149, 149), (224, 224)), ((224, 224), (224, 224))])
def test_warp_is_resize_roll_normalize_and_its_adjoint_with_the_gradient_blur(size, full):
    # one optimization step's image path (upsample -> roll by the jitter -> normalize) and the
    # gradient's way back (autograd through that path, then the gradient blur), against _Warp's
    # four matrix products (small images) or rolls and convolutions (224 px), for two images of
    # 3 channels
    gen = torch.Generator().manual_seed(0)
    inv_std = 1.0 / torch.tensor(gd.IMAGENET_STD, dtype=torch.float64).view(1, 3, 1, 1)
    shift = -torch.tensor(gd.IMAGENET_MEAN, dtype=torch.float64).view(1, 3, 1, 1) * inv_std
    p = torch.rand(2, 3, *size, generator=gen, dtype=torch.float64, requires_grad=True)
    g = torch.randn(2, 3, *full, generator=gen, dtype=torch.float64)
    for sigma in (0.0, 0.7, 4.0):  # 4 px at 224: the matrices again (a long kernel)
        warp = gd._Warp(size, full, p.shape, sigma, inv_std, shift)
        assert warp.direct == (full == (224, 224) and sigma < 4)
        for dy, dx in [(0, 0), (2, -1), (-3, 3)]:
            up = F.interpolate(p, size=full, mode="bilinear", align_corners=False)
            ref_x = up.roll((dy, dx), dims=(-2, -1)) * inv_std + shift
            (ref_g,) = torch.autograd.grad((ref_x * g).sum(), p)
            ref_g = gd.gaussian_blur(ref_g, sigma)
            torch.testing.assert_close(warp.forward(p.detach(), dy, dx), ref_x.detach(), atol=1e-12, rtol=0)
            torch.testing.assert_close(warp.backward(g, dy, dx), ref_g, atol=1e-12, rtol=0)


def test_gaussian_blur_in_place_equals_out_of_place():
    img = torch.rand(2, 3, 16, 20, generator=torch.Generator().manual_seed(1))
    ref = gd.gaussian_blur(img, 0.8)
    same = img.clone()
    assert gd.gaussian_blur(same, 0.8, out=same) is same
    torch.testing.assert_close(same, ref, atol=1e-6, rtol=0)


@pytest.mark.parametrize("mode", ["no_grad", "inference_mode"])
def test_runs_when_the_caller_has_gradients_off(digits, mode):
    # gradient ascent needs autograd: it must work (same image) inside the caller's no_grad block
    model, info = digits
    s = gd.default_settings("digits").replace(iterations=6)
    ref = gd.visualize(model, gd.ClassLogit(2), info=info, settings=s).image
    ctx = torch.no_grad() if mode == "no_grad" else torch.inference_mode()
    with ctx:
        got = gd.visualize(model, gd.ClassLogit(2), info=info, settings=s).image
        course = gd.gradient_descent(torch.full((1, 3, 32, 32), 0.3), model, lambda t: t[0, 2], iterations=6)
    assert torch.equal(got, ref)
    assert course.shape == (1, 3, 32, 32) and torch.isfinite(course).all()
