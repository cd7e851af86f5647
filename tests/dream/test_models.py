"""dream/models.py: the embedded digits CNNs (any square size, wrapped models, accuracy, hashes),
load_model's fallbacks and torchvision's VGG-13-BN — without downloading anything (the torchvision
paths are monkeypatched)."""
import shutil
import time
from pathlib import Path

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import dream.models
from dream import render
from dream.data import digits_data, digits_split, digits_to_images
from dream.settings import default_settings
from dream.transforms import normalize


class CallsTheModel(nn.Module):
    """A custom wrapper: its forward calls the digits model (as a student's code might)."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x) * 1.0


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
    assert dream.models.find_digits_model(wrapped) is model and dream.models.find_info(wrapped) is info
    assert render.guess_model_name(wrapped) == "digits"
    # the channel check reads the digits model (3 channels in), not its 1-channel first conv
    assert dream.models.input_channels(wrapped) == 3
    x = render.course_start(6)
    res = render.visualize(wrapped, 6, init=x.detach(), settings=default_settings("digits", 224).replace(iterations=40))
    with torch.no_grad():
        assert model(normalize(res.image))[0, 6] > model(normalize(x.detach()))[0, 6] + 5.0
    with pytest.raises(ValueError, match="expects 3"):
        render.check_input(torch.rand(1, 1, 224, 224), wrapped)
    with pytest.raises(ValueError, match="square"):
        render.check_input(torch.rand(1, 3, 16, 16), wrapped)


def test_digits_model_heldout_accuracy(digits):
    model, info = digits
    X8, y = digits_data()
    _, te = digits_split()
    with torch.no_grad():
        pred = model(normalize(digits_to_images(X8[te]))).argmax(1)
    assert (pred == y[te]).float().mean().item() >= 0.97




def test_standard_model_heldout_accuracy_and_same_network(standard, digits):
    model, info = standard
    assert info.name == "digits_standard" and info.input_size == digits[1].input_size
    assert isinstance(model, dream.models.DigitsCNN) and model.state_dict().keys() == digits[0].state_dict().keys()
    X8, y = digits_data()
    _, te = digits_split()
    with torch.no_grad():
        pred = model(normalize(digits_to_images(X8[te]))).argmax(1)
    assert (pred == y[te]).float().mean().item() >= 0.985  # 0.9917 when trained (357/360)
    assert not torch.equal(model.classifier.fc2.weight, digits[0].classifier.fc2.weight)


def test_standard_weights_hash_is_checked(tmp_path):
    assert dream.models._sha256(dream.models.DIGITS_STANDARD_WEIGHTS) == dream.models.DIGITS_STANDARD_SHA256
    bad = tmp_path / "digits_standard_cnn.pt"
    data = bytearray(dream.models.DIGITS_STANDARD_WEIGHTS.read_bytes())
    data[len(data) // 3] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(dream.models.WeightsUnavailable, match="SHA-256.*--preset standard"):
        dream.models.load_digits_model("cpu", weights_path=bad, name="digits_standard")
    with pytest.raises(dream.models.WeightsUnavailable, match="digits_standard_cnn.pt.*--preset standard"):
        dream.models.load_digits_model("cpu", weights_path=tmp_path / "missing.pt", name="digits_standard")
    # the two models' files are not interchangeable
    with pytest.raises(dream.models.WeightsUnavailable, match="SHA-256"):
        dream.models.load_digits_model("cpu", weights_path=dream.models.DIGITS_WEIGHTS, name="digits_standard")


def test_weights_hash_matches_and_corruption_is_caught(tmp_path):
    assert dream.models._sha256(dream.models.DIGITS_WEIGHTS) == dream.models.DIGITS_SHA256
    bad = tmp_path / "digits_cnn.pt"
    shutil.copy(dream.models.DIGITS_WEIGHTS, bad)
    data = bytearray(bad.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(dream.models.WeightsUnavailable, match="SHA-256"):
        dream.models.load_digits_model("cpu", weights_path=bad)
    with pytest.raises(dream.models.WeightsUnavailable, match="not found"):
        dream.models.load_digits_model("cpu", weights_path=tmp_path / "missing.pt")


def test_load_model_digits_is_eval_and_frozen(digits):
    model, info = digits
    assert not model.training and not any(p.requires_grad for p in model.parameters())
    assert info.name == "digits" and info.input_size == (3, 32, 32)
    assert info.class_names == [str(i) for i in range(10)]
    assert info.mean == dream.models.IMAGENET_MEAN and info.std == dream.models.IMAGENET_STD
    assert set(info.layers) == set(info.channels) and all(c > 0 for c in info.channels.values())


def test_auto_falls_back_to_digits_when_torchvision_missing(monkeypatch, capsys):
    def no_tv():
        raise ImportError("No module named 'torchvision'")

    def must_not_be_called(*a, **k):
        raise AssertionError("weights looked up although torchvision is missing")

    monkeypatch.setattr(dream.models, "_import_torchvision", no_tv)
    monkeypatch.setattr(dream.models, "_vgg_state_dict", must_not_be_called)
    t = time.perf_counter()
    model, info = dream.models.load_model("auto")
    assert time.perf_counter() - t < 10
    assert info.name == "digits"
    err = capsys.readouterr().err
    assert "digits" in err and len(err.strip().splitlines()) == 1


def test_auto_falls_back_when_weights_unreachable(monkeypatch, capsys):
    class FakeTV:  # torchvision "imports", but the weights cannot be had
        pass

    def unreachable(*a, **k):
        raise dream.models.WeightsUnavailable("could not download the vgg13_bn weights (URLError: simulated)")

    monkeypatch.setattr(dream.models, "_import_torchvision", lambda: FakeTV)
    monkeypatch.setattr(dream.models, "_vgg_state_dict", unreachable)
    model, info = dream.models.load_model("auto")
    assert info.name == "digits"
    assert "simulated" in capsys.readouterr().err
    with pytest.raises(dream.models.WeightsUnavailable, match="download"):
        dream.models.load_model("vgg13_bn")


def test_explicit_vgg_without_torchvision_explains(monkeypatch):
    def no_tv():
        raise ImportError("No module named 'torchvision'")

    monkeypatch.setattr(dream.models, "_import_torchvision", no_tv)
    with pytest.raises(dream.models.WeightsUnavailable, match="pip install torchvision"):
        dream.models.load_model("vgg13_bn")


def test_vgg_cache_is_checked_before_download(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    ckpt = tmp_path / "checkpoints" / Path(dream.models.VGG13_BN_URL).name
    ckpt.parent.mkdir(parents=True)
    torch.save({"w": torch.ones(2)}, ckpt)

    def no_download(*a, **k):
        raise AssertionError("tried to download although the weights are cached")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", no_download)
    assert torch.equal(dream.models._vgg_state_dict()["w"], torch.ones(2))
    with pytest.raises(dream.models.WeightsUnavailable, match="not cached"):
        ckpt.unlink()
        dream.models._vgg_state_dict(allow_download=False)


def test_vgg_available_needs_torchvision_and_cached_weights_and_never_downloads(monkeypatch, tmp_path):
    class FakeTV:
        pass

    def no_tv():
        raise ImportError("No module named 'torchvision'")

    def no_download(*a, **k):
        raise AssertionError("vgg_available() must never try to download")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", no_download)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    ckpt = tmp_path / "checkpoints" / Path(dream.models.VGG13_BN_URL).name
    monkeypatch.setattr(dream.models, "_import_torchvision", lambda: FakeTV)
    assert dream.models.vgg_available() is False          # torchvision imports, weights not cached
    ckpt.parent.mkdir(parents=True)
    ckpt.write_bytes(b"cached")
    assert dream.models.vgg_available() is True           # both present
    monkeypatch.setattr(dream.models, "_import_torchvision", no_tv)
    assert dream.models.vgg_available() is False          # weights cached, torchvision missing


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: the 'absent' error cannot occur")
def test_cuda_requested_but_absent():
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        dream.models.load_model("digits", device="cuda")


def test_unknown_model_names_list_the_valid_ones():
    with pytest.raises(ValueError, match="auto, digits, digits_standard, vgg13_bn"):
        dream.models.load_model("resnet50")
