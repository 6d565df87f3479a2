"""Forward mode: values and tangents together, one sweep per input direction.

A sweep seeds one variable's tangent with 1 and, for every operation in evaluation
order, computes its value vᵢ and its tangent v̇ᵢ = Σⱼ ∂vᵢ/∂vⱼ · v̇ⱼ. A tangent of
``None`` is a structural zero: the node does not depend on the seed, and its
partials are never multiplied in (so ∂(x^2)/∂2 = nan at x = -1 stays out).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core.graph import Graph


def sweep(
    graph: Graph, inputs: list[float], seed: int, record: bool = False
) -> tuple[list[float], list[float | None], list[tuple[float | None, ...] | None] | None]:
    """Values and tangents in the direction of input ``seed``; with ``record``, the local partials used."""
    values = inputs + graph.const_values
    dot: list[float | None] = [None] * graph.n_leaves
    dot[seed] = 1.0
    partials: list | None = [None] * graph.n_leaves if record else None
    for (f, a, b), (ra, rb, _, _) in zip(graph.code, graph.rules, strict=True):
        va = values[a]
        ta = dot[a]
        pa = pb = None
        if b < 0:
            v = f(va)
            values.append(v)
            if ta is None:
                dot.append(None)
            else:
                pa = ra if ra.__class__ is float else ra(va, v)
                dot.append(pa * ta)
        else:
            vb = values[b]
            v = f(va, vb)
            values.append(v)
            tb = dot[b]
            if ta is not None:
                pa = ra if ra.__class__ is float else ra(va, vb, v)
            if tb is not None:
                pb = rb if rb.__class__ is float else rb(va, vb, v)
            if tb is None:
                dot.append(None if ta is None else pa * ta)
            elif ta is None:
                dot.append(pb * tb)
            else:
                dot.append(pa * ta + pb * tb)
        if record:
            partials.append(None if pa is None and pb is None else ((pa,) if b < 0 else (pa, pb)))
    return values, dot, partials
