"""dream/scores.py: what the model says about a picture — class probability (raw and normalized),
robustness, and the numbers under an ablation tile."""
import pytest
import torch

from dream.data import digits_data, digits_to_images
from dream.scores import class_probability, picture_metrics, robustness


def test_picture_metrics_checks_its_input(digits):
    model, info = digits
    with pytest.raises(ValueError, match="2 images but 1 labels"):
        picture_metrics(model, [torch.rand(1, 3, 32, 32)] * 2, [3])
    X8, y = digits_data()
    m = picture_metrics(model, [digits_to_images(X8[:1])], [int(y[0])])[0]
    assert m["legible"] and m["reads_as"] == int(y[0]) and m["high_frequency"] < 0.01 and m["p_target"] > 0.9


def test_class_probability_on_raw_and_normalized_input_leaves_the_model_alone(digits):
    model, info = digits
    model.train()
    try:
        X8, y = digits_data()
        img = digits_to_images(X8[:1])
        p_course, p_norm = class_probability(model, img, int(y[0]), info)
        assert 0.9 < p_norm <= 1 and 0 <= p_course <= 1
        assert model.training, "eval mode was not undone"
        assert robustness(model, img, int(y[0]), info, n=8) > 0.5
        assert robustness(model, torch.full((1, 3, 32, 32), 0.5), 3, info, n=8) < 0.9
    finally:
        model.eval()
