"""One differentiation: run an engine and collect value, gradient, trace and warnings."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from ..errors import AdcliError
from ..lang.point import input_values
from . import primal, reverse  # forward mode's module is imported when it runs

if TYPE_CHECKING:
    from ..core.graph import Graph


# A forward-mode trace keeps a tangent for every variable at every node: past this many
# it would take gigabytes, so it is refused before the sweeps start.
MAX_FORWARD_TANGENTS = 20_000_000


class Result:
    """What an engine computed at a point; renderers display it and never recompute it.

    ``partials[i]`` holds the local partial derivatives ∂vᵢ/∂(each argument) that the
    engine multiplied in at operation i: ``None`` for a node it passed over, and ``None``
    in the place of an argument that carries no derivative (a constant, a fixed input).
    ``tangents``: forward mode, recorded, one list per variable; ``adjoints``: reverse
    mode, recorded, one per node. (A plain class, not a dataclass: see ops._Frozen.)
    """

    __slots__ = (
        "adjoints", "gradient", "graph", "mode", "partials", "point", "seeds", "tangents", "values", "warnings", "wrt",
    )  # fmt: skip

    def __init__(
        self,
        graph: Graph,
        mode: str,
        point: dict[str, float],
        wrt: tuple[str, ...],
        values: list[float],
        gradient: dict[str, float],
        partials: list[tuple[float | None, ...] | None] | None,  # None when not recorded
        tangents: dict[str, list[float | None]] | None = None,
        adjoints: list[float | None] | None = None,
        warnings: list[str] | None = None,
        seeds: dict[int, float] | None = None,  # reverse mode: the outputs' starting adjoints (vᵀJ); None: ȳ = 1
    ) -> None:
        self.graph = graph
        self.mode = mode
        self.point = point
        self.wrt = wrt
        self.values = values
        self.gradient = gradient
        self.partials = partials
        self.tangents = tangents
        self.adjoints = adjoints
        self.seeds = seeds
        self.warnings: list[str] = [] if warnings is None else warnings

    def __eq__(self, other: object) -> bool:
        if type(other) is not Result:
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in Result.__slots__)

    __hash__ = None  # type: ignore[assignment]  # mutable, as a dataclass with eq

    def __repr__(self) -> str:
        return f"Result(mode={self.mode!r}, point={self.point!r}, value={self.value!r}, gradient={self.gradient!r})"

    @property
    def value(self) -> float:
        return self.values[self.graph.output]


def differentiate(
    graph: Graph, point: Mapping[str, float], mode: str, wrt: Iterable[str] | None, record: bool = True
) -> Result:
    """Run the chosen engine at ``point`` for the variables ``wrt`` (all when None).

    With ``record`` the result keeps the local partials every step multiplied in (what a
    trace shows); without it the sweep is faster. If a derivative then comes out
    non-finite, the warning must say where: one recording sweep back finds the partials,
    the same numbers forward mode multiplies in on every node the output needs.
    """
    if mode not in ("reverse", "forward"):
        raise AdcliError(f"mode must be 'reverse' or 'forward', not {mode!r}")
    graph.require_one_output("a gradient" if wrt != () else "an evaluation")
    inputs = input_values(graph, point)
    seeds = graph.variable_nodes(wrt)
    if mode == "forward" and record and len(seeds) * len(graph) > MAX_FORWARD_TANGENTS:
        raise AdcliError(
            f"a forward-mode trace keeps a tangent for each variable at each node: {len(seeds):,} × "
            f"{len(graph):,} is more than adcli keeps ({MAX_FORWARD_TANGENTS:,}); reverse mode keeps "
            "one adjoint per node"
        )
    active = graph.varies if len(seeds) == graph.n_inputs else primal.active_nodes(graph, seeds)
    values = primal.sweep(graph, inputs)
    finite = _finite(sum(values))  # one pass at C speed: no nan partials to set, no value to warn about
    rules = primal.rules_at(graph, values, finite)
    result = _run(graph, mode, inputs, seeds, active, record, values, rules)
    adjoints = result.adjoints
    if not record and not _finite(sum(result.gradient.values())):
        flows = primal.flows_at(graph, values) if graph.selectors else None
        adjoints, result.partials = reverse.sweep(graph, values, active, record=True, flows=flows, rules=rules)
    result.warnings = nonfinite_warnings(result, active, finite, adjoints)
    return result


def _run(
    graph: Graph,
    mode: str,
    inputs: list[float],
    seeds: list[int],
    active: list[bool],
    record: bool,
    values: list[float],
    rules: list[tuple],
) -> Result:
    names = graph.variables
    point = dict(zip(names, inputs, strict=True))
    wrt = tuple(names[s] for s in seeds)
    if mode == "forward":  # one tangent sweep per variable, over the same values
        from . import forward

        tangents, gradient, partials = {}, {}, None
        for seed in seeds:
            dot, used = forward.sweep(graph, values, {seed: 1.0}, record, rules=rules)
            if used is not None:  # recorded: every node's tangent, for a trace (variables × nodes)
                tangents[names[seed]] = dot
                partials = used if partials is None else _merge(partials, used)
            gradient[names[seed]] = _zero_if_none(dot[graph.output])
        if record and partials is None:
            partials = [None] * len(values)
        return Result(graph, mode, point, wrt, values, gradient, partials, tangents=tangents)
    # The plan is fixed before any point: not where a select passes nothing (see primal.flows_at).
    closed = graph.selectors and primal.flows_at(graph, values) is not graph.flows
    plan = None if record or closed else reverse.reverse_plan(graph, seeds)
    if plan is not None:  # a graph differentiated many times: the planned sweep
        gradient = dict(zip(wrt, plan.gradient(values, seeds, rules), strict=True))
        return Result(graph, mode, point, wrt, values, gradient, None)
    bar, partials = reverse.sweep(graph, values, active, record, rules=rules)
    gradient = {names[s]: _zero_if_none(bar[s]) for s in seeds}
    return Result(graph, mode, point, wrt, values, gradient, partials, adjoints=bar if record else None)


def _merge(partials: list, more: list) -> list:
    """Each sweep of forward mode fills the partials toward its own seed's dependents."""
    merged = []
    for p, q in zip(partials, more, strict=True):
        if p is None or q is None:
            merged.append(p if q is None else q)
        else:
            merged.append(tuple(x if x is not None else y for x, y in zip(p, q, strict=True)))
    return merged


def _zero_if_none(x: float | None) -> float:
    return 0.0 if x is None else x


def _finite(x: float) -> bool:
    return x - x == 0.0


def nonfinite_warnings(
    result: Result, active: list[bool], finite: bool | None = None, adjoints: list[float | None] | None = None
) -> list[str]:
    """What a reader of the numbers must know, each found by a scan in evaluation order
    over what the engine recorded (so the two modes warn alike): the first value that
    is not finite, the first operation met at a kink (its derivative there is a
    convention), and, for a derivative that is not finite, the first local partial that
    is not finite or, where every partial is finite, the first adjoint (reverse mode) or
    tangent (forward mode) that overflowed. Statements the result does not use are left out.

    ``finite`` says whether every value is finite, if the caller knows; ``adjoints`` are
    the reverse sweep's, where a recording sweep found them.
    """
    graph, values = result.graph, result.values
    warnings = unused_warnings(graph)
    if not (finite if finite is not None else _finite(sum(values))):  # a finite sum: every value is finite
        needed = graph.needed
        first = next((i for i, v in enumerate(values) if needed[i] and not _finite(v)), None)
        if first is not None:
            warnings.append(f"{_where(graph, first)} is {_word(values[first])}: the first value that is not finite")
    if result.wrt and graph.kinked:
        # Along every edge: floor(x) carries no derivative, but at an integer it has none to carry.
        seeds = [graph.variables.index(name) for name in result.wrt]
        depends = primal.active_nodes(graph, seeds, every_edge=True)
        kinks = [i for i in graph.kinked if depends[i] and graph.needed[i] and _at_kink(graph, values, i)]
        if kinks:
            kink, more = kinks[0], len(kinks) - 1
            convention = graph.ops[kink].kink[1]
            others = f"; {more:,} more operation{'s are' if more > 1 else ' is'} at such a point too" if more else ""
            warnings.append(
                f"{_where(graph, kink)} is at a point where it has no derivative; adcli uses {convention} "
                f"(see Numerical conventions in the README){others}"
            )
    if not _finite(sum(result.gradient.values())):
        if graph.selectors:  # only partials toward what still carries a derivative here count
            flows = primal.flows_at(graph, values)
            active = primal.active_nodes(graph, [i for i in range(graph.n_inputs) if active[i]], flows=flows)
        warnings += _first_nonfinite_partial(result, active) or _first_overflow(result, adjoints)
    return warnings


def unused_warnings(graph: Graph) -> list[str]:
    """A named statement no output uses is most likely a slip: a line meant to go on."""
    unused = graph.unused_statements
    if not unused:
        return []
    names = ", ".join(unused[:5]) + (f" and {len(unused) - 5} more" if len(unused) > 5 else "")
    return [f"{'statement' if len(unused) == 1 else 'statements'} {names} not used by the result"]


def _at_kink(graph: Graph, values: list[float], node: int) -> bool:
    at = graph.ops[node].kink[0]
    return at(*[values[a] for a in graph.args[node]], values[node])


def _carried(graph: Graph, active: list[bool], partials: list) -> list[bool]:
    """The active nodes the output's adjoint reaches at this point: along edges that carry
    derivatives, and not through a select's branch that is not taken (max(x, atan2(y, y)) at
    x = 1 passes nothing to atan2, whose nan partial then is no one's)."""
    needed = reverse._reached(graph, active)
    ops, args, first = graph.ops, graph.args, graph.n_leaves
    if not any(ops[i].selects for i in range(first, len(graph)) if needed[i]):
        return needed
    needed = [False] * len(graph)
    needed[graph.output] = active[graph.output]
    for i in range(graph.output, first - 1, -1):
        local = partials[i]
        if not needed[i] or local is None:
            continue
        cuts = ops[i].selects
        for a, p in zip(args[i], local, strict=True):
            if p is not None and active[a] and not (cuts and p == 0.0):
                needed[a] = True
    return needed


def _first_nonfinite_partial(result: Result, active: list[bool]) -> list[str]:
    """The first partial that is not finite among those the output's adjoint meets (both modes alike)."""
    graph, partials = result.graph, result.partials
    if partials is None:  # not recorded: there are no partials to name
        return []
    needed = _carried(graph, active, partials)
    for i in range(graph.n_leaves, len(graph)):
        local = partials[i]
        if local is None or not needed[i]:
            continue
        for a, p in zip(graph.args[i], local, strict=True):
            if p is not None and active[a] and not _finite(p):
                argument = graph.labels.get(a) or graph.expression(a, 30)
                return [
                    f"the derivative of {_where(graph, i)} with respect to {argument} "
                    f"is {_word(p)}: the first that is not finite"
                ]
    return []


def _first_overflow(result: Result, adjoints: list[float | None] | None) -> list[str]:
    """Every value and local partial is finite, yet a derivative is not: the sweep itself
    overflowed. Name the node whose adjoint (reverse mode, from the output back) or
    tangent (forward mode, in evaluation order) first did."""
    graph, needed = result.graph, result.graph.needed
    if result.mode == "reverse":
        if adjoints is None:
            return []
        numbers: list[float | None] = adjoints
        order: Iterable[int] = range(len(graph) - 1, -1, -1)  # the backward sweep's order
        what, other = "the adjoint", "forward"
    else:
        name = next((name for name, d in result.gradient.items() if not _finite(d)), None)
        if name is None:  # only the sum of the entries overflowed
            return []
        dot = result.tangents.get(name) if result.tangents else None
        if dot is None:
            seed = graph.variables.index(name)
            from . import forward

            dot, _ = forward.sweep(graph, values=result.values, seed={seed: 1.0})
        numbers, order = dot, range(len(graph))
        what, other = f"the tangent ∂/∂{name}", "reverse"
    found = next(((i, x) for i in order if needed[i] and (x := numbers[i]) is not None and not _finite(x)), None)
    if found is None:
        return []
    first, x = found
    return [
        f"{what} of {_where(graph, first)} is {_word(x)}, though every value and local partial is finite: "
        f"the sweep overflowed (products of large partials); {other} mode multiplies them in another order "
        "and may not ('adcli check' compares the two)"
    ]


def _where(graph: Graph, node: int) -> str:
    if node < graph.n_inputs:
        return f"input {graph.variables[node]}"
    if node < graph.n_leaves:
        return f"constant {graph.leaf_text[node]}"
    label = graph.labels.get(node)
    text = graph.expression(node, 40, use_labels=True)
    return f"{graph.ops[node].written} at v{node - graph.n_leaves + 1} ({label + ' = ' if label else ''}{text})"


def _word(x: float) -> str:
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
