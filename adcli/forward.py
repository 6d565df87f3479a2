"""Forward mode: push a tangent along the Wengert list, one sweep per input direction.

Each sweep seeds one variable's tangent with 1 and computes v̇ᵢ = Σⱼ ∂vᵢ/∂vⱼ · v̇ⱼ for
every operation in evaluation order. A tangent of ``None`` is a structural zero: the
node does not depend on the seed, and its partials are never multiplied in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .graph import Graph


def tangents(graph: Graph, values: list[float], seed: int) -> list[float | None]:
    """The tangent of every node in the direction of input ``seed``."""
    ops, args = graph.ops, graph.args
    dot: list[float | None] = [None] * graph.n_leaves
    dot[seed] = 1.0
    append = dot.append
    for i in range(graph.n_leaves, len(ops)):
        arg = args[i]
        if len(arg) == 1:
            ta = dot[arg[0]]
            append(None if ta is None else ops[i].partials(values[arg[0]], values[i]) * ta)
            continue
        a, b = arg
        ta, tb = dot[a], dot[b]
        if ta is None and tb is None:
            append(None)
            continue
        pa, pb = ops[i].partials(values[a], values[b], values[i])
        if tb is None:
            append(pa * ta)
        elif ta is None:
            append(pb * tb)
        else:
            append(pa * ta + pb * tb)
    return dot
