"""The operation table's rule formulas as graphs, and the reverse sweep recorded as a graph.

Every local partial in adcli/core/ops.py is a formula over the arguments ``a``, ``b``
and the value ``v``, written with the table's own operations. `rule_graph` parses one
(once, with the parser every formula goes through) into a small graph. `Recorder`
inlines those graphs into a new graph, so that a sweep of derivatives becomes a graph
that any engine can run again: `gradient_graph` records the backward sweep, whose
forward-mode tangents are Hessian-vector products (forward over reverse).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from ..core.ops import BY_NAME, CONST, INPUT, RULE_FUNCTIONS, Op
from ..lang.builder import GraphBuilder

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from ..core.graph import Graph

_ADD, _MUL, _NEG, _GATE, _REAL = (BY_NAME[name] for name in ("add", "mul", "neg", "gate", "real"))


@functools.cache
def rule_graph(name: str, k: int) -> Graph:
    """∂v/∂(argument k) of operation ``name`` as a graph whose inputs are among a, b and v."""
    from ..lang.parser import parse

    formula = BY_NAME[name].formulas[k]
    return parse(formula, GraphBuilder(formula, {**_functions(), **RULE_FUNCTIONS}))


@functools.cache
def _functions() -> dict:
    from ..core.ops import FUNCTIONS

    return FUNCTIONS


def inline(rule: Graph, bound: dict[str, int], constant: Callable[[float], int], apply: Callable[..., int]) -> int:
    """A rule graph written into another program: its inputs a, b, v bound to nodes there, its
    constants made by ``constant(value)``, its operations by ``apply(op, argument nodes)``. The one
    way the recorded sweep, Taylor mode and the batch engine bring a rule in."""
    mapped: list[int] = []
    n_inputs = rule.n_inputs
    for i, op in enumerate(rule.ops):
        if op is INPUT:
            mapped.append(bound[rule.variables[i]])
        elif op is CONST:
            mapped.append(constant(rule.const_values[i - n_inputs]))
        else:
            mapped.append(apply(op, tuple(mapped[a] for a in rule.args[i])))
    return mapped[rule.output]


def evaluate_rule(name: str, k: int, args: tuple[float, ...], v: float) -> float:
    """The partial by its formula, through the primal sweep (the fast forms are checked against this)."""
    from .primal import sweep

    graph = rule_graph(name, k)
    bound = {"a": args[0], "b": args[1] if len(args) > 1 else 0.0, "v": v}
    return sweep(graph, [bound[x] for x in graph.variables])[graph.output]


# A node of a recorded graph, or None: a structural zero.
Node = int | None


class Recorder:
    """Builds a graph node by node, as the parser does, folding what is known before any point.

    Constants fold (log(2) in log2's rule is one constant), and the structural zero
    ``None`` and the constant 1 simplify products and sums, as JAX's symbolic ``Zero``.
    ``readable`` also passes p for a select of the constant 1 (gate(1, p)), which is p
    except at p = -0 (the gate gives +0, as the scalar sweeps do): for rules people
    read, never for a recording an engine runs.
    """

    def __init__(self, variables: Iterable[str], readable: bool = False):
        self.readable = readable
        self.builder = GraphBuilder("")
        self._node = self.builder._node  # GraphBuilder.apply without its call
        self.inputs = [self.builder.input(name) for name in variables]
        self.values: dict[int, float] = {}  # the constant nodes' values

    def constant(self, value: float) -> int:
        node = self.builder.constant(value)
        self.values[node] = value
        return node

    def apply(self, op: Op, args: tuple[int, ...]) -> int:
        values = self.values
        if args[0] in values and (len(args) == 1 or args[1] in values):  # known before any point: fold
            return self.constant(op.value(*(values[a] for a in args)))
        return self._node(op, args)

    def mul(self, g: Node, p: Node, selects: bool = False) -> Node:
        """g·p; with ``selects``, a p that is 0 passes nothing at all, even for an infinite g."""
        if g is None or p is None:
            return None
        one = self.values.get(p)
        if one == 1.0:
            return g
        if one == -1.0:
            return self.apply(_NEG, (g,))
        if self.values.get(g) == 1.0 and (self.readable or not selects):  # 1·p is p
            return p
        return self.apply(_GATE if selects else _MUL, (g, p))

    def add(self, x: Node, y: Node) -> Node:
        if x is None:
            return y
        if y is None:
            return x
        return self.apply(_ADD, (x, y))

    def inline(self, rule: Graph, bound: dict[str, int]) -> Node:
        """The rule graph with its inputs a, b, v bound to nodes here; None for the constant 0."""
        out = inline(rule, bound, self.constant, self.apply)
        return None if self.values.get(out) == 0.0 else out

    def copy(self, graph: Graph) -> list[int]:
        """The nodes of ``graph`` (same variables, same order), recorded here: old node -> new node.

        The graph is already shared and folded as far as its text allows, so its
        operations go in as they are, without a look for a node to share or fold.
        """
        builder = self.builder
        if builder.ops or self.values:
            raise ValueError("copy() goes first, into a recorder with only its inputs")
        mapped = list(self.inputs)
        for value in graph.const_values:
            mapped.append(self.constant(value))
        ops, args, interned = builder.ops, builder.args, builder.interned
        first = graph.n_leaves
        for op, a in zip(graph.ops[first:], graph.args[first:], strict=True):
            here = (mapped[a[0]], mapped[a[1]]) if len(a) == 2 else (mapped[a[0]],)
            node = len(ops)
            ops.append(op)
            args.append(here)
            seen = interned.get(op.name)
            if seen is None:
                seen = interned[op.name] = {}
            seen[here] = node
            mapped.append(node)
        return mapped

    def finish(self, outputs: list[Node], labels: dict[int, str] | None = None) -> Graph:
        nodes = [self.constant(0.0) if node is None else node for node in outputs]
        builder = self.builder
        builder.outputs = nodes
        for node, label in (labels or {}).items():
            builder.labels.setdefault(node, label)
        return builder.finish(nodes[-1])


def record_adjoints(
    recorder: Recorder,
    graph: Graph,
    mapped: list[int],
    seeds: Mapping[int, Node],
    active: list[bool],
    nan_rule: bool = True,
):
    """The backward sweep of ``graph`` as nodes of ``recorder``: each node's adjoint (None: zero).

    ``seeds`` gives the outputs' adjoints (ȳ = 1 for a gradient; weights for vᵀJ).
    ``nan_rule`` wraps each adjoint in real(ḡ, v), nan where the value is: what engines run
    at any point; without it, the same numbers at points where no value is nan, and the
    rules as people read them (adcli functions --second).
    """
    first = graph.n_leaves
    bar: list[Node] = [None] * len(graph)
    for node, weight in seeds.items():
        bar[node] = recorder.add(bar[node], weight)
    ops, args_of, flows = graph.ops, graph.args, graph.flows
    apply, mul, add, inline, constant = recorder.apply, recorder.mul, recorder.add, recorder.inline, recorder.constant
    known = recorder.values
    for i in range(len(graph) - 1, first - 1, -1):
        g = bar[i]
        if g is None or not active[i]:
            continue
        op, args = ops[i], args_of[i]
        fa, fb = flows[i - first]
        v = mapped[i]
        if nan_rule and (fa >= 0 or fb >= 0):  # where the value is nan, so is every partial (primal.rules_at)
            g = apply(_REAL, (g, v))
        bound = None
        c: Node
        for k, j in ((0, fa), (1, fb)) if len(args) > 1 else ((0, fa),):
            if j < 0 or not active[j]:
                continue
            partial = op.partials[k]
            if partial.__class__ is float:  # a constant partial: g·1 is g, g·(-1) is -g, g·0 is nothing
                if partial == 0.0:
                    continue
                if partial == 1.0:
                    c = g
                elif partial == -1.0:
                    c = apply(_NEG, (g,))
                else:
                    c = mul(g, constant(partial), op.selects)
            else:
                form = _rule_form(op.name, k)
                if isinstance(form, str):  # the rule is an argument or the value itself (mul's, exp's)
                    p = v if form == "v" else mapped[args[0] if form == "a" else args[1]]
                    c = None if known.get(p) == 0.0 else mul(g, p, op.selects)
                else:
                    if bound is None:
                        bound = {"a": mapped[args[0]], "v": v}
                        if len(args) > 1:
                            bound["b"] = mapped[args[1]]
                    c = mul(g, inline(form, bound), op.selects)
            bar[j] = add(bar[j], c)
    return bar


@functools.cache
def _rule_form(name: str, k: int) -> Graph | str:
    """The rule graph of ``name``'s k-th partial, or the input it is when it is one (a, b or v)."""
    rule = rule_graph(name, k)
    return rule.variables[rule.output] if rule.output < rule.n_inputs else rule


def second_derivatives(op: Op, limit: int = 70) -> list[tuple[str, str]]:
    """(which, formula) for each second partial of ``op``: its rules recorded and differentiated
    again, as the Hessian engine does (without the nan rule's wrappers, which only read noise);
    each formula cut at ``limit`` characters."""
    from ..engines.primal import active_nodes
    from ..lang.parser import parse

    args = "a, b" if op.arity == 2 else "a"
    graph = parse(f"{op.written}({args})" if op.is_function else ("a " + op.symbol + " b" if op.arity == 2 else "-a"))
    first = gradient_graph(graph, list(range(graph.n_inputs)), graph.varies, nan_rule=False, readable=True)
    names = first.variables
    out = []
    for k in range(len(names)):
        single = Recorder(first.variables, readable=True)
        mapped = single.copy(first)
        seed = {first.outputs[k]: single.constant(1.0)}
        bar = record_adjoints(single, first, mapped, seed, active_nodes(first, range(first.n_inputs)), nan_rule=False)
        second = single.finish([bar[j] for j in range(len(names))])
        for j in range(k, len(names)):
            which = f"∂²v/∂{names[k]}²" if j == k else f"∂²v/∂{names[k]}∂{names[j]}"
            out.append((which, second.expression(second.outputs[j], limit, use_labels=False)))
    return out


def gradient_graph(
    graph: Graph, wrt: list[int], active: list[bool], nan_rule: bool = True, readable: bool = False
) -> Graph:
    """A graph of the same variables whose outputs are ∂y/∂x for each x in ``wrt``: the recorded sweep.

    Without ``nan_rule``, exact only at points where no value of ``graph`` is nan; with
    ``readable``, the rules as people read them (see Recorder).
    """
    recorder = Recorder(graph.variables, readable)
    mapped = recorder.copy(graph)
    bar = record_adjoints(recorder, graph, mapped, {graph.output: recorder.constant(1.0)}, active, nan_rule)
    labels = {mapped[node]: label for node, label in graph.labels.items()}
    return recorder.finish([bar[x] for x in wrt], labels)
