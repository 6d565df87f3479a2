"""Points: the --at option's ``name=value`` pairs, from the command line or a file.

A value is a number or a constant expression in the formula language (``pi/4``,
``-2``, ``2^-10``). Pairs are separated by commas outside parentheses, so
``x=atan2(1,2),y=3`` holds two pairs; in a file, newlines separate them too.
A file whose text starts with ``{`` is read as a JSON object instead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from ..errors import ArgumentError, ParseError, PointError, kind_of

# Another name=value after a space; compiled on first use (re caches it), only for a value with '='.
_NEXT_PAIR = r"\s[A-Za-z_][A-Za-z0-9_]*\s*="
if TYPE_CHECKING:
    from ..core.graph import Graph

_SPECIAL = {"Infinity": float("inf"), "-Infinity": float("-inf"), "NaN": float("nan")}  # JSON's spelling


def is_name(text: str) -> bool:
    """A variable name: [A-Za-z_][A-Za-z0-9_]* (for ASCII text, what str.isidentifier accepts)."""
    return text.isascii() and text.isidentifier()


def _plain_float(text: str) -> float | None:
    """The number ``text`` spells plainly, or None: [+-]?(digits[.digits]|.digits)([eE][+-]?digits)?
    with ASCII digits only, as in formulas, or inf, infinity, nan in any case (--at x=inf).

    float() reads exactly these among ASCII texts without '_' or spaces around them; no
    regular expression needs compiling at start-up.
    """
    if text.isascii() and "_" not in text and text == text.strip():
        try:
            return float(text)
        except ValueError:
            return None
    return None


def parse_point(specs: Iterable[str] | str, option: str = "--at") -> dict[str, float]:
    """Merge ``--at`` arguments into one point; a name given twice is an error.

    ``option`` is how messages name what the pairs came from (``--dir``, ``--from``).

    ``specs`` is one such text or several; each holds ``name=value`` pairs or a JSON object.
    """
    if isinstance(specs, str):
        specs = [specs]
    elif not isinstance(specs, Iterable):
        raise ArgumentError(f"parse_point takes a text or texts such as 'x=3,y=2', not {kind_of(specs)}")
    point: dict[str, float] = {}
    for spec in specs:
        if not isinstance(spec, str):
            raise ArgumentError(f"parse_point takes texts such as 'x=3,y=2', not {kind_of(spec)}")
        pairs = _json_pairs(spec) if spec.lstrip().startswith("{") else _text_pairs(spec, option)
        for name, value in pairs:
            if name in point:
                raise PointError(f"{option} gives '{name}' twice")
            point[name] = value
    return point


def _uncommented(text: str) -> str:
    """The text without its comments: ``#`` to the end of the line, as in a formula."""
    if "#" not in text:
        return text
    return "\n".join(line.partition("#")[0] for line in text.split("\n"))


def _split(text: str, option: str = "--at") -> list[str]:
    """Split at commas and newlines that are outside parentheses (comments left out)."""
    text = _uncommented(text)
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
        raise PointError(f"{option} '{text.strip()}': unbalanced parentheses")
    pieces.append(text[start:])
    return [p.strip() for p in pieces if p.strip()]


def _text_pairs(text: str, option: str = "--at") -> list[tuple[str, float]]:
    pieces = _split(text, option)
    if not pieces:
        raise PointError(f"{option} is empty: give values as name=value, e.g. {option} x=3,y=2")
    pairs = []
    for piece in pieces:
        name, sep, value = piece.partition("=")
        name = name.strip()
        if not sep:
            hint = f": write {piece.replace(':', '=', 1)}" if ":" in piece else " (e.g. x=3)"
            raise PointError(f"{option} '{piece}' is not name=value{hint}")
        if ";" in value or ("=" in value and re.search(_NEXT_PAIR, value)):  # x=1;y=2, x=1 y=2
            raise PointError(f"{option} '{piece}': separate name=value pairs with commas")
        if "=" in value:  # x==3 is no missing comma
            fix = f": write {name}={value.lstrip('= ')}" if value.lstrip().startswith("=") else ""
            raise PointError(f"{option} '{piece}' has more than one '='{fix}")
        if not is_name(name):
            raise PointError(f"{option} '{piece}': '{name}' is not a variable name")
        if not value.strip():
            raise PointError(f"{option} {name}= has no value")
        pairs.append((name, constant_value(value.strip(), name)))
    return pairs


def _json_pairs(text: str) -> list[tuple[str, float]]:
    import json

    try:
        # parse_int=float: an integer too large for a double is inf, as 1e400 is, not an OverflowError.
        obj = json.loads(text, object_pairs_hook=_Object, parse_constant=_reject_constant, parse_int=float)
    except ValueError as error:
        raise PointError(f"the point file is not valid JSON: {error}") from None
    if not isinstance(obj, _Object):
        raise PointError('a JSON point must be an object such as {"x": 3, "y": 2}')
    pairs = []
    for name, value in obj:
        if not is_name(name):
            raise PointError(f"point key '{name}' is not a variable name")
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise PointError(f"the value of '{name}' must be a number or a string holding one, not {_json_kind(value)}")
        pairs.append((name, point_value(name, value)))
    return pairs


class _Object(list):
    """A JSON object's (key, value) pairs, in the file's order (json's object_pairs_hook)."""


def _json_kind(value: object) -> str:
    """A JSON value as the file spells it (true, null) or by its kind (an object, an array)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return "an object" if isinstance(value, _Object) else "an array"


def point_value(name: str, value: object) -> float:
    """One point value as a double, by the same rules from the command line, a JSON file and the API.

    A number (an int beyond the doubles' range is ±inf, as ``1e400`` is) or a string
    holding a number or a constant expression (``"pi/4"``, and JSON's ``"Infinity"``,
    ``"NaN"``); a bool, None or anything else is an error that names the variable.
    """
    if isinstance(value, str):
        return _SPECIAL[value] if value in _SPECIAL else constant_value(value.strip(), name)
    if isinstance(value, bool) or value is None:
        pass
    elif isinstance(value, int):
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    else:
        try:
            return float(value)  # type: ignore[arg-type]
        except OverflowError:  # a Fraction, say, beyond the doubles' range
            return math.inf if value > 0 else -math.inf  # type: ignore[operator]
        except (TypeError, ValueError):
            pass
    raise PointError(
        f"the value of '{name}' must be a number or a string holding one (such as \"pi/4\"), not {kind_of(value)}"
    )


def _reject_constant(word: str):
    raise ValueError(f'{word} is not JSON; write it as the string "{word}"')


def constant_value(text: str, name: str = "value") -> float:
    """The value of a constant expression such as ``pi/4`` or ``-2``."""
    if (number := _plain_float(text)) is not None:
        return number
    if not text:
        raise PointError(f"'{name}' has no value")
    from .parser import parse

    try:
        graph = parse(text)
    except ParseError as error:
        raise PointError(f"the value of {name} is not a number or constant expression: {error.message}") from None
    if graph.variables:
        raise PointError(
            f"the value of {name} must be a constant expression, but '{text}' uses {', '.join(graph.variables)}"
        )
    # The primal sweep with no inputs, written out here so that reading a point needs no
    # engine (tests/test_point.py checks it against engines/primal.py's sweep).
    values = list(graph.const_values)
    append = values.append
    for f, a, b in graph.code:
        append(f(values[a]) if b < 0 else f(values[a], values[b]))
    return values[graph.output]


def input_values(graph: Graph, point: Mapping[str, float]) -> list[float]:
    """The point's values in ``graph``'s variable order; every variable needs one and no other name may appear.

    Values follow the command line's rules (point_value): numbers, or strings holding a
    number or a constant expression such as "pi/4".
    """
    if not isinstance(point, Mapping):
        raise PointError(f"a point maps variable names to values, such as {{'x': 3, 'y': 2}}, not {kind_of(point)}")
    known = set(graph.variables)
    for name in point:
        if not isinstance(name, str):
            raise PointError(f"a point's keys are variable names (strings), not {kind_of(name)}")
    unknown = [name for name in point if name not in known]
    if unknown:  # checked first: a typo in the point also leaves a variable without a value
        raise PointError("the point " + graph._unknown_message(unknown[0]))
    missing = [name for name in graph.variables if name not in point]
    if missing:
        raise PointError(f"no value given for {_names(missing)}: add {', '.join(n + '=...' for n in missing[:3])}")
    values = [point[name] for name in graph.variables]
    if all(type(v) is float for v in values):  # the common case, a double each: nothing to convert
        return values
    return [point_value(name, v) for name, v in zip(graph.variables, values, strict=True)]


def _names(names: list[str]) -> str:
    quoted = [f"'{n}'" for n in names[:5]]
    more = f" and {len(names) - 5} more" if len(names) > 5 else ""
    return ("variable " if len(names) == 1 else "variables ") + ", ".join(quoted) + more
