"""The one table of elementary operations.

Each entry states an operation's arity, its value, its local partial derivatives
and how it prints. The parser, both engines, the renderers, ``adcli functions`` and
the tests all read this table; adding a function is adding one entry here.

Each operation has one partial-derivative rule per argument (as HIPS autograd's
``defvjp``), and the rule's one source is a *formula in adcli's own language* over the
arguments ``a``, ``b`` and the operation's value ``v`` (``"cos(a)"``, ``"-v/b"``),
written with the table's own operations, so rules nest: the reverse sweep can be
recorded as a graph and differentiated again (Hessians), expanded into series (Taylor)
or run on arrays (batches), and the text people read (``adcli functions``, traces) is
printed from the same formula. A few piecewise rules are operations of their own
(`RULE_OPERATIONS`: ``step``, ``below``, ``powd``, ``powlog``, ``divz``, ...), as tinygrad
writes max's tie with ``where``; so are the pieces that keep a rule exact where the plain
formula would overflow or round to a subnormal on the way (``divsq`` for a/b², ``atand``
for a/(a²+b²), ``recip2`` for 1/(a·b)). Formulas may call them, user formulas may not.

One rule holds for the whole table and is left out of every formula: where an
operation's value is nan, every partial of it is nan (log at -1, inf - inf, 0·inf):
where the value is not a number, neither is the derivative. The engines apply it in one
place (primal.rules_at; the recorded sweep through the rule operation ``real``).

The scalar sweeps run a fast form of each rule: a Python function of floats taking the
argument values and ``v`` (or the number itself, for a constant partial such as add's
1). tests/test_rules.py checks every fast form bit for bit against its formula over
the whole table, edge values included. One rule per argument lets the engines skip
the arguments that carry no derivative: ``x^2`` never computes ∂/∂2 = v·ln x.

Conventions at points where a derivative does not exist are chosen once here and
hold in both modes (see "Numerical conventions" in the README).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from . import ieee

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

# Printing precedence: a child whose precedence is lower than its parent's needs parentheses.
SUM, PRODUCT, UNARY, POWER, ATOM = 1, 2, 3, 4, 5


class _Frozen:
    """Attributes set once, by __init__: an operation of the table is never changed in place.

    Plain classes with __slots__ rather than frozen dataclasses: a dataclass generates its
    methods with exec when its module loads, a cost every run of adcli would pay at start-up.
    Equality is identity: each entry of the table is one object.
    """

    __slots__ = ()

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable: cannot delete {name!r}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"  # type: ignore[attr-defined]


_set = object.__setattr__


class Op(_Frozen):
    """One elementary operation: value, local partials and display form.

    name, arity, value (a function of floats), partials (∂v/∂(each argument), fast form: a
    rule ``f(*args, v)`` or a constant), formulas (∂v/∂a (, ∂v/∂b): the rules' one source,
    formulas in a, b and v), summary; symbol (infix or prefix operator; empty for a function
    call) and precedence; kink: where the derivative does not exist and adcli uses a
    convention instead, (is the point there?, the convention in words), and results there
    come with a warning; spelling: how a formula calls it, where that differs from the name;
    selects: a partial that is zero because a branch is not taken (relu below 0, min's larger
    argument) passes no derivative at all, as a select does: ∞·0 there is not nan.
    """

    __slots__ = (
        "arity",
        "formulas",
        "kink",
        "name",
        "partials",
        "precedence",
        "selects",
        "spelling",
        "summary",
        "symbol",
        "value",
    )
    name: str
    arity: int
    value: Callable[..., float]
    partials: tuple[Callable[..., float] | float, ...]
    formulas: tuple[str, ...]
    summary: str
    symbol: str
    precedence: int
    kink: tuple[Callable[..., bool], str] | None
    spelling: str
    selects: bool

    def __init__(
        self,
        name: str,
        arity: int,
        value: Callable[..., float],
        partials: tuple[Callable[..., float] | float, ...],
        formulas: tuple[str, ...],
        summary: str,
        symbol: str = "",
        precedence: int = ATOM,
        kink: tuple[Callable[..., bool], str] | None = None,
        spelling: str = "",
        selects: bool = False,
    ) -> None:
        _set(self, "name", name)
        _set(self, "arity", arity)
        _set(self, "value", value)
        _set(self, "partials", partials)
        _set(self, "formulas", formulas)
        _set(self, "summary", summary)
        _set(self, "symbol", symbol)
        _set(self, "precedence", precedence)
        _set(self, "kink", kink)
        _set(self, "spelling", spelling)
        _set(self, "selects", selects)

    @property
    def rule(self) -> tuple[str, ...]:
        """The rules as people read them, printed from the formulas (``b·a^(b-1)``, ``1 + v²``)."""
        return tuple(shown(formula) for formula in self.formulas)

    @property
    def written(self) -> str:
        """The operation's name as formulas write it: logb is log(a, b)."""
        return self.spelling or self.name

    @property
    def is_function(self) -> bool:
        return not self.symbol

    def local_partials(self, *args: float) -> tuple[float, ...]:
        """∂v/∂(each argument) at ``args``."""
        v = self.value(*args)
        return tuple(d if isinstance(d, float) else d(*args, v) for d in self.partials)


class Leaf(_Frozen):
    """The two kinds of graph node that are not operations: inputs and constants."""

    __slots__ = ("arity", "name")
    name: str
    arity: int

    def __init__(self, name: str, arity: int = 0) -> None:
        _set(self, "name", name)
        _set(self, "arity", arity)


INPUT = Leaf("input")
CONST = Leaf("const")


# Partial-derivative rules that need more than one line. Each returns the true partial
# wherever it is a double: no intermediate step (a square, a product, a power) may
# overflow or round to a subnormal on the way to a result that is a normal double.

_INF = math.inf
_MIN_NORMAL = ieee.MIN_NORMAL
_TWO53 = 2.0**53
_frexp = math.frexp


def d_pow_base(x: float, y: float, v: float) -> float:
    """y·x^(y-1), taken as 0 when y == 0 (x^0 is constant, even at x = 0).

    The hot path is y·pow(x, y - 1), right wherever y - 1 is exact and the power a normal
    double; elsewhere (y - 1 rounded, as for y = 0.3 or 1e16; x^(y-1) over- or underflowing
    where y·x^(y-1) does not; x = ±0, ±inf; y = ±inf) `_d_pow_base_edge` takes over.
    """
    if y == 2.0:  # the common square: 2·x^1 is x + x, exactly
        return x + x
    if y == 0.0:
        return 0.0
    d = y - 1.0
    try:  # math.pow directly: this is the hottest rule
        p = math.pow(x, d)
    except (ValueError, OverflowError):
        return _d_pow_base_edge(x, y)
    if _MIN_NORMAL <= abs(p) < _INF and d + 1.0 == y and -_TWO53 < y < _TWO53:
        return y * p
    return _d_pow_base_edge(x, y)


def _is_even(y: float) -> bool:
    return y == math.floor(y) and math.fmod(y, 2.0) == 0.0


def _d_pow_base_edge(x: float, y: float) -> float:
    """y·x^(y-1) where the hot path cannot be trusted: limits, signed zeros, exact exponents."""
    if x != x or y != y:
        return math.nan
    ax = abs(x)
    if math.isinf(y):
        if ax != 1.0 and ax != _INF and (ax < 1.0) == (y > 0.0):
            return math.copysign(0.0, y)  # y·x^(y-1) → 0: the power decays faster than y grows
        return y * ieee.pow(x, y - 1.0)  # ±inf, or nan where there is no limit
    odd_power = _is_even(y)  # y - 1 is an odd integer: a negative base gives a negative power
    if x == 0.0 or ax == _INF:  # x^(y-1) is 0 or inf, by the sign of y - 1 (y ≠ 1 here)
        power = 0.0 if (x == 0.0) == (y > 1.0) else _INF
        return y * (-power if odd_power and math.copysign(1.0, x) < 0.0 else power)
    if x < 0.0 and y != math.floor(y):
        return math.nan  # a negative base to a fractional power is not real
    # y - 1 = d + e exactly (Knuth's two-sum), and |x|^(y-1) = h·h·|x|^e with h = |x|^(d/2),
    # a normal double wherever the result is one; the factors are multiplied as mantissas.
    d = y - 1.0
    t = d - y
    e = (y - (d - t)) + (-1.0 - t)
    try:
        h = math.pow(ax, d * 0.5)
    except OverflowError:
        h = _INF
    if h == 0.0 or h == _INF:  # beyond every double however y scales it
        r = y * h
    else:
        m1, e1 = _frexp(y)
        m2, e2 = _frexp(h)
        r = ieee.scaled(m1 * m2 * m2 * math.pow(ax, e), e1 + 2 * e2)
    return -r if odd_power and x < 0.0 else r


def pow_log(x: float, y: float, v: float) -> float:
    """∂(x^y)/∂y = x^y·ln x (``v`` is x^y), with its limits: 0 where x = 0 < y (0^y = 0 there),
    nan for a negative x (x^y is real only at integer y), and exact where x^y is subnormal or
    overflows while x^y·ln x is a normal double."""
    if _MIN_NORMAL <= v < _INF and x > 0.0:
        return v * math.log(x)
    if x == 1.0:
        return 0.0  # 1^y = 1 for every y
    if x != x or y != y or x < 0.0:
        return math.nan
    if x == 0.0:
        # 0^y is 0 for y > 0. At y <= 0 it has no derivative in y: the slope there is -inf
        # (0^y jumps from inf through 1 to 0; both one-sided slopes at y = 0 are -inf).
        return 0.0 if y > 0.0 else -_INF
    if x == _INF:
        return _INF if y > 0.0 else (math.nan if y == -_INF else 0.0)  # y = 0 is the hot path: ln inf
    if math.isinf(y):
        return v * math.log(x)  # 0·ln x (the power wins) or ±inf
    try:  # x^y = h·h with h = x^(y/2), normal wherever x^y·ln x is
        h = math.pow(x, y * 0.5)
    except OverflowError:
        return v * math.log(x)
    m1, e1 = _frexp(h)
    m2, e2 = _frexp(math.log(x))
    return ieee.scaled(m1 * m1 * m2, 2 * e1 + e2)


def _pow_log_value(a: float, b: float) -> float:
    return pow_log(a, b, ieee.pow(a, b))


def _the_a(a: float, b: float, v: float) -> float:
    return a


def _the_b(a: float, b: float, v: float) -> float:
    return b


def _the_value(a: float, v: float) -> float:
    return v


# Partials that are a value the operation already holds: its first argument ("a"), its
# second ("b") or its own value ("v"), as for ∂(a·b)/∂a = b and ∂(e^a)/∂a = e^a. The
# reverse engine reads the value instead of calling the rule.
VALUE_PARTIALS: dict[Callable[..., float], str] = {_the_a: "a", _the_b: "b", _the_value: "v"}


def xlog(v: float, x: float) -> float:
    """v·ln x, and 0 where v is 0 (for a number x): in the rules of pow's rules, 0^b·ln 0 = 0 for b > 0."""
    if v == 0.0 and x == x:
        return 0.0
    return v * ieee.log(x)


def over_square(a: float, b: float, v: float) -> float:
    """a/b² (``v`` is a/b): v/b where a/b is a normal double, else without rounding a/b first."""
    if abs(v) >= _MIN_NORMAL:
        return ieee.div(v, b)
    return ieee.ratio(a, b, b)


def _over_square_value(a: float, b: float) -> float:
    return over_square(a, b, ieee.div(a, b))


def _d_div_b(a: float, b: float, v: float) -> float:
    return -over_square(a, b, v)


def divz(a: float, b: float) -> float:
    """a / b, and 0 where b is 0: the slope of hypot at the cone's tip, by convention."""
    return ieee.div(a, b) if b != 0.0 else 0.0


def _scale_of(p: float, q: float) -> int:
    """The binary exponent of the larger of |p| and |q|: dividing both by 2 to its power brings them to [0, 1)."""
    return _frexp(max(abs(p), abs(q)))[1]


def atan_slope(p: float, q: float) -> float:
    """p/(p² + q²), without overflowing or underflowing the squares: atan2's slopes and atan's."""
    if p != p or q != q:
        return math.nan
    if abs(p) == _INF or abs(q) == _INF:
        return math.nan if abs(p) == abs(q) else math.copysign(0.0, p)  # 1/p → 0
    if p == 0.0 and q == 0.0:
        return math.nan  # the angle jumps at the origin
    k = _scale_of(p, q)
    ps, qs = math.ldexp(p, -k), math.ldexp(q, -k)  # exact, or rounded only where negligible in the sum
    m, e = _frexp(p)
    return ieee.scaled(m / (ps * ps + qs * qs), e - 2 * k)


def hypot_slope(p: float, q: float) -> float:
    """p/hypot(p, q), and 0 at the origin (the cone's tip, by convention): hypot's slopes,
    exact where hypot(p, q) would round to a subnormal or overflow."""
    if p != p or q != q:
        return math.nan
    if abs(p) == _INF:
        return math.copysign(1.0, p) if abs(q) != _INF else math.nan
    if abs(q) == _INF:
        return math.copysign(0.0, p)
    if p == 0.0 and q == 0.0:
        return 0.0
    k = _scale_of(p, q)
    h = math.hypot(math.ldexp(p, -k), math.ldexp(q, -k))  # in [0.5, 1.5)
    m, e = _frexp(p)
    return ieee.scaled(m / h, e - k)


def recip(p: float) -> float:
    """1/p, with a zero p read as +0 (1/-0 is +inf): log's slope, taken at -0 from its domain's side."""
    return ieee.div(1.0, p + 0.0)  # -0 + 0 is +0; nothing else changes


def recip2(p: float, q: float) -> float:
    """1/(p·q) without overflowing or underflowing the product, and a zero p read as +0: the
    slopes 1/(a·ln b) of the other logarithms."""
    return ieee.ratio(1.0, p + 0.0, q)


def log_base_slope(x: float, b: float) -> float:
    """ln x/(b·ln² b): 0 where ln x = 0 (log(1, b) = 0 for every b), ±inf at b = 0 (b·ln² b → 0)."""
    lx = ieee.log(x)
    if lx == 0.0:
        return 0.0
    if b == 0.0:
        return math.copysign(_INF, lx) if lx == lx else math.nan
    lb = ieee.log(b)
    return ieee.ratio(lx, b, lb, lb)


def below(a: float, b: float) -> float:
    """min's slope toward a: 1 where a is the smaller, 0 where b is, ½ at a tie (min(x, x) has slope 1)."""
    if a < b:
        return 1.0
    if b < a:
        return 0.0
    return 0.5 if a == b else math.nan


def _d_min_a(a: float, b: float, v: float) -> float:
    return below(a, b)


def _d_max_a(a: float, b: float, v: float) -> float:
    return below(b, a)


def _d_atan2_y(y: float, x: float, v: float) -> float:
    return atan_slope(x, y)  # x/(x² + y²)


def _d_atan2_x(y: float, x: float, v: float) -> float:
    return -atan_slope(y, x)


def _d_hypot_x(x: float, y: float, v: float) -> float:
    return hypot_slope(x, y)


def _log_base(x: float, b: float) -> float:
    return ieee.div(ieee.log(x), ieee.log(b))


def sech_squared(a: float) -> float:
    """sech² a = 4·σ(2a)·σ(-2a): neither cosh² (overflowing past |a| = 355) nor 1 - tanh² (cancelling)."""
    return 4.0 * ieee.sigmoid(2.0 * a) * ieee.sigmoid(-2.0 * a)


def erf_slope(a: float) -> float:
    """erf'(a) = 2/√π·e^(-a²)."""
    return _TWO_OVER_SQRT_PI * ieee.exp(-a * a)


def sigmoid_slope(a: float) -> float:
    """σ'(a) = σ(a)·σ(-a), not σ·(1 - σ): 1 - σ cancels for large a."""
    return ieee.sigmoid(a) * ieee.sigmoid(-a)


def one_minus_square(a: float) -> float:
    """1 - a², as (1-a)·(1+a): exact near ±1, where 1 - a·a cancels (the slopes of asin, acos, atanh)."""
    return (1.0 - a) * (1.0 + a)


def _zero(a: float, v: float) -> float:
    return 0.0


def step(a: float) -> float:
    """relu's slope: 1 where a > 0, 0 elsewhere (nan for nan)."""
    return 1.0 if a > 0.0 else (0.0 if a == a else math.nan)


def _step(a: float, v: float) -> float:
    return step(a)


def real(a: float, b: float) -> float:
    """a, and nan where b is nan: an adjoint passed on by an operation whose value b is nan."""
    return a if b == b else math.nan


def _u(name, value, partial, formula, summary, kink=None, selects=False):
    return Op(name, 1, value, (partial,), (formula,), summary, kink=kink, selects=selects)


def _b(name, value, partials, formulas, summary, symbol="", precedence=ATOM, kink=None, spelling="", selects=False):
    return Op(name, 2, value, partials, formulas, summary, symbol, precedence, kink, spelling, selects)


def _at_zero(a: float, v: float) -> bool:
    return a == 0.0


def _at_integer(a: float, v: float) -> bool:
    return a == v  # floor(a) == a or ceil(a) == a: a jump


def _tie(a: float, b: float, v: float) -> bool:
    return a == b


def _origin(a: float, b: float, v: float) -> bool:
    return v == 0.0


OPERATIONS: tuple[Op, ...] = (
    # Operators.
    _b("add", lambda a, b: a + b, (1.0, 1.0), ("1", "1"), "a + b", "+", SUM),
    _b("sub", lambda a, b: a - b, (1.0, -1.0), ("1", "-1"), "a - b", "-", SUM),
    _b("mul", lambda a, b: a * b, (_the_b, _the_a), ("b", "a"), "a * b", "*", PRODUCT),
    _b(
        "div",
        ieee.div,
        (lambda a, b, v: ieee.div(1.0, b), _d_div_b),
        ("1/b", "-divsq(a, b)"),
        "a / b",
        "/",
        PRODUCT,
    ),
    Op("neg", 1, lambda a: -a, (-1.0,), ("-1",), "-a", "-", UNARY),
    _b(
        "pow",
        ieee.pow,
        (d_pow_base, pow_log),
        ("powd(a, b)", "powlog(a, b)"),
        "a ^ b, also a ** b and pow(a, b)",
        "^",
        POWER,
    ),
    # Functions of one argument.
    _u("sin", ieee.sin, lambda a, v: ieee.cos(a), "cos(a)", "sine"),
    _u("cos", ieee.cos, lambda a, v: -ieee.sin(a), "-sin(a)", "cosine"),
    _u("tan", ieee.tan, lambda a, v: 1.0 + v * v, "1 + v^2", "tangent"),
    _u(
        "asin",
        ieee.asin,
        lambda a, v: ieee.div(1.0, ieee.sqrt((1.0 - a) * (1.0 + a))),
        "1/sqrt(omsq(a))",
        "arcsine",
    ),
    _u(
        "acos",
        ieee.acos,
        lambda a, v: -ieee.div(1.0, ieee.sqrt((1.0 - a) * (1.0 + a))),
        "-1/sqrt(omsq(a))",
        "arccosine",
    ),
    _u("atan", math.atan, lambda a, v: atan_slope(1.0, a), "atand(1, a)", "arctangent"),
    _u("sinh", ieee.sinh, lambda a, v: ieee.cosh(a), "cosh(a)", "hyperbolic sine"),
    _u("cosh", ieee.cosh, lambda a, v: ieee.sinh(a), "sinh(a)", "hyperbolic cosine"),
    # sech²(a) = 4·σ(2a)·σ(-2a), not 1 - v² (cancels for large |a|) nor 1/cosh(a)^2 (overflows).
    _u("tanh", math.tanh, lambda a, v: sech_squared(a), "sech2(a)", "hyperbolic tangent"),
    _u("asinh", math.asinh, lambda a, v: ieee.div(1.0, math.hypot(a, 1.0)), "1/hypot(a, 1)", "inverse hyperbolic sine"),
    _u(
        "acosh",
        ieee.acosh,
        lambda a, v: ieee.div(1.0, ieee.sqrt(a - 1.0) * ieee.sqrt(a + 1.0)),
        "1/(sqrt(a-1)*sqrt(a+1))",
        "inverse hyperbolic cosine",
    ),
    _u(
        "atanh",
        ieee.atanh,
        lambda a, v: ieee.div(1.0, (1.0 - a) * (1.0 + a)),
        "1/omsq(a)",
        "inverse hyperbolic tangent",
    ),
    _u("exp", ieee.exp, _the_value, "v", "e^a"),
    _u("expm1", ieee.expm1, lambda a, v: ieee.exp(a), "exp(a)", "e^a - 1, accurate near 0"),
    # At -0 the slope from the domain's side, +inf (below 0 the value is nan, and so the slope).
    _u("log", ieee.log, lambda a, v: recip(a), "recip(a)", "natural logarithm (also ln)"),
    _u("log1p", ieee.log1p, lambda a, v: ieee.div(1.0, 1.0 + a), "1/(1+a)", "ln(1 + a), accurate near 0"),
    # 1/(a·ln 10) with the product kept apart: a·ln 10 overflows near the largest double, 1/a
    # overflows for a subnormal a.
    _u("log2", ieee.log2, lambda a, v: recip2(a, _LN2), "recip2(a, log(2))", "base-2 logarithm"),
    _u("log10", ieee.log10, lambda a, v: recip2(a, _LN10), "recip2(a, log(10))", "base-10 logarithm"),
    # 1/(2v) with v read as +0 at -0 (+inf there too), not 0.5/|v|: abs's kink would make
    # sqrt'' at 0 the convention 0 where it is -inf.
    _u("sqrt", ieee.sqrt, lambda a, v: recip(2.0 * v), "recip(2*v)", "square root"),
    _u("cbrt", math.cbrt, lambda a, v: ieee.div(1.0, 3.0 * (v * v)), "1/(3*v^2)", "cube root"),
    _u("abs", math.fabs, lambda a, v: ieee.sign(a), "sign(a)", "absolute value", (_at_zero, "0"), selects=True),
    _u("sign", ieee.sign, 0.0, "0", "-1, 0 or 1", (_at_zero, "0 across the jump")),
    _u("floor", ieee.floor, 0.0, "0", "largest integer ≤ a", (_at_integer, "0 across the jump")),
    _u("ceil", ieee.ceil, 0.0, "0", "smallest integer ≥ a", (_at_integer, "0 across the jump")),
    _u("relu", ieee.relu, _step, "step(a)", "max(a, 0)", (_at_zero, "0"), selects=True),
    # σ(a)·σ(-a), not v·(1 - v): 1 - v cancels for large a. The fast form reads σ(a) as v.
    _u("sigmoid", ieee.sigmoid, lambda a, v: v * ieee.sigmoid(-a), "sigmoidd(a)", "logistic 1/(1+e^-a)"),
    _u("softplus", ieee.softplus, lambda a, v: ieee.sigmoid(a), "sigmoid(a)", "ln(1 + e^a)"),
    _u(
        "erf",
        math.erf,
        lambda a, v: erf_slope(a),
        "erfd(a)",
        "error function",
    ),
    _u(
        "erfc",
        math.erfc,
        lambda a, v: -erf_slope(a),
        "-erfd(a)",
        "complementary error function",
    ),
    # Functions of two arguments.
    _b(
        "min",
        ieee.minimum,
        (_d_min_a, lambda a, b, v: below(b, a)),
        ("below(a, b)", "below(b, a)"),
        "smaller of a, b",
        kink=(_tie, "½ to each argument"),
        selects=True,
    ),
    _b(
        "max",
        ieee.maximum,
        (_d_max_a, lambda a, b, v: below(a, b)),
        ("below(b, a)", "below(a, b)"),
        "larger of a, b",
        kink=(_tie, "½ to each argument"),
        selects=True,
    ),
    _b(
        "atan2",
        math.atan2,
        (_d_atan2_y, _d_atan2_x),
        ("atand(b, a)", "-atand(a, b)"),
        "angle of the point (b, a)",
    ),
    _b(
        "hypot",
        math.hypot,
        (_d_hypot_x, lambda x, y, v: _d_hypot_x(y, x, v)),
        ("hypotd(a, b)", "hypotd(b, a)"),
        "√(a²+b²)",
        kink=(_origin, "0 for both arguments"),
        selects=True,
    ),
    _b(
        "logb",
        _log_base,
        (lambda x, b, v: recip2(x, ieee.log(b)), lambda x, b, v: -log_base_slope(x, b)),
        ("recip2(a, log(b))", "-logbd(a, b)"),
        "log(a, b): logarithm of a to base b",
        spelling="log",
    ),
)

# Operations that only rules call: the pieces of piecewise rules, each with its own rules
# so that they nest too. A formula may not call them.
RULE_OPERATIONS: tuple[Op, ...] = (
    _u("step", step, 0.0, "0", "1 where a > 0, else 0 (relu's slope)", (_at_zero, "0 across the jump")),
    _b(
        "below",
        below,
        (0.0, 0.0),
        ("0", "0"),
        "1 where a < b, ½ where a = b, else 0 (min's slope)",
        kink=(_tie, "0 across the jump"),
    ),
    _b(
        "powd",
        lambda a, b: d_pow_base(a, b, math.nan),
        (lambda a, b, v: gate(d_pow_base(a, b - 1.0, v), b), lambda a, b, v: ieee.pow(a, b - 1.0) + xlog(v, a)),
        # gate: 0 where b = 0, not 0·(b-1)·a^(b-2) = 0·inf at a = 0 (x^0 is constant, so is its slope)
        ("gate(powd(a, b-1), b)", "a^(b-1) + xlog(v, a)"),
        "b·a^(b-1), and 0 where b = 0 (the slope of a^b in a)",
    ),
    _b(
        "powlog",
        _pow_log_value,
        (lambda a, b, v: xlog(d_pow_base(a, b, math.nan), a) + ieee.pow(a, b - 1.0), lambda a, b, v: xlog(v, a)),
        ("xlog(powd(a, b), a) + a^(b-1)", "xlog(v, a)"),
        "a^b·ln a, with its limits (0 where a = 0 < b; the slope of a^b in b)",
    ),
    _b(
        "xlog",
        xlog,
        (lambda v, a, w: ieee.log(a), lambda v, a, w: ieee.div(v, a)),
        ("log(b)", "a/b"),
        "a·ln b, and 0 where a = 0",
    ),
    _b(
        "divsq",
        _over_square_value,
        (lambda a, b, v: over_square(1.0, b, ieee.div(1.0, b)), lambda a, b, v: -2.0 * ieee.div(v, b)),
        ("divsq(1, b)", "-2*(v/b)"),  # v/b first, as the fast form: -2·v may overflow
        "a/b², without rounding a/b first (the slope of a/b in b)",
    ),
    _b(
        "atand",
        atan_slope,
        (
            lambda a, b, v: (lambda w: (w - v) * (w + v))(atan_slope(b, a)),
            lambda a, b, v: -2.0 * v * atan_slope(b, a),
        ),
        # (w - v)·(w + v), not w² - v²: 0 at a = b (atan2's cross slope at y = x = 1e-300), not inf - inf
        ("(atand(b, a) - v)*(atand(b, a) + v)", "-2*v*atand(b, a)"),
        "a/(a² + b²), without overflowing the squares (the slopes of atan2)",
    ),
    _b(
        "hypotd",
        hypot_slope,
        (
            lambda a, b, v: divz((lambda w: w * w)(hypot_slope(b, a)), math.hypot(a, b)),
            lambda a, b, v: -divz(v * hypot_slope(b, a), math.hypot(a, b)),
        ),
        ("divz(hypotd(b, a)^2, hypot(a, b))", "-divz(v*hypotd(b, a), hypot(a, b))"),
        "a/hypot(a, b), and 0 at the origin (hypot's slope)",
    ),
    _b(
        "divz",
        divz,
        (lambda a, b, v: divz(1.0, b), lambda a, b, v: -divz(v, b)),
        ("divz(1, b)", "-divz(v, b)"),
        "a/b, and 0 where b = 0",
    ),
    _u("recip", recip, lambda a, v: -(v * v), "-v^2", "1/a, +inf at -0 as at +0 (log's slope)"),
    _b(
        "recip2",
        recip2,
        # a zero a read as +0, as recip2 reads it: log2'' at -0 is -inf, as log'' is
        (lambda a, b, v: -ieee.div(v, a + 0.0), lambda a, b, v: -ieee.div(v, b)),
        ("-v/(a+0)", "-v/b"),
        "1/(a·b), without overflowing or underflowing a·b (the slopes of the logarithms)",
    ),
    _b(
        "logbd",
        log_base_slope,
        (
            lambda a, b, v: recip2(a, b * (lambda w: w * w)(ieee.log(b))),
            lambda a, b, v: -gate(recip2(b, ieee.log(b)), v) * (ieee.log(b) + 2.0),
        ),
        # gate: 0 where v = 0 (ln a = 0), even where 1/(b·ln b) overflows (b subnormal)
        ("recip2(a, b*log(b)^2)", "-gate(recip2(b, log(b)), v)*(log(b) + 2)"),
        "ln a/(b·ln² b), 0 where ln a = 0 (the slope of log(a, b) in b is minus it)",
    ),
    # The slopes that cancel when differentiated again if written out: (1-a)·(1+a) has the
    # derivative (1-a) - (1+a), and σ(a)·σ(-a) the derivative σ'(a)·(σ(-a) - σ(a)), both
    # cancelling near a = 0 where the truth is -2a and -σ'(a)·tanh(a/2).
    _u(
        "omsq",
        one_minus_square,
        lambda a, v: -2.0 * a,
        "-2*a",
        "1 - a², as (1-a)·(1+a) (the slopes of asin, acos, atanh)",
    ),
    _u(
        "sigmoidd",
        sigmoid_slope,
        lambda a, v: -v * math.tanh(a / 2.0),
        "-v*tanh(a/2)",
        "σ(a)·σ(-a), the slope of sigmoid",
    ),
    _u(
        "sech2",
        sech_squared,
        lambda a, v: -2.0 * v * math.tanh(a),
        "-2*v*tanh(a)",
        "sech²(a) = 1/cosh²(a), as 4·σ(2a)·σ(-2a) (the slope of tanh)",
    ),
    # erf's slope, with a rule of its own: -2·(a·v), where the rule written out, -(a + a)·v,
    # overflows to -inf times v = 0 (nan) for |a| past 9e307, whose truth is 0.
    _u("erfd", erf_slope, lambda a, v: -2.0 * (a * v), "-2*(a*v)", "2/√π·e^(-a²), the slope of erf"),
    _b(
        "real",
        real,
        (1.0, 0.0),
        ("1", "0"),
        "a, and nan where b is nan (an adjoint passed on by an operation whose value is nan)",
    ),
)


def gate(a: float, b: float) -> float:
    """a·b, and 0 where b is 0, even for an infinite a: how a select passes an adjoint."""
    return a * b if b != 0.0 else 0.0


RULE_OPERATIONS += (
    _b(
        "gate",
        gate,
        (_the_b, _the_a),
        ("b", "a"),
        "a·b, and 0 where b = 0 (a select: nothing passes where a branch is not taken)",
        selects=True,
    ),
)

# How people read the rule operations in a rule (`shown`): a template in a and b.
_SHOWN = {
    "powd": "b·a^(b-1)",
    "powlog": "v·ln(a)",  # in pow's rule, v is a^b
    "xlog": "a·ln(b)",
    "step": "1 if a > 0 else 0",
    "below": "1 if a < b, ½ if a = b",
    "divz": "a/b",
    "divsq": "v/b",  # in div's rule, v is a/b
    "atand": "a/(a² + b²)",
    "hypotd": "a/v",  # in hypot's rule, v is hypot(a, b)
    "recip": "1/a",
    "recip2": "1/(a·b)",
    "logbd": "log(a)/(b·log(b)²)",
    "real": "a",
    "gate": "a·b",
    "omsq": "1 - a²",
    "sigmoidd": "sigmoid(a)·sigmoid(-a)",
    "sech2": "sech²(a)",
    "erfd": "2/√π·e^(-a²)",
}


def encloses(text: str) -> bool:
    """Whether ``text`` is one parenthesised group: ``(a·(b))``, not ``(a)·(b)``."""
    depth = 0
    for k, c in enumerate(text):
        depth += (c == "(") - (c == ")")
        if depth <= 0:
            return depth == 0 and k == len(text) - 1
    return False


def _atomic(part: str) -> bool:
    """A name, a number or one call: written into a template without parentheses."""
    import re

    if re.fullmatch(r"[\w.]+", part):
        return True
    match = re.fullmatch(r"\w+(\(.*\))", part)
    return match is not None and encloses(match.group(1))


def _is_sum(text: str) -> bool:
    """Whether ``text`` adds or subtracts outside parentheses (``1 - a²``, not ``a/(a² + b²)``)."""
    depth = 0
    for i, c in enumerate(text):
        depth += {"(": 1, ")": -1}.get(c, 0)
        if depth == 0 and c in "+-" and 0 < i < len(text) - 1 and text[i - 1] == " ":
            return True
    return False


def _arguments(text: str) -> list[str]:
    """A call's arguments: ``text`` split at the commas outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(text):
        depth += {"(": 1, ")": -1}.get(c, 0)
        if c == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    return [*parts, text[start:].strip()]


def shown(formula: str) -> str:
    """A rule formula as people read it: ``v^2`` as v², ``*`` as ·, rule operations written out."""
    import re

    def expand(match: re.Match) -> str:
        parts = [part if _atomic(part) else f"({part})" for part in _arguments(match.group(2))]
        out = re.sub(r"\b[ab]\b", lambda m: parts["ab".index(m.group())], _SHOWN[match.group(1)], flags=re.ASCII)
        if match.group(3):
            return (out if _atomic(out) else f"({out})") + "²"
        text, start, end = match.string, match.start(), match.end()
        alone = (start == 0 or text[start - 1] in "(,") and (end == len(text) or text[end] in "),")
        return f"({out})" if not alone and _is_sum(out) else out  # a sum in a product: 1/(1 - a²)

    # Innermost calls first, so that a rule operation's arguments may call others.
    inner = r"\((?:[^()]|\([^()]*\))*\)"  # an argument's parentheses, nested two deep
    pattern = re.compile(r"\b(" + "|".join(_SHOWN) + r")\(([^()]*(?:" + inner + r"[^()]*)*)\)(²?)", re.ASCII)
    text = formula.replace("^2", "²")
    while True:
        expanded = pattern.sub(expand, text)
        if expanded == text:
            break
        text = expanded
    text = text.replace("1²", "1").replace("sqrt(", "√(").replace("*", "·")
    return text


BY_NAME: dict[str, Op] = {op.name: op for op in OPERATIONS + RULE_OPERATIONS}

# What a formula may call: name -> {arity: operation}.
FUNCTIONS: dict[str, dict[int, Op]] = {
    op.name: {op.arity: op} for op in OPERATIONS if op.is_function and op.name != "logb"
}
# What a rule formula may call besides: the rule operations.
RULE_FUNCTIONS: dict[str, dict[int, Op]] = {op.name: {op.arity: op} for op in RULE_OPERATIONS}
FUNCTIONS["log"][2] = BY_NAME["logb"]
FUNCTIONS["ln"] = {1: BY_NAME["log"]}
FUNCTIONS["pow"] = {2: BY_NAME["pow"]}

# min and max accept any number (≥ 2) of arguments, folded left into binary operations.
FOLDABLE = frozenset({"min", "max"})

CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}
