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
    graph: Graph, values: list[float], active: list[bool], record: bool = False
) -> tuple[list[float | None], list[tuple[float | None, ...] | None] | None]:
    """The adjoint ∂y/∂vᵢ of every node; with ``record``, also the local partials used."""
    n, first, output = len(values), graph.n_leaves, graph.output
    rules = graph.rules  # entry k is node first + k
    bar: list[float | None] = [None] * n
    partials: list | None = [None] * n if record else None
    if active[output]:
        bar[output] = 1.0
    for i in range(output, first - 1, -1):
        g = bar[i]
        if g is None:
            continue
        ra, rb, a, b = rules[i - first]
        if b < 0:  # the argument of an active unary operation is active
            pa = ra if ra.__class__ is float else ra(values[a], values[i])
            ga = bar[a]
            bar[a] = g * pa if ga is None else ga + g * pa
            if record:
                partials[i] = (pa,)
            continue
        pa = pb = None
        if active[a]:
            pa = ra if ra.__class__ is float else ra(values[a], values[b], values[i])
            ga = bar[a]
            bar[a] = g * pa if ga is None else ga + g * pa
        if active[b]:
            pb = rb if rb.__class__ is float else rb(values[a], values[b], values[i])
            gb = bar[b]
            bar[b] = g * pb if gb is None else gb + g * pb
        if record:
            partials[i] = (pa, pb)
    return bar, partials
