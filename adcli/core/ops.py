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
(`RULE_OPERATIONS`: ``step``, ``below``, ``powd``, ``xlog``, ``divz``), as tinygrad
writes max's tie with ``where``; formulas may call them, user formulas may not.

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
from dataclasses import dataclass

from . import ieee

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

# Printing precedence: a child whose precedence is lower than its parent's needs parentheses.
SUM, PRODUCT, UNARY, POWER, ATOM = 1, 2, 3, 4, 5


@dataclass(frozen=True, slots=True)
class Op:
    """One elementary operation: value, local partials and display form."""

    name: str
    arity: int
    value: Callable[..., float]
    partials: tuple[Callable[..., float] | float, ...]  # ∂v/∂(each argument), fast form: a rule or a constant
    formulas: tuple[str, ...]  # ∂v/∂a (, ∂v/∂b): the rules' one source, formulas in a, b and v
    summary: str
    symbol: str = ""  # infix or prefix operator; empty for a function call
    precedence: int = ATOM
    # Where the derivative does not exist and adcli uses a convention instead:
    # (is the point there?, the convention in words). Results there come with a warning.
    kink: tuple[Callable[..., bool], str] | None = None
    spelling: str = ""  # how a formula calls it, where that differs from the name
    # A partial that is zero because a branch is not taken (relu below 0, min's larger
    # argument) passes no derivative at all, as a select does: ∞·0 there is not nan.
    selects: bool = False

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


@dataclass(frozen=True, slots=True)
class Leaf:
    """The two kinds of graph node that are not operations: inputs and constants."""

    name: str
    arity: int = 0


INPUT = Leaf("input")
CONST = Leaf("const")


# Partial-derivative rules that need more than one line.


def d_pow_base(x: float, y: float, v: float) -> float:
    """y·x^(y-1), taken as 0 when y == 0 (x^0 is constant, even at x = 0)."""
    if y == 2.0:  # the common square: 2·x^1 is x + x, exactly
        return x + x
    if y == 0.0:
        return 0.0
    try:  # math.pow directly: this is the hottest rule; ieee.pow only on the rare failure
        return y * math.pow(x, y - 1.0)
    except (ValueError, OverflowError):
        return y * ieee.pow(x, y - 1.0)


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
    """v·ln x, and 0 where v and x are 0: ∂(a^b)/∂b at a = 0, where 0^b = 0 for every b > 0."""
    if v == 0.0 and x == 0.0:
        return 0.0
    return v * ieee.log(x)


def _d_pow_exponent(x: float, y: float, v: float) -> float:
    return xlog(v, x)


def divz(a: float, b: float) -> float:
    """a / b, and 0 where b is 0: the slope of hypot at the cone's tip, by convention."""
    return ieee.div(a, b) if b != 0.0 else 0.0


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
    h = math.hypot(x, y)
    return ieee.div(ieee.div(x, h), h)  # x/(x²+y²) without overflowing x²


def _d_atan2_x(y: float, x: float, v: float) -> float:
    h = math.hypot(x, y)
    return -ieee.div(ieee.div(y, h), h)


def _d_hypot_x(x: float, y: float, v: float) -> float:
    return divz(x, v)  # the cone's tip: 0, as for abs at 0


def _log_base(x: float, b: float) -> float:
    return ieee.div(ieee.log(x), ieee.log(b))


def _sech_squared(a: float) -> float:
    c = ieee.cosh(a)
    return ieee.div(1.0, c * c)  # cosh overflows to inf, giving 0


def _zero(a: float, v: float) -> float:
    return 0.0


def step(a: float) -> float:
    """relu's slope: 1 where a > 0, 0 elsewhere (nan for nan)."""
    return 1.0 if a > 0.0 else (0.0 if a == a else math.nan)


def _step(a: float, v: float) -> float:
    return step(a)


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
        (lambda a, b, v: ieee.div(1.0, b), lambda a, b, v: -ieee.div(v, b)),
        ("1/b", "-v/b"),
        "a / b",
        "/",
        PRODUCT,
    ),
    Op("neg", 1, lambda a: -a, (-1.0,), ("-1",), "-a", "-", UNARY),
    _b(
        "pow",
        ieee.pow,
        (d_pow_base, _d_pow_exponent),
        ("powd(a, b)", "xlog(v, a)"),
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
        "1/sqrt((1-a)*(1+a))",
        "arcsine",
    ),
    _u(
        "acos",
        ieee.acos,
        lambda a, v: -ieee.div(1.0, ieee.sqrt((1.0 - a) * (1.0 + a))),
        "-1/sqrt((1-a)*(1+a))",
        "arccosine",
    ),
    _u("atan", math.atan, lambda a, v: ieee.div(1.0, 1.0 + a * a), "1/(1 + a^2)", "arctangent"),
    _u("sinh", ieee.sinh, lambda a, v: ieee.cosh(a), "cosh(a)", "hyperbolic sine"),
    _u("cosh", ieee.cosh, lambda a, v: ieee.sinh(a), "sinh(a)", "hyperbolic cosine"),
    # 1/cosh²(a), not 1 - v²: for large |a| the difference cancels to nothing.
    _u("tanh", math.tanh, lambda a, v: _sech_squared(a), "1/cosh(a)^2", "hyperbolic tangent"),
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
        "1/((1-a)*(1+a))",
        "inverse hyperbolic tangent",
    ),
    _u("exp", ieee.exp, _the_value, "v", "e^a"),
    _u("expm1", ieee.expm1, lambda a, v: ieee.exp(a), "exp(a)", "e^a - 1, accurate near 0"),
    _u("log", ieee.log, lambda a, v: ieee.div(1.0, a), "1/a", "natural logarithm (also ln)"),
    _u("log1p", ieee.log1p, lambda a, v: ieee.div(1.0, 1.0 + a), "1/(1+a)", "ln(1 + a), accurate near 0"),
    # 1/a/ln 2, not 1/(a·ln 2): a·ln 10 overflows for a near the largest double.
    _u("log2", ieee.log2, lambda a, v: ieee.div(ieee.div(1.0, a), _LN2), "1/a/log(2)", "base-2 logarithm"),
    _u("log10", ieee.log10, lambda a, v: ieee.div(ieee.div(1.0, a), _LN10), "1/a/log(10)", "base-10 logarithm"),
    _u("sqrt", ieee.sqrt, lambda a, v: ieee.div(0.5, math.fabs(v)), "0.5/abs(v)", "square root"),  # +inf at -0 too
    _u("cbrt", math.cbrt, lambda a, v: ieee.div(1.0, 3.0 * (v * v)), "1/(3*v^2)", "cube root"),
    _u("abs", math.fabs, lambda a, v: ieee.sign(a), "sign(a)", "absolute value", (_at_zero, "0"), selects=True),
    _u("sign", ieee.sign, 0.0, "0", "-1, 0 or 1", (_at_zero, "0 across the jump")),
    _u("floor", ieee.floor, 0.0, "0", "largest integer ≤ a", (_at_integer, "0 across the jump")),
    _u("ceil", ieee.ceil, 0.0, "0", "smallest integer ≥ a", (_at_integer, "0 across the jump")),
    _u("relu", ieee.relu, _step, "step(a)", "max(a, 0)", (_at_zero, "0"), selects=True),
    # v·sigmoid(-a), not v·(1 - v): 1 - v cancels for large a.
    _u("sigmoid", ieee.sigmoid, lambda a, v: v * ieee.sigmoid(-a), "v*sigmoid(-a)", "logistic 1/(1+e^-a)"),
    _u("softplus", ieee.softplus, lambda a, v: ieee.sigmoid(a), "sigmoid(a)", "ln(1 + e^a)"),
    _u(
        "erf",
        math.erf,
        lambda a, v: _TWO_OVER_SQRT_PI * ieee.exp(-a * a),
        "2/sqrt(pi)*exp(-a*a)",
        "error function",
    ),
    _u(
        "erfc",
        math.erfc,
        lambda a, v: -_TWO_OVER_SQRT_PI * ieee.exp(-a * a),
        "-2/sqrt(pi)*exp(-a*a)",
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
        ("b/hypot(a, b)/hypot(a, b)", "-a/hypot(a, b)/hypot(a, b)"),
        "angle of the point (b, a)",
    ),
    _b(
        "hypot",
        math.hypot,
        (_d_hypot_x, lambda x, y, v: _d_hypot_x(y, x, v)),
        ("divz(a, v)", "divz(b, v)"),
        "√(a²+b²)",
        kink=(_origin, "0 for both arguments"),
        selects=True,
    ),
    _b(
        "logb",
        _log_base,
        (
            lambda x, b, v: ieee.div(ieee.div(1.0, x), ieee.log(b)),
            lambda x, b, v: -ieee.div(ieee.div(v, b), ieee.log(b)),
        ),
        ("1/a/log(b)", "-v/b/log(b)"),
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
        (lambda a, b, v: b * d_pow_base(a, b - 1.0, v), lambda a, b, v: ieee.pow(a, b - 1.0) + xlog(v, a)),
        ("b*powd(a, b-1)", "a^(b-1) + xlog(v, a)"),
        "b·a^(b-1), and 0 where b = 0 (the slope of a^b in a)",
    ),
    _b(
        "xlog",
        xlog,
        (lambda v, a, w: ieee.log(a), lambda v, a, w: ieee.div(v, a)),
        ("log(b)", "a/b"),
        "a·ln b, and 0 where a = b = 0 (the slope of 0^b in b)",
    ),
    _b(
        "divz",
        divz,
        (lambda a, b, v: divz(1.0, b), lambda a, b, v: -divz(v, b)),
        ("divz(1, b)", "-divz(v, b)"),
        "a/b, and 0 where b = 0 (hypot's slope)",
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
    "xlog": "a·ln(b)",
    "step": "1 if a > 0 else 0",
    "below": "1 if a < b, ½ if a = b",
    "divz": "a/b",
}


def shown(formula: str) -> str:
    """A rule formula as people read it: ``v^2`` as v², ``*`` as ·, rule operations written out."""
    import re

    def expand(match: re.Match) -> str:
        parts = [part.strip() for part in match.group(2).split(",")]
        parts = [part if re.fullmatch(r"[\w.]+", part) else f"({part})" for part in parts]
        return re.sub(r"\b[ab]\b", lambda m: parts["ab".index(m.group())], _SHOWN[match.group(1)])

    text = re.sub(r"\b(powd|xlog|below|divz|step)\(([^()]*)\)", expand, formula)
    text = text.replace("sqrt(", "√(").replace("^2", "²").replace("*", "·")
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
