"""grading/diagnosis.py: the reference network comes from lab.reference, and a known mistake is
named from the numbers alone."""
import torch

from grading import diagnosis
from lab import reference


def test_the_reference_is_lab_reference():
    z = torch.linspace(-3, 3, 13)
    for name in ("relu", "sigmoid", "identity", "tanh", "scaled_relu"):
        assert torch.equal(diagnosis._act(name, z), reference.activation(name)(z))
        assert torch.equal(diagnosis._deriv(name, z), reference.derivative(name)(z))
    y, p = torch.rand(4, 3), torch.rand(4, 3) * 0.98 + 0.01
    for loss in ("mse", "bce"):
        for a, b in zip(diagnosis.loss_and_grad(loss, y, p), reference.loss(loss)(y, p)):
            assert torch.equal(a, b)


def test_a_missing_relu_derivative_is_named():
    torch.manual_seed(0)
    P = dict(W1=torch.randn(6, 3), b1=torch.randn(6), W2=torch.randn(2, 6), b2=torch.randn(2))
    x, y = torch.randn(5, 3), torch.randn(5, 2)
    c = diagnosis.forward(P, "relu", "identity", x)
    J, dJ = diagnosis.loss_and_grad("mse", y, c["y_hat"])
    ref = dict(y_hat=c["y_hat"], J=J, dJdy_hat=dJ, **diagnosis.backward(P, "relu", "identity", c, dJ))
    ours = dict(ref, **{k: v for k, v in diagnosis.backward(P, "relu", "identity", c, dJ, f_mode="missing").items()
                        if k in ("dJdW1", "dJdb1")})
    found = diagnosis.diagnose_row(dict(f="relu", g="identity", loss="mse", failing={"dJdW1", "dJdb1"}), P, x, y,
                                   ours, ref)
    assert found["dJdW1"][0] == found["dJdb1"][0] == "activation_derivative_missing"
    assert "(f = relu)" in found["dJdW1"][1]
