"""Reverse mode: one backward sweep of adjoints over the Wengert list.

Starting from ȳ = 1 at the output, each operation, last to first, passes its
adjoint to its arguments: v̄ⱼ += v̄ᵢ · ∂vᵢ/∂vⱼ. Only active arguments (those that
depend on a differentiated variable) receive adjoints; ``None`` marks a node the
output's adjoint never reaches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .graph import Graph


def adjoints(graph: Graph, values: list[float], active: list[bool]) -> list[float | None]:
    """The adjoint ∂y/∂vᵢ of every node, for the output y."""
    ops, args = graph.ops, graph.args
    bar: list[float | None] = [None] * len(ops)
    if active[graph.output]:
        bar[graph.output] = 1.0
    for i in range(graph.output, graph.n_leaves - 1, -1):
        g = bar[i]
        if g is None:
            continue
        arg = args[i]
        if len(arg) == 1:
            a = arg[0]
            d = g * ops[i].partials(values[a], values[i])
            bar[a] = d if bar[a] is None else bar[a] + d
            continue
        a, b = arg
        pa, pb = ops[i].partials(values[a], values[b], values[i])
        if active[a]:
            bar[a] = g * pa if bar[a] is None else bar[a] + g * pa
        if active[b]:
            bar[b] = g * pb if bar[b] is None else bar[b] + g * pb
    return bar
