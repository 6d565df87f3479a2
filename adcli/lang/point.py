"""Points: the --at option's ``name=value`` pairs, from the command line or a file.

A value is a number or a constant expression in the formula language (``pi/4``,
``-2``, ``2^-10``). Pairs are separated by commas outside parentheses, so
``x=atan2(1,2),y=3`` holds two pairs; in a file, newlines separate them too.
A file whose text starts with ``{`` is read as a JSON object instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..errors import ParseError, PointError

_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NEXT_PAIR = re.compile(r"\s[A-Za-z_][A-Za-z0-9_]*\s*=")  # another name=value after a space
_SPECIAL = {"Infinity": float("inf"), "-Infinity": float("-inf"), "NaN": float("nan")}  # JSON's spelling
_IEEE_WORDS = re.compile(r"[+-]?(inf|infinity|nan)", re.IGNORECASE)  # --at x=inf, y=-inf, z=nan


def parse_point(specs: Iterable[str]) -> dict[str, float]:
    """Merge ``--at`` arguments into one point; a name given twice is an error."""
    point: dict[str, float] = {}
    for spec in specs:
        pairs = _json_pairs(spec) if spec.lstrip().startswith("{") else _text_pairs(spec)
        for name, value in pairs:
            if name in point:
                raise PointError(f"the point gives '{name}' twice")
            point[name] = value
    return point


def _split(text: str) -> list[str]:
    """Split at commas and newlines that are outside parentheses."""
    pieces, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and ch in ",\n":
            pieces.append(text[start:i])
            start = i + 1
    if depth != 0:
        raise PointError(f"--at '{text.strip()}': unbalanced parentheses")
    pieces.append(text[start:])
    return [p.strip() for p in pieces if p.strip()]


def _text_pairs(text: str) -> list[tuple[str, float]]:
    pieces = _split(text)
    if not pieces:
        raise PointError("--at is empty: give values as name=value, e.g. --at x=3,y=2")
    pairs = []
    for piece in pieces:
        name, sep, value = piece.partition("=")
        name = name.strip()
        if not sep:
            hint = f": write {piece.replace(':', '=', 1)}" if ":" in piece else " (e.g. x=3)"
            raise PointError(f"--at '{piece}' is not name=value{hint}")
        if ";" in value or _NEXT_PAIR.search(value):  # x=1;y=2, x=1 y=2
            raise PointError(f"--at '{piece}': separate name=value pairs with commas")
        if "=" in value:  # x==3 is no missing comma
            fix = f": write {name}={value.lstrip('= ')}" if value.lstrip().startswith("=") else ""
            raise PointError(f"--at '{piece}' has more than one '='{fix}")
        if not _NAME.fullmatch(name):
            raise PointError(f"--at '{piece}': '{name}' is not a variable name")
        pairs.append((name, constant_value(value.strip(), name)))
    return pairs


def _json_pairs(text: str) -> list[tuple[str, float]]:
    import json

    try:
        # parse_int=float: an integer too large for a double is inf, as 1e400 is, not an OverflowError.
        obj = json.loads(text, object_pairs_hook=list, parse_constant=_reject_constant, parse_int=float)
    except ValueError as error:
        raise PointError(f"the point file is not valid JSON: {error}") from None
    if not isinstance(obj, list):
        raise PointError('a JSON point must be an object such as {"x": 3, "y": 2}')
    pairs = []
    for name, value in obj:
        if not _NAME.fullmatch(name):
            raise PointError(f"point key '{name}' is not a variable name")
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise PointError(f"the value of '{name}' must be a number or a string holding one, not {value!r}")
        if isinstance(value, str):
            value = _SPECIAL[value] if value in _SPECIAL else constant_value(value, name)
        pairs.append((name, float(value)))
    return pairs


def _reject_constant(word: str):
    raise ValueError(f'{word} is not JSON; write it as the string "{word}"')


def constant_value(text: str, name: str = "value") -> float:
    """The value of a constant expression such as ``pi/4`` or ``-2``."""
    if _PLAIN_NUMBER.fullmatch(text) or _IEEE_WORDS.fullmatch(text):
        return float(text)
    if not text:
        raise PointError(f"--at {name}= has no value")
    from ..engines.primal import sweep
    from .parser import parse

    try:
        graph = parse(text)
    except ParseError as error:
        raise PointError(f"the value of {name} is not a number or constant expression: {error.message}") from None
    if graph.variables:
        raise PointError(
            f"the value of {name} must be a constant expression, but '{text}' uses {', '.join(graph.variables)}"
        )
    return sweep(graph, [])[graph.output]
