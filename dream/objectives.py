"""What to maximize: a class logit (the course's objective), the course's own ``loss`` callable, or a
middle layer (one channel, one unit, or the whole layer: DeepDream)."""
import torch
import torch.nn as nn


def forward_with_activation(model, input, module):
    """(activation of ``module``, model output) for ``model(input)``: a forward hook catches the
    activation and is removed afterwards, also on error."""
    store = {}

    def hook(_m, _inp, out):
        store["act"] = out

    handle = module.register_forward_hook(hook)
    try:
        out = model(input)
    finally:
        handle.remove()
    if "act" not in store:
        raise ValueError(f"module {module.__class__.__name__} was not called by the model's forward")
    return store["act"], out


class StopRequested(Exception):
    """Raise inside a ``callback`` to end a run cleanly; the current image is returned."""


class Objective:
    """Something to maximize: ``objective(model, x)`` -> scalar tensor, ``x`` the network input
    (normalized).  ``resolve(model, info)`` binds layer names to modules."""
    name = "objective"

    def resolve(self, model, info=None):
        return self

    def __call__(self, model, x):  # pragma: no cover - abstract
        raise NotImplementedError


class ClassLogit(Objective):
    """The course's objective: the logit of class ``label`` (an int, or one label per image)."""

    def __init__(self, label):
        self.label = label
        self.name = f"class {label}"

    def __call__(self, model, x):
        out = model(x)
        if out.dim() != 2:
            raise ValueError(f"ClassLogit needs a model returning (N, classes) logits; got {tuple(out.shape)}")
        if isinstance(self.label, int) and 0 <= self.label < out.shape[1]:
            return out[0, self.label] if out.shape[0] == 1 else out[:, self.label].sum()
        labels = self.label if isinstance(self.label, (list, tuple)) else [self.label] * out.shape[0]
        if len(labels) != out.shape[0]:
            raise ValueError(f"{len(labels)} labels for a batch of {out.shape[0]} images")
        for lab in labels:
            if not (isinstance(lab, int) and 0 <= lab < out.shape[1]):
                raise ValueError(f"label {lab!r} out of range: the model has {out.shape[1]} classes (0..{out.shape[1] - 1})")
        idx = torch.as_tensor(labels, device=out.device)
        return out.gather(1, idx.view(-1, 1)).sum()


class LossObjective(Objective):
    """Wraps the course's ``loss(output)`` (e.g. ``lambda t: t[0, label].mean()``)."""

    def __init__(self, loss):
        if not callable(loss):
            raise TypeError(f"loss must be callable (e.g. lambda t: t[0, label].mean()); got {type(loss).__name__}")
        self.loss = loss
        self.name = "loss"

    def __call__(self, model, x):
        value = self.loss(model(x))
        if not torch.is_tensor(value) or value.numel() != 1:
            shape = tuple(value.shape) if torch.is_tensor(value) else type(value).__name__
            raise ValueError(f"loss must return a scalar tensor (one element), e.g. t[0, label].mean(); got {shape}")
        return value.reshape(())


def _resolve_layer(model, layer, info=None):
    if isinstance(layer, nn.Module):
        if not any(m is layer for m in model.modules()):
            raise ValueError("the given layer module is not part of the model")
        return layer
    if not isinstance(layer, str):
        raise TypeError(f"layer must be a name or an nn.Module; got {type(layer).__name__}")
    if info is not None and layer in info.layers:
        return info.layers[layer]
    named = dict(model.named_modules())
    if layer in named and layer != "":
        return named[layer]
    valid = list(info.layers) if info is not None else [n for n in named if n]
    raise ValueError(f"unknown layer {layer!r}; valid layer names: {', '.join(valid)}")


class _LayerObjective(Objective):
    def __init__(self, layer):
        self.layer = layer
        self.module = layer if isinstance(layer, nn.Module) else None
        self.layer_name = layer if isinstance(layer, str) else layer.__class__.__name__

    def resolve(self, model, info=None):
        self.module = _resolve_layer(model, self.layer, info)
        return self

    def activation(self, model, x):
        if self.module is None:
            self.resolve(model)
        act, _ = forward_with_activation(model, x, self.module)
        if act.dim() != 4:
            raise ValueError(f"layer {self.layer_name} gives a {act.dim()}-D activation; pick a conv layer (N, C, H, W)")
        return act

    def _channel(self, act, channel):
        if not 0 <= channel < act.shape[1]:
            raise ValueError(f"channel {channel} out of range: layer {self.layer_name} has {act.shape[1]} channels (0..{act.shape[1] - 1})")
        return act[:, channel]


class LayerChannel(_LayerObjective):
    """Mean activation of one channel of a middle layer (DeepDream-style)."""

    def __init__(self, layer, channel):
        super().__init__(layer)
        self.channel = int(channel)
        self.name = f"{self.layer_name} channel {channel}"

    def __call__(self, model, x):
        return self._channel(self.activation(model, x), self.channel).mean(dim=(1, 2)).sum()


class LayerUnit(_LayerObjective):
    """One unit (the centre one by default) of a channel of a middle layer."""

    def __init__(self, layer, channel, y=None, x=None):
        super().__init__(layer)
        self.channel, self.y, self.x = int(channel), y, x
        self.name = f"{self.layer_name} channel {channel} unit"

    def __call__(self, model, x):
        a = self._channel(self.activation(model, x), self.channel)
        yy = a.shape[1] // 2 if self.y is None else self.y
        xx = a.shape[2] // 2 if self.x is None else self.x
        if not (0 <= yy < a.shape[1] and 0 <= xx < a.shape[2]):
            raise ValueError(f"unit ({yy}, {xx}) outside the {a.shape[1]}x{a.shape[2]} map of {self.layer_name}")
        return a[:, yy, xx].sum()


class LayerDream(_LayerObjective):
    """DeepDream: mean of the squared activations of a whole layer."""

    def __init__(self, layer):
        super().__init__(layer)
        self.name = f"{self.layer_name} dream"

    def __call__(self, model, x):
        return self.activation(model, x).pow(2).mean(dim=(1, 2, 3)).sum()


def as_objective(objective):
    """An Objective from what a caller may hand over: an Objective, an int label (its class logit), or
    a course-style ``loss(output)`` callable."""
    if isinstance(objective, Objective):
        return objective
    if isinstance(objective, int) and not isinstance(objective, bool):
        return ClassLogit(objective)
    return LossObjective(objective)
