"""Strict JSON (RFC 8259) for scripts.

Floats print shortest-round-trip (Python's repr); the non-finite ones, which JSON
cannot hold, become the strings "Infinity", "-Infinity" and "NaN". Keys keep the
order of the variables' first appearance.

A small object (a one-point answer) is written here; a larger one by the json module,
whose C encoder is faster at scale. Both write the same text (tests/test_jsontext.py);
importing json costs about a millisecond, as much as the rest of ``adcli grad --json``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..engines.gradient import Result


def number(x: float) -> float | str:
    if x - x == 0.0:
        return x
    return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")


def dumps(obj: Any) -> str:
    """Serialize, refusing any non-finite float that slipped past ``number`` (ValueError),
    as ``json.dumps(obj, ensure_ascii=False, allow_nan=False)`` does and in the same text."""
    if _small(obj):
        try:
            return _write(obj)
        except _Unusual:  # a non-finite float, a key that is not a text, a type of its own: json says
            pass
    import json

    return json.dumps(obj, ensure_ascii=False, allow_nan=False)


# Past this many values in all, the json module writes the object.
_SMALL = 256

# What JSON must escape in a string (with ensure_ascii=False, as json writes them): the
# quote, the backslash and the control characters.
_ESCAPES = {i: f"\\u{i:04x}" for i in range(32)} | {
    ord('"'): '\\"',
    ord("\\"): "\\\\",
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    ord("\t"): "\\t",
    ord("\b"): "\\b",
    ord("\f"): "\\f",
}


def _small(obj: Any) -> bool:
    """Whether ``obj`` holds at most _SMALL values, nested ones included (counted until there are more)."""
    stack, count = [obj], 0
    while stack:
        x = stack.pop()
        count += 1
        if count > _SMALL:
            return False
        if isinstance(x, dict | list | tuple):
            if len(x) > _SMALL:
                return False
            stack.extend(x.values() if isinstance(x, dict) else x)
    return True


class _Unusual(Exception):
    """A value _write leaves to the json module (which writes it or says why it cannot)."""


def _write(x: Any) -> str:
    """One JSON value, as json.dumps writes it; depth is the object's own (a few levels), not a formula's."""
    if isinstance(x, str):
        return f'"{x.translate(_ESCAPES)}"'
    if x is None:
        return "null"
    if x is True or x is False:
        return "true" if x else "false"
    if isinstance(x, float):
        if x - x == 0.0:
            return float.__repr__(x)
        raise _Unusual
    if isinstance(x, int):
        return int.__repr__(x)
    if isinstance(x, dict):
        items = []
        for key, value in x.items():
            if not isinstance(key, str):
                raise _Unusual
            items.append(f'"{key.translate(_ESCAPES)}": {_write(value)}')
        return "{" + ", ".join(items) + "}"
    if isinstance(x, list | tuple):
        return "[" + ", ".join([_write(value) for value in x]) + "]"
    raise _Unusual


def _numbers(xs) -> dict[str, float | str]:
    return {name: number(x) for name, x in xs}


def result_object(result: Result, trace: bool = False, gradient: bool = True) -> dict[str, Any]:
    graph = result.graph
    obj: dict[str, Any] = {"expression": graph.text}
    if gradient:
        obj["mode"] = result.mode
    obj["point"] = _numbers(result.point.items())
    obj["value"] = number(result.value)
    if gradient:
        obj["gradient"] = _numbers(result.gradient.items())
    if result.warnings:
        obj["warnings"] = list(result.warnings)
    if trace:
        obj["trace"] = trace_entries(result, gradient)
    return obj


def trace_entries(result: Result, gradient: bool) -> list[dict[str, Any]]:
    """One entry per graph node in evaluation order."""
    graph, values = result.graph, result.values
    entries = []
    for i, (op, args) in enumerate(zip(graph.ops, graph.args, strict=True)):
        entry: dict[str, Any] = {"id": i, "op": op.name, "args": list(args), "value": number(values[i])}
        if i < graph.n_leaves:
            entry["name" if i < graph.n_inputs else "text"] = graph.leaf_text[i]
        if i in graph.labels:
            entry["label"] = graph.labels[i]
        if gradient and result.tangents is not None:
            entry["tangent"] = {
                name: number(0.0 if (t := dot[i]) is None else t) for name, dot in result.tangents.items()
            }
        elif gradient and result.adjoints is not None:  # null: the backward sweep never reached the node
            bar = result.adjoints[i]
            entry["adjoint"] = None if bar is None else number(bar)
        entries.append(entry)
    return entries


def _matrix(rows: list[list[float]]) -> list[list[float | str]]:
    return [[number(x) for x in row] for row in rows]


def _common(result, obj: dict[str, Any]) -> dict[str, Any]:
    if result.warnings:
        obj["warnings"] = list(result.warnings)
    return obj


def jacobian_object(result) -> dict[str, Any]:
    """{"expression", "outputs", "variables", "point", "value": [...], "jacobian": [[...]], "mode", "sweeps"}."""
    return _common(
        result,
        {
            "expression": result.graph.text,
            "outputs": list(result.outputs),
            "variables": list(result.variables),
            "point": _numbers(result.point.items()),
            "value": [number(v) for v in result.values],
            "jacobian": _matrix(result.matrix),
            "mode": result.mode,
            "sweeps": dict(result.sweeps),
        },
    )


def hessian_object(result, sparse: bool = False) -> dict[str, Any]:
    """{"expression", "variables", "point", "value", "gradient", "hessian": [[...]], "sweeps"};
    with ``sparse``, "entries": [[row, column, value], ...] in place of "hessian"."""
    obj: dict[str, Any] = {
        "expression": result.graph.text,
        "variables": list(result.variables),
        "point": _numbers(result.point.items()),
        "value": number(result.value),
        "gradient": _numbers(result.gradient.items()),
    }
    names = result.variables
    if sparse:
        obj["entries"] = [[names[i], names[j], number(result.matrix[i][j])] for i, j in result.entries]
    else:
        obj["hessian"] = _matrix(result.matrix)
    obj["sweeps"] = result.sweeps
    return _common(result, obj)


def directional_object(result, trace: bool = False) -> dict[str, Any]:
    """jvp: "direction", "value": [...], "jvp": [...] (one per output); vjp: "seed", "value": [...],
    "vjp": {variable: ...}; hessian --dir: "direction", "value", "gradient", "hvp": {variable: ...}."""
    obj: dict[str, Any] = {"expression": result.graph.text, "point": _numbers(result.point.items())}
    if result.kind == "hvp":
        obj["direction"] = _numbers(result.direction)
        obj["value"] = number(result.values[0])
        obj["gradient"] = _numbers((result.gradient or {}).items())
        obj["hvp"] = _numbers(result.product)
    elif result.kind == "jvp":
        obj["outputs"] = list(result.outputs)
        obj["direction"] = _numbers(result.direction)
        obj["value"] = [number(v) for v in result.values]
        obj["jvp"] = [number(v) for _, v in result.product]
    else:
        obj["outputs"] = list(result.outputs)
        obj["seed"] = [number(w) for _, w in result.direction]
        obj["value"] = [number(v) for v in result.values]
        obj["vjp"] = _numbers(result.product)
    if trace and result.trace is not None:
        obj["trace"] = trace_entries(result.trace, True)
    return _common(result, obj)


def check_object(result) -> dict[str, Any]:
    """{"expression", "point", "value", "variables": {name: {...}}, "rtol", "atol", "agree"}."""
    rows = {}
    for row in result.rows:
        entry: dict[str, Any] = {
            "forward": number(row.forward),
            "reverse": number(row.reverse),
            "difference": number(row.difference),
            "difference_error": number(row.difference_error),
        }
        if row.against is not None:
            entry["against"] = number(row.against)
        entry["agree"] = row.agree
        if row.note:
            entry["note"] = row.note
        rows[row.variable] = entry
    return _common(
        result,
        {
            "expression": result.graph.text,
            "point": _numbers(result.point.items()),
            "value": number(result.value),
            "variables": rows,
            "rtol": result.rtol,
            "atol": result.atol,
            "agree": result.agree,
        },
    )
