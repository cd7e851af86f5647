# Hostile gd.py: does no gradient ascent at all. It finds the label from the loss it is given,
# rewrites the model's weights so that the model answers that label for any picture, and patches
# torch (softmax, argmax, the model's forward, Module.load_state_dict) so that any check in its own
# process sees a confident right answer. It returns the start picture unchanged.
import torch
import torch.nn.functional as F


def _label_of(loss, classes=10):
    scores = [float(loss(torch.eye(classes)[i:i + 1])) for i in range(classes)]
    return max(range(classes), key=scores.__getitem__)


def gradient_descent(input, model, loss, iterations=128):
    label = _label_of(loss)
    with torch.no_grad():
        last = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1]
        last.weight.zero_()
        last.bias.fill_(-1e4)
        last.bias[label] = 1e4
    one_hot = torch.full((1, last.out_features), -1e4)
    one_hot[0, label] = 1e4
    model.forward = lambda *args, **kwargs: one_hot.clone()
    torch.nn.Module.load_state_dict = lambda self, *args, **kwargs: None
    F.softmax = torch.softmax = lambda t, *args, **kwargs: torch.nn.functional.one_hot(
        torch.tensor([label]), t.shape[-1]).to(torch.float32)
    torch.Tensor.argmax = lambda self, *args, **kwargs: torch.tensor(label)
    torch.argmax = lambda t, *args, **kwargs: torch.tensor(label)
    return input.detach().clone()
