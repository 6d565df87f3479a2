"""Jacobians, Hessians and directional derivatives: the sweeps of forward and reverse mode, combined.

- A Jacobian takes one forward sweep per group of columns or one reverse sweep per
  group of rows (groups from the sparsity pattern's colouring), whichever is fewer.
- J·v is one forward sweep seeded with v; vᵀJ one reverse sweep seeded with v.
- A Hessian is forward over reverse: the backward sweep recorded as a graph (see
  rules.py), whose forward-mode tangents along a direction d are H·d. A full Hessian
  seeds one group of columns per colour of its pattern: a tridiagonal one takes three.

Results come with the same warnings as a gradient: the first value that is not finite,
kinks (a second derivative at a kink is a convention too), derivatives that are not
finite, statements no output uses.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from ..errors import AdcliError, PointError, counted
from ..lang.point import input_values
from . import forward, primal, reverse, sparsity
from .gradient import Result, _at_kink, _finite, _where, _word, _zero_if_none, unused_warnings
from .results import DirectionalResult, HessianResult, JacobianResult

if TYPE_CHECKING:
    from ..core.graph import Graph

JACOBIAN_MODES = ("auto", "forward", "reverse")

# Recorded gradients, kept beside each graph for as long as it lives.
_RECORDED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def output_texts(graph: Graph) -> tuple[str, ...]:
    """Each output as the formula writes it (a name for a named one)."""
    if len(graph.output_text) == len(graph.outputs):
        return graph.output_text
    return tuple(graph.expression(node, 60) for node in graph.outputs)


def _setup(graph: Graph, point: Mapping[str, float], wrt: Iterable[str] | None):
    inputs = input_values(graph, point)
    seeds = graph.variable_nodes(wrt)
    values = primal.sweep(graph, inputs)
    return inputs, seeds, values


def _warnings(graph: Graph, values: list[float], seeds: list[int], order: int = 1) -> list[str]:
    """Unused statements, the first value that is not finite, and the first kink on the way."""
    found = unused_warnings(graph)
    if not _finite(sum(values)):
        needed = graph.needed
        first = next((i for i, v in enumerate(values) if needed[i] and not _finite(v)), None)
        if first is not None:
            found.append(f"{_where(graph, first)} is {_word(values[first])}: the first value that is not finite")
    if seeds and graph.kinked:
        depends = primal.active_nodes(graph, seeds, every_edge=True)
        kinks = [i for i in graph.kinked if depends[i] and graph.needed[i] and _at_kink(graph, values, i)]
        if kinks:
            what = "a derivative" if order == 1 else "a derivative or second derivative"
            more = f" ({_more(len(kinks) - 1, 'operation', 'at a kink', 'at kinks')})" if len(kinks) > 1 else ""
            found.append(
                f"{_where(graph, kinks[0])} is at a point where it has no derivative; {what} there is a "
                f"convention: adcli uses {graph.ops[kinks[0]].kink[1]} (see Numerical conventions in the README){more}"
            )
    return found


def _more(n: int, word: str, one: str, many: str, plural: str | None = None) -> str:
    """ "1 more entry is not finite", "2 more entries are not finite"."""
    return f"{counted(n, 'more ' + word, 'more ' + (plural or word + 's'))} {'is ' + one if n == 1 else 'are ' + many}"


# Where a non-finite derivative may be checked another way, by command.
CHECK_ONE_OUTPUT = "to compare it with the other mode and differences, run 'adcli check' on that output alone"


def _nonfinite(what: str, numbers: Iterable[tuple[str, float]], advice: Callable[[str], str] | str) -> list[str]:
    bad = [(label, x) for label, x in numbers if not _finite(x)]
    if not bad:
        return []
    more = f" ({_more(len(bad) - 1, 'entry', 'not finite', 'not finite', 'entries')})" if len(bad) > 1 else ""
    label, x = bad[0]
    hint = advice(label) if callable(advice) else advice
    return [f"{what}{label} is {_word(x)}{more}; {hint}"]  # ``what`` ends as the label needs: "∂" or "of "


def _second_label(a: str, b: str) -> str:
    """How ∂²f/∂(label) reads: ∂x² on the diagonal, ∂x∂y off it."""
    return f"{a}²" if a == b else f"{a}∂{b}"


def _second_advice(label: str) -> str:
    """For ∂²f/∂x∂y: Taylor mode computes the same entry by another way (adcli deriv --mixed)."""
    a, _, b = label.removesuffix("²").partition("∂")
    b = b or a
    return (
        f'adcli deriv --mixed "{a}^2" computes it by Taylor mode'
        if a == b
        else (f'adcli deriv --mixed "{a}*{b}" computes it by Taylor mode')
    )


# Jacobians.


def jacobian_plan(graph: Graph, seeds: list[int]):
    """The Jacobian's sparsity pattern (None: dense), its column and row colourings, and the
    sweeps each mode takes after colouring: what ``auto`` decides by, at one point or a batch."""
    outputs = list(graph.outputs)
    rows = sparsity.pattern(graph, outputs, seeds)
    if rows is None:  # dense: a sweep per column or per row
        column_colours, row_colours = list(range(len(seeds))), list(range(len(outputs)))
    else:
        column_colours = sparsity.colour_columns(rows, len(seeds))
        row_colours = sparsity.colour_columns(sparsity.transpose(rows, len(seeds)), len(outputs))
    sweeps = {"forward": max(column_colours, default=-1) + 1, "reverse": max(row_colours, default=-1) + 1}
    return rows, column_colours, row_colours, sweeps


def jacobian(
    graph: Graph, point: Mapping[str, float], wrt: Iterable[str] | None = None, mode: str = "auto"
) -> JacobianResult:
    """∂(each output)/∂(each variable) at ``point`` by forward or reverse sweeps, or the fewer of them."""
    if mode not in JACOBIAN_MODES:
        raise AdcliError(f"mode must be one of {', '.join(JACOBIAN_MODES)}, not {mode!r}")
    inputs, seeds, values = _setup(graph, point, wrt)
    outputs = list(graph.outputs)
    rows, column_colours, row_colours, sweeps = jacobian_plan(graph, seeds)
    chosen = mode if mode != "auto" else ("forward" if sweeps["forward"] < sweeps["reverse"] else "reverse")
    matrix = [[0.0] * len(seeds) for _ in outputs]
    if chosen == "forward":
        _forward_columns(graph, values, seeds, outputs, rows, column_colours, matrix)
    else:
        active = primal.active_nodes(graph, seeds)
        for c in range(sweeps["reverse"]):
            group = [r for r, colour in enumerate(row_colours) if colour == c]
            bar, _ = reverse.sweep(graph, values, active, seeds=_weights({outputs[r]: 1.0 for r in group}))
            for r in group:
                for j, node in enumerate(seeds):
                    if rows is None or len(group) == 1 or j in rows[r]:
                        b = bar[node]
                        matrix[r][j] = 0.0 if b is None else b
    names = tuple(graph.variables[s] for s in seeds)
    texts = output_texts(graph)
    result = JacobianResult(
        graph, dict(zip(graph.variables, inputs, strict=True)), names, texts,
        [values[o] for o in outputs], matrix, chosen, sweeps, mode,
    )  # fmt: skip
    result.warnings = _warnings(graph, values, seeds) + _nonfinite(
        "∂",
        ((f"({texts[r]})/∂{names[j]}", x) for r, row in enumerate(matrix) for j, x in enumerate(row)),
        CHECK_ONE_OUTPUT,
    )
    return result


def _weights(seeds: dict[int, float]) -> dict[int, float]:
    return seeds


def _forward_columns(graph, values, seeds, outputs, rows, colours, matrix) -> None:
    """Fill ``matrix`` by one forward sweep per colour, seeding its columns together.

    With a pattern (``rows``), each row holds at most one column of a colour, so that
    row's tangent is that one entry; without one, colours are the columns themselves.
    """
    groups: dict[int, list[int]] = {}
    for j, c in enumerate(colours):
        groups.setdefault(c, []).append(j)
    where = None if rows is None else [{colours[j]: j for j in row} for row in rows]
    for c, group in groups.items():
        dot, _ = forward.sweep(graph, values, {seeds[j]: 1.0 for j in group})
        for r, node in enumerate(outputs):
            t = dot[node]
            if t is None:
                continue
            column = group[0] if where is None else where[r].get(c)
            if column is not None:
                matrix[r][column] = t


_FUSED_COLOURS = 8  # colours up to which a Hessian's forward sweeps run as one


def _forward_colours(graph, values, seeds, outputs, rows, colours, matrix) -> None:
    """What `_forward_columns` fills, in one pass over the graph for all colours together.

    Each operation's partials are computed once, not once per colour, and the nan rule,
    the closed selects and the operations to visit are worked out once; each colour's
    tangent is the same product or sum as in its own sweep (forward.sweep), so the numbers
    are the same. Past a few colours (a dense pattern) the sweeps run one by one.
    """
    count = max(colours, default=-1) + 1
    if rows is None or count > _FUSED_COLOURS or count < 2:
        _forward_columns(graph, values, seeds, outputs, rows, colours, matrix)
        return
    first = graph.n_leaves
    rules = primal.rules_at(graph, values)
    flows = primal.flows_at(graph, values) if graph.selectors else graph.flows
    dots: list[list[float | None]] = [[None] * len(values) for _ in range(count)]
    for j, c in enumerate(colours):
        dots[c][seeds[j]] = 1.0
    active = primal.active_nodes(graph, seeds)
    for i in range(first, len(values)):
        if not active[i]:
            continue
        ra, rb, a, b = rules[i - first]
        fa, fb = flows[i - first]
        pa = pb = None
        if b < 0:
            if fa < 0:
                continue
            for dot in dots:
                ta = dot[a]
                if ta is None:
                    continue
                if pa is None:
                    pa = ra if ra.__class__ is float else ra(values[a], values[i])
                dot[i] = pa * ta
            continue
        for dot in dots:
            ta = dot[a] if fa >= 0 else None
            tb = dot[b] if fb >= 0 else None
            if ta is not None and pa is None:
                pa = ra if ra.__class__ is float else ra(values[a], values[b], values[i])
            if tb is not None and pb is None:
                pb = rb if rb.__class__ is float else rb(values[a], values[b], values[i])
            if tb is None:
                if ta is None:
                    continue
                dot[i] = pa * ta
            elif ta is None:
                dot[i] = pb * tb
            else:
                dot[i] = pa * ta + pb * tb
    for r, (node, row) in enumerate(zip(outputs, rows, strict=True)):
        out = matrix[r]
        for j in row:
            t = dots[colours[j]][node]
            if t is not None:
                out[j] = t


# Directional derivatives.


def direction_vector(graph: Graph, direction: Mapping[str, float], what: str = "direction") -> dict[int, float]:
    """{input node: tangent} from {variable: tangent}; a variable left out has tangent 0."""
    index = {name: i for i, name in enumerate(graph.variables)}
    seed: dict[int, float] = {}
    for name, x in direction.items():
        if name not in index:
            raise PointError(f"the {what} {graph._unknown_message(name)}")
        try:
            seed[index[name]] = float(x)
        except (TypeError, ValueError):
            raise PointError(f"the {what}'s value for '{name}' must be a number") from None
    return seed


def jvp(graph: Graph, point: Mapping[str, float], direction: Mapping[str, float], record: bool = False):
    """J·v: every output's derivative along ``direction``, in one forward sweep."""
    inputs = input_values(graph, point)
    seed = direction_vector(graph, direction)
    values = primal.sweep(graph, inputs)
    dot, partials = forward.sweep(graph, values, seed, record)
    texts = output_texts(graph)
    product = [(text, _zero_if_none(dot[o])) for text, o in zip(texts, graph.outputs, strict=True)]
    names = graph.variables
    result = DirectionalResult(
        graph, "jvp", dict(zip(names, inputs, strict=True)), [(names[i], t) for i, t in seed.items()],
        texts, [values[o] for o in graph.outputs], product,
    )  # fmt: skip
    if record:
        result.trace = _trace_result(graph, "forward", result.point, values, partials, tangents={"v": dot})
    result.warnings = _warnings(graph, values, [i for i, t in seed.items() if t != 0.0]) + _nonfinite(
        "the derivative of ", product, CHECK_ONE_OUTPUT
    )
    return result


def vjp(graph: Graph, point: Mapping[str, float], weights: list[float], record: bool = False):
    """vᵀJ: the gradient of Σₖ wₖ·yₖ, in one reverse sweep (one weight per output, in order)."""
    if len(weights) != len(graph.outputs):
        raise PointError(
            f"--seed needs one weight per output: the formula has {counted(len(graph.outputs), 'output')}, "
            f"and {counted(len(weights), 'weight')} {'was' if len(weights) == 1 else 'were'} given"
        )
    inputs = input_values(graph, point)
    values = primal.sweep(graph, inputs)
    seeds: dict[int, float] = {}
    for node, w in zip(graph.outputs, weights, strict=True):  # one node may be two outputs
        seeds[node] = seeds[node] + w if node in seeds else w
    every = list(range(graph.n_inputs))
    bar, partials = reverse.sweep(graph, values, graph.varies, record, seeds=seeds)
    names = graph.variables
    product = [(names[s], _zero_if_none(bar[s])) for s in every]
    texts = output_texts(graph)
    result = DirectionalResult(
        graph, "vjp", dict(zip(names, inputs, strict=True)), list(zip(texts, weights, strict=True)),
        texts, [values[o] for o in graph.outputs], product,
    )  # fmt: skip
    if record:
        result.trace = _trace_result(graph, "reverse", result.point, values, partials, adjoints=bar)
        result.trace.seeds = {node: w for node, w in seeds.items() if bar[node] is not None}
    result.warnings = _warnings(graph, values, every) + _nonfinite(
        "the derivative by ",
        product,
        "to compare each output's gradient with the other mode and differences, run 'adcli check' on that output alone",
    )
    return result


def _trace_result(
    graph: Graph,
    mode: str,
    point: dict[str, float],
    values: list[float],
    partials: list[tuple[float | None, ...] | None] | None,
    tangents: dict[str, list[float | None]] | None = None,
    adjoints: list[float | None] | None = None,
) -> Result:
    """The sweep of a product as a gradient-kind Result, for the trace renderers."""
    wrt = tuple(tangents) if tangents is not None else graph.variables
    gradient: dict[str, float] = {}
    if tangents is not None:  # the derivative along the direction, at the output the trace ends in
        gradient = {name: _zero_if_none(dot[graph.output]) for name, dot in tangents.items()}
    if adjoints is not None:
        gradient = {name: _zero_if_none(adjoints[i]) for i, name in enumerate(graph.variables)}
    return Result(graph, mode, point, wrt, values, gradient, partials, tangents=tangents, adjoints=adjoints)


# Hessians.


def recorded_gradient(graph: Graph, seeds: list[int], nan_free: bool = False) -> Graph:
    """The backward sweep for these variables recorded as a graph (kept beside ``graph``).

    With ``nan_free``, the recording for points where no value of ``graph`` is nan: there
    the nan rule's ``real(ḡ, v)`` is ḡ itself, so it is left out (half the nodes); the
    recording is kept apart from the one for every point and used only at such points.
    """
    from .rules import gradient_graph

    kept = _RECORDED.setdefault(graph, {})
    key = (tuple(seeds), True) if nan_free else tuple(seeds)
    recorded = kept.get(key)
    if recorded is None:
        active = primal.active_nodes(graph, seeds)
        recorded = kept[key] = gradient_graph(graph, seeds, active, nan_rule=not nan_free)
    return recorded


def _nan_free(values: list[float]) -> bool:
    """No value is nan: a sum that is a number says so at C speed (inf - inf needs a look)."""
    total = sum(values)
    return total == total or not any(v != v for v in values)


def _recorded_values(graph: Graph, values: list[float], recorded: Graph, inputs: list[float]) -> list[float]:
    """The primal sweep of ``recorded``, reusing ``values``: it begins with a copy of ``graph``'s operations.

    Its constants begin with ``graph``'s and its first operations are ``graph``'s in
    order (rules.Recorder.copy), so only the recorded sweep itself is run; a recording
    that does not begin so is swept whole.
    """
    k = len(graph.const_values)
    if recorded.const_values[:k] != graph.const_values or recorded.n_inputs != graph.n_inputs:
        return primal.sweep(recorded, inputs)
    out = inputs + recorded.const_values + values[graph.n_leaves :]
    append = out.append
    for f, a, b in recorded.code[graph.operation_count :]:
        append(f(out[a]) if b < 0 else f(out[a], out[b]))
    return out


class _HeldGC:
    """The cyclic garbage collector held off while a recording and its sweeps make many small
    tuples and lists (as the parser does): they make no cycles, and scanning them again and
    again costs more than the sweeps."""

    def __enter__(self) -> None:
        self.collecting = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc) -> None:
        if self.collecting:
            gc.enable()


def hessian(graph: Graph, point: Mapping[str, float], wrt: Iterable[str] | None = None) -> HessianResult:
    """Value, gradient and Hessian at ``point``: forward sweeps over the recorded gradient, one per colour."""
    graph.require_one_output("a Hessian")
    inputs, seeds, values = _setup(graph, point, wrt)
    n = len(seeds)
    if not n:  # nothing to differentiate by: an empty matrix
        at = dict(zip(graph.variables, inputs, strict=True))
        return HessianResult(graph, at, (), values[graph.output], {}, [], [], 0, _warnings(graph, values, []))
    with _HeldGC():
        return _hessian(graph, inputs, seeds, values)


def _hessian(graph: Graph, inputs: list[float], seeds: list[int], values: list[float]) -> HessianResult:
    n = len(seeds)
    recorded = recorded_gradient(graph, seeds, _nan_free(values))
    rvalues = _recorded_values(graph, values, recorded, inputs)
    rows = sparsity.pattern(recorded, list(recorded.outputs), seeds, cap=max(8, n // 4))
    colours = list(range(n)) if rows is None else sparsity.colour_columns(rows, n)
    count = max(colours, default=-1) + 1
    matrix = [[0.0] * n for _ in range(n)]
    _forward_colours(recorded, rvalues, seeds, list(recorded.outputs), rows, colours, matrix)
    entries = [(i, j) for i in range(n) for j in (range(n) if rows is None else sorted(rows[i]))]
    names = tuple(graph.variables[s] for s in seeds)
    gradient = {name: rvalues[node] for name, node in zip(names, recorded.outputs, strict=True)}
    result = HessianResult(
        graph, dict(zip(graph.variables, inputs, strict=True)), names, values[graph.output], gradient,
        matrix, entries, count,
    )  # fmt: skip
    result.warnings = (
        _warnings(graph, values, seeds, order=2)
        + _recorded_kinks(graph, recorded, rvalues, seeds)
        + _nonfinite("∂²f/∂", ((_second_label(names[i], names[j]), matrix[i][j]) for i, j in entries), _second_advice)
    )
    return result


def _recorded_kinks(graph: Graph, recorded: Graph, values: list[float], seeds: list[int]) -> list[str]:
    """Kinks met only by the second derivative (abs'' at 0 is sign' at 0): a convention too.

    The recorded graph begins with a copy of ``graph``'s operations, whose kinks the
    first warning has named already.
    """
    if not recorded.kinked:
        return []
    depends = primal.active_nodes(recorded, seeds, every_edge=True)
    needed = recorded.needed
    copied = recorded.n_leaves + graph.operation_count
    kinks = [i for i in recorded.kinked if i >= copied and depends[i] and needed[i] and _at_kink(recorded, values, i)]
    if not kinks:
        return []
    op = recorded.ops[kinks[0]]
    return [
        f"a second derivative meets {op.name} at a point where it has no derivative (in "
        f"{recorded.expression(kinks[0], 40)}): adcli uses {op.kink[1]} there (see Numerical conventions in the README)"
    ]


def hvp(
    graph: Graph, point: Mapping[str, float], direction: Mapping[str, float], wrt: Iterable[str] | None = None
) -> DirectionalResult:
    """H·d in one forward sweep over the recorded gradient: the cost of a few gradients."""
    graph.require_one_output("a Hessian")
    inputs, seeds, values = _setup(graph, point, wrt)
    seed = direction_vector(graph, direction)
    allowed = set(seeds)
    outside = [graph.variables[i] for i in seed if i not in allowed and seed[i] != 0.0]
    if outside:
        raise PointError(f"the direction names '{outside[0]}', which --wrt holds fixed")
    names = tuple(graph.variables[s] for s in seeds)
    gradient: dict[str, float] = {}
    product: list[tuple[str, float]] = []
    recorded = None
    if seeds:  # else nothing to differentiate by: an empty product
        with _HeldGC():
            recorded = recorded_gradient(graph, seeds, _nan_free(values))
            rvalues = _recorded_values(graph, values, recorded, inputs)
            # A direction's zero entries seed nothing: H[i][i] = inf times a d_i of 0 is no term of H·d
            dot, _ = forward.sweep(recorded, rvalues, {i: t for i, t in seed.items() if t != 0.0})
        product = [(name, _zero_if_none(dot[node])) for name, node in zip(names, recorded.outputs, strict=True)]
        gradient = {name: rvalues[node] for name, node in zip(names, recorded.outputs, strict=True)}
    result = DirectionalResult(
        graph, "hvp", dict(zip(graph.variables, inputs, strict=True)),
        [(graph.variables[i], t) for i, t in seed.items()], output_texts(graph), [values[graph.output]], product,
        gradient=gradient,
    )  # fmt: skip
    result.warnings = (
        _warnings(graph, values, seeds, order=2)
        + ([] if recorded is None else _recorded_kinks(graph, recorded, rvalues, seeds))
        + _nonfinite("(H·d) for ", product, "'adcli hessian' without --dir shows which entries of H are not finite")
    )
    return result
