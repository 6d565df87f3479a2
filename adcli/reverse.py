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

None of this changes the numbers: tests/test_reverse.py checks every adjoint, bit
for bit (a nan as a nan), against the sweep as textbooks write it, one operation at
a time. What it changes is the cost: see "Benchmarks" in the README.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import compress, repeat
from operator import add, and_, itemgetter, mul, not_
from typing import TYPE_CHECKING, NamedTuple

from .ops import VALUE_PARTIALS, d_pow_base

if TYPE_CHECKING:
    from .graph import Graph


class _Group(NamedTuple):
    """Partials computed together, in bulk: one rule at many operations."""

    rule: Callable[..., float]
    exponent: float | None  # ∂(a^c)/∂a for a constant c ≠ 0: c·a^(c-1) at C speed
    binary: bool
    a: list[int]  # per operation: its arguments and itself
    b: list[int]
    node: list[int]
    edges: list[int]  # and the edge (its place in the sweep) that takes the partial


class Plan:
    """The backward sweep of one graph for one set of active nodes, fixed before any point is known.

    The sweep runs over the edges that carry adjoints, last operation first:
    bar[targets[e]] += bar[sources[e]] · partials(every)[e], where ``every`` is the list
    `partial_values` makes. A node j in ``shared`` takes no edge: its adjoint is that
    of node ``alias[j]``.
    """

    def __init__(self, graph: Graph, active: list[bool]):
        n, first, rules = len(graph), graph.n_leaves, graph.rules
        self.graph, self.size = graph, n
        self.reached = reached = list(map(and_, active, graph.needed))
        # How many edges enter each node: a node with one, of partial 1, shares an adjoint.
        edges_in = [0] * n
        for i, (_, _, a, b) in enumerate(rules, start=first):
            if reached[i]:
                edges_in[a] += 1
                if b >= 0:
                    edges_in[b] += 1
        self.alias = alias = list(range(n))
        self.shared: list[int] = []
        # Partials are read from one list (see `partial_values`): the values, then the
        # constant partials, then the groups of partials computed in bulk.
        self.constants: list[float] = []
        constant_at: dict[int, int] = {}  # by identity, so 0.0 and -0.0 could never merge
        self.groups: list[_Group] = []
        group_of: dict[tuple, _Group] = {}
        self.sources: list[int] = []
        self.targets: list[int] = []
        places: list[int] = []
        for i, (ra, rb, a, b) in zip(range(n - 1, first - 1, -1), reversed(rules), strict=True):
            if not reached[i]:
                continue
            source = alias[i]
            for rule, j in ((ra, a), (rb, b)) if b >= 0 else ((ra, a),):
                if not reached[j]:
                    continue
                if rule.__class__ is float:
                    if rule == 1.0 and edges_in[j] == 1:
                        alias[j] = source
                        self.shared.append(j)
                        continue
                    place = constant_at.get(id(rule))
                    if place is None:
                        place = constant_at[id(rule)] = n + len(self.constants)
                        self.constants.append(rule)
                elif rule in VALUE_PARTIALS:
                    held = VALUE_PARTIALS[rule]
                    place = a if held == "a" else b if held == "b" else i
                else:  # computed in bulk with its group; its place is known once all groups are
                    exponent = _constant_exponent(graph, b) if rule is d_pow_base else None
                    key = (rule, b >= 0) if exponent is None else ("pow", exponent)
                    group = group_of.get(key)
                    if group is None:
                        group = group_of[key] = _Group(rule, exponent, b >= 0, [], [], [], [])
                        self.groups.append(group)
                    group.a.append(a)
                    group.b.append(b)
                    group.node.append(i)
                    group.edges.append(len(places))
                    place = -1
                self.sources.append(source)
                self.targets.append(j)
                places.append(place)
        place = n + len(self.constants)
        for group in self.groups:
            for e in group.edges:
                places[e] = place
                place += 1
        self.partials = _gatherer(places)
        # Each input's adjoint, read off the finished sweep: from the node it shares, or
        # from the slot past the last node, which holds 0.0, for an input never reached.
        self.inputs = _gatherer([alias[i] if reached[i] else n for i in range(graph.n_inputs)])

    def partial_values(self, values: list[float]) -> list[float]:
        """The values, the constant partials and the partials computed in bulk, in that order."""
        every = values + self.constants
        get = values.__getitem__
        for group in self.groups:
            a, c = list(map(get, group.a)), group.exponent
            if c == 2.0:  # 2·a is a + a, exactly
                every += map(add, a, a)
            elif c is not None:
                every += _constant_power(c, a, group.node, values)
            elif group.binary:
                every += map(group.rule, a, map(get, group.b), map(get, group.node))
            else:
                every += map(group.rule, a, map(get, group.node))
        return every

    def run(
        self, values: list[float], seeds: list[int], record: bool = False
    ) -> tuple[list[float], list[float | None] | None, list | None]:
        """The adjoints of the inputs ``seeds`` (0 for one never reached); with ``record``,
        also every node's adjoint (None where unreached) and the local partials used."""
        bar: list = [-0.0] * self.size + [0.0]  # past the last node: the gradient of an input never reached
        bar[self.graph.output] = 1.0
        for i, j, p in zip(self.sources, self.targets, self.partials(self.partial_values(values)), strict=True):
            bar[j] += bar[i] * p
        inputs = self.inputs(bar)
        gradient = [inputs[s] for s in seeds]
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


def _constant_exponent(graph: Graph, b: int) -> float | None:
    """The exponent of a power a^b when b is a constant other than ±0 (a^0's rule gives 0
    where c·a^(c-1) would give nan, at a = 0 or a = nan)."""
    if not graph.n_inputs <= b < graph.n_leaves:  # b is an input or an operation
        return None
    c = graph.const_values[b - graph.n_inputs]
    return c if c != 0.0 else None


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
