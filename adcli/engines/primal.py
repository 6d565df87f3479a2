"""The primal sweep: every node's value, in evaluation order."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..core.graph import active_nodes

if TYPE_CHECKING:
    from ..core.graph import Graph

# active_nodes, a structural query, is the graph's own; the engines read it from here too.
__all__ = ["active_nodes", "flows_at", "rules_at", "sweep"]


def sweep(graph: Graph, inputs: list[float]) -> list[float]:
    """Values of all nodes, given the inputs' values in variable order."""
    values = inputs + graph.const_values
    append = values.append
    for f, a, b in graph.code:
        append(f(values[a]) if b < 0 else f(values[a], values[b]))
    return values


def rules_at(graph: Graph, values: list[float], finite: bool | None = None) -> list[tuple]:
    """The graph's rules at this point: where an operation's value is nan, every partial is nan.

    The one rule the table's partials leave out (see adcli/core/ops.py): where the value
    is not a number, neither is the derivative (log at -1, inf - inf, 0·inf), in every
    engine. The graph's own ``rules`` when no value is nan (one pass at C speed decides;
    ``finite`` says so already, when the caller knows every value is finite), else a copy
    with the constant nan in place of each rule of the operations whose value is nan.
    """
    if finite or (finite is None and _finite(sum(values))):
        return graph.rules
    first, nan = graph.n_leaves, math.nan
    patched = None
    for i in range(first, len(values)):
        if values[i] != values[i]:
            if patched is None:
                patched = list(graph.rules)
            _, rb, a, b = patched[i - first]
            patched[i - first] = (nan, None if rb is None else nan, a, b)
    return graph.rules if patched is None else patched


def _finite(x: float) -> bool:
    return x - x == 0.0


def flows_at(graph: Graph, values: list[float]) -> list[tuple[int, int]]:
    """The graph's edges that carry derivatives at this point: a select passes nothing where
    its partial is 0 (relu below 0, the larger argument of min), so ∞·0 never makes a nan.

    The graph's own ``flows`` when no select is at such a point, else a copy without those edges.
    """
    first = graph.n_leaves
    flows = graph.flows
    patched = None
    for i in graph.selectors:
        op, args = graph.ops[i], graph.args[i]
        for k, p in enumerate(op.local_partials(*(values[a] for a in args))):
            if p == 0.0:
                if patched is None:
                    patched = list(flows)
                edge = patched[i - first]
                patched[i - first] = (-1, edge[1]) if k == 0 else (edge[0], -1)
    return flows if patched is None else patched
