"""Batches of points: the primal, reverse and forward sweeps over arrays, one chunk of rows at a time.

Every node of the graph is an array over the rows of a chunk. The engine reads the same
graph and the same table of rules as the scalar engines: each operation's value is a
numpy function below (same IEEE results as adcli/core/ieee.py: nan outside the domain,
inf at poles, never a warning), and each local partial is the operation's rule formula
(rules.rule_graph) run on arrays with those functions — no second copy of the rules.

`compile_batch` turns a graph into a `Program` once: a list of array operations (values,
partials, products and sums of the sweep), with constants folded by the scalar table and
each register dropped after its last use. Running it on a chunk is a loop over that list.

The sweeps follow the scalar ones exactly (primal.py, reverse.sweep, forward.sweep):
only active nodes the output needs take part, an edge whose partial is the constant 0
carries nothing, and a select (relu, min, abs, …) whose partial is 0 at a row passes
*nothing* at that row — not g·0, which is nan for an infinite g. Where a select may close
an edge, each adjoint (or tangent) carries a mask of the rows it reached, and its
unreached rows hold -0.0, the identity of IEEE addition, so sums are the scalar sums.
Where an operation's value is nan in a row, every partial of it is nan in that row
(primal.rules_at): the primal sweep notes such rows, once per operation and chunk.

The rule operations that only IEEE-exact steps make up (recip, recip2, divsq, atand) are
the scalar functions' own steps on arrays, bit for bit; those that call log, pow or hypot
(powd, powlog, logbd, hypotd) are within an ulp or so of them, as numpy's libm functions
are of Python's, and hand the rows where their fast formula cannot be trusted to the scalar
function itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core import ieee, ops
from ..core.ops import BY_NAME
from ..errors import AdcliError, PointError
from .primal import active_nodes
from .rules import inline, rule_graph

if TYPE_CHECKING:
    from ..core.graph import Graph

Array = np.ndarray


# Values: one numpy function per operation of the table, IEEE results as ieee.py.


def _pow(x, y):
    return np.where(y == 2.0, x * x, np.power(x, y))  # a square is x·x, as ieee.pow


def _arrays(*args) -> list[Array]:
    """The arguments as float arrays of one shape (a constant argument is a Python float)."""
    return list(np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in args)))


def _by_rows(out: Array, bad: Array, fn: Callable[..., float], *args: Array) -> Array:
    """``out`` with the rows ``bad`` recomputed by the scalar table's own function, row by row:
    where a vectorised formula cannot be trusted (an intermediate over- or underflowing, an edge)."""
    rows = np.flatnonzero(bad)
    if rows.size:
        out = np.array(out, dtype=np.float64)  # a copy: the fast result may be a read-only view
        columns = [a[rows].tolist() for a in args]
        out[rows] = list(map(fn, *columns))
    return out


_MIN_NORMAL = ieee.MIN_NORMAL
_SAFE = 2.0**1023  # below it a power that numpy and libm round an ulp apart cannot overflow in one and not the other
_TWO53 = 2.0**53
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)  # as ops computes it


def _powd(x, y):
    """b·a^(b-1), x + x for b = 2 and 0 for b = 0 (ops.d_pow_base): numpy where its hot path
    applies, the scalar function in the rows it hands to its edge case."""
    x, y = _arrays(x, y)
    d = y - 1.0
    p = np.power(x, d)
    fast = (np.abs(p) >= 2.0 * _MIN_NORMAL) & (np.abs(p) < _SAFE) & (d + 1.0 == y) & (np.abs(y) < _TWO53)
    out = np.where(y == 2.0, x + x, np.where(y == 0.0, 0.0, y * p))
    return _by_rows(out, ~(fast | (y == 2.0) | (y == 0.0)), BY_NAME["powd"].value, x, y)


def _floor(a):
    return np.floor(a)  # as ieee.floor: the sign of a zero is kept (floor(-0.0) = -0.0)


def _ceil(a):
    return np.ceil(a)  # ceil(-0.5) = -0.0


def _relu(a):
    return np.where(a <= 0.0, 0.0, a)  # nan stays nan; -0.0 gives 0.0


def _sigmoid(a):
    z = np.exp(-np.abs(a))
    return np.where(a >= 0.0, 1.0 / (1.0 + z), z / (1.0 + z))


def _softplus(a):
    return np.where(a >= 0.0, a, 0.0) + np.log1p(np.exp(-np.abs(a)))  # nan: 0 + nan


def _minimum(a, b):
    return np.where((a <= b) | (a != a), a, b)  # ieee.minimum: a when a ≤ b; nan if either is nan


def _maximum(a, b):
    return np.where((a >= b) | (a != a), a, b)


def _step(a):
    return np.where(a > 0.0, 1.0, np.where(a == a, 0.0, np.nan))


def _below(a, b):
    return np.where(a < b, 1.0, np.where(b < a, 0.0, np.where(a == b, 0.5, np.nan)))


def _xlog(v, x):
    """v·ln x, and 0 where v is 0 for a number x (ops.xlog)."""
    return np.where((v == 0.0) & (x == x), 0.0, v * np.log(x))


def _ratio(n, *d):
    """n/(d₁·d₂·…) as ieee.ratio: mantissas divided and exponents added apart, so the only
    rounding into the subnormal range or to ±inf is the last; a zero, infinite or nan factor
    falls back to plain IEEE arithmetic. The same operations as the scalar function: bit for bit."""
    m, e = np.frexp(n)
    plain = None
    for x in d:
        mx, ex = np.frexp(x)
        special = (mx == 0.0) | ~np.isfinite(mx)
        plain = special if plain is None else plain | special
        m = m / mx
        e = e - ex
    out = np.ldexp(m, e)
    if np.any(plain):
        product = d[0]
        for x in d[1:]:
            product = product * x
        out = np.where(plain, n / product, out)
    return out


def _divsq(a, b):
    """a/b² (ops.over_square): v/b where v = a/b is a normal double, else without rounding a/b first."""
    v = a / b
    small = ~(np.abs(v) >= _MIN_NORMAL)
    return np.where(small, _ratio(a, b, b), v / b) if small.any() else v / b


def _scale(p, q):
    """The binary exponent of the larger of |p| and |q| (ops._scale_of)."""
    return np.frexp(np.maximum(np.abs(p), np.abs(q)))[1]


def _atand(p, q):
    """p/(p² + q²) by ops.atan_slope's own steps (scaled by a power of 2, exact): bit for bit."""
    p, q = _arrays(p, q)
    k = _scale(p, q)
    ps, qs = np.ldexp(p, -k), np.ldexp(q, -k)
    m, e = np.frexp(p)
    out = np.ldexp(m / (ps * ps + qs * qs), e - 2 * k)
    ap, aq = np.abs(p), np.abs(q)
    out = np.where((p == 0.0) & (q == 0.0), np.nan, out)
    out = np.where((ap == np.inf) | (aq == np.inf), np.where(ap == aq, np.nan, np.copysign(0.0, p)), out)
    return np.where((p != p) | (q != q), np.nan, out)


def _hypotd(p, q):
    """p/hypot(p, q), 0 at the origin, by ops.hypot_slope's steps (numpy's hypot of the scaled pair)."""
    p, q = _arrays(p, q)
    k = _scale(p, q)
    h = np.hypot(np.ldexp(p, -k), np.ldexp(q, -k))
    m, e = np.frexp(p)
    out = np.ldexp(m / h, e - k)
    ap, aq = np.abs(p), np.abs(q)
    out = np.where((p == 0.0) & (q == 0.0), 0.0, out)
    out = np.where(aq == np.inf, np.copysign(0.0, p), out)
    out = np.where(ap == np.inf, np.where(aq != np.inf, np.copysign(1.0, p), np.nan), out)
    return np.where((p != p) | (q != q), np.nan, out)


def _recip(a):
    return 1.0 / (a + 0.0)  # ops.recip: -0 read as +0


def _recip2(p, q):
    return _ratio(1.0, p + 0.0, q)  # ops.recip2


def _logbd(x, b):
    """ln x/(b·ln² b), 0 where ln x = 0, ±inf at b = 0 (ops.log_base_slope)."""
    lx = np.log(x)
    lb = np.log(b)
    out = _ratio(lx, b, lb, lb)
    out = np.where(b == 0.0, np.where(lx == lx, np.copysign(np.inf, lx), np.nan), out)
    return np.where(lx == 0.0, 0.0, out)


def _powlog(x, y):
    """x^y·ln x (ops.pow_log): v·ln x where its hot path applies, the scalar function in the other rows."""
    x, y = _arrays(x, y)
    v = _pow(x, y)
    fast = (v >= 2.0 * _MIN_NORMAL) & (v < _SAFE) & (x > 0.0)
    return _by_rows(v * np.log(x), ~fast, BY_NAME["powlog"].value, x, y)


def _real(a, b):
    return np.where(b == b, a, np.nan)  # ops.real: an adjoint, nan where the operation's value is nan


def _divz(a, b):
    return np.where(b != 0.0, a / b, 0.0)


def _gate(a, b):
    return np.where(b != 0.0, a * b, 0.0)


def _mapped(fn: Callable[[float], float]) -> Callable[[Array], Array]:
    """A function numpy lacks (erf), by the scalar table's own function, row by row."""

    def apply(a):
        a = np.asarray(a, dtype=np.float64)
        return np.fromiter(map(fn, a.ravel().tolist()), np.float64, a.size).reshape(a.shape)

    return apply


VALUES: dict[str, Callable[..., Array]] = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.divide,
    "neg": np.negative,
    "pow": _pow,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "asin": np.arcsin,
    "acos": np.arccos,
    "atan": np.arctan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "asinh": np.arcsinh,
    "acosh": np.arccosh,
    "atanh": np.arctanh,
    "exp": np.exp,
    "expm1": np.expm1,
    "log": np.log,
    "log1p": np.log1p,
    "log2": np.log2,
    "log10": np.log10,
    "sqrt": np.sqrt,
    "cbrt": np.cbrt,
    "abs": np.fabs,
    "sign": np.sign,
    "floor": _floor,
    "ceil": _ceil,
    "relu": _relu,
    "sigmoid": _sigmoid,
    "softplus": _softplus,
    "erf": _mapped(math.erf),
    "erfc": _mapped(math.erfc),
    "min": _minimum,
    "max": _maximum,
    "atan2": np.arctan2,
    "hypot": np.hypot,
    "logb": lambda a, b: np.log(a) / np.log(b),
    "step": _step,
    "below": _below,
    "powd": _powd,
    "powlog": _powlog,
    "xlog": _xlog,
    "divsq": _divsq,
    "atand": _atand,
    "hypotd": _hypotd,
    "divz": _divz,
    "recip": _recip,
    "recip2": _recip2,
    "logbd": _logbd,
    "real": _real,
    "gate": _gate,
    "omsq": lambda a: (1.0 - a) * (1.0 + a),  # ops.one_minus_square
    "sigmoidd": lambda a: _sigmoid(a) * _sigmoid(-a),  # ops.sigmoid_slope
    "sech2": lambda a: 4.0 * _sigmoid(2.0 * a) * _sigmoid(-2.0 * a),  # ops.sech_squared
    "erfd": lambda a: _TWO_OVER_SQRT_PI * np.exp(-a * a),  # ops.erf_slope
}
"""Operation name -> its value on arrays; every operation of ops.BY_NAME has one."""


def _constant_exponent(name: str, c: float) -> Callable[[Array], Array] | float | None:
    """pow and powd with a constant exponent c, decided once: x·x, x + x, or one numpy call."""
    if name == "pow":
        if c == 2.0:
            return np.square
        if c == 0.5:  # numpy takes x^0.5 as √x, which is -0 at -0 and nan at -inf: C's pow gives +0 and inf
            return lambda x: np.where(x == -np.inf, np.inf, np.sqrt(x) + 0.0)
        return lambda x: np.power(x, c)
    if name == "powd":
        if c == 2.0:
            return lambda x: x + x
        if c == 0.0:
            return 0.0
        d = c - 1.0

        def edge(x: float) -> float:
            return ops.d_pow_base(x, c, math.nan)

        if not (d + 1.0 == c and abs(c) < _TWO53):  # c - 1 rounded: every row is d_pow_base's edge case
            return _mapped(edge)

        def powd(x):
            p = np.power(x, d)
            a = np.abs(p)
            return _by_rows(c * p, ~((a >= 2.0 * _MIN_NORMAL) & (a < _SAFE)), edge, x)

        return powd
    return None


def _where_reached(mask, x, fill):
    return np.where(mask, x, fill)


def _nan_rows(v):
    """The rows where an operation's value is nan, or None where there are none (the usual case):
    one look over the value per operation and chunk, in the primal sweep, so the value need not be kept."""
    return np.isnan(v) if np.isnan(v).any() else None


def _nan_rule(g, rows, mask):
    """g, and nan in ``rows`` (those the sweep reached): where the value is nan, every partial is nan."""
    if rows is None:
        return g
    return np.where(rows if mask is None else rows & mask, np.nan, g)


# The program: registers hold arrays (or floats, for constants); steps write registers.

_NONE = -1


class Program:
    """A graph's sweeps for one set of variables, as a list of array operations over registers.

    ``steps`` are (function, output register, argument registers); ``frees[s]`` the
    registers step s reads for the last time. A register that holds a Python float is a
    constant, known before any row.
    """

    def __init__(self, graph: Graph, wrt: tuple[str, ...], mode: str):
        self.graph = graph
        self.wrt = wrt
        self.mode = mode
        self.registers: list[Any] = []  # constants filled in; arrays come per chunk
        self.steps: list[tuple[Callable, int, tuple[Any, ...]]] = []
        self.frees: list[tuple[int, ...]] = []
        self.value = _NONE
        self.gradient: list[int] = []
        self.kinks: list[int] = []  # registers of boolean masks: rows at a kink
        self.applied: dict[tuple[str, tuple[Any, ...]], int] = {}  # (operation, arguments) -> register
        # Derivative programs (batch_derivatives.py): name -> (shape per row, registers row-major).
        self.blocks: dict[str, tuple[tuple[int, ...], list[int]]] = {}
        self.sweeps: Any = None  # the sweeps a Jacobian's modes (or a Hessian) take

    # Building.

    def new(self, constant: Any = None) -> int:
        self.registers.append(constant)
        return len(self.registers) - 1

    def constant(self, x: float) -> int:
        return self.new(float(x))

    def is_constant(self, r: int) -> bool:
        return isinstance(self.registers[r], float)

    def emit(self, fn: Callable, *args: Any) -> int:
        """A step computing fn(args): argument ints are registers, other arguments pass as they are."""
        out = self.new()
        self.steps.append((fn, out, args))
        return out

    def apply(self, name: str, args: tuple[int, ...]) -> int:
        """Operation ``name`` on registers: folded by the scalar table when every argument is constant;
        computed once for the same arguments (a rule's cos(a) that the formula computes too, the
        recorded gradient's copy of the formula beside the formula itself)."""
        regs = self.registers
        if all(self.is_constant(a) for a in args):
            return self.constant(BY_NAME[name].value(*(regs[a] for a in args)))
        key = (name, tuple(repr(regs[a]) if self.is_constant(a) else a for a in args))  # repr: -0.0 is not 0.0
        found = self.applied.get(key)
        if found is not None:
            return found
        out = self.applied[key] = self._apply(name, args)
        return out

    def _apply(self, name: str, args: tuple[int, ...]) -> int:
        regs = self.registers
        if len(args) == 2 and self.is_constant(args[1]):
            special = _constant_exponent(name, regs[args[1]])
            if isinstance(special, float):
                return self.constant(special)
            if special is not None:
                return self.emit(special, args[0])
        return self.emit(VALUES[name], *args)

    def mul(self, g: int, p: int) -> int:
        """g·p, with the products by ±1 that IEEE makes exact left out."""
        regs = self.registers
        if self.is_constant(p) and regs[p] == 1.0:
            return g
        if self.is_constant(g) and regs[g] == 1.0:
            return p
        if self.is_constant(p) and regs[p] == -1.0:
            return self.apply("neg", (g,))
        return self.apply("mul", (g, p))

    def finish(self, keep: Iterable[int]) -> None:
        """Work out after which step each register is read for the last time."""
        last: dict[int, int] = {}
        for s, (_, _, args) in enumerate(self.steps):
            for a in args:
                if isinstance(a, int) and not isinstance(a, bool):
                    last[a] = s
        kept = set(keep)
        frees: list[list[int]] = [[] for _ in self.steps]
        for r, s in last.items():
            if r not in kept and not self.is_constant(r) and r >= self.graph.n_inputs:
                frees[s].append(r)
        self.frees = [tuple(f) for f in frees]

    # Running.

    def run(self, inputs: list[Array]) -> list[Any]:
        """The registers after one chunk: ``inputs`` are the variables' columns, in variable order."""
        regs = list(self.registers)
        regs[: len(inputs)] = inputs
        with np.errstate(all="ignore"):
            for (fn, out, args), free in zip(self.steps, self.frees, strict=True):
                regs[out] = fn(*[regs[a] if isinstance(a, int) else a for a in args])
                for r in free:
                    regs[r] = None
        return regs


class _Sweep:
    """What the backward (or forward) sweep builds per node: a register and the mask of rows reached."""

    __slots__ = ("mask", "reg")

    def __init__(self, reg: int, mask: int | None):
        self.reg = reg
        self.mask = mask  # None: every row


def compile_batch(graph: Graph, wrt: Iterable[str] | None = None, mode: str = "reverse", gradient: bool = True):
    """The graph's primal sweep and, with ``gradient``, its reverse (or forward) sweep for ``wrt``."""
    if mode not in ("reverse", "forward"):
        raise AdcliError(f"mode must be 'reverse' or 'forward', not {mode!r}")
    graph.require_one_output("a gradient" if gradient else "an evaluation")
    seeds = graph.variable_nodes(wrt) if gradient else []
    prog = Program(graph, tuple(graph.variables[s] for s in seeds), mode)
    watch = None
    if seeds:
        active = graph.varies if len(seeds) == graph.n_inputs else active_nodes(graph, seeds)
        watch = _watched(graph, active, mode)
    node, nan_rows = _primal(prog, graph, watch)
    prog.value = node[graph.output]
    keep = [prog.value]
    if seeds:
        partial = _partials(prog, graph, node)
        sweep = _reverse if mode == "reverse" else _forward
        prog.gradient = sweep(prog, graph, nan_rows, seeds, active, partial)
        prog.kinks = _kinks(prog, graph, node, seeds)
        keep += prog.gradient + prog.kinks
    prog.finish(keep)
    return prog


# The operations a formula may call whose value is nan wherever an argument is (all but pow,
# 1^nan = nan^0 = 1, and hypot, hypot(inf, nan) = inf; tests/test_batch.py checks it).
_KEEPS_NAN = frozenset(op.name for op in ops.OPERATIONS) - {"pow", "hypot"}


def _watched(graph: Graph, active: list[bool], mode: str, outputs: Iterable[int] | None = None) -> list[bool]:
    """The operations whose nan rows the sweep needs: in forward mode every active one; in reverse
    mode the outputs (``graph.output`` unless given) and the arguments of an operation that may not
    pass a nan value on. Elsewhere a nan value makes every operation above it nan up to the output,
    whose nan partials then reach it as nan adjoints: its own nan partials change nothing (see _reverse)."""
    if mode == "forward":
        return active
    watch = [False] * len(graph)
    for output in [graph.output] if outputs is None else outputs:
        watch[output] = active[output]
    needed, ops_ = graph.needed, graph.ops
    for u in range(graph.n_leaves, len(graph)):
        if needed[u] and ops_[u].name not in _KEEPS_NAN:
            for a in graph.args[u]:
                watch[a] = active[a]
    return watch


def _primal(
    prog: Program, graph: Graph, watch: list[bool] | None, inputs: list[int] | None = None
) -> tuple[list[int], dict[int, int]]:
    """Registers of the nodes' values: inputs, constants, and every operation the output needs;
    and for each operation ``watch`` marks, the register of the rows where its value is nan.
    ``inputs``: registers the variables already have (a second graph of the same variables)."""
    node = [prog.new() for _ in range(graph.n_inputs)] if inputs is None else list(inputs)
    node += [prog.constant(c) for c in graph.const_values]
    nan_rows: dict[int, int] = {}
    needed = graph.needed
    for i in range(graph.n_leaves, len(graph)):
        if not needed[i]:
            node.append(_NONE)
            continue
        node.append(prog.apply(graph.ops[i].name, tuple(node[a] for a in graph.args[i])))
        if watch is not None and watch[i] and not prog.is_constant(node[i]):
            nan_rows[i] = prog.emit(_nan_rows, node[i])
    return node, nan_rows


def _partials(prog: Program, graph: Graph, node: list[int]) -> Callable[[int, int], int]:
    """∂(node i)/∂(its argument k) as a register, from the rule formula, made once per edge."""
    made: dict[tuple[int, int], int] = {}

    def partial(i: int, k: int) -> int:
        key = (i, k)
        if key in made:
            return made[key]
        op, args = graph.ops[i], graph.args[i]
        rule = op.partials[k]
        if rule.__class__ is float:
            made[key] = r = prog.constant(rule)
            return r
        formula = rule_graph(op.name, k)
        bound = {"a": node[args[0]], "v": node[i]}
        if len(args) > 1:
            bound["b"] = node[args[1]]
        made[key] = r = inline(formula, bound, prog.constant, lambda rop, a: prog.apply(rop.name, a))
        return r

    return partial


def _term(prog: Program, op_selects: bool, g: _Sweep, p: int) -> _Sweep | None:
    """g·p along one edge, masked to the rows it passes: a select passes nothing where p is 0."""
    mask = g.mask
    if op_selects:
        if prog.is_constant(p):
            if prog.registers[p] == 0.0:
                return None
        else:
            passes = prog.emit(np.not_equal, p, 0.0)
            mask = passes if mask is None else prog.emit(np.logical_and, mask, passes)
    c = prog.mul(g.reg, p)
    if mask is not None:
        c = prog.emit(_where_reached, mask, c, -0.0)
    return _Sweep(c, mask)


def _accumulate(prog: Program, into: dict[int, _Sweep], j: int, term: _Sweep) -> None:
    """into[j] += term: the first term is the adjoint (as the scalar sweep assigns it), later ones add."""
    have = into.get(j)
    if have is None:
        into[j] = term
        return
    mask = None
    if have.mask is not None and term.mask is not None:
        mask = prog.emit(np.logical_or, have.mask, term.mask)
    into[j] = _Sweep(prog.apply("add", (have.reg, term.reg)), mask)


def _result(prog: Program, found: _Sweep | None) -> int:
    """A derivative as the scalar path reports it: 0.0 where the sweep never reached."""
    if found is None:
        return prog.constant(0.0)
    if found.mask is None:
        return found.reg
    return prog.emit(_where_reached, found.mask, found.reg, 0.0)


# Operations whose value is nan wherever an argument is: a constant adjoint may pass through
# them without its own look at their values (see _reverse).
_PASSES_NAN = frozenset({"add", "sub", "neg", "mul", "div"})


def _reverse(
    prog: Program, graph: Graph, nan_rows, seeds: list[int], active: list[bool], partial, output: int | None = None
) -> list[int]:
    """The plain backward sweep (reverse.sweep): v̄ⱼ += v̄ᵢ·∂vᵢ/∂vⱼ from the output (``graph.output``
    unless given: one row of a Jacobian) back.

    Where a value is nan every partial is nan (primal.rules_at): an adjoint that is an array
    becomes nan in those rows, once per node `_watched` marks; at the others it already is.
    An adjoint still a constant (ȳ = 1 through sums
    and constant factors) is left a constant, so its products stay folded: it is nan exactly
    where the output is (every operation on its way passes a nan value on: `_PASSES_NAN`), so
    the terms it makes with array partials, and the derivatives that are constants, take the
    output's nan rows.
    """
    if output is None:
        output = graph.output
    out_rows = nan_rows.get(output)
    first = graph.n_leaves
    bar: dict[int, _Sweep] = {}
    if active[output]:
        bar[output] = _Sweep(prog.constant(1.0), None)
    for i in range(output, first - 1, -1):
        g = bar.get(i)
        if g is None:
            continue
        op = graph.ops[i]
        edges = [(k, j) for k, j in enumerate(graph.flows[i - first][: len(graph.args[i])]) if j >= 0 and active[j]]
        constant = prog.is_constant(g.reg)
        if edges and constant and op.name not in _PASSES_NAN:  # the reasoning above holds no further
            if out_rows is not None:
                g = _Sweep(prog.emit(_nan_rule, g.reg, out_rows, g.mask), g.mask)
            constant = False
        if edges and not constant and i in nan_rows:
            g = _Sweep(prog.emit(_nan_rule, g.reg, nan_rows[i], g.mask), g.mask)
        for k, j in edges:
            term = _term(prog, op.selects, g, partial(i, k))
            if term is not None:
                if constant and out_rows is not None and not prog.is_constant(term.reg):
                    term = _Sweep(prog.emit(_nan_rule, term.reg, out_rows, term.mask), term.mask)
                _accumulate(prog, bar, j, term)
    results = [_result(prog, bar.get(s)) for s in seeds]
    if out_rows is None:
        return results
    return [
        prog.emit(_nan_rule, r, out_rows, None) if prog.is_constant(r) and s in bar else r
        for r, s in zip(results, seeds, strict=True)
    ]


def _forward(prog: Program, graph: Graph, nan_rows, seeds: list[int], active: list[bool], partial) -> list[int]:
    """One tangent sweep per variable (forward.sweep), sharing the partials."""
    one = prog.constant(1.0)
    return [_tangents(prog, graph, nan_rows, {seed: one}, [graph.output], partial)[0] for seed in seeds]


def _tangents(prog: Program, graph: Graph, nan_rows, seed: dict[int, int], outputs: list[int], partial) -> list[int]:
    """One tangent sweep seeded with ``seed`` ({input node: register of its tangent}: a column, a
    colour's columns, a direction): v̇ᵢ = Σⱼ ∂vᵢ/∂vⱼ·v̇ⱼ, nan in the rows where vᵢ is nan (every
    partial is nan there: primal.rules_at). The tangent of each of ``outputs``, 0.0 where none reaches."""
    from .forward import dependents

    first = graph.n_leaves
    needed = graph.needed
    last = max(outputs, default=-1)
    dot: dict[int, _Sweep] = {node: _Sweep(reg, None) for node, reg in seed.items()}
    for i in dependents(graph, list(seed)):
        if not needed[i] or i > last:
            continue
        op = graph.ops[i]
        found: dict[int, _Sweep] = {}
        for k, j in enumerate(graph.flows[i - first][: len(graph.args[i])]):
            t = dot.get(j) if j >= 0 else None
            if t is None:
                continue
            term = _term(prog, op.selects, t, partial(i, k))
            if term is not None:
                _accumulate(prog, found, i, term)
        if i in found:  # where the value is nan, every partial is nan: so is the tangent
            t = found[i]
            dot[i] = _Sweep(prog.emit(_nan_rule, t.reg, nan_rows[i], t.mask), t.mask) if i in nan_rows else t
    return [_result(prog, dot.get(output)) for output in outputs]


def _kinks(prog: Program, graph: Graph, node: list[int], seeds: list[int], start: int = 0) -> list[int]:
    """Masks of the rows where an operation on the way (from node ``start`` on) is at a kink
    (ops' own tests, on arrays)."""
    if not graph.kinked:
        return []
    depends = active_nodes(graph, seeds, every_edge=True)
    masks = []
    for i in graph.kinked:
        if i >= start and depends[i] and graph.needed[i]:
            args = (*(node[a] for a in graph.args[i]), node[i])
            masks.append(prog.emit(_at_kink(graph.ops[i].kink[0]), *args))
    return masks


def _at_kink(test: Callable[..., Any]) -> Callable[..., Array]:
    def at(*values):
        return np.asarray(test(*values), dtype=bool)

    return at


# Running on columns.


class BatchResult:
    """Values (and gradients) at many points: arrays with one entry per row."""

    def __init__(self, value: Array, gradient: dict[str, Array], kinks: Array | None):
        self.value = value
        self.gradient = gradient
        self.kinks = kinks  # rows at a kink of an operation on the way (None: no such operation)

    def nonfinite(self) -> Array:
        """Rows whose value or some derivative is not finite."""
        bad = ~np.isfinite(self.value)
        for column in self.gradient.values():
            bad |= ~np.isfinite(column)
        return bad


def run(prog: Program, inputs: list[Array], rows: int) -> BatchResult:
    """Run a compiled program on one chunk: ``inputs`` in variable order, each of ``rows`` entries."""
    regs = prog.run(inputs)

    def column(r: int) -> Array:
        x = regs[r]
        if isinstance(x, float) or np.ndim(x) == 0:
            return np.full(rows, x)
        return x

    gradient = {name: column(r) for name, r in zip(prog.wrt, prog.gradient, strict=True)}
    kinks = None
    if prog.kinks:
        kinks = np.zeros(rows, dtype=bool)
        for r in prog.kinks:
            kinks |= regs[r]
    return BatchResult(column(prog.value), gradient, kinks)


def _columns(graph: Graph, columns: Mapping[str, Any]) -> tuple[list[Array], int]:
    """The columns in variable order as float arrays of one length; scalars repeat for every row."""
    known = set(graph.variables)
    unknown = [name for name in columns if name not in known]
    if unknown:
        raise PointError("the columns " + graph._unknown_message(unknown[0]))
    missing = [name for name in graph.variables if name not in columns]
    if missing:
        raise PointError(f"no column for {', '.join(repr(m) for m in missing)}")
    arrays = []
    for name in graph.variables:
        try:
            arrays.append(np.asarray(columns[name], dtype=np.float64))
        except (TypeError, ValueError):
            raise PointError(f"the column '{name}' must hold numbers") from None
    lengths = {a.shape[0] for a in arrays if a.ndim > 0}
    if any(a.ndim > 1 for a in arrays) or len(lengths) > 1:
        raise PointError("the columns must be one-dimensional and of one length")
    rows = lengths.pop() if lengths else 1
    return [a if a.ndim else np.full(rows, float(a)) for a in arrays], rows


def evaluate_batch(graph: Graph, columns: Mapping[str, Any]) -> Array:
    """The formula's value at every row of ``columns`` ({variable: array}), IEEE semantics."""
    inputs, rows = _columns(graph, columns)
    return run(compile_batch(graph, gradient=False), inputs, rows).value


def gradient_batch(
    graph: Graph, columns: Mapping[str, Any], wrt: Iterable[str] | None = None, mode: str = "reverse"
) -> tuple[Array, dict[str, Array]]:
    """Value and gradient at every row: (values, {variable: ∂f/∂variable}), equal to the one-point path."""
    inputs, rows = _columns(graph, columns)
    result = run(compile_batch(graph, wrt, mode), inputs, rows)
    return result.value, result.gradient
