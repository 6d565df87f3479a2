"""IEEE-754 versions of the math functions whose Python forms raise.

Python's ``math`` raises ``ValueError``/``OverflowError`` and ``/`` raises
``ZeroDivisionError`` where C and IEEE-754 return inf or nan. adcli promises IEEE
results, so every elementary operation goes through these functions: each returns
what C99 Annex F returns, never raises and never returns a complex number.
"""

from __future__ import annotations

import math

inf = math.inf
nan = math.nan
MIN_NORMAL = 2.2250738585072014e-308  # the smallest normal double: below it precision is lost


def scaled(m: float, e: int) -> float:
    """m·2^e, rounded once (to a subnormal, if it is one), ±inf where it overflows."""
    try:
        return math.ldexp(m, e)
    except OverflowError:
        return math.copysign(inf, m)


def ratio(n: float, *d: float) -> float:
    """n/(d₁·d₂·…) without overflowing or underflowing the product or a partial quotient.

    The mantissas are divided (each in [0.5, 1)) and the exponents added apart, so the
    only rounding into the subnormal range or to ±inf is the last one. A zero, infinite
    or nan factor falls back to plain IEEE arithmetic.
    """
    m, e = math.frexp(n)
    for x in d:
        mx, ex = math.frexp(x)
        if mx == 0.0 or mx - mx != 0.0:
            product = 1.0
            for y in d:
                product *= y
            return div(n, product)
        m /= mx
        e -= ex
    return scaled(m, e)


def div(a: float, b: float) -> float:
    """a / b with IEEE signed infinities for division by (signed) zero."""
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0.0:
            return nan
        return math.copysign(inf, a) * math.copysign(1.0, b)


def _is_odd_integer(y: float) -> bool:
    return math.isfinite(y) and y == math.floor(y) and math.fmod(y, 2.0) != 0.0


def pow(x: float, y: float) -> float:
    """x ** y as C's pow: a negative base with a fractional exponent is nan, 0 ** -1 is inf.

    A square is x * x, correctly rounded, where libm's pow is sometimes an ulp off.
    """
    if y == 2.0:
        return x * x
    try:
        return math.pow(x, y)
    except OverflowError:
        return -inf if x < 0.0 and _is_odd_integer(y) else inf
    except ValueError:
        if x == 0.0:  # pole: 0 ** negative
            return math.copysign(inf, x) if _is_odd_integer(y) else inf
        return nan


def log(a: float) -> float:
    try:
        return math.log(a)
    except ValueError:
        return -inf if a == 0.0 else nan


def log2(a: float) -> float:
    try:
        return math.log2(a)
    except ValueError:
        return -inf if a == 0.0 else nan


def log10(a: float) -> float:
    try:
        return math.log10(a)
    except ValueError:
        return -inf if a == 0.0 else nan


def log1p(a: float) -> float:
    try:
        return math.log1p(a)
    except ValueError:
        return -inf if a == -1.0 else nan


def sqrt(a: float) -> float:
    try:
        return math.sqrt(a)
    except ValueError:
        return nan


def exp(a: float) -> float:
    try:
        return math.exp(a)
    except OverflowError:
        return inf


def expm1(a: float) -> float:
    try:
        return math.expm1(a)
    except OverflowError:
        return inf


def sinh(a: float) -> float:
    try:
        return math.sinh(a)
    except OverflowError:
        return math.copysign(inf, a)


def cosh(a: float) -> float:
    try:
        return math.cosh(a)
    except OverflowError:
        return inf


def _nan_outside_domain(fn):
    """Wrap a math function whose only failure is a domain error (result nan)."""

    def safe(a: float) -> float:
        try:
            return fn(a)
        except ValueError:
            return nan

    safe.__name__ = fn.__name__
    return safe


sin = _nan_outside_domain(math.sin)  # sin(inf) is nan
cos = _nan_outside_domain(math.cos)
tan = _nan_outside_domain(math.tan)
asin = _nan_outside_domain(math.asin)
acos = _nan_outside_domain(math.acos)
acosh = _nan_outside_domain(math.acosh)


def atanh(a: float) -> float:
    try:
        return math.atanh(a)
    except ValueError:
        return math.copysign(inf, a) if abs(a) == 1.0 else nan


def sign(a: float) -> float:
    if a != a:
        return nan
    return math.copysign(1.0, a) if a != 0.0 else 0.0


def floor(a: float) -> float:
    """The largest integer <= a, as C's floor: the sign of a zero result is a's (floor(-0.0) is -0.0)."""
    if not math.isfinite(a):
        return a
    r = float(math.floor(a))  # math.floor returns an int, which has no -0
    return r if r != 0.0 else math.copysign(0.0, a)


def ceil(a: float) -> float:
    """The smallest integer >= a, as C's ceil: ceil(-0.5) is -0.0."""
    if not math.isfinite(a):
        return a
    r = float(math.ceil(a))
    return r if r != 0.0 else math.copysign(0.0, a)


def minimum(a: float, b: float) -> float:
    """The smaller of a and b; nan if either is nan (as numpy.minimum)."""
    if a != a or b != b:
        return nan
    return a if a <= b else b


def maximum(a: float, b: float) -> float:
    if a != a or b != b:
        return nan
    return a if a >= b else b


def relu(a: float) -> float:
    return a if a > 0.0 or a != a else 0.0


def sigmoid(a: float) -> float:
    """1 / (1 + e^-a), computed without overflow for either sign of a."""
    if a >= 0.0:
        return 1.0 / (1.0 + exp(-a))
    z = exp(a)
    return z / (1.0 + z)


def softplus(a: float) -> float:
    """log(1 + e^a), computed without overflow: max(a, 0) + log1p(e^-|a|)."""
    if a != a:
        return nan
    return maximum(a, 0.0) + math.log1p(exp(-abs(a)))
