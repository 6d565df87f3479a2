"""What the true real-valued answer is, for every operation in adcli's table, by mpmath.

Each operation's value and first partial derivatives (and, for the Hessian work, its second
partials) are written here by hand from calculus and evaluated with mpmath at 50 significant
digits; nothing here calls adcli. The answer is returned as IEEE doubles:

- the correctly rounded value where it is a real number (``float(Fraction)`` rounds exactly,
  subnormals included; + - * / are computed exactly with fractions),
- ``nan`` where the function is not real there (outside its domain: ``Truth.real`` is False),
- ``±inf`` at a pole or where the limit is infinite,
- ``NO_DERIVATIVE`` where the function has no derivative (a kink or a jump: abs, relu and
  sign at 0, floor and ceil at an integer, a min/max tie, hypot at the origin, ``0^y`` in y
  at y <= 0): the test checks that adcli warns and uses the convention its README lists,
- ``UNDEFINED`` where the point has no answer at all (inf - inf, sin(inf), 0/0, a nan
  input): any non-finite number will do, but it must come with a warning.

A signed zero follows IEEE 754 where the true result is zero: odd functions keep the sign
of a zero argument, a product or quotient takes the product of the signs, floor, ceil and
sqrt keep the argument's sign, a true result that underflows keeps the sign of the truth.
``Truth.zero_sign`` is None where no sign is meaningful (log(1, 0.5), sign(-0)).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import mpmath

mp = mpmath.MPContext()
mp.dps = 50
inf = math.inf
nan = math.nan


class Marker:
    """A derivative that is no number: printed by name in test failures."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


NO_DERIVATIVE = Marker("NO_DERIVATIVE")  # a kink or a jump: adcli warns and uses its convention
UNDEFINED = Marker("UNDEFINED")  # no answer at all: any non-finite number, with a warning

Partial = float | Marker


@dataclass(frozen=True)
class Truth:
    """The true answer at one point, as doubles."""

    value: float  # correctly rounded; nan where not real or undefined
    partials: tuple[Partial, ...]
    real: bool = True  # False: outside the domain, so every partial must be nan too
    defined: bool = True  # False: an indeterminate form or a nan input (value nan: any non-finite
    # value is accepted; or the IEEE special that does not depend on the nan, as pow(1, nan) = 1)
    zero_sign: float | None = None  # for a zero value: +1.0 or -1.0 as IEEE says, None if either


class NotReal(Exception):
    """The function is not real-valued at this point."""


class Indeterminate(Exception):
    """The point has no answer (inf - inf, 0/0, sin(inf))."""


# Converting an mpmath number to the nearest double.

_BIG = 2**1025  # beyond every double
_MIN_EXP = -1080  # below half the smallest subnormal


def to_double(x) -> float:
    """The double nearest to the real number ``x`` (an mpf, int or Fraction); ties to even."""
    if isinstance(x, float):
        return x
    if isinstance(x, Fraction | int):
        try:
            return float(x)
        except OverflowError:
            return inf if x > 0 else -inf
    x = mp.mpf(x)
    if mp.isnan(x):
        return nan
    if mp.isinf(x):
        return inf if x > 0 else -inf
    if x == 0:
        return 0.0
    sign, man, exp, _ = x._mpf_
    if exp + man.bit_length() > 1026:
        return -inf if sign else inf
    if exp + man.bit_length() < _MIN_EXP:
        return -0.0 if sign else 0.0
    q = Fraction(man) * (Fraction(2) ** exp)
    try:
        d = float(q)  # exact rational to double: correctly rounded, subnormals included
    except OverflowError:
        d = inf
    return -d if sign else d


def _mpf(x: float):
    return mp.mpf(x)


def _sign(x: float) -> float:
    return math.copysign(1.0, x)


def _is_int(x: float) -> bool:
    return math.isfinite(x) and x == math.floor(x)


def _is_odd(x: float) -> bool:
    return _is_int(x) and math.fmod(x, 2.0) != 0.0


def _odd_power(y: float) -> bool:
    """Whether y - 1 is an odd integer, exactly: y is an even integer (in doubles, y - 1.0 rounds
    to an even number for every y past 2^53, all of which are even)."""
    return _is_int(y) and not _is_odd(y)


def _q(num, den, zero_sign: float = 1.0):
    """num/den in mpmath where den may be 0 (then ±inf by the signs; 0/0 is UNDEFINED)."""
    if den == 0:
        if num == 0:
            return UNDEFINED
        return mp.inf if (num > 0) == (zero_sign > 0) else -mp.inf
    if mp.isinf(num) and mp.isinf(den):
        return UNDEFINED
    return num / den


# Each operation: value(args) -> mpf (raises NotReal or Indeterminate), partials(args, v)
# -> tuple of mpf or Marker, and the sign of a zero result. Arguments are the doubles
# themselves (so signed zeros are visible) and mp numbers are made inside.

Rule = Callable[..., object]


@dataclass(frozen=True)
class OracleOp:
    value: Callable[..., object]
    partials: Callable[..., tuple]
    zero_sign: Callable[..., float | None]
    second: Callable[..., tuple] | None = None


def _odd_zero(a: float, *rest) -> float:
    return _sign(a)


def _plus_zero(*args) -> float:
    return 1.0


def _no_zero_sign(*args) -> None:
    return None


def _domain(ok: bool) -> None:
    if not ok:
        raise NotReal


ORACLE: dict[str, OracleOp] = {}


def _op(name: str, value, partials, zero_sign=_plus_zero, second=None) -> None:
    ORACLE[name] = OracleOp(value, partials, zero_sign, second)


def _fr(x: float) -> Fraction:
    return Fraction(x)


# -- arithmetic: exact with fractions where finite ----------------------------------------


def _add_value(a, b):
    if math.isinf(a) or math.isinf(b):
        if math.isinf(a) and math.isinf(b) and a != b:
            raise Indeterminate
        return a if math.isinf(a) else b
    return _fr(a) + _fr(b)


def _add_zero(a, b):
    if a == 0 and b == 0:
        return -1.0 if _sign(a) < 0 and _sign(b) < 0 else 1.0
    return 1.0


_op("add", _add_value, lambda a, b, v: (1, 1), _add_zero, lambda a, b: (0, 0, 0))
_op(
    "sub",
    lambda a, b: _add_value(a, -b),
    lambda a, b, v: (1, -1),
    lambda a, b: _add_zero(a, -b),
    lambda a, b: (0, 0, 0),
)


def _mul_value(a, b):
    if math.isinf(a) or math.isinf(b):
        if a == 0 or b == 0:
            raise Indeterminate
        return math.copysign(inf, a) * _sign(b)
    return _fr(a) * _fr(b)


_op(
    "mul",
    _mul_value,
    lambda a, b, v: (b, a),
    lambda a, b: _sign(a) * _sign(b),
    lambda a, b: (0, 1, 0),
)


def _div_value(a, b):
    if math.isinf(a) and math.isinf(b):
        raise Indeterminate
    if b == 0:
        if a == 0:
            raise Indeterminate
        return math.copysign(inf, a) * _sign(b)
    if math.isinf(a):
        return a * _sign(b)
    if math.isinf(b):
        return Fraction(0)
    return _fr(a) / _fr(b)


def _div_partials(a, b, v):
    # ∂/∂a = 1/b, ∂/∂b = -a/b²
    if b == 0:
        return (math.copysign(inf, b), -math.copysign(inf, a))
    if math.isinf(b):
        return (0.0, 0.0)
    if math.isinf(a):
        return (_fr(1) / _fr(b), -math.copysign(inf, a))
    return (_fr(1) / _fr(b), -_fr(a) / (_fr(b) * _fr(b)))


def _div_second(a, b):
    # ∂²/∂a² = 0, ∂²/∂a∂b = -1/b², ∂²/∂b² = 2a/b³
    if b == 0:
        return (0, -inf, math.copysign(inf, a) * _sign(b))
    return (0, -1 / (_fr(b) * _fr(b)), 2 * _fr(a) / _fr(b) ** 3)


_op("div", _div_value, _div_partials, lambda a, b: _sign(a) * _sign(b), _div_second)
_op("neg", lambda a: -a if math.isinf(a) else -_fr(a), lambda a, v: (-1,), lambda a: -_sign(a), lambda a: (0,))


# -- pow: IEEE's special cases, the real power elsewhere ----------------------------------


def _power(x, y):
    """x^y for mpf x > 0: exp(y·ln x) with enough extra bits for a huge y (mpmath's exact
    integer powers are slow there); mpmath's own power otherwise."""
    if abs(y) < 2**20:
        return mp.power(x, y)
    with mp.extraprec(1100):
        return +mp.exp(y * mp.log(x))


def _pow_value(x, y):
    if y == 0:
        return Fraction(1)  # x^0 = 1 for every x (C99; and the constant function of x)
    if x == 1:
        return Fraction(1)
    if math.isinf(y):
        ax = abs(x)
        if ax == 1:
            return Fraction(1)  # (-1)^±inf: every large double is an even integer
        return inf if (ax > 1) == (y > 0) else Fraction(0)
    if math.isinf(x):
        if x > 0:
            return inf if y > 0 else Fraction(0)
        # -inf: the sign of an odd integer power
        if y > 0:
            return -inf if _is_odd(y) else inf
        return Fraction(0)
    if x == 0:
        if y > 0:
            return Fraction(0)
        return -inf if (_sign(x) < 0 and _is_odd(y)) else inf
    if x < 0:
        _domain(_is_int(y))
        m = _power(-_mpf(x), _mpf(y))
        return -m if _is_odd(y) else m
    return _power(_mpf(x), _mpf(y))


def _pow_zero_sign(x, y):
    if x == 0 and y > 0:
        return -1.0 if (_sign(x) < 0 and _is_odd(y)) else 1.0
    if x == -inf and y < 0:
        return -1.0 if _is_odd(y) else 1.0
    return 1.0


def _pow_base_partial(x, y):
    """∂(x^y)/∂x = y·x^(y-1), with its limits at x = 0 and at infinities."""
    if y == 0:
        return 0  # x^0 is the constant 1
    if y == 1:
        return 1
    if math.isinf(x) or math.isinf(y):
        return _pow_base_partial_at_infinity(x, y)
    if x == 0:
        # y·0^(y-1): 0 for y > 1, +inf for 0 < y < 1, and for y < 0 -inf from the right
        if y > 1:
            return 0
        if y > 0:
            return inf
        if _sign(x) < 0 and _is_int(y):  # (-0)^(y-1): an odd y-1 gives -inf
            return inf if _odd_power(y) else -inf
        return -inf
    if x < 0:
        _domain(_is_int(y))
        m = _power(-_mpf(x), _mpf(y) - 1)  # |x|^(y-1), with the exponent exact
        return _mpf(y) * (m if not _odd_power(y) else -m)
    return _mpf(y) * _power(_mpf(x), _mpf(y) - 1)


def _pow_base_partial_at_infinity(x, y):
    if math.isinf(y):
        ax = abs(x)
        if math.isinf(x):
            return UNDEFINED
        if ax < 1 and y > 0:
            return 0  # y·x^(y-1) → 0: the power decays faster than y grows
        if ax > 1 and y < 0:
            return 0
        return UNDEFINED
    # x = ±inf, y finite, y ∉ {0, 1}
    if y > 1:
        if x > 0:
            return inf
        return -inf if _odd_power(y) else inf  # sign of y·(-inf)^(y-1), y > 0
    if y < 1:
        return 0
    return UNDEFINED


def _pow_exponent_partial(x, y, v):
    """∂(x^y)/∂y = x^y·ln x; 0^y is 0 for y > 0 and has no derivative in y at y <= 0."""
    if x < 0:
        return nan  # x^y is real only at integer y: no derivative in y (README: nan)
    if x == 0:
        return 0 if y > 0 else NO_DERIVATIVE
    if x == 1:
        return 0
    if math.isinf(x):
        if math.isinf(y):
            return UNDEFINED
        # inf^y·ln inf = inf·inf, or for y < 0, 0·inf → 0 (the power wins). At y = 0 the power is
        # 1 and no longer wins: x^0·ln x = ln x → inf as x grows.
        return inf if y >= 0 else 0
    if math.isinf(y):
        if (abs(x) > 1) == (y > 0):
            return inf if x > 1 else -inf  # inf·ln x
        return 0
    return _power(_mpf(x), _mpf(y)) * mp.log(_mpf(x))


def _pow_partials(x, y, v):
    return (_pow_base_partial(x, y), _pow_exponent_partial(x, y, v))


def _pow_second(x, y):
    """(∂²/∂x², ∂²/∂x∂y, ∂²/∂y²) for x > 0 (elsewhere the test does not ask)."""
    X, Y = _mpf(x), _mpf(y)
    if x <= 0:
        raise NotReal
    p = _power(X, Y)
    L = mp.log(X)
    return (Y * (Y - 1) * _power(X, Y - 2), _power(X, Y - 1) * (1 + Y * L), p * L * L)


_op("pow", _pow_value, _pow_partials, _pow_zero_sign, _pow_second)


# -- functions of one argument -------------------------------------------------------------


def _unary(name, value, d1, d2, zero_sign=_plus_zero, domain=None, at_inf=None):
    """An analytic unary function: value, first and second derivative as mpmath callables.

    ``domain(x)`` says whether x (a double) is in the domain (True), outside (False); at
    ±inf, ``at_inf[sign]`` gives (value, d1) or None for outside.
    """

    def val(a):
        if domain is not None:
            _domain(domain(a))
        if math.isinf(a) and at_inf is not None:
            hit = at_inf[a > 0]
            if hit is None:
                raise NotReal
            if hit == "indeterminate":
                raise Indeterminate
            return hit[0]
        return value(_mpf(a))

    def part(a, v):
        if math.isinf(a) and at_inf is not None:
            return (at_inf[a > 0][1],)
        return (d1(_mpf(a), a),)

    def sec(a):
        if domain is not None:
            _domain(domain(a))
        return (d2(_mpf(a)),)

    _op(name, val, part, zero_sign, sec)


_INDET = ("indeterminate", "indeterminate")
_unary("sin", mp.sin, lambda x, a: mp.cos(x), lambda x: -mp.sin(x), _odd_zero, at_inf=_INDET)
_unary("cos", mp.cos, lambda x, a: -mp.sin(x), lambda x: -mp.cos(x), at_inf=_INDET)
_unary(
    "tan",
    mp.tan,
    lambda x, a: 1 / mp.cos(x) ** 2,
    lambda x: 2 * mp.tan(x) / mp.cos(x) ** 2,
    _odd_zero,
    at_inf=_INDET,
)


def _in_closed_unit(a):
    return -1 <= a <= 1


def _asin_d1(x, a):
    return mp.inf if abs(x) == 1 else 1 / mp.sqrt(1 - x * x)


def _asin_d2(x):
    return x / (1 - x * x) ** mp.mpf(1.5) if abs(x) < 1 else mp.inf * mp.sign(x)


_unary("asin", mp.asin, _asin_d1, _asin_d2, _odd_zero, _in_closed_unit)
_unary("acos", mp.acos, lambda x, a: -_asin_d1(x, a), lambda x: -_asin_d2(x), domain=_in_closed_unit)
_unary(
    "atan",
    mp.atan,
    lambda x, a: 1 / (1 + x * x),
    lambda x: -2 * x / (1 + x * x) ** 2,
    _odd_zero,
    at_inf=((-mp.pi / 2, 0), (mp.pi / 2, 0)),
)
_unary("sinh", mp.sinh, lambda x, a: mp.cosh(x), mp.sinh, _odd_zero, at_inf=((-inf, inf), (inf, inf)))
_unary("cosh", mp.cosh, lambda x, a: mp.sinh(x), mp.cosh, at_inf=((inf, -inf), (inf, inf)))
_unary(
    "tanh",
    mp.tanh,
    lambda x, a: 1 / mp.cosh(x) ** 2,
    lambda x: -2 * mp.tanh(x) / mp.cosh(x) ** 2,
    _odd_zero,
    at_inf=((-1, 0), (1, 0)),
)
_unary(
    "asinh",
    mp.asinh,
    lambda x, a: 1 / mp.sqrt(x * x + 1),
    lambda x: -x / (x * x + 1) ** mp.mpf(1.5),
    _odd_zero,
    at_inf=((-inf, 0), (inf, 0)),
)
_unary(
    "acosh",
    mp.acosh,
    lambda x, a: mp.inf if x == 1 else 1 / mp.sqrt(x * x - 1),
    lambda x: -x / (x * x - 1) ** mp.mpf(1.5) if x != 1 else -mp.inf,
    domain=lambda a: a >= 1,
    at_inf=(None, (inf, 0)),
)


def _atanh_value(x):
    if abs(x) == 1:
        return mp.inf * mp.sign(x)
    return mp.atanh(x)


_unary(
    "atanh",
    _atanh_value,
    lambda x, a: mp.inf if abs(x) == 1 else 1 / (1 - x * x),
    lambda x: 2 * x / (1 - x * x) ** 2 if abs(x) != 1 else mp.inf * mp.sign(x),
    _odd_zero,
    _in_closed_unit,
)
_unary("exp", mp.exp, lambda x, a: mp.exp(x), mp.exp, at_inf=((0, 0), (inf, inf)))
_unary("expm1", mp.expm1, lambda x, a: mp.exp(x), mp.exp, _odd_zero, at_inf=((-1, 0), (inf, inf)))


def _log_family(name, base_log):
    """log, log2, log10: ln(x)/ln(base); -inf at ±0 with slope +inf (from the right)."""

    def value(x):
        if x == 0:
            return -mp.inf
        return mp.log(x) / base_log()

    def d1(x, a):
        if x == 0:
            return mp.inf
        return 1 / (x * base_log())

    _unary(name, value, d1, lambda x: -1 / (x * x * base_log()), domain=lambda a: a >= 0, at_inf=(None, (inf, 0)))


_log_family("log", lambda: mp.mpf(1))
_log_family("log2", lambda: mp.log(2))
_log_family("log10", lambda: mp.log(10))


def _log1p_value(x):
    return -mp.inf if x == -1 else mp.log1p(x)


_unary(
    "log1p",
    _log1p_value,
    lambda x, a: mp.inf if x == -1 else 1 / (1 + x),
    lambda x: -1 / (1 + x) ** 2,
    _odd_zero,
    lambda a: a >= -1,
    at_inf=(None, (inf, 0)),
)
_unary(
    "sqrt",
    mp.sqrt,
    lambda x, a: mp.inf if x == 0 else 1 / (2 * mp.sqrt(x)),
    lambda x: -1 / (4 * x * mp.sqrt(x)),
    _odd_zero,  # IEEE: sqrt(-0) = -0
    lambda a: a >= 0,
    at_inf=(None, (inf, 0)),
)


def _cbrt(x):
    return mp.sign(x) * mp.cbrt(abs(x))


_unary(
    "cbrt",
    _cbrt,
    lambda x, a: mp.inf if x == 0 else 1 / (3 * _cbrt(x) ** 2),
    lambda x: -2 / (9 * _cbrt(x) ** 5),
    _odd_zero,
    at_inf=((-inf, 0), (inf, 0)),
)


def _kinked(name, value, d1, kink, zero_sign=_plus_zero):
    """A piecewise function: its slope, or NO_DERIVATIVE at its kinks and jumps."""

    def val(a):
        return value(a)

    def part(a, v):
        return (NO_DERIVATIVE if kink(a) else d1(a),)

    def sec(a):
        return (NO_DERIVATIVE if kink(a) else 0,)

    _op(name, val, part, zero_sign, sec)


_kinked("abs", lambda a: abs(a) if math.isinf(a) else abs(_fr(a)), lambda a: _sign(a), lambda a: a == 0)
_kinked(
    "sign",
    lambda a: Fraction(0) if a == 0 else Fraction(int(_sign(a))),
    lambda a: 0,
    lambda a: a == 0,
    _no_zero_sign,
)
_kinked("floor", lambda a: a if math.isinf(a) else Fraction(math.floor(a)), lambda a: 0, _is_int, lambda a: _sign(a))
_kinked("ceil", lambda a: a if math.isinf(a) else Fraction(math.ceil(a)), lambda a: 0, _is_int, lambda a: _sign(a))
_kinked(
    "relu",
    lambda a: (a if math.isinf(a) else _fr(a)) if a > 0 else Fraction(0),
    lambda a: 1 if a > 0 else 0,
    lambda a: a == 0,
)


def _sigmoid(x):
    return 1 / (1 + mp.exp(-x))


_unary(
    "sigmoid",
    _sigmoid,
    lambda x, a: _sigmoid(x) * _sigmoid(-x),
    lambda x: _sigmoid(x) * _sigmoid(-x) * (1 - 2 * _sigmoid(x)),
    at_inf=((0, 0), (1, 0)),
)


def _softplus(x):
    # ln(1 + e^x) = x + ln(1 + e^-x) for x > 0: both exact at 50 digits, no overflow trouble
    return x + mp.log1p(mp.exp(-x)) if x > 0 else mp.log1p(mp.exp(x))


_unary(
    "softplus",
    _softplus,
    lambda x, a: _sigmoid(x),
    lambda x: _sigmoid(x) * _sigmoid(-x),
    at_inf=((0, 0), (inf, 1)),
)
_TWO_OVER_SQRT_PI = 2 / mp.sqrt(mp.pi)
_unary(
    "erf",
    mp.erf,
    lambda x, a: _TWO_OVER_SQRT_PI * mp.exp(-x * x),
    lambda x: -2 * x * _TWO_OVER_SQRT_PI * mp.exp(-x * x),
    _odd_zero,
    at_inf=((-1, 0), (1, 0)),
)


def _erfc(x):
    # mpmath's erfc fails far out (x ~ 1e308); past 100 the truth is far below every double
    return mp.mpf(2) ** -100000 if x > 100 else mp.erfc(x)


_unary(
    "erfc",
    _erfc,
    lambda x, a: -_TWO_OVER_SQRT_PI * mp.exp(-x * x),
    lambda x: 2 * x * _TWO_OVER_SQRT_PI * mp.exp(-x * x),
    at_inf=((2, 0), (0, 0)),
)


# -- functions of two arguments ------------------------------------------------------------


def _min_value(a, b):
    if a == b:
        return a if _sign(a) < 0 else b  # IEEE 754-2019 minimum: -0 < +0
    return a if a < b else b


def _max_value(a, b):
    if a == b:
        return a if _sign(a) > 0 else b
    return a if a > b else b


def _min_partials(a, b, v):
    if a == b:
        return (NO_DERIVATIVE, NO_DERIVATIVE)
    return (1, 0) if a < b else (0, 1)


def _max_partials(a, b, v):
    if a == b:
        return (NO_DERIVATIVE, NO_DERIVATIVE)
    return (1, 0) if a > b else (0, 1)


def _select_zero_sign(pick):
    def sign(a, b):
        if a == b and _sign(a) != _sign(b):
            return None  # min(+0, -0): IEEE 754-2019 says -0, numpy the first argument; either
        return _sign(pick(a, b))

    return sign


def _min_second(a, b):
    return (NO_DERIVATIVE,) * 3 if a == b else (0, 0, 0)


_op("min", _min_value, _min_partials, _select_zero_sign(_min_value), _min_second)
_op("max", _max_value, _max_partials, _select_zero_sign(_max_value), _min_second)


def _atan2_value(y, x):
    if math.isinf(y) and math.isinf(x):  # C99 Annex F: the corner's angle
        return math.copysign(math.pi / 4 if x > 0 else 3 * math.pi / 4, y)  # exact as rounded doubles
    if math.isinf(x):
        if x > 0:
            return Fraction(0)
        return math.copysign(math.pi, y)
    if math.isinf(y):
        return math.copysign(math.pi / 2, y)
    if y == 0:
        if x > 0 or (x == 0 and _sign(x) > 0):
            return Fraction(0)
        return math.copysign(math.pi, y)  # the side of the cut that y's sign names
    return mp.atan2(_mpf(y), _mpf(x))


def _atan2_partials(y, x, v):
    # ∂/∂y = x/(x²+y²), ∂/∂x = -y/(x²+y²)
    if y == 0 and x == 0:
        return (UNDEFINED, UNDEFINED)  # the angle jumps at the origin
    if math.isinf(x) or math.isinf(y):
        if math.isinf(x) and math.isinf(y):
            return (UNDEFINED, UNDEFINED)
        return (0.0, 0.0)
    X, Y = _fr(x), _fr(y)
    r2 = X * X + Y * Y
    return (X / r2, -Y / r2)


def _atan2_second(y, x):
    X, Y = _fr(x), _fr(y)
    r2 = X * X + Y * Y
    if r2 == 0:
        return (UNDEFINED,) * 3
    r4 = r2 * r2
    return (-2 * X * Y / r4, (Y * Y - X * X) / r4, 2 * X * Y / r4)


_op("atan2", _atan2_value, _atan2_partials, lambda y, x: _sign(y), _atan2_second)


def _hypot_value(x, y):
    if math.isinf(x) or math.isinf(y):
        return inf
    return mp.sqrt(_fr(x) ** 2 + _fr(y) ** 2) if (x or y) else Fraction(0)


def _hypot_partials(x, y, v):
    if x == 0 and y == 0:
        return (NO_DERIVATIVE, NO_DERIVATIVE)
    if math.isinf(x) and math.isinf(y):
        return (UNDEFINED, UNDEFINED)
    if math.isinf(x):
        return (_sign(x), 0.0)
    if math.isinf(y):
        return (0.0, _sign(y))
    h = _exact_hypot(x, y)
    return (_mpf(x) / h, _mpf(y) / h)


def _exact_hypot(x, y):
    X, Y = _fr(x), _fr(y)
    s = X * X + Y * Y
    return mp.sqrt(mp.mpf(s.numerator) / s.denominator)


def _hypot_second(x, y):
    if x == 0 and y == 0:
        return (NO_DERIVATIVE,) * 3
    h = _exact_hypot(x, y)
    h3 = h**3
    X, Y = _mpf(x), _mpf(y)
    return (Y * Y / h3, -X * Y / h3, X * X / h3)


_op("hypot", _hypot_value, _hypot_partials, _plus_zero, _hypot_second)


def _ln(x: float):
    """ln x for a double x >= 0 (±0 gives -inf, inf gives inf)."""
    if x == 0:
        return -mp.inf
    if math.isinf(x):
        return mp.inf
    return mp.log(_mpf(x))


def _logb_value(x, b):
    _domain(x >= 0 and b >= 0)
    lx, lb = _ln(x), _ln(b)
    if lb == 0:
        raise Indeterminate  # base 1: ±inf from the two sides, or 0/0
    if mp.isinf(lx) and mp.isinf(lb):
        raise Indeterminate
    return lx / lb


def _logb_partials(x, b, v):
    # ∂/∂x = 1/(x·ln b), ∂/∂b = -ln x/(b·ln² b)
    lx, lb = _ln(x), _ln(b)
    if math.isinf(x) or math.isinf(b):
        dx = 0 if math.isinf(x) else (_q(1, _mpf(x) * lb) if not mp.isinf(lb) else 0)
        if math.isinf(b):
            db = 0.0 if not mp.isinf(lx) else UNDEFINED
        elif b == 0:
            db = UNDEFINED
        else:
            db = -math.copysign(inf, lx) if mp.isinf(lx) else 0.0
        return (dx, db)
    if b == 0:  # ln b = -inf: log(x, b) → 0 as b → 0, like 1/ln b
        # ∂/∂b = -ln x/(b·ln² b) → -sign(ln x)·inf as b → 0 (b·ln² b → 0)
        return (0.0 if x != 0 else UNDEFINED, UNDEFINED if x == 0 else (-inf if lx > 0 else (inf if lx < 0 else 0.0)))
    dx = mp.inf * mp.sign(lb) if x == 0 else 1 / (_mpf(x) * lb)
    db = mp.inf if x == 0 else -lx / (_mpf(b) * lb * lb)
    return (dx, db)


def _logb_second(x, b):
    _domain(x > 0 and b > 0 and b != 1)
    X, B = _mpf(x), _mpf(b)
    lx, lb = mp.log(X), mp.log(B)
    return (-1 / (X * X * lb), -1 / (X * B * lb * lb), lx * (lb + 2) / (B * B * lb**3))


_op("logb", _logb_value, _logb_partials, _no_zero_sign, _logb_second)


# -- the public entry points ---------------------------------------------------------------


def _nan_input_value(name: str, args: tuple[float, ...]) -> float:
    """IEEE results that do not depend on a nan argument; nan otherwise."""
    if name == "hypot" and any(math.isinf(a) for a in args):
        return inf
    if name == "pow":
        x, y = args
        if x == 1 or y == 0:
            return 1.0
    return nan


def _partial_to_double(p) -> Partial:
    if isinstance(p, Marker):
        return p
    return to_double(p)


def truth(name: str, *args: float) -> Truth:
    """The true value and first partials of operation ``name`` at the doubles ``args``."""
    args = tuple(float(a) for a in args)
    op = ORACLE[name]
    n = len(args)
    if any(math.isnan(a) for a in args):
        return Truth(_nan_input_value(name, args), (UNDEFINED,) * n, defined=False)
    try:
        v = op.value(*args)
    except NotReal:
        return Truth(nan, (nan,) * n, real=False)
    except Indeterminate:
        return Truth(nan, (UNDEFINED,) * n, defined=False)
    value = to_double(v)
    try:
        partials = tuple(_partial_to_double(p) for p in op.partials(*args, v))
    except NotReal:
        return Truth(nan, (nan,) * n, real=False)
    zero_sign = None
    if value == 0:
        exact_zero = (v == 0) if not isinstance(v, float) else True
        zero_sign = op.zero_sign(*args) if exact_zero else (1.0 if v > 0 else -1.0)
    return Truth(value, partials, zero_sign=zero_sign)


def second(name: str, *args: float) -> tuple[Partial, ...]:
    """Second partials at finite ``args`` inside the domain: (f'',) for a unary operation,
    (∂²/∂a², ∂²/∂a∂b, ∂²/∂b²) for a binary one; nan outside the domain."""
    args = tuple(float(a) for a in args)
    op = ORACLE[name]
    k = 1 if len(args) == 1 else 3
    if not all(math.isfinite(a) for a in args):
        raise ValueError("second partials are given at finite points only")
    try:
        return tuple(_partial_to_double(p) for p in op.second(*args))
    except (NotReal, ZeroDivisionError):
        return (nan,) * k


def mp_value(name: str, *args: float):
    """The value as an mpmath number at a finite point inside the domain (for self-tests)."""
    v = ORACLE[name].value(*(float(a) for a in args))
    if isinstance(v, Fraction):
        return mp.mpf(v.numerator) / v.denominator
    return mp.mpf(v)
