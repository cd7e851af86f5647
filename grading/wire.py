"""Tensors as plain JSON, both ways, strictly: how raw values cross from the sandboxed child to
the grader.

The child (grading/tasks/*) runs student code, so everything it sends is untrusted text. A tensor
travels as ``{"dtype": "float32", "shape": [2, 3], "b64": "<base64 of the raw little-endian
bytes>"}``; :func:`decode` accepts only that: a whitelisted dtype, a shape of at most
``MAX_DIMS`` non-negative sizes and ``MAX_ELEMENTS`` entries in all, valid base64 whose byte
length is exactly ``numel × itemsize``, and nothing else in the dict. NaN and ±inf are kept as they
are (a submission's NaN is an answer to grade, not a transport error). Anything else raises
:class:`WireError` with one line that says what was wrong.

Only stdlib, numpy and torch here: the child imports this module.
"""
from __future__ import annotations

import base64
import binascii
import sys

import numpy as np
import torch

__all__ = ["WireError", "encode", "decode", "is_encoded", "DTYPES", "MAX_ELEMENTS", "MAX_DIMS"]

DTYPES = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16,
          "bfloat16": torch.bfloat16, "int64": torch.int64, "int32": torch.int32, "bool": torch.bool}
_NAMES = {v: k for k, v in DTYPES.items()}
ITEMSIZE = {"float32": 4, "float64": 8, "float16": 2, "bfloat16": 2, "int64": 8, "int32": 4, "bool": 1}
NUMPY = {"float32": np.dtype("<f4"), "float64": np.dtype("<f8"), "float16": np.dtype("<f2"),
         "int64": np.dtype("<i8"), "int32": np.dtype("<i4"), "bool": np.dtype("?")}
MAX_DIMS = 6
MAX_ELEMENTS = 4 * 2**20          # 16 MiB of float32: a 224-px image is 150 528 entries
KEYS = {"dtype", "shape", "b64"}


class WireError(ValueError):
    """A message that is not a well-formed encoded tensor."""


def encode(t) -> dict:
    """A tensor as a JSON-able dict (detached, on the CPU, contiguous, little-endian)."""
    if not isinstance(t, torch.Tensor):
        raise WireError(f"encode() takes a torch.Tensor, got {type(t).__name__}")
    t = t.detach().cpu()
    if t.is_complex() or t.is_sparse or t.dtype not in _NAMES:
        raise WireError(f"dtype {t.dtype} cannot be sent; allowed: {', '.join(DTYPES)}")
    if t.dim() > MAX_DIMS or t.numel() > MAX_ELEMENTS:
        raise WireError(f"tensor of shape {tuple(t.shape)} is over the size cap ({MAX_DIMS} dims, "
                        f"{MAX_ELEMENTS} entries)")
    t = t.contiguous()
    if t.dtype == torch.bfloat16:            # numpy has no bfloat16: send its raw 16-bit words
        raw = t.view(torch.int16).numpy().tobytes()
    else:
        arr = t.numpy()
        if sys.byteorder != "little":
            arr = arr.byteswap()
        raw = arr.tobytes()
    return {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "b64": base64.b64encode(raw).decode("ascii")}


def is_encoded(obj) -> bool:
    """True when ``obj`` looks like an encoded tensor (has exactly the three keys)."""
    return isinstance(obj, dict) and set(obj) == KEYS


def decode(obj) -> torch.Tensor:
    """The tensor an :func:`encode` dict describes; :class:`WireError` for anything else."""
    if not isinstance(obj, dict):
        raise WireError(f"expected an encoded tensor (a dict), got {type(obj).__name__}")
    if set(obj) != KEYS:
        extra, missing = sorted(set(obj) - KEYS), sorted(KEYS - set(obj))
        raise WireError("encoded tensor: " + "; ".join(
            part for part in (f"unknown key(s) {extra}" if extra else "",
                              f"missing key(s) {missing}" if missing else "") if part))
    dtype, shape, b64 = obj["dtype"], obj["shape"], obj["b64"]
    if not isinstance(dtype, str) or dtype not in DTYPES:
        raise WireError(f"dtype {dtype!r} is not allowed; allowed: {', '.join(DTYPES)}")
    if (not isinstance(shape, list) or len(shape) > MAX_DIMS
            or not all(type(n) is int and 0 <= n <= MAX_ELEMENTS for n in shape)):
        raise WireError(f"shape must be a list of at most {MAX_DIMS} sizes in 0..{MAX_ELEMENTS}, got {str(shape)[:80]}")
    numel = 1
    for n in shape:
        numel *= n
    if numel > MAX_ELEMENTS:
        raise WireError(f"shape {shape} holds {numel} entries, over the cap of {MAX_ELEMENTS}")
    if not isinstance(b64, str):
        raise WireError(f"b64 must be a string, got {type(b64).__name__}")
    itemsize = ITEMSIZE[dtype]
    if len(b64) > 4 * (numel * itemsize + 2) // 3 + 4:
        raise WireError(f"b64 is longer than {numel} entries of {dtype} can be")
    try:
        raw = base64.b64decode(b64.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise WireError(f"b64 is not valid base64 ({exc})") from None
    if len(raw) != numel * itemsize:
        raise WireError(f"b64 holds {len(raw)} bytes; shape {shape} of {dtype} needs {numel * itemsize}")
    if dtype == "bfloat16":      # numpy has no bfloat16: read the 16-bit words, view them as bfloat16
        arr = np.frombuffer(raw, dtype="<i2").astype(np.int16)
        return torch.from_numpy(arr).view(torch.bfloat16).reshape(shape)
    arr = np.frombuffer(raw, dtype=NUMPY[dtype]).astype(NUMPY[dtype].newbyteorder("="))   # a writable copy
    return torch.from_numpy(arr).reshape(shape)
