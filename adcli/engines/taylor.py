"""Taylor mode: truncated power series pushed through the Wengert list, one coefficient at a time.

Along a direction d, every node vᵢ of the graph becomes the series vᵢ(t) = Σₖ vᵢ,ₖ·tᵏ of
vᵢ(p + t·d), truncated after order K; the output's coefficients are f⁽ᵏ⁾/k! along d
(Griewank & Walther, *Evaluating Derivatives*, ch. 13). Each coefficient costs O(k), so
order K costs O(K²) per operation.

The rules come from the one table (adcli/core/ops.py). For w = f(u) the table's
formula for f'(u) is a graph (rules.rule_graph); Taylor mode inlines it into the
*program* it runs, bound to the series of u and of w, and uses

    k·w_k = Σ_{j=1..k} j·u_j·[f'(u)]_{k-j}      (and a term per argument for f(a, b)),

which needs f'(u)'s coefficients only below k, so every series grows online: round k
computes coefficient k of every node, in order. Identical nodes are shared, so the rule
of sin (cos(a)) and of cos (-sin(a)) close into the classical sin/cos pair, exp's rule
(v) is the classical exp recurrence, and sinh/cosh, sigmoid and softplus close alike.
A partial that is constant at the point (add's 1, x·3's 3, x/4's 1/4) makes a linear
rule. Hand-written: the product and quotient convolutions, the square, a power with a
constant exponent, exp(b·log a) for a variable exponent, and divz (hypot's rule). The rule
operations that keep first derivatives exact at the edges of the doubles (recip, recip2,
logbd, powd, powlog) and logb take, past order 1, the series of the plain expression they
equal (1/u by the quotient recurrence, log a / log b, ...).

Where a node's value is nan every coefficient past it is nan, as every partial is in grad
(primal.rules_at): log at -1 has no derivative of any order.

Coefficient 1 is forward mode's tangent, bit for bit: the hand-written rules take it
from the table's fast partials. Selects (relu below 0, min's larger argument, abs at 0)
pass no series, as they pass no tangent; kinks have the conventions of grad, at every order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from operator import mul
from typing import TYPE_CHECKING

from ..core import ieee
from ..core.ops import BY_NAME, CONST, INPUT, Op
from ..errors import AdcliError, ArgumentError, PointError, counted, kind_of
from ..lang.point import input_values
from . import primal
from .gradient import _at_kink, _finite, _where, _word, unused_warnings

if TYPE_CHECKING:
    from fractions import Fraction

    from ..core.graph import Graph

MAX_ORDER = 1000
# Rule nodes a single operation may add to the program: every rule in the table closes
# in a handful (tests/test_taylor.py checks them all); this only guards against a rule
# that would unfold for ever.
_RULE_NODES = 64
_PRODUCT_POWER = 1024.0  # whole exponents 3 … this are also powered by products (O(log n) of them)

_NEG, _LOG, _MUL, _POW, _DIV, _SUB = (BY_NAME[name] for name in ("neg", "log", "mul", "pow", "div", "sub"))

# How each kind of node computes its coefficients, in words (the trace prints formulas).
KINDS = {
    "input": "the seed: x + t·d",
    "const": "a constant series: no coefficient past order 0",
    "linear": "a partial that is constant at the point: w_k = Σ p·u_k",
    "mul": "the Cauchy product",
    "square": "the Cauchy product of u with itself",
    "div": "the quotient recurrence",
    "powc": "a power with a constant exponent",
    "powv": "exp(b·log a): a variable exponent",
    "same": "the series of the plain expression it equals (log(a, b) as log a / log b)",
    "nan": "a value that is nan: every coefficient is nan",
    "rule": "the generic rule from the table's first derivative",
}


@dataclass
class Program:
    """The nodes Taylor mode runs: the graph's, plus the nodes its rules brought in.

    Node i has an operation (``ops``), arguments, a kind (see KINDS), its value (the
    coefficient of order 0), and for the generic rule the node of each active
    argument's partial (``partials``, -1 for none). ``origin`` is the graph node it is,
    or -1 for a node a rule brought in; ``owner`` is the program node whose rule did.
    """

    ops: list = field(default_factory=list)
    args: list[tuple[int, ...]] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    partials: list[tuple[int, ...]] = field(default_factory=list)
    factors: list[tuple[float, ...]] = field(default_factory=list)  # linear: p per active argument; powc: (r,)
    active: list[tuple[bool, ...]] = field(default_factory=list)  # which arguments carry a series
    first: list[tuple[float, ...]] = field(default_factory=list)  # the fast partials for coefficient 1
    origin: list[int] = field(default_factory=list)
    owner: list[int] = field(default_factory=list)
    interned: dict[tuple, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ops)

    def is_const(self, i: int) -> bool:
        return self.kinds[i] == "const"


class _Builder:
    """Builds the program at a point: folds what is constant there, shares identical nodes,
    and unfolds each rule with a work list (never recursion)."""

    def __init__(self) -> None:
        self.p = Program()
        self.pending: list[int] = []
        self.owner = -1
        self.prebuilt: dict[tuple, int] = {}  # pieces a node needs in its own round, made before it
        self.start = -1  # the program's size when the graph operation being unfolded came in

    def _new(self, op, args, kind, value, origin=-1) -> int:
        p = self.p
        p.ops.append(op)
        p.args.append(args)
        p.kinds.append(kind)
        p.values.append(value)
        p.partials.append(())
        p.factors.append(())
        p.active.append(())
        p.first.append(())
        p.origin.append(origin)
        p.owner.append(self.owner)
        return len(p.ops) - 1

    def constant(self, value: float) -> int:
        key = ("const", value, math.copysign(1.0, value)) if value == value else ("const", "nan")
        node = self.p.interned.get(key)
        if node is None:
            node = self.p.interned[key] = self._new(CONST, (), "const", value)
        return node

    def seed(self, value: float) -> int:
        return self._new(INPUT, (), "input", value)

    def apply(self, op: Op, args: tuple[int, ...]) -> int:
        """The node of ``op`` on program nodes: folded, shared, or new (its rule unfolded later)."""
        p = self.p
        if all(p.kinds[a] == "const" for a in args):
            return self.constant(op.value(*(p.values[a] for a in args)))
        if op is _NEG and self.owner >= 0 and p.ops[args[0]] is _NEG:  # in a rule, -(-u) is u: sigmoid's closes
            return p.args[args[0]][0]
        if op is _NEG and self.owner >= 0 and p.ops[args[0]] is _MUL and p.is_const(p.args[args[0]][0]):
            c, u = p.args[args[0]]  # -(c·u) is (-c)·u exactly: σ(-(2a)) in σ(2a)'s rule meets tanh's σ(-2a)
            return self.apply(_MUL, (self.constant(-p.values[c]), u))
        key = (op.name, *args)
        node = p.interned.get(key)
        if node is not None:
            return node
        value = op.value(*(p.values[a] for a in args))
        if op is _POW:  # what a power reads in its own round is made first
            a, b = args
            r = p.values[b]
            if p.kinds[b] != "const":  # exp(b·log a)
                self.prebuilt[key] = self.apply(_MUL, (b, self.apply(_LOG, (a,))))
            elif p.values[a] == 0.0 and r != 2.0 and r == math.floor(r) and 0.0 <= r <= 1e6:
                self.prebuilt[key] = self._integer_power(a, int(r))  # u₀ = 0: products, never ÷u₀
            elif r == math.floor(r) and 3.0 <= r <= _PRODUCT_POWER and _finite(p.values[a]) and not self._straight(a):
                self.prebuilt[key] = self._integer_power(a, int(r))  # for orders where u is not linear in t
        elif op.name in _EQUAL:
            self.prebuilt[key] = _EQUAL[op.name](self, args)
        node = p.interned[key] = self._new(op, args, "rule", value)
        self.pending.append(node)
        return node

    def unfold(self) -> None:
        """Choose each pending node's kind and bring in the nodes its rule needs."""
        pending = self.pending
        owner = self.owner
        outermost = self.start < 0
        if outermost:
            self.start = len(self.p)
        try:
            while pending:
                node = pending.pop(0)
                self.owner = node
                self._unfold(node)
                self.owner = owner
                if len(self.p) - self.start > _RULE_NODES:  # counted over all the rules one operation brings in
                    raise AdcliError(f"the Taylor rule of {self.p.ops[node].name} does not close")
        finally:
            self.owner = owner
            if outermost:
                self.start = -1

    def _unfold(self, i: int) -> None:
        p = self.p
        op, args = p.ops[i], p.args[i]
        values = [p.values[a] for a in args]
        v = p.values[i]
        fast = [d if d.__class__ is float else d(*values, v) for d in op.partials]
        # Which arguments carry a series: not a constant, not an edge whose partial is the
        # constant 0 (floor, sign). A select's branch not taken is found below, from its rule.
        active = [
            p.kinds[a] != "const" and not (op.partials[k].__class__ is float and op.partials[k] == 0.0)
            for k, a in enumerate(args)
        ]
        p.active[i] = tuple(active)
        p.first[i] = tuple(fast)
        if not any(active):
            p.kinds[i] = "const"
            return
        name = op.name
        if name in _EQUAL:
            p.kinds[i] = "same"
            p.partials[i] = (self.prebuilt[(name, *args)],)
            return
        if name == "mul" and all(active):
            p.kinds[i] = "mul"
            return
        if name in ("div", "divz") and active[1]:
            p.kinds[i] = "div" if values[1] != 0.0 or name == "div" else "const"  # divz(a, 0) is 0
            return
        if name == "pow":
            pieces = self.prebuilt.get(("pow", *args), -1)
            if active[1]:
                # A constant base 0: 0^b is 0 around b > 0, as xlog's convention says at order 1.
                p.kinds[i] = "const" if not active[0] and v == 0.0 else "powv"
                p.partials[i] = (pieces,)
                return
            r = values[1]
            if r == 2.0:
                p.kinds[i] = "square"
                return
            if pieces >= 0 and values[0] != 0.0:  # a whole power: products where u is not linear in t
                p.kinds[i] = "powc"
                p.factors[i] = (r,)
                p.partials[i] = (pieces,)
                return
            if pieces >= 0:  # u^n at u₀ = 0, by products
                p.kinds[i] = "linear"
                p.factors[i] = (1.0,)
                p.partials[i] = (pieces,)
                return
            p.kinds[i] = "powc"
            p.factors[i] = (r,)
            return
        # The generic rule: each active argument's partial, from the table's formula.
        from .rules import rule_graph

        nodes = []
        for k in range(len(args)):
            if not active[k]:
                nodes.append(-1)
                continue
            partial = op.partials[k]
            if partial.__class__ is float:
                nodes.append(self.constant(partial))
                continue
            rule = rule_graph(name, k)
            bound = {"a": args[0], "b": args[1] if len(args) > 1 else -1, "v": i}
            nodes.append(self._inline(rule, bound))
        if op.selects:  # a partial that is 0 around the point (relu below 0, min's larger argument) passes nothing
            self.unfold()  # the partials' own kinds first: is step(u) constant here?
            for k, n in enumerate(nodes):
                if n >= 0 and p.kinds[n] == "const" and p.values[n] == 0.0:
                    active[k], nodes[k] = False, -1
            p.active[i] = tuple(active)
            if not any(active):
                p.kinds[i] = "const"
                return
        p.partials[i] = tuple(nodes)
        if all(n < 0 or p.kinds[n] == "const" for n in nodes):
            p.kinds[i] = "linear"
            p.factors[i] = tuple(p.values[n] if n >= 0 else 0.0 for n in nodes)

    def _inline(self, rule: Graph, bound: dict[str, int]) -> int:
        from .rules import inline

        return inline(rule, bound, self.constant, self.apply)

    def _straight(self, a: int) -> bool:
        """Whether node a's series is linear in t whatever the point: an input, or c·x, x ± c of one."""
        p = self.p
        if p.kinds[a] == "input":
            return True
        return (
            p.kinds[a] == "linear" and p.ops[a] is not _POW and all(p.kinds[x] in ("input", "const") for x in p.args[a])
        )

    def _integer_power(self, u: int, n: int) -> int:
        """u^n by repeated squaring: products, which need no division by u₀ = 0."""
        result, square = -1, u
        while n:
            if n & 1:
                result = square if result < 0 else self.apply(_MUL, (result, square))
            n >>= 1
            if n:
                square = self.apply(_MUL, (square, square))
        return self.constant(1.0) if result < 0 else result


def _equal_recip(b: _Builder, a: tuple[int, ...]) -> int:
    return b.apply(_DIV, (b.constant(1.0), a[0]))  # 1/u: the quotient recurrence


def _equal_recip2(b: _Builder, a: tuple[int, ...]) -> int:
    return b.apply(_DIV, (b.constant(1.0), b.apply(_MUL, a)))  # 1/(p·q)


def _equal_logb(b: _Builder, a: tuple[int, ...]) -> int:
    return b.apply(_DIV, (b.apply(_LOG, (a[0],)), b.apply(_LOG, (a[1],))))  # ln x / ln b


def _equal_logbd(b: _Builder, a: tuple[int, ...]) -> int:
    lb = b.apply(_LOG, (a[1],))  # ln x / (b·ln² b)
    return b.apply(_DIV, (b.apply(_LOG, (a[0],)), b.apply(_MUL, (a[1], b.apply(_POW, (lb, b.constant(2.0)))))))


def _equal_powd(b: _Builder, a: tuple[int, ...]) -> int:
    return b.apply(_MUL, (a[1], b.apply(_POW, (a[0], b.apply(_SUB, (a[1], b.constant(1.0)))))))  # b·a^(b-1)


def _equal_powlog(b: _Builder, a: tuple[int, ...]) -> int:
    return b.apply(_MUL, (b.apply(_POW, a), b.apply(_LOG, (a[0],))))  # a^b·ln a


# Operations that keep a first derivative exact at the edges of the doubles (recip2 for 1/(a·b),
# logbd, ...) or whose own rules would unfold far (powd's rule calls powd again): past order 1
# their series is that of the plain expression they equal, made of the table's operations.
_EQUAL: dict[str, Callable[[_Builder, tuple[int, ...]], int]] = {
    "recip": _equal_recip,
    "recip2": _equal_recip2,
    "logb": _equal_logb,
    "logbd": _equal_logbd,
    "powd": _equal_powd,
    "powlog": _equal_powlog,
}


def build(graph: Graph, values: list[float], seed: Mapping[int, float]) -> tuple[Program, list[int]]:
    """The program for ``graph`` at a point (its primal ``values``), seeded along ``seed``
    ({input node: direction}); and, for each graph node the output needs, its program node."""
    b = _Builder()
    needed = graph.needed
    mapped = [-1] * len(graph)
    for i in range(graph.n_inputs):
        d = seed.get(i, 0.0)
        mapped[i] = b.seed(values[i]) if d != 0.0 else b.constant(values[i])
        b.p.origin[mapped[i]] = i
    for i in range(graph.n_inputs, graph.n_leaves):
        mapped[i] = b.constant(values[i])
    flows = graph.flows  # not flows_at: hypot's partial is 0 at a = 0, yet its series is not
    first = graph.n_leaves
    for i in range(first, len(graph)):
        if not needed[i]:
            continue
        op, args = graph.ops[i], graph.args[i]
        fa, fb = flows[i - first]
        if (fa < 0 or b.p.is_const(mapped[fa])) and (fb < 0 or b.p.is_const(mapped[fb])):
            mapped[i] = b.constant(values[i])  # carries no series: floor, a constant
        else:
            mapped[i] = b.apply(op, tuple(mapped[a] for a in args))
            b.unfold()
        if b.p.origin[mapped[i]] < 0:
            b.p.origin[mapped[i]] = i
    return b.p, mapped


def run(program: Program, seed_of: Mapping[int, float], order: int) -> list[list[float]]:
    """Every node's coefficients 0 … ``order``; ``seed_of`` gives each input node's direction."""
    p = program
    n = len(p)
    series: list[list[float]] = [[x] for x in p.values]
    zeros = [0.0] * order
    nans = [math.nan] * order
    steps: list[tuple[list[float], Callable[[int], float]]] = []
    for i in range(n):
        kind = p.kinds[i]
        if kind == "const":
            series[i].extend(zeros)
        elif kind != "input" and p.values[i] != p.values[i]:
            series[i].extend(nans)  # where the value is nan, every derivative is (log at -1, inf - inf)
        elif kind == "input":
            series[i].extend([seed_of[i], *zeros[1:]] if order else [])
        else:
            steps.append((series[i], _step(p, i, series, order)))
    for k in range(1, order + 1):
        for own, step in steps:
            own.append(step(k))
    return series


def _step(p: Program, i: int, series: list[list[float]], order: int) -> Callable[[int], float]:
    """Coefficient k of node i from what is known in round k (arguments up to k, partials below k)."""
    kind, args, active = p.kinds[i], p.args[i], p.active[i]
    w = series[i]
    ins = [series[a] for a in args]
    terms = [(ins[k], p.first[i][k]) for k in range(len(args)) if active[k]]

    def tangent() -> float:  # coefficient 1 as forward mode computes it
        if len(terms) == 1:
            return terms[0][1] * terms[0][0][1]
        (a, pa), (b, pb) = terms
        return pa * a[1] + pb * b[1]

    if kind == "linear":
        sources = [series[n] for n in p.partials[i] if n >= 0] if p.ops[i] is _POW else None
        if sources:  # u^n by products
            src = sources[0]
            return lambda k: src[k]
        pairs = [(ins[k], f) for k, f in enumerate(p.factors[i]) if active[k]]
        if len(pairs) == 1:
            (a, f) = pairs[0]
            if f == 1.0:
                return lambda k: a[k]
            if f == -1.0:
                return lambda k: -a[k]
            return lambda k: f * a[k]
        (a, fa), (b, fb) = pairs
        if fa == 1.0 and fb == 1.0:
            return lambda k: a[k] + b[k]
        if fa == 1.0 and fb == -1.0:
            return lambda k: a[k] - b[k]
        return lambda k: fa * a[k] + fb * b[k]
    if kind == "mul":
        a, b = ins

        def product(k: int) -> float:
            s = sum(map(mul, a[: k + 1], b[k::-1]))
            return s if s == s else _sum_nonzero(a[: k + 1], b[k::-1])

        return product
    if kind == "square":
        a = ins[0]

        def square(k: int) -> float:
            h = (k + 1) // 2
            s = sum(map(mul, a[:h], a[k : k - h : -1]))
            s += s
            s = s + a[h] * a[h] if k % 2 == 0 else s
            return s if s == s else _sum_nonzero(a[: k + 1], a[k::-1])

        return square
    if kind == "div":
        a, b = ins
        b0 = b[0]
        divide = ieee.div if b0 == 0.0 else float.__truediv__
        numerator = active[0]

        def quotient(k: int) -> float:
            if k == 1:
                return tangent()
            s = sum(map(mul, b[1 : k + 1], w[k - 1 :: -1]))
            return divide((a[k] if numerator else 0.0) - s, b0)

        return quotient
    if kind == "powc":
        u = ins[0]
        r1 = p.factors[i][0] + 1.0
        u0 = u[0]
        ju = [0.0]
        scaled_power: list[Callable[[int], float]] = []
        products = series[p.partials[i][0]] if p.partials[i] else None  # u^n by products, for whole n
        linear = [True]  # u_j == 0 for 2 ≤ j ≤ k so far: each recurrence step is one term, no cancellation

        def power(k: int) -> float:
            if k == 1 and _power_out_of_range(u0, w[0], r1 - 1.0, u[1], order):
                scaled_power.append(_scaled_power(u, r1 - 1.0))
            if k >= 2 and linear[0] and u[k] != 0.0:
                linear[0] = False
                scaled_power.clear()  # its ŵ_k would grow as (u₁/u₀)^k times the rounding of the sums
            ju.append(k * u[k])
            if scaled_power:
                c = scaled_power[0](k)
                return tangent() if k == 1 else c
            if products is not None and not linear[0]:
                return products[k]
            if k == 1:
                return tangent()
            s = r1 * sum(map(mul, ju[1 : k + 1], w[k - 1 :: -1])) - k * sum(map(mul, u[1 : k + 1], w[k - 1 :: -1]))
            return ieee.div(s, k * u0)

        return power
    if kind == "same":
        src = series[p.partials[i][0]]
        return lambda k: tangent() if k == 1 else src[k]
    if kind == "powv":
        q = series[p.partials[i][0]]  # b·log(a)
        jq = [0.0]

        def exp_of(k: int) -> float:
            jq.append(k * q[k])
            if k == 1:
                return tangent()
            return sum(map(mul, jq[1 : k + 1], w[k - 1 :: -1])) / k

        return exp_of
    # The generic rule: k·w_k = Σ_j j·u_j·[f'(u)]_{k-j}, over each active argument.
    parts = [(ins[k], series[p.partials[i][k]], [0.0]) for k in range(len(args)) if active[k]]
    if len(parts) == 1:
        ((u, d, ju),) = parts

        def rule(k: int) -> float:
            ju.append(k * u[k])
            return sum(map(mul, ju[1 : k + 1], d[k - 1 :: -1])) / k

        return rule
    (u, du, ju), (x, dx, jx) = parts

    def rule2(k: int) -> float:
        ju.append(k * u[k])
        jx.append(k * x[k])
        return (sum(map(mul, ju[1 : k + 1], du[k - 1 :: -1])) + sum(map(mul, jx[1 : k + 1], dx[k - 1 :: -1]))) / k

    return rule2


def _sum_nonzero(a: list[float], b: list[float]) -> float:
    """Σ aⱼ·bⱼ over the terms with no factor exactly 0: an overflowed coefficient (inf) times
    a structural 0 (past a polynomial's degree) is no term, not nan."""
    return sum(x * y for x, y in zip(a, b, strict=True) if x != 0.0 and y != 0.0)


def _ldexp(x: float, n: int) -> float:
    """x·2ⁿ, inf (not an error) past the largest double."""
    try:
        return math.ldexp(x, n)
    except OverflowError:
        return math.copysign(math.inf, x)


def _power_out_of_range(u0: float, w0: float, r: float, u1: float, order: int) -> bool:
    """Whether u^r's plain recurrence, which starts from w₀ = u₀^r, would leave the doubles.

    Its coefficients are about u₀^r·(u₁/u₀)^k; where they stay well in range it keeps
    its digits, and its results bit for bit.
    """
    if u0 == 0.0 or not _finite(u0) or not _finite(u1) or abs(r) > 1000.0:
        return False
    if not _finite(w0) or abs(w0) < 2.0**-960:
        return True
    if u1 == 0.0:
        return False
    top = math.log2(abs(w0)) + order * (math.log2(abs(u1)) - math.log2(abs(u0)))
    return not -960.0 < top < 960.0


def _scaled_power(u: list[float], r: float) -> Callable[[int], float]:
    """u^r with the series scaled so no coefficient under- or overflows on the way.

    With u₀ = m·2ᴱ and σ = 2ᵉ ≈ u₀/u₁, u(σs) = u₀·(1 + Σ vⱼ·sʲ), vⱼ = uⱼ·σʲ/u₀; the
    coefficients ŵ of (1 + V)^r follow k·ŵ_k = Σ_j (r·j − (k−j))·vⱼ·ŵ_{k−j}, and
    w_k = u₀^r·σ^(−k)·ŵ_k = m^r·2^(E·r − e·k)·ŵ_k, the power of two applied last (exact).
    """
    from fractions import Fraction

    u0 = u[0]
    m, big_e = math.frexp(u0)
    u1 = u[1]
    e = 0 if u1 == 0.0 else round(math.log2(abs(u0)) - math.log2(abs(u1)))
    er = Fraction(big_e) * Fraction(r)
    n0 = math.floor(er)
    base = math.pow(m, r) * 2.0 ** float(er - n0)  # m^r·2^frac(E·r): in [2^-|r|, 2^|r|+1]
    v = [0.0]
    wh = [1.0]

    def power(k: int) -> float:
        v.append(_ldexp(u[k], e * k - big_e) / m)
        s = 0.0
        for j in range(1, k + 1):
            vj = v[j]
            if vj != 0.0:
                s += (r * j - (k - j)) * vj * wh[k - j]
        wh.append(s / k)
        return _ldexp(wh[k] * base, n0 - e * k)

    return power


# Results.


@dataclass
class TaylorResult:
    """The Taylor coefficients of f(p + t·d) to order K, and the derivatives k!·coefficient."""

    graph: Graph
    point: dict[str, float]
    direction: dict[str, float]  # the direction d, one entry per variable it moves
    wrt: str | None  # the variable, when d is one variable's unit vector (--wrt)
    order: int
    coefficients: list[float]  # f⁽ᵏ⁾/k! along d, k = 0 … order
    program: Program | None = None  # kept for a trace
    series: list[list[float]] | None = None
    mapped: list[int] | None = None  # graph node -> program node (-1: not needed)
    warnings: list[str] = field(default_factory=list)

    @property
    def value(self) -> float:
        return self.coefficients[0]

    # Where coefficients came from a run along 2^m·d (they would underflow along d): the
    # coefficient of that run and m·k, per order (None: every order is as run along d).
    shifted: list[tuple[float, int]] | None = None

    @property
    def derivatives(self) -> list[float]:
        """d^k/dt^k f(p + t·d) at t = 0, k = 0 … order."""
        if self.shifted is not None:
            return [scaled(c, k, shift) for k, (c, shift) in enumerate(self.shifted)]
        return [scaled(c, k) for k, c in enumerate(self.coefficients)]


@dataclass
class MixedResult:
    """A mixed partial ∂^|α|f/∂x^α, from univariate expansions along integer directions."""

    graph: Graph
    point: dict[str, float]
    powers: dict[str, int]  # α: how often each variable is differentiated by
    value: float
    derivative: float
    directions: list[tuple[dict[str, int], float, Fraction]]  # (s, [t^K] f(p + t·s), weight)
    warnings: list[str] = field(default_factory=list)
    coefficient: float = math.nan  # ∂^αf/α!: Σ weight·coefficient over the directions, before × α!
    interpolation_error: float = math.nan  # (K+2)·2⁻⁵²·α!·Σ|weight·coefficient|: the rounding error it may carry

    @property
    def order(self) -> int:
        return sum(self.powers.values())


def scaled(c: float, k: int, shift: int = 0) -> float:
    """c·k!·2^(−shift) without under- or overflowing on the way: inf only when the product
    itself is out of range."""
    f = math.factorial(k)
    if shift and c != 0.0 and _finite(c):
        from fractions import Fraction

        try:
            return float(Fraction(c) * f / (1 << shift) if shift > 0 else Fraction(c) * f * (1 << -shift))
        except OverflowError:
            return math.copysign(math.inf, c)
    try:
        return c * f
    except OverflowError:  # k! itself is past the largest double (k > 170)
        if not _finite(c) or c == 0.0:
            return c * math.inf if c != 0.0 else 0.0
        from fractions import Fraction

        try:
            return float(Fraction(c) * f)
        except OverflowError:
            return math.copysign(math.inf, c)


def _check_order(order: int) -> int:
    if isinstance(order, bool) or not isinstance(order, int) or not 0 <= order <= MAX_ORDER:
        raise ArgumentError(f"the order must be a whole number from 0 to {MAX_ORDER}, not {order!r}")
    return order


def expand(
    graph: Graph,
    point: Mapping[str, float],
    order: int,
    wrt: str | None = None,
    direction: Mapping[str, float] | None = None,
    record: bool = False,
) -> TaylorResult:
    """The Taylor expansion of f(p + t·d) to ``order``, d the unit vector of ``wrt`` or ``direction``.

    With ``record`` the result keeps every node's series, for a trace.
    """
    graph.require_one_output("deriv")
    order = _check_order(order)
    inputs = input_values(graph, point)
    if (wrt is None) == (direction is None):
        if wrt is None and direction is None and graph.n_inputs == 1:
            wrt = graph.variables[0]
        elif wrt is None:
            raise ArgumentError(
                f"the formula has {counted(graph.n_inputs, 'variable')}: "
                "give one to differentiate by (wrt) or a direction"
            )
        else:
            raise ArgumentError("give one variable to differentiate by (wrt) or one direction, not both")
    if wrt is not None:
        if wrt not in graph.variables:
            raise PointError(f"wrt {graph._unknown_message(wrt)}")
        seed = {graph.variables.index(wrt): 1.0}
    else:
        from .derivatives import direction_vector

        seed = direction_vector(graph, direction or {})
        if any(not _finite(x) for x in seed.values()):
            raise PointError("the direction must be finite")
    values = primal.sweep(graph, inputs)
    program, mapped = build(graph, values, seed)
    seed_of = {mapped[i]: d for i, d in seed.items() if d != 0.0}
    series = run(program, seed_of, order)
    out = series[mapped[graph.output]]
    shifted, lost = _rescale(program, seed_of, order, series, mapped[graph.output])
    names = graph.variables
    result = TaylorResult(
        graph, dict(zip(names, inputs, strict=True)), {names[i]: d for i, d in seed.items() if d != 0.0},
        wrt, order, list(out),
    )  # fmt: skip
    if shifted is not None:
        result.shifted = shifted
        result.coefficients = [c if m == 0 else _ldexp(c, -m) for c, m in shifted]
    if record:
        result.program, result.series, result.mapped = program, series, mapped
    result.warnings = taylor_warnings(graph, values, [i for i, d in seed.items() if d != 0.0], order)
    result.warnings += _program_kinks(program, series, mapped, order)
    result.warnings += _nonfinite(graph, program, series, mapped, result)
    result.warnings += _power_out_of_doubles(graph, program, series, order)
    if lost is not None:
        k, node = lost
        where = _where(graph, program.origin[node]) if program.origin[node] >= 0 else program.ops[node].name
        result.warnings.append(
            f"the Taylor coefficients underflow from order {k} on (order {k} of {where} is below the normal "
            f"doubles): derivatives of order {k} and higher may have lost digits or be 0"
        )
    return result


_TINY = 2.0**-1022  # the smallest normal double
_RESCALES = 6


def _first_out_of_range(p: Program, series: list[list[float]], upto: int, strict: bool) -> tuple[int, int] | None:
    """The first order ≤ upto (and its node) where a coefficient is subnormal, or with ``strict``
    not finite, among the nodes whose value is finite."""
    first: tuple[int, int] | None = None
    for i, s in enumerate(series):
        if p.kinds[i] == "const" or not _finite(s[0]):
            continue
        last = upto if first is None else first[0] - 1
        for k in range(1, last + 1):
            c = s[k]
            if (c != 0.0 and abs(c) < _TINY) or (strict and not _finite(c)):
                first = (k, i)
                break
    return first


def _rescale(
    p: Program, seed_of: Mapping[int, float], order: int, series: list[list[float]], out: int
) -> tuple[list[tuple[float, int]] | None, tuple[int, int] | None]:
    """Where coefficients underflow, rerun along 2^m·d: Taylor recurrences are homogeneous, so
    coefficient k is 2^(m·k) times the one along d, bit for bit wherever nothing leaves the
    normal doubles. Each rerun is kept only for the orders past what earlier runs covered and
    below its own first coefficient out of range, so no order gets worse. Returns the
    per-order (coefficient, m·k), or None when nothing underflowed, and where digits are
    still lost (order, node), or None."""
    bad = _first_out_of_range(p, series, order, strict=False)
    if bad is None:
        return None, None
    covered = bad[0]  # orders below are right as run
    shifted = [(c, 0) for c in series[out]]
    m = 0
    for _ in range(_RESCALES):
        c = series[out]
        k1 = next((k for k in range(covered - 1, 0, -1) if abs(c[k]) >= _TINY and _finite(c[k])), None)
        if k1 is None:
            break
        step = math.ceil(-math.log2(abs(c[k1])) / covered)  # order `covered` brought up to about 2^0
        if step <= 0:
            break
        m += step
        series = run(p, {i: math.ldexp(d, m) for i, d in seed_of.items()}, order)
        end = _first_out_of_range(p, series, order, strict=True)
        top = order if end is None else end[0] - 1
        if top < covered:
            break
        c = series[out]
        for k in range(covered, top + 1):
            shifted[k] = (c[k], m * k)
        covered = top + 1
        if end is None:
            break
    return shifted, (None if covered > order else (covered, bad[1]))


def taylor_warnings(graph: Graph, values: list[float], seeds: list[int], order: int) -> list[str]:
    """Unused statements, the first value that is not finite, and the first kink on the way."""
    found = unused_warnings(graph)
    needed = graph.needed
    if not _finite(sum(values)):
        first = next((i for i, v in enumerate(values) if needed[i] and not _finite(v)), None)
        if first is not None:
            found.append(f"{_where(graph, first)} is {_word(values[first])}: the first value that is not finite")
    if seeds and graph.kinked and order >= 1:
        depends = primal.active_nodes(graph, seeds, every_edge=True)
        kinks = [i for i in graph.kinked if depends[i] and needed[i] and _at_kink(graph, values, i)]
        if kinks:
            what = "a derivative" if order == 1 else f"a derivative of any order up to {order}"
            n = len(kinks) - 1
            more = f" ({counted(n, 'more operation')} {'is at a kink' if n == 1 else 'are at kinks'})" if n else ""
            found.append(
                f"{_where(graph, kinks[0])} is at a point where it has no derivative; {what} there is a "
                f"convention: adcli uses {graph.ops[kinks[0]].kink[1]} (see Numerical conventions in the README){more}"
            )
    return found


def _program_kinks(p: Program, series: list[list[float]], mapped: list[int], order: int) -> list[str]:
    """Kinks met only inside a rule (sqrt's rule holds abs(v)): a higher derivative there is a convention too."""
    if order < 2:
        return []
    for i in range(len(p)):
        op = p.ops[i]
        if p.origin[i] >= 0 or not isinstance(op, Op) or op.kink is None or p.kinds[i] == "const":
            continue
        vals = [p.values[a] for a in p.args[i]]
        if op.kink[0](*vals, p.values[i]):
            return [
                f"a derivative of order 2 or more meets {op.name} inside the rule of {p.ops[p.owner[i]].name} at a "
                f"point where it has no derivative: adcli uses {op.kink[1]} there "
                "(see Numerical conventions in the README)"
            ]
    return []


def _power_out_of_doubles(graph: Graph, p: Program, series: list[list[float]], order: int) -> list[str]:
    """A constant power u^r run by the plain recurrence (u not linear in t, r not a whole 3 … 1024)
    whose value u₀^r under- or overflows though u₀ is a finite nonzero number: every higher
    coefficient grows from that w₀."""
    for i in range(len(p)):
        if p.kinds[i] != "powc" or p.partials[i]:
            continue
        u = series[p.args[i][0]]
        w0 = p.values[i]
        if u[0] == 0.0 or not _finite(u[0]) or (_finite(w0) and abs(w0) >= _TINY):
            continue
        if not any(u[j] != 0.0 for j in range(2, order + 1)):
            continue
        where = _where(graph, p.origin[i]) if p.origin[i] >= 0 else f"pow inside the rule of {p.ops[p.owner[i]].name}"
        value = _word(w0) if not _finite(w0) else "0" if w0 == 0.0 else f"{w0!r} (subnormal)"
        return [
            f"{where} is {value} though its base is not 0: it under- or overflows the "
            "doubles, so its higher coefficients may be 0 or inexact"
        ]
    return []


def _nonfinite(graph: Graph, p: Program, series, mapped, result: TaylorResult) -> list[str]:
    out = result.coefficients
    bad = next((k for k in range(1, len(out)) if not _finite(out[k])), None)
    if bad is None:
        return []
    # Where a coefficient first stops being finite, in evaluation order.
    for i in range(graph.n_inputs, len(graph)):
        node = mapped[i]
        if node < 0 or not _finite(p.values[node]):
            continue
        s = series[node]
        k = next((k for k in range(1, len(s)) if not _finite(s[k])), None)
        if k is not None:
            return [
                f"the derivative of order {bad} is {_word(out[bad])}; the first coefficient that is not finite is "
                f"order {k} of {_where(graph, i)}"
            ]
    return [f"the derivative of order {bad} is {_word(out[bad])}"]


# Mixed partials by interpolation.


def parse_monomial(text: str, variables: Iterable[str]) -> dict[str, int]:
    """``x^2*y`` (also ``x*x*y``, ``x^2 y``) as {x: 2, y: 1}, in the formula's order of variables."""
    import re

    known = list(variables)
    powers: dict[str, int] = {}
    pieces = [piece for piece in re.split(r"[*\s]+", text.strip()) if piece]
    if not pieces:
        raise PointError("--mixed needs a product of variables, such as x^2*y")
    for piece in pieces:
        match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)(?:(?:\^|\*\*)(\d+))?", piece)
        if match is None:
            raise PointError(f"--mixed reads a product of variables with whole powers (x^2*y), not {piece!r}")
        name, power = match.group(1), int(match.group(2) or 1)
        if name not in known:
            raise PointError(f"--mixed names '{name}', which is not a variable of the formula")
        powers[name] = powers.get(name, 0) + power
    powers = {name: powers[name] for name in known if powers.get(name)}
    if not powers:
        raise PointError("--mixed needs at least one derivative (a power of 0 takes none)")
    return powers


def _compositions(total: int, parts: int) -> list[tuple[int, ...]]:
    """Every tuple of ``parts`` whole numbers ≥ 0 summing to ``total``, in lexicographic order."""
    out: list[tuple[int, ...]] = []
    stack: list[tuple[int, ...]] = [()]
    while stack:
        head = stack.pop()
        if len(head) == parts - 1:
            out.append((*head, total - sum(head)))
            continue
        left = total - sum(head)
        stack.extend((*head, j) for j in range(left, -1, -1))
    return out if parts > 0 else [()]


def interpolation_weights(powers: tuple[int, ...]) -> list[tuple[tuple[int, ...], Fraction]]:
    """Directions s (integers, |s| = K) and exact weights w with Σ w·[t^K] f(p + t·s) = ∂^α f/α!.

    [t^K] f(p + t·s) = Σ_{|β|=K} s^β·∂^β f/β!: one equation per direction on the simplex
    lattice, whose matrix (s^β) is invertible (Griewank, Utke & Walther 2000). Solved
    exactly in fractions; directions of weight 0 are left out.
    """
    from fractions import Fraction

    total = sum(powers)
    betas = _compositions(total, len(powers))
    dirs = betas  # the lattice points of the simplex |s| = K
    index = betas.index(tuple(powers))
    # Solve Mᵀ·w = e_α, M[s][β] = s^β, by Gauss-Jordan elimination over the rationals.
    n = len(betas)
    rows = [[Fraction(math.prod(s**e for s, e in zip(d, beta, strict=True))) for d in dirs] for beta in betas]
    rhs = [Fraction(int(j == index)) for j in range(n)]
    for col in range(n):
        pivot = next(r for r in range(col, n) if rows[r][col] != 0)
        rows[col], rows[pivot] = rows[pivot], rows[col]
        rhs[col], rhs[pivot] = rhs[pivot], rhs[col]
        inv = 1 / rows[col][col]
        rows[col] = [x * inv for x in rows[col]]
        rhs[col] *= inv
        for r in range(n):
            if r != col and rows[r][col] != 0:
                f = rows[r][col]
                rows[r] = [x - f * y for x, y in zip(rows[r], rows[col], strict=True)]
                rhs[r] -= f * rhs[col]
    return [(d, w) for d, w in zip(dirs, rhs, strict=True) if w != 0]


MAX_MIXED_DIRECTIONS = 2000
# Expansions × order²: a bound on the work (and on the exact weights' size), a few seconds at most.
MAX_MIXED_WORK = 250_000


def mixed_partial(graph: Graph, point: Mapping[str, float], powers: Mapping[str, int] | str) -> MixedResult:
    """∂^|α|f/∂x^α at ``point`` (``powers`` as {x: 2, y: 1} or "x^2*y"), from directional expansions:
    no truncation error, a rounding error up to ``interpolation_error``."""
    graph.require_one_output("deriv")
    if isinstance(powers, str):
        powers = parse_monomial(powers, graph.variables)
    elif isinstance(powers, Mapping):
        for name, k in powers.items():
            if isinstance(k, bool) or not isinstance(k, int):
                raise ArgumentError(f"the power of '{name}' must be a whole number ≥ 0, not {k!r}")
        powers = {name: k for name, k in powers.items() if k != 0}
        for name, k in powers.items():
            if name not in graph.variables:
                raise PointError(f"the mixed partial {graph._unknown_message(name)}")
            if k < 0:
                raise PointError(f"the power of '{name}' must be a whole number ≥ 0")
        if not powers:
            raise PointError("a mixed partial needs at least one derivative")
    else:
        raise ArgumentError(
            f'the mixed partial is a monomial such as "x^2*y" or {{"x": 2, "y": 1}}, not {kind_of(powers)}'
        )
    names = list(powers)
    total = _check_order(sum(powers.values()))
    expansions = math.comb(total + len(names) - 1, total)
    if expansions > MAX_MIXED_DIRECTIONS:
        raise AdcliError(
            f"a mixed partial of order {total} in {counted(len(names), 'variable')} needs more than "
            f"{MAX_MIXED_DIRECTIONS:,} directional expansions"
        )
    if expansions * total * total > MAX_MIXED_WORK:  # each expansion costs order² per operation
        raise AdcliError(
            f"a mixed partial of order {total} in {counted(len(names), 'variable')} needs {expansions:,} "
            f"expansions of order {total}, more than adcli takes on (at most {MAX_MIXED_WORK:,} "
            "expansions × order²; x^60*y is about the largest in two variables)"
        )
    alpha = tuple(powers[name] for name in names)
    weights = interpolation_weights(alpha)
    directions = []
    acc = 0.0
    value = math.nan
    warnings: list[str] = []
    for s, w in weights:
        d = {name: float(x) for name, x in zip(names, s, strict=True) if x}
        r = expand(graph, point, total, direction=d)
        value = r.value
        c = r.coefficients[total]
        acc += float(w) * c
        directions.append(({name: x for name, x in zip(names, s, strict=True) if x}, c, w))
        warnings += [x for x in r.warnings if x not in warnings]
    factorial = math.prod(math.factorial(k) for k in alpha)
    result = MixedResult(
        graph, dict(zip(graph.variables, input_values(graph, point), strict=True)), dict(powers), value,
        acc * factorial, directions, warnings, acc,
    )  # fmt: skip
    if not _finite(result.derivative) and not any("not finite" in x for x in warnings):
        result.warnings.append(f"the mixed partial is {_word(result.derivative)}")
    # No truncation error, but each coefficient carries a rounding error relative to itself,
    # and the weights mix them: the error scales with Σ|wᵢ·cᵢ|, not with the result.
    magnitude = math.fsum(abs(float(w) * c) for _, c, w in directions) * factorial
    result.interpolation_error = (total + 2) * 2.0**-52 * magnitude
    bound, derivative = result.interpolation_error, result.derivative
    if _finite(bound) and _finite(derivative) and magnitude > 1000.0 * abs(derivative):
        what = (
            "it is below its rounding error and may be 0"
            if abs(result.derivative) <= result.interpolation_error
            else "the interpolation cancels more than 3 digits"
        )
        result.warnings.append(
            f"the mixed partial is {result.derivative:.6g} ± {result.interpolation_error:.2g} (a bound on the "
            f"interpolation's rounding): {what}"
        )
    return result
