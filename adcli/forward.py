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
    ops, args = graph.ops, graph.args
    values = inputs + graph.const_values
    dot: list[float | None] = [None] * graph.n_leaves
    dot[seed] = 1.0
    partials: list[tuple[float, ...] | None] = [None] * graph.n_leaves
    for i in range(graph.n_leaves, len(ops)):
        op, arg = ops[i], args[i]
        if len(arg) == 1:
            va = values[arg[0]]
            v = op.value(va)
            values.append(v)
            ta = dot[arg[0]]
            if ta is None:
                dot.append(None)
                partials.append(None)
            else:
                p = op.partials(va, v)
                dot.append(p * ta)
                partials.append((p,))
            continue
        a, b = arg
        va, vb = values[a], values[b]
        v = op.value(va, vb)
        values.append(v)
        ta, tb = dot[a], dot[b]
        if ta is None and tb is None:
            dot.append(None)
            partials.append(None)
            continue
        p = op.partials(va, vb, v)
        partials.append(p)
        if tb is None:
            dot.append(p[0] * ta)
        elif ta is None:
            dot.append(p[1] * tb)
        else:
            dot.append(p[0] * ta + p[1] * tb)
    return values, dot, partials
