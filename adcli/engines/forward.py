"""Forward mode: tangents along a direction, over the values of one primal sweep.

A tangent sweep seeds the inputs' tangents (one variable with 1 for a column of a
gradient or Jacobian, a direction for J·v) and, for every operation that depends on
the seed, in evaluation order, computes its tangent v̇ᵢ = Σⱼ ∂vᵢ/∂vⱼ · v̇ⱼ from the
values a primal sweep already holds. Operations that do not depend on the seed are
never visited; their tangent is ``None``, a structural zero, and partials toward them
are never multiplied in (so ∂(x^2)/∂2 = nan at x = -1 stays out). Edges whose partial
is the constant 0 (floor, sign) carry no tangent, as in reverse mode.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core.graph import Graph


_WALK_SEEDS = 8  # seeds up to which `dependents` walks the users instead of passing over the graph


def dependents(graph: Graph, seeds: list[int]) -> list[int]:
    """The operations that depend on the seed inputs through edges that carry derivatives, in order.

    A few seeds (a column of a gradient) reach a few operations: a walk from them over
    the graph's users finds those alone. Many seeds (a direction, a colour of a Hessian)
    reach most of the graph: one pass in order is faster than a walk and a sort.
    """
    if len(seeds) > _WALK_SEEDS:
        from .primal import active_nodes

        active = active_nodes(graph, seeds)
        return [i for i in range(graph.n_leaves, len(graph)) if active[i]]
    users = graph.users
    seen = bytearray(len(graph))
    stack = list(seeds)
    found = []
    while stack:
        for user in users[stack.pop()]:
            if not seen[user]:
                seen[user] = 1
                found.append(user)
                stack.append(user)
    found.sort()
    return found


def sweep(
    graph: Graph,
    values: list[float],
    seed: dict[int, float],
    record: bool = False,
    visit: list[int] | None = None,
    rules: list[tuple] | None = None,
) -> tuple[list[float | None], list[tuple[float | None, ...] | None] | None]:
    """Tangents of every node in the direction ``seed`` ({input node: tangent}); with ``record``,
    also the local partials used. ``visit`` is ``dependents(graph, list(seed))`` if known;
    ``rules`` is ``primal.rules_at(graph, values)`` if known (nan partials where a value is nan)."""
    from .primal import flows_at, rules_at

    n, first = len(values), graph.n_leaves
    if rules is None:
        rules = rules_at(graph, values)
    flows = flows_at(graph, values) if graph.selectors else graph.flows
    dot: list[float | None] = [None] * n
    for node, tangent in seed.items():
        dot[node] = tangent
    partials: list | None = [None] * n if record else None
    for i in dependents(graph, list(seed)) if visit is None else visit:
        ra, rb, a, b = rules[i - first]
        fa, fb = flows[i - first]
        ta = dot[a] if fa >= 0 else None
        pa = pb = None
        if b < 0:
            if ta is None:  # reached only along an edge a select closes at this point
                continue
            pa = ra if ra.__class__ is float else ra(values[a], values[i])
            dot[i] = pa * ta
        else:
            tb = dot[b] if fb >= 0 else None
            if ta is not None:
                pa = ra if ra.__class__ is float else ra(values[a], values[b], values[i])
            if tb is not None:
                pb = rb if rb.__class__ is float else rb(values[a], values[b], values[i])
            if tb is None:
                if ta is None:
                    continue
                dot[i] = pa * ta
            elif ta is None:
                dot[i] = pb * tb
            else:
                dot[i] = pa * ta + pb * tb
        if partials is not None:
            partials[i] = (pa,) if b < 0 else (pa, pb)
    return dot, partials
