"""The primal sweep: every node's value, in evaluation order."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core.graph import Graph


def sweep(graph: Graph, inputs: list[float]) -> list[float]:
    """Values of all nodes, given the inputs' values in variable order."""
    values = inputs + graph.const_values
    append = values.append
    for f, a, b in graph.code:
        append(f(values[a]) if b < 0 else f(values[a], values[b]))
    return values


def active_nodes(graph: Graph, seeds: Iterable[int]) -> list[bool]:
    """Which nodes depend on the seed inputs: the only ones derivatives flow through.

    Partials toward inactive nodes (constants, variables held fixed) are never
    multiplied in, so a nan partial there, such as ∂(x^2)/∂2 at x = -1, stays out.
    """
    active = [False] * graph.n_leaves
    for seed in seeds:
        active[seed] = True
    append = active.append
    for _, a, b in graph.code:
        append(active[a] or (b >= 0 and active[b]))
    return active
