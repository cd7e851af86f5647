"""The lark parser of :mod:`lab.latex` (built once, cached) and the source positions of errors."""
from __future__ import annotations

import functools
from pathlib import Path

from lark import Lark
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

GRAMMAR = Path(__file__).with_name("grammar.lark")


@functools.lru_cache(maxsize=1)
def parser() -> Lark:
    """The LALR parser (building it takes a moment; every reading reuses it)."""
    options = dict(parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=False)
    try:
        return Lark(GRAMMAR.read_text(), cache=True, **options)     # the tables cached in the temp folder
    except OSError:                                                  # no writable temp folder: build them
        return Lark(GRAMMAR.read_text(), **options)


def parse(s: str):
    """The tree of ``s`` (already cleaned); lark's UnexpectedInput when it does not parse."""
    return parser().parse(s)


def error_position(err: UnexpectedInput, s: str) -> tuple[int, str]:
    """(index into s, the bit of text there) for a lark error."""
    if isinstance(err, UnexpectedEOF):
        return len(s), "the end"
    pos = getattr(err, "pos_in_stream", None)
    if pos is None and isinstance(err, UnexpectedToken):
        pos = err.token.start_pos
    pos = 0 if pos is None else pos
    if isinstance(err, UnexpectedToken) and err.token.type == "$END":
        return len(s), "the end"
    rest = s[pos:].lstrip()
    word = rest.split(" ")[0] if rest else ""
    if word.startswith("\\"):
        import re
        m = re.match(r"\\[A-Za-z]+(\{[^}]*\})?", word)
        word = m.group(0) if m else word
    return pos, word[:30] or "the end"


__all__ = ["parser", "parse", "error_position", "UnexpectedInput", "UnexpectedCharacters"]
