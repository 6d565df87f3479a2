"""Strict JSON (RFC 8259) for scripts.

Floats print shortest-round-trip (Python's repr); the non-finite ones, which JSON
cannot hold, become the strings "Infinity", "-Infinity" and "NaN". Keys keep the
order of the variables' first appearance.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..engines.gradient import Result


def number(x: float) -> float | str:
    if x - x == 0.0:
        return x
    return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")


def dumps(obj: Any) -> str:
    """Serialize, refusing any non-finite float that slipped past ``number``."""
    return json.dumps(obj, ensure_ascii=False, allow_nan=False)


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
        obj["direction"] = _numbers(result.direction.items())
        obj["value"] = number(result.values[0])
        obj["gradient"] = _numbers((result.gradient or {}).items())
        obj["hvp"] = _numbers(result.product.items())
    elif result.kind == "jvp":
        obj["outputs"] = list(result.outputs)
        obj["direction"] = _numbers(result.direction.items())
        obj["value"] = [number(v) for v in result.values]
        obj["jvp"] = [number(v) for v in result.product.values()]
    else:
        obj["outputs"] = list(result.outputs)
        obj["seed"] = [number(w) for w in result.direction.values()]
        obj["value"] = [number(v) for v in result.values]
        obj["vjp"] = _numbers(result.product.items())
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
