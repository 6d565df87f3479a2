"""Reverse mode: one backward sweep of adjoints over the Wengert list.

After a forward sweep has stored every value, the output's adjoint is seeded with
ȳ = 1 and each operation, last to first, passes its adjoint to its arguments:
v̄ⱼ += v̄ᵢ · ∂vᵢ/∂vⱼ. Only nodes the output depends on *and* that depend on a
differentiated variable are reached; every other node's adjoint is ``None``, and
partials toward it are never multiplied in (so ∂(x^2)/∂2 = nan at x = -1 stays out).

Which edges carry adjoints is fixed by the graph and the variables, so it is worked
out once, in a `Plan`, and the sweep is a loop without branches over those edges.
Adjoints start at -0.0, the identity of IEEE addition, so the first ``+=`` is exactly
an assignment, signed zeros included. Every local partial is ready before the sweep
starts, taken from the operation table in bulk: constants (add, sub, neg), values the
operation already holds (∂(a·b)/∂a = b, ∂(e^a)/∂a = e^a), squares as a + a, other
constant powers through ``math.pow``, and every other rule mapped over its
operations; each is the number the rule itself returns. A node whose only edge in
has partial 1 (a term of a sum) would get its user's adjoint unchanged,
-0.0 + ȳ·1 = ȳ, so it shares that adjoint and the sweep skips the edge.

None of this changes a bit of the result: tests/test_reverse.py checks every adjoint
against the sweep as textbooks write it, one operation at a time. It makes a
gradient cost about 2.3 evaluations instead of 3.5 (bench/bench_rosenbrock.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import compress, repeat
from operator import add, and_, itemgetter, mul, not_
from typing import TYPE_CHECKING

from .ops import OPERATIONS, VALUE_PARTIALS, d_pow_base

if TYPE_CHECKING:
    from .graph import Graph


# Every constant partial in the table, once each; kept apart by identity, so that a 0.0
# and a -0.0 would never be taken for one another.
_CONSTANTS: list[float] = list({id(p): p for op in OPERATIONS for p in op.partials if p.__class__ is float}.values())
_CONSTANT_AT: dict[int, int] = {id(p): k for k, p in enumerate(_CONSTANTS)}
_UNIT = next(k for k, p in enumerate(_CONSTANTS) if p == 1.0)
# How many edges into a node the plan has met, while it is being built.
_NO_EDGE, _SHARING, _EDGES = "none", "one, with partial 1", "some"


class Plan:
    """The backward sweep of one graph for one set of active nodes, fixed before any point is known.

    The sweep runs over ``sources``, ``targets`` and ``places``, last operation first:
    bar[targets[e]] += bar[sources[e]] · (the partial at ``places[e]``, see
    `partial_values`). A node in ``shared`` has the adjoint of node ``alias[j]``.
    """

    def __init__(self, graph: Graph, active: list[bool]):
        n, first, rules = len(graph), graph.n_leaves, graph.rules
        self.graph, self.size = graph, n
        self.reached = reached = list(map(and_, active, graph.needed))
        # A node's first edge in (from its last user) with partial 1 lets it share that
        # user's adjoint; a second edge in, if one comes, ends the sharing before anything
        # has read it, sending the first edge's adjoint in after all, in the same order.
        self.alias = alias = list(range(n))
        edges_in = [_NO_EDGE] * n
        shared: list[int] = []
        self.groups: list[tuple] = []  # (rule or constant exponent, binary?, a's, b's, nodes, edges)
        group_of: dict[object, tuple] = {}  # rule, or ("pow", exponent) -> its group
        sources: list[int] = []
        targets: list[int] = []
        places: list[int] = []
        to_source, to_target, to_place = sources.append, targets.append, places.append
        for i, (ra, rb, a, b) in zip(range(n - 1, first - 1, -1), reversed(rules), strict=True):
            if not reached[i]:
                continue
            source = alias[i]
            for rule, j in ((ra, a), (rb, b)) if b >= 0 else ((ra, a),):
                if not reached[j]:
                    continue
                seen = edges_in[j]
                if seen is _SHARING:  # a second user: j gets an adjoint of its own after all
                    to_source(alias[j])
                    to_target(j)
                    to_place(n + _UNIT)
                    alias[j] = j
                edges_in[j] = _EDGES
                if rule.__class__ is float:
                    if rule == 1.0 and seen is _NO_EDGE:
                        alias[j] = source
                        edges_in[j] = _SHARING
                        shared.append(j)
                        continue
                    place = n + _CONSTANT_AT[id(rule)]
                elif rule in VALUE_PARTIALS:
                    held = VALUE_PARTIALS[rule]
                    place = a if held == "a" else b if held == "b" else i
                else:  # computed in bulk with its group; its place is known once all groups are
                    key = rule
                    if rule is d_pow_base and first > b >= graph.n_inputs and graph.const_values[b - graph.n_inputs]:
                        key = ("pow", graph.const_values[b - graph.n_inputs])
                    group = group_of.get(key)
                    if group is None:
                        group = group_of[key] = (key[1] if key.__class__ is tuple else rule, b >= 0, [], [], [], [])
                        self.groups.append(group)
                    group[2].append(a)
                    group[3].append(b)
                    group[4].append(i)
                    group[5].append(len(places))
                    place = -1
                to_source(source)
                to_target(j)
                to_place(place)
        place = n + len(_CONSTANTS)
        for group in self.groups:
            for e in group[5]:
                places[e] = place
                place += 1
        self.sweep = sources, targets, _gatherer(places)
        self.shared = [j for j in shared if edges_in[j] is _SHARING]
        self.all_inputs = list(range(graph.n_inputs))
        self.inputs = _gatherer([alias[i] if reached[i] else n for i in self.all_inputs])

    def partial_values(self, values: list[float]) -> list[float]:
        """The values, the constant partials and the partials computed in bulk, in that order."""
        every = values + _CONSTANTS
        get = values.__getitem__
        for how, binary, a, b, node, _ in self.groups:
            if how.__class__ is float:  # ∂(a^c)/∂a for a constant c ≠ 0: 2·a is a + a, exactly
                x = list(map(get, a))
                every += map(add, x, x) if how == 2.0 else _constant_power(how, x, node, values)
            elif binary:
                every += map(how, map(get, a), map(get, b), map(get, node))
            else:
                every += map(how, map(get, a), map(get, node))
        return every

    def run(
        self, values: list[float], seeds: list[int], record: bool = False
    ) -> tuple[Sequence[float], list[float | None] | None, list | None]:
        """The adjoints of the inputs ``seeds`` (0 for one never reached); with ``record``,
        also every node's adjoint (None where unreached) and the local partials used."""
        sources, targets, partials = self.sweep
        bar: list = [-0.0] * self.size + [0.0]  # past the last node: the gradient of an input never reached
        bar[self.graph.output] = 1.0
        for i, j, p in zip(sources, targets, partials(self.partial_values(values)), strict=True):
            bar[j] += bar[i] * p
        inputs = self.inputs(bar)
        gradient = inputs if len(seeds) == len(inputs) and seeds == self.all_inputs else [inputs[s] for s in seeds]
        if not record:
            return gradient, None, None
        bar.pop()
        for j in self.shared:
            bar[j] = bar[self.alias[j]]
        for i in compress(range(self.size), map(not_, self.reached)):
            bar[i] = None
        return gradient, bar, self._by_node(values)

    def _by_node(self, values: list[float]) -> list:
        """Per node, the local partials the sweep multiplied in, for a trace: the table's rules
        at the node's values, which are the numbers `partial_values` took in bulk, bit for
        bit (tests/test_reverse.py); None for a node the sweep passed over, and in the
        place of an argument that carries no derivative."""
        graph, reached = self.graph, self.reached
        first = graph.n_leaves
        by_node: list = [None] * first
        for i, (ra, rb, a, b) in enumerate(graph.rules, start=first):
            if not reached[i]:
                by_node.append(None)
                continue
            v, va = values[i], values[a]
            if b < 0:
                by_node.append((ra if ra.__class__ is float else ra(va, v),))
                continue
            vb = values[b]
            pa = (ra if ra.__class__ is float else ra(va, vb, v)) if reached[a] else None
            pb = (rb if rb.__class__ is float else rb(va, vb, v)) if reached[b] else None
            by_node.append((pa, pb))
        return by_node


def _constant_power(c: float, x: list[float], node: list[int], values: list[float]) -> list[float]:
    """c·x^(c-1) for every x, as `d_pow_base` computes it, at C speed unless math.pow raises."""
    try:
        return list(map(mul, repeat(c), map(math.pow, x, repeat(c - 1.0))))
    except (ValueError, OverflowError):  # a pole or an overflow somewhere: the rule, one by one
        return [d_pow_base(xi, c, values[i]) for xi, i in zip(x, node, strict=True)]


def _gatherer(indices: list[int]) -> Callable[[list[float]], Sequence[float]]:
    """A function taking the items at ``indices`` out of a list, in one call at C speed."""
    if len(indices) < 2:  # itemgetter of one index returns the item, not a tuple
        return lambda values: [values[i] for i in indices]
    return itemgetter(*indices)
