"""dream/objectives.py: class logits, middle layers (channel, unit, whole layer), the course's loss."""
import pytest
import torch

from dream import objectives
from dream.objectives import ClassLogit, LayerChannel, LayerDream, LayerUnit, LossObjective, as_objective
from dream.render import visualize
from dream.settings import default_settings


def test_layer_objectives_increase(digits):
    model, info = digits
    s = default_settings("digits").replace(iterations=20)
    for obj in (LayerChannel("act2", 3), LayerChannel(info.layers["act1"], 0),
                LayerUnit("act3", 5), LayerDream("act2"), LayerChannel("features.act2", 1)):
        res = visualize(model, obj, info=info, settings=s)
        assert res.values[-1] > res.values[0], obj.name


def test_unknown_layers_and_channels_list_what_is_valid(digits):
    model, info = digits
    with pytest.raises(ValueError, match="act1, act2, act3"):
        visualize(model, LayerChannel("conv9", 0), info=info)
    with pytest.raises(ValueError, match="channel 99 out of range"):
        visualize(model, LayerChannel("act1", 99), info=info, settings=default_settings("digits").replace(iterations=1))
    with pytest.raises(ValueError, match="out of range"):
        visualize(model, 10, info=info)


def test_as_objective_takes_a_label_a_loss_or_an_objective(digits):
    model, _ = digits
    x = torch.zeros(1, 3, 32, 32)
    assert isinstance(as_objective(3), ClassLogit) and as_objective(3).label == 3
    dream_obj = LayerDream("act2")
    assert as_objective(dream_obj) is dream_obj
    loss = as_objective(lambda t: t[0, 2].mean())
    assert isinstance(loss, LossObjective)
    with torch.no_grad():
        assert loss(model, x).item() == pytest.approx(model(x)[0, 2].item())
        assert ClassLogit(2)(model, x).item() == pytest.approx(model(x)[0, 2].item())
    with pytest.raises(TypeError, match="loss must be callable"):
        as_objective("class 3")
    with pytest.raises(ValueError, match="scalar"):
        as_objective(lambda t: t[0])(model, x)


def test_forward_with_activation_removes_its_hook(digits):
    model, info = digits
    module = info.layers["act2"]
    act, out = objectives.forward_with_activation(model, torch.zeros(1, 3, 32, 32), module)
    assert act.shape == (1, info.channels["act2"], 8, 8) and out.shape == (1, 10)
    assert len(module._forward_hooks) == 0
