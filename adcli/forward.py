"""Forward mode: values and tangents together, one sweep per input direction.

A sweep seeds one variable's tangent with 1 and, for every operation in evaluation
order, computes its value vᵢ and its tangent v̇ᵢ = Σⱼ ∂vᵢ/∂vⱼ · v̇ⱼ. A tangent of
``None`` is a structural zero: the node does not depend on the seed, and its
partials are never multiplied in (so ∂(x^2)/∂2 = nan at x = -1 stays out).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .graph import Graph


def sweep(
    graph: Graph, inputs: list[float], seed: int
) -> tuple[list[float], list[float | None], list[tuple[float, ...] | None]]:
    """Values, tangents in the direction of input ``seed``, and the local partials used."""
    values = inputs + graph.const_values
    dot: list[float | None] = [None] * graph.n_leaves
    dot[seed] = 1.0
    partials: list[tuple[float, ...] | None] = [None] * graph.n_leaves
    for (f, a, b), (d, _, _) in zip(graph.code, graph.partial_code, strict=True):
        if b < 0:
            va = values[a]
            v = f(va)
            values.append(v)
            ta = dot[a]
            if ta is None:
                dot.append(None)
                partials.append(None)
            else:
                p = d if d.__class__ is tuple else (d(va, v),)
                dot.append(p[0] * ta)
                partials.append(p)
            continue
        va, vb = values[a], values[b]
        v = f(va, vb)
        values.append(v)
        ta, tb = dot[a], dot[b]
        if ta is None and tb is None:
            dot.append(None)
            partials.append(None)
            continue
        p = d if d.__class__ is tuple else d(va, vb, v)
        partials.append(p)
        if tb is None:
            dot.append(p[0] * ta)
        elif ta is None:
            dot.append(p[1] * tb)
        else:
            dot.append(p[0] * ta + p[1] * tb)
    return values, dot, partials
