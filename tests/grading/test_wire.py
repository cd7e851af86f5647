"""grading/wire.py: tensors cross from the sandbox strictly, NaN and inf kept."""
import base64

import pytest
import torch

from grading import wire


@pytest.mark.parametrize("t", [torch.randn(3, 4), torch.randn(2, dtype=torch.float64), torch.tensor(1.5),
                               torch.arange(6).reshape(2, 3), torch.tensor([True, False]),
                               torch.randn(2, 2).to(torch.bfloat16), torch.zeros(0, 3)])
def test_round_trip_is_exact(t):
    back = wire.decode(wire.encode(t))
    assert back.dtype == t.dtype and back.shape == t.shape and torch.equal(back, t)


def test_non_finite_values_are_kept():
    t = torch.tensor([float("nan"), float("inf"), -float("inf"), 1.0])
    back = wire.decode(wire.encode(t))
    assert torch.isnan(back[0]) and back[1] == float("inf") and back[2] == -float("inf") and back[3] == 1


def _enc(**over):
    d = wire.encode(torch.ones(2, 3))
    d.update(over)
    return d


@pytest.mark.parametrize("obj,message", [
    ("a string", "expected an encoded tensor"),
    ({**_enc(), "verdict": "PASS"}, "unknown key(s) ['verdict']"),
    ({"dtype": "float32", "shape": [1]}, "missing key(s) ['b64']"),
    (_enc(dtype="complex64"), "dtype 'complex64' is not allowed"),
    (_enc(dtype="object"), "is not allowed"),
    (_enc(shape=[2, -3]), "shape must be a list"),
    (_enc(shape=[2, 3.0]), "shape must be a list"),
    (_enc(shape=[1] * 7), "shape must be a list"),
    (_enc(shape=[4096, 4096]), "over the cap"),
    (_enc(shape=[2, 4]), "needs 32"),                       # byte length checked against the shape
    (_enc(b64="!!!not base64!!!"), "not valid base64"),
    (_enc(b64=base64.b64encode(b"\0" * 20).decode()), "holds 20 bytes"),
    (_enc(b64=7), "b64 must be a string"),
])
def test_anything_else_is_a_clear_error(obj, message):
    with pytest.raises(wire.WireError, match=None) as info:
        wire.decode(obj)
    assert message in str(info.value)


def test_encode_refuses_what_it_cannot_send():
    with pytest.raises(wire.WireError, match="encode\\(\\) takes a torch.Tensor"):
        wire.encode([1.0, 2.0])
    with pytest.raises(wire.WireError, match="dtype torch.complex64 cannot be sent"):
        wire.encode(torch.zeros(2, dtype=torch.complex64))
