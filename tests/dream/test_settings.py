"""dream/settings.py: Settings validation, the tricks as data, defaults per model and size."""
import pytest

from dream.settings import TRICKS, Settings, all_tricks_off, default_settings, scaled


def test_bad_settings():
    s = default_settings("digits")
    for change, word in [({"iterations": -3}, "iterations"), ({"lr": 0}, "lr"), ({"lr": -1e-3}, "lr"),
                         ({"step_rule": "adamw"}, "plain, normalized"), ({"jitter": -1}, "jitter"),
                         ({"octaves": 0}, "octaves"), ({"octave_scale": 1.0}, "octave_scale"),
                         ({"weight_decay": 1.5}, "weight_decay"), ({"blur_sigma": 0}, "blur_sigma")]:
        with pytest.raises(ValueError, match=word):
            s.replace(**change).validate()
    with pytest.raises(TypeError, match="unknown Settings field"):
        s.replace(jiter=3)
    with pytest.raises(ValueError, match="vgg13_bn"):
        default_settings("resnet")


def test_the_tricks_are_data_and_all_off_switches_every_one_off():
    assert set(TRICKS) == {"jitter", "blur", "clamp", "weight_decay", "grad_blur", "octaves",
                           "normalized_step", "mean_start"}
    s = default_settings("digits")
    off = all_tricks_off(s)
    for name, changes in TRICKS.items():
        assert all(getattr(off, f) == v for f, v in changes.items()), name
        assert s.replace(**changes) != s, f"the defaults do not use {name}"
    assert off.iterations == s.iterations and off.lr == s.lr   # only the tricks change


def test_defaults_scale_pixel_lengths_with_the_image():
    assert default_settings("digits_standard", size=224) == default_settings("digits", size=224)
    s32, s224 = default_settings("digits"), default_settings("digits", size=224)
    assert (s32.jitter, s224.jitter) == (2, 14)
    assert s224.blur_sigma == pytest.approx(7 * s32.blur_sigma)
    assert s224.grad_blur_sigma == pytest.approx(7 * s32.grad_blur_sigma)
    assert scaled(s32, 7) == s224
    assert default_settings("vgg13_bn", size=224) == default_settings("vgg13_bn")
    with pytest.raises(ValueError, match="size"):
        default_settings("digits", size=0)
    assert isinstance(s32, Settings) and s32.validate() is s32
