"""One differentiation: run an engine and collect value, gradient, trace and warnings."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import forward, primal, reverse
from .errors import AdcliError

if TYPE_CHECKING:
    from .graph import Graph


@dataclass
class Result:
    """What an engine computed at a point; renderers display it and never recompute it."""

    graph: Graph
    mode: str
    point: dict[str, float]
    wrt: tuple[str, ...]
    values: list[float]
    gradient: dict[str, float]
    tangents: dict[str, list[float | None]] | None = None  # forward mode: one list per variable
    adjoints: list[float | None] | None = None  # reverse mode
    warnings: list[str] = field(default_factory=list)

    @property
    def value(self) -> float:
        return self.values[self.graph.output]


def differentiate(graph: Graph, point: Mapping[str, float], mode: str, wrt: Iterable[str] | None) -> Result:
    if mode not in ("reverse", "forward"):
        raise AdcliError(f"mode must be 'reverse' or 'forward', not {mode!r}")
    inputs = graph.input_values(point)
    seeds = graph.variable_nodes(wrt)
    values = primal.sweep(graph, inputs)
    active = primal.active_nodes(graph, seeds)
    names = graph.variables
    result = Result(graph, mode, dict(zip(names, inputs, strict=True)), tuple(names[s] for s in seeds), values, {})
    if mode == "forward":
        result.tangents = {}
        for seed in seeds:
            dot = forward.tangents(graph, values, seed)
            result.tangents[names[seed]] = dot
            result.gradient[names[seed]] = _zero_if_none(dot[graph.output])
    else:
        bar = reverse.adjoints(graph, values, active)
        result.adjoints = bar
        for seed in seeds:
            result.gradient[names[seed]] = _zero_if_none(bar[seed])
    result.warnings = nonfinite_warnings(graph, values, active, result.gradient)
    return result


def _zero_if_none(x: float | None) -> float:
    return 0.0 if x is None else x


def _finite(x: float) -> bool:
    return x - x == 0.0


def nonfinite_warnings(graph: Graph, values: list[float], active: list[bool], gradient: dict[str, float]) -> list[str]:
    """Name the first node whose value is not finite, and the first non-finite local partial.

    Both are found by the same scan in evaluation order whatever the mode, so the two
    modes warn alike.
    """
    warnings = []
    first = next((i for i, v in enumerate(values) if not _finite(v)), None)
    if first is not None:
        warnings.append(f"{_where(graph, first)} is {_word(values[first])}: the first value that is not finite")
    if all(_finite(g) for g in gradient.values()):
        return warnings
    needed = _needed(graph)
    for i in range(graph.n_leaves, len(graph)):
        if not (active[i] and needed[i]):
            continue
        args = graph.args[i]
        local = graph.ops[i].partials(*[values[a] for a in args], values[i])
        local = local if isinstance(local, tuple) else (local,)
        for a, p in zip(args, local, strict=True):
            if active[a] and not _finite(p):
                warnings.append(
                    f"the derivative of {_where(graph, i)} with respect to "
                    f"{graph.expression(a, 30)} is {_word(p)}: the first that is not finite"
                )
                return warnings
    return warnings


def _needed(graph: Graph) -> list[bool]:
    """Which nodes the output depends on."""
    needed = [False] * len(graph)
    needed[graph.output] = True
    for i in range(graph.output, graph.n_leaves - 1, -1):
        if needed[i]:
            for a in graph.args[i]:
                needed[a] = True
    return needed


def _where(graph: Graph, node: int) -> str:
    if node < graph.n_inputs:
        return f"input {graph.variables[node]}"
    if node < graph.n_leaves:
        return f"constant {graph.leaf_text[node]}"
    label = graph.labels.get(node)
    text = graph.expression(node, 40, use_labels=True)
    return f"{graph.ops[node].name} at v{node - graph.n_leaves + 1} ({label + ' = ' if label else ''}{text})"


def _word(x: float) -> str:
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
