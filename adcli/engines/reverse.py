"""Reverse mode: one backward sweep of adjoints over the Wengert list.

After a forward sweep has stored every value, the output's adjoint is seeded with
ȳ = 1 and each operation, last to first, passes its adjoint to its arguments:
v̄ⱼ += v̄ᵢ · ∂vᵢ/∂vⱼ. Only nodes the output depends on *and* that depend on a
differentiated variable are reached; every other node's adjoint is ``None``, and
partials toward it are never multiplied in (so ∂(x^2)/∂2 = nan at x = -1 stays out).

`sweep` does exactly that, one operation at a time, calling each partial's rule in
place and keeping, for a trace, the partials it multiplied in. It serves a single
gradient, such as one ``adcli grad``, a few gradients, and every trace.

A graph differentiated many times (a script asking for the gradient at many points)
gets a `Plan` instead, worked out once from the graph and the variables (when, see
`reverse_plan`), after which the sweep is a loop without branches over the
edges that carry adjoints. Adjoints start at -0.0, the identity of IEEE addition, so
the first ``+=`` is exactly an assignment, signed zeros included. Every local partial
is ready before the sweep starts, taken from the operation table in bulk: constants
(add, sub, neg), values the operation already holds (∂(a·b)/∂a = b, ∂(e^a)/∂a =
e^a), squares as a + a, other constant powers through ``math.pow``, and every other
rule mapped over its operations; each is the number the rule itself returns. A node
whose only edge in has partial 1 (a term of a sum) would get its user's adjoint
unchanged, -0.0 + ȳ·1 = ȳ, so it shares that adjoint and the sweep skips the edge.

Both give the same numbers: tests/test_reverse.py checks each, bit for bit (a nan as
a nan), against the sweep as textbooks write it. Working out a plan costs three to five
plain backward sweeps; a planned backward sweep then takes 50 – 90 % of the time of a
plain one, depending on where in memory its lists lie. "Benchmarks" in the README has
the measurements.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import repeat
from operator import add, itemgetter, mul
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary, proxy

from ..core.ieee import MIN_NORMAL
from ..core.ops import VALUE_PARTIALS, d_pow_base
from .primal import active_nodes, rules_at

if TYPE_CHECKING:
    from ..core.graph import Graph

# The gradient for a set of variables at which a graph's plan for them is worked out
# (see reverse_plan), and how many sets keep a plan.
PLAN_AFTER = 8
_PLANS_KEPT = 8
_ALL = "every variable"
# For each graph still in use: its plans, and how many gradients each set of variables has had.
_PLANS: WeakKeyDictionary[Graph, tuple[dict[object, Plan], dict[object, int]]] = WeakKeyDictionary()


def reverse_plan(graph: Graph, seeds: list[int]) -> Plan | None:
    """The planned backward sweep of ``graph`` for these variables, once they have had enough gradients.

    Working out a plan costs about what the planned sweep saves over 6 to 45
    gradients, so it is worked out at the PLAN_AFTER-th gradient for a set of
    variables and not before (as one rents skis for a while before buying): a script
    asking for a few gradients never pays for it. Plans are kept beside the graph, not
    in it, and go with it.
    """
    key = _ALL if len(seeds) == graph.n_inputs else frozenset(seeds)
    kept = _PLANS.get(graph)
    if kept is None:
        kept = _PLANS[graph] = ({}, {})
    plans, gradients = kept
    plan = plans.get(key)
    if plan is not None:
        return plan
    count = gradients[key] = gradients.get(key, 0) + 1
    if count < PLAN_AFTER:
        return None
    if len(plans) >= _PLANS_KEPT:  # the oldest goes
        del plans[next(iter(plans))]
    active = graph.varies if key is _ALL else active_nodes(graph, seeds)
    plan = plans[key] = Plan(graph, active)
    return plan


def sweep(
    graph: Graph,
    values: list[float],
    active: list[bool],
    record: bool = False,
    seeds: dict[int, float] | None = None,
    flows: list[tuple[int, int]] | None = None,
    rules: list[tuple] | None = None,
) -> tuple[list[float | None], list[tuple[float | None, ...] | None] | None]:
    """The adjoint ∂y/∂vᵢ of every node; with ``record``, also the local partials used.

    ``seeds`` gives the outputs' adjoints ({output node: weight}, for vᵀJ); by default
    ȳ = 1 at the graph's output. Where a select passes nothing at this point (relu below
    0: see primal.flows_at) the sweep follows only the edges that carry a derivative.
    ``rules`` is ``primal.rules_at(graph, values)`` if known: nan partials where a value is nan.
    """
    n, first = len(values), graph.n_leaves
    if rules is None:  # entry k is node first + k
        rules = rules_at(graph, values)
    bar: list[float | None] = [None] * n
    partials: list | None = [None] * n if record else None
    if seeds is None:
        seeds = {graph.output: 1.0}
    for node, weight in seeds.items():
        if active[node]:
            bar[node] = weight
    if flows is None and graph.selectors:  # a select whose partial is 0 here passes nothing
        from .primal import flows_at

        flows = flows_at(graph, values)
    if flows is not None and flows is not graph.flows:
        return _careful(graph, values, active, bar, partials, max(seeds), flows, rules)
    for i in range(max(seeds), first - 1, -1):
        g = bar[i]
        if g is None:
            continue
        ra, rb, a, b = rules[i - first]
        if b < 0:  # the argument of an active unary operation is active
            pa = ra if ra.__class__ is float else ra(values[a], values[i])
            ga = bar[a]
            bar[a] = g * pa if ga is None else ga + g * pa
            if partials is not None:
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
        if partials is not None:
            partials[i] = (pa, pb)
    return bar, partials


def _careful(
    graph: Graph, values: list[float], active: list[bool], bar: list, partials: list | None, start: int, flows, rules
):
    """The sweep along the edges ``flows`` keeps, one argument at a time (the rare path: see sweep)."""
    first = graph.n_leaves
    for i in range(start, first - 1, -1):
        g = bar[i]
        if g is None:
            continue
        args = graph.args[i]
        used: list[float | None] = [None] * len(args)
        for k, j in enumerate(flows[i - first][: len(args)]):
            if j >= 0 and active[j]:
                rule = rules[i - first][k]
                p = used[k] = rule if rule.__class__ is float else rule(*(values[a] for a in args), values[i])
                bar[j] = g * p if bar[j] is None else bar[j] + g * p
        if partials is not None:
            partials[i] = tuple(used)
    return bar, partials


class _Group:
    """Partials computed together, in bulk: one rule at many operations.

    The four lists run in parallel, one entry per operation: its first argument, its
    second (-1 for none), the operation itself, and the edge that takes the partial.
    ``exponent``: ∂(a^c)/∂a for a constant c ≠ 0, c·a^(c-1) at C speed. (A plain class:
    a NamedTuple is built at import, which start-up pays for.)
    """

    __slots__ = ("a", "b", "binary", "edges", "exponent", "node", "rule")

    def __init__(self, rule: Callable[..., float], exponent: float | None, binary: bool) -> None:
        self.rule = rule
        self.exponent = exponent
        self.binary = binary
        self.a: list[int] = []
        self.b: list[int] = []
        self.node: list[int] = []
        self.edges: list[int] = []


class Plan:
    """The backward sweep of one graph for one set of active nodes, fixed before any point is known.

    The sweep runs over the edges that carry adjoints, last operation first:
    bar[targets[e]] += bar[sources[e]] · partials(every)[e], where ``every`` is the list
    `partial_values` makes. A node that shares its user's adjoint has no edge in, and
    its edges out read that adjoint.
    """

    def __init__(self, graph: Graph, active: list[bool]):
        n, first, rules = len(graph), graph.n_leaves, graph.rules
        self.size, self.output = n, graph.output
        # For a point the plan does not serve (below); weakly, as the plan is kept beside the
        # graph (_PLANS) and must not keep it alive.
        self.graph, self.active = proxy(graph), active
        reached = _reached(graph, active)
        # How many edges enter each node: a node with one, of partial 1, shares an adjoint.
        edges_in = [0] * n
        for i, (a, b) in enumerate(graph.flows, start=first):
            if reached[i]:
                if a >= 0:
                    edges_in[a] += 1
                if b >= 0:
                    edges_in[b] += 1
        alias = list(range(n))  # whose adjoint each node's is: its own, or the one it shares
        # Partials are read from one list (see `partial_values`): the values, then the
        # constant partials, then the groups of partials computed in bulk.
        self.constants: list[float] = []
        constant_at: dict[int, int] = {}  # by identity, so 0.0 and -0.0 could never merge
        self.groups: list[_Group] = []
        group_of: dict[tuple, _Group] = {}
        self.sources: list[int] = []
        self.targets: list[int] = []
        places: list[int] = []
        flows = graph.flows
        for i, (ra, rb, a, b) in zip(range(n - 1, first - 1, -1), reversed(rules), strict=True):
            if not reached[i]:
                continue
            source = alias[i]
            fa, fb = flows[i - first]
            for rule, j in ((ra, fa), (rb, fb)) if b >= 0 else ((ra, fa),):
                if j < 0 or not reached[j]:
                    continue
                if rule.__class__ is float:
                    if rule == 1.0 and edges_in[j] == 1:
                        alias[j] = source
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
                        group = group_of[key] = _Group(rule, exponent, b >= 0)
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
        output = graph.output
        self.inputs = _gatherer(
            [alias[i] if reached[i] and (edges_in[i] or i == output) else n for i in range(graph.n_inputs)]
        )

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

    def gradient(self, values: list[float], seeds: list[int], rules: list[tuple] | None = None) -> list[float]:
        """The adjoints of the inputs ``seeds`` at these values: 0 for one never reached.

        The plan holds the rules as they are where no value is nan; at a point with a nan
        value (``rules``, from primal.rules_at, is not the graph's own) the plain sweep gives
        the gradient instead. (Where a select passes nothing, the caller sweeps: see gradient.py.)
        """
        graph = self.graph
        if rules is None:
            rules = rules_at(graph, values)
        if rules is not graph.rules:
            swept, _ = sweep(graph, values, self.active, rules=rules)
            return [0.0 if (x := swept[s]) is None else x for s in seeds]
        bar = [-0.0] * self.size + [0.0]  # past the last node: the gradient of an input never reached
        bar[self.output] = 1.0
        for i, j, p in zip(self.sources, self.targets, self.partials(self.partial_values(values)), strict=True):
            bar[j] += bar[i] * p
        inputs = self.inputs(bar)
        return [inputs[s] for s in seeds]


def _reached(graph: Graph, active: list[bool]) -> list[bool]:
    """The active nodes the output's adjoint reaches along edges that carry derivatives."""
    reached = [False] * len(graph)
    reached[graph.output] = active[graph.output]
    first, flows = graph.n_leaves, graph.flows
    for i in range(graph.output, first - 1, -1):
        if reached[i]:
            for j in flows[i - first]:
                if j >= 0 and active[j]:
                    reached[j] = True
    return reached


def _constant_exponent(graph: Graph, b: int) -> float | None:
    """The exponent of a power a^b when b is a constant whose rule is c·a^(c-1) at C speed: not
    ±0 (a^0's rule gives 0 where c·a^(c-1) would give nan, at a = 0 or a = nan), and with c - 1
    exact (for c = 0.3 it rounds, and `d_pow_base` takes another path)."""
    if not graph.n_inputs <= b < graph.n_leaves:  # b is an input or an operation
        return None
    c = graph.const_values[b - graph.n_inputs]
    return c if c != 0.0 and (c - 1.0) + 1.0 == c and abs(c) < 2.0**53 else None


def _constant_power(c: float, x: list[float], node: list[int], values: list[float]) -> list[float]:
    """c·x^(c-1) for every x, as `d_pow_base` computes it: at C speed where every power is a
    normal double (its hot path), else the rule one by one."""
    try:
        powers = list(map(math.pow, x, repeat(c - 1.0)))
    except (ValueError, OverflowError):  # a pole or an overflow somewhere
        powers = None
    total = sum(powers) if powers else 0.0
    if powers and (total - total != 0.0 or min(map(abs, powers)) < MIN_NORMAL):
        powers = None  # an infinity, a nan or an underflow somewhere
    if powers is None:
        return [d_pow_base(xi, c, values[i]) for xi, i in zip(x, node, strict=True)]
    return list(map(mul, repeat(c), powers))


def _gatherer(indices: list[int]) -> Callable[[list[float]], Sequence[float]]:
    """A function taking the items at ``indices`` out of a list, in one call at C speed."""
    if len(indices) < 2:  # itemgetter of one index returns the item, not a tuple
        return lambda values: [values[i] for i in indices]
    return itemgetter(*indices)
