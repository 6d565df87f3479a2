"""Reverse mode: one backward sweep of adjoints over the Wengert list.

After a forward sweep has stored every value, the output's adjoint is seeded with
ȳ = 1 and each operation, last to first, passes its adjoint to its arguments:
v̄ⱼ += v̄ᵢ · ∂vᵢ/∂vⱼ. Only active arguments (those that depend on a differentiated
variable) receive adjoints; ``None`` marks a node the output's adjoint never reaches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .graph import Graph


def adjoints(
    graph: Graph, values: list[float], active: list[bool]
) -> tuple[list[float | None], list[tuple[float, ...] | None]]:
    """The adjoint ∂y/∂vᵢ of every node, and the local partials the sweep used."""
    ops, args = graph.ops, graph.args
    n = len(ops)
    bar: list[float | None] = [None] * n
    partials: list[tuple[float, ...] | None] = [None] * n
    if active[graph.output]:
        bar[graph.output] = 1.0
    for i in range(graph.output, graph.n_leaves - 1, -1):
        g = bar[i]
        if g is None:
            continue
        arg = args[i]
        if len(arg) == 1:  # an active unary operation has an active argument
            a = arg[0]
            p = ops[i].partials(values[a], values[i])
            partials[i] = (p,)
            bar[a] = g * p if bar[a] is None else bar[a] + g * p
            continue
        a, b = arg
        pa, pb = partials[i] = ops[i].partials(values[a], values[b], values[i])
        if active[a]:
            bar[a] = g * pa if bar[a] is None else bar[a] + g * pa
        if active[b]:
            bar[b] = g * pb if bar[b] is None else bar[b] + g * pb
    return bar, partials
