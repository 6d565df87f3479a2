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
    n, first, output = len(values), graph.n_leaves, graph.output
    code = graph.partial_code  # entry k is node first + k
    bar: list[float | None] = [None] * n
    partials: list[tuple[float, ...] | None] = [None] * n
    if active[output]:
        bar[output] = 1.0
    for i in range(output, first - 1, -1):
        g = bar[i]
        if g is None:
            continue
        d, a, b = code[i - first]
        if b < 0:  # an active unary operation has an active argument
            p = partials[i] = d if d.__class__ is tuple else (d(values[a], values[i]),)
            ga = bar[a]
            bar[a] = g * p[0] if ga is None else ga + g * p[0]
            continue
        pa, pb = partials[i] = d if d.__class__ is tuple else d(values[a], values[b], values[i])
        if active[a]:
            ga = bar[a]
            bar[a] = g * pa if ga is None else ga + g * pa
        if active[b]:
            gb = bar[b]
            bar[b] = g * pb if gb is None else gb + g * pb
    return bar, partials
