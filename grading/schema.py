"""Strict reading of what a sandboxed child sent: known keys, types, size caps.

Everything a task module returns is untrusted (student code ran in that process). These helpers
raise :class:`Malformed` with a one-line reason ("malformed: runs.float32.values.J: ...") for
anything outside the expected shape; the checks turn that into an ERROR for the case.
"""
from __future__ import annotations

from grading import wire

__all__ = ["Malformed", "keys", "text", "opt_text", "integer", "boolean", "str_list", "tensor_or_problem"]

MAX_TEXT = 2000


class Malformed(ValueError):
    """A payload that does not follow the task's schema."""


def keys(d, where, required=(), optional=()):
    if not isinstance(d, dict):
        raise Malformed(f"{where}: expected an object, got {type(d).__name__}")
    unknown = sorted(set(d) - set(required) - set(optional))
    if unknown:
        raise Malformed(f"{where}: unknown key(s) {', '.join(map(str, unknown))[:120]}")
    missing = [k for k in required if k not in d]
    if missing:
        raise Malformed(f"{where}: missing key(s) {', '.join(missing)}")
    return d


def text(v, where, max_len=MAX_TEXT):
    if not isinstance(v, str):
        raise Malformed(f"{where}: expected a string, got {type(v).__name__}")
    if len(v) > max_len:
        raise Malformed(f"{where}: string of {len(v)} characters, over the cap of {max_len}")
    return v


def opt_text(v, where, max_len=MAX_TEXT):
    return None if v is None else text(v, where, max_len)


def integer(v, where, lo=0, hi=10**9):
    if type(v) is not int or not lo <= v <= hi:
        raise Malformed(f"{where}: expected an integer in {lo}..{hi}, got {str(v)[:40]}")
    return v


def number(v, where, lo=0.0, hi=1e9):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
        raise Malformed(f"{where}: expected a number in {lo:g}..{hi:g}, got {str(v)[:40]}")
    return float(v)


def boolean(v, where):
    if not isinstance(v, bool):
        raise Malformed(f"{where}: expected true/false, got {str(v)[:40]}")
    return v


def str_list(v, where, allowed=None, max_items=50):
    if not isinstance(v, list) or len(v) > max_items:
        raise Malformed(f"{where}: expected a list of at most {max_items} strings")
    for i, s in enumerate(v):
        text(s, f"{where}[{i}]", 200)
        if allowed is not None and s not in allowed:
            raise Malformed(f"{where}[{i}]: {s[:40]!r} is not one of {', '.join(allowed)}")
    return v


def tensor_or_problem(v, where):
    """A decoded tensor, or the child's one-line {"problem": text} as a str."""
    if isinstance(v, dict) and set(v) == {"problem"}:
        return text(v["problem"], f"{where}.problem", 400)
    try:
        return wire.decode(v)
    except wire.WireError as exc:
        raise Malformed(f"{where}: {exc}") from None
