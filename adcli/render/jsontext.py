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
                name: number(0.0 if dot[i] is None else dot[i]) for name, dot in result.tangents.items()
            }
        elif gradient and result.adjoints is not None:  # null: the backward sweep never reached the node
            bar = result.adjoints[i]
            entry["adjoint"] = None if bar is None else number(bar)
        entries.append(entry)
    return entries
