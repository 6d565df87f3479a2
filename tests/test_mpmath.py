"""Differential test of every operation in the table against mpmath at 50 digits.

For each operation and point the formula (``sin(x)``, ``atan2(x, y)``, ``x ^ y``,
``log(x, y)``, ...) is parsed with ``adcli.parse``; its value (``evaluate``) and gradient
(``gradient`` in reverse and in forward mode) and warnings (``differentiate``) are checked
against ``mp_oracle.truth``, written by hand from calculus:

- a finite value within ``VALUE_ULPS[op]`` units in the last place of the correctly rounded
  truth (0 for + - * / sqrt and the piecewise functions, which IEEE rounds exactly; 2 for
  the libm functions, which are not correctly rounded; 4 for cbrt, whose glibc version is off
  by 3, and for sigmoid, softplus and log(a, b), composed of several libm calls), ``±inf``
  exactly, ``nan`` where the truth is no real number, and the sign of a zero as IEEE gives it;
- a derivative within ``DERIVATIVE_ULPS`` (16 ulps; erf and erfc 16 + 2a², since e^(-a²)
  magnifies the rounding of a²) of the truth where the truth is a normal double, within two
  subnormal steps where it is subnormal, ``±inf`` exactly where it is infinite, and ``nan``
  in both modes wherever the value is not a real number;
- at a kink or a jump, a warning and the convention the README lists (or a non-finite
  number); and whenever a gradient is not finite, a warning.

The points are fixed edge tables (±0, subnormals, 1±1e-8, poles, ±1e308, the largest
double, ±inf, nan) and hypothesis draws in three regimes (moderate, near singular points,
extreme magnitudes). The default run is a few thousand cases in seconds; set
``ADCLI_MPMATH_EXAMPLES`` for a larger random run (examples per operation and regime;
the default is 25), e.g. ``ADCLI_MPMATH_EXAMPLES=3000 pytest tests/test_mpmath.py``.

Known failures are marked ``xfail(strict=True)`` in ``KNOWN``, grouped by the item of
issue 10 they belong to: strict, so each mark turns red as soon as its fix lands and can
be removed. The random tests skip exactly the (operation, kind) pairs listed there.
"""

from __future__ import annotations

import math
import os
import struct
from dataclasses import dataclass
from functools import cache

import mp_oracle
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mp_oracle import NO_DERIVATIVE, UNDEFINED, mp, truth

import adcli
from adcli.core.ops import OPERATIONS

MODES = ("reverse", "forward")
inf, nan = math.inf, math.nan
MAX = 1.7976931348623157e308
TINY = 5e-324
MIN_NORMAL = 2.2250738585072014e-308

BINARY = {op.name for op in OPERATIONS if op.arity == 2}
NAMES = [op.name for op in OPERATIONS]

FORMULA = {
    "add": "x + y",
    "sub": "x - y",
    "mul": "x * y",
    "div": "x / y",
    "neg": "-x",
    "pow": "x ^ y",
    "min": "min(x, y)",
    "max": "max(x, y)",
    "atan2": "atan2(x, y)",
    "hypot": "hypot(x, y)",
    "logb": "log(x, y)",
}

EXACT = {"add", "sub", "mul", "div", "neg", "sqrt", "abs", "sign", "floor", "ceil", "relu", "min", "max"}
COMPOSED = {"sigmoid", "softplus", "logb"}
VALUE_ULPS = {name: 0 if name in EXACT else 4 if name in COMPOSED else 2 for name in NAMES}
VALUE_ULPS["cbrt"] = 4  # glibc's cbrt is off by 3 ulps at points as plain as 0.00295551122458536
DERIVATIVE_ULPS = 16
EPS = 2.0**-53  # one unit of relative rounding

# What the README's "Numerical conventions" gives where no derivative exists.
CONVENTION = {
    "abs": (0.0,),
    "relu": (0.0,),
    "sign": (0.0,),
    "floor": (0.0,),
    "ceil": (0.0,),
    "min": (0.5, 0.5),
    "max": (0.5, 0.5),
    "hypot": (0.0, 0.0),
    "pow": (None, 0.0),  # x^y at x = 0: ∂/∂y = 0
}

# Each kind of wrong answer the check below can find.
KINDS = (
    "value",  # the value is wrong
    "zero-sign",  # a zero value has the wrong sign
    "domain",  # outside the domain the value is nan but a derivative is not (item 1)
    "undefined",  # no answer (0/0, inf - inf, sin(inf)) but a finite derivative (item 1)
    "partial",  # a derivative that is a normal double (or 0) is wrong: overflow, underflow, rounding (item 2)
    "subnormal",  # a derivative whose truth is subnormal is not within two subnormal steps (item 2)
    "infinite",  # an infinite derivative comes out finite, nan or of the wrong sign
    "kink",  # at a kink: no warning, or not the documented convention (item 5)
    "warning",  # a gradient is not finite and no warning says so (item 6)
    "modes",  # reverse and forward mode disagree, or the recorded and unrecorded sweeps
)


def formula(name: str) -> str:
    return FORMULA.get(name, f"{name}(x)")


@cache
def graph(name: str):
    return adcli.parse(formula(name))


def bits(x: float) -> int:
    """The double's position on the number line, counting in ulps (signed zeros coincide)."""
    i = struct.unpack("<q", struct.pack("<d", x))[0]
    return i if i >= 0 else -(i & 0x7FFFFFFFFFFFFFFF)


def ulps(a: float, b: float) -> int:
    return abs(bits(a) - bits(b))


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@dataclass(frozen=True)
class Problem:
    kind: str
    name: str
    args: tuple[float, ...]
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {formula(self.name)} at {self.args!r}: {self.detail}"


def _partial_ok(name: str, args: tuple[float, ...], got: float, true: float) -> str | None:
    """None if the derivative ``got`` matches the finite truth ``true``; else the kind of error."""
    if not math.isfinite(got):
        return "partial" if abs(true) >= MIN_NORMAL or true == 0 else "subnormal"
    k = DERIVATIVE_ULPS
    if name in ("erf", "erfc"):
        k += 2 * min(args[0] * args[0], 1e6)  # past |a| = 1000 the truth is 0
    if abs(true) >= MIN_NORMAL:
        return None if abs(got - true) <= k * EPS * abs(true) else "partial"
    if abs(got - true) <= 2 * TINY + k * EPS * abs(true):
        return None
    return "subnormal" if true != 0 else "partial"


def check(name: str, args: tuple[float, ...]) -> list[Problem]:
    """Every way adcli's answer for operation ``name`` at ``args`` differs from the truth."""
    t = truth(name, *args)
    g = graph(name)
    point = dict(zip("xy", args, strict=False))
    problems: list[Problem] = []

    def bad(kind: str, detail: str) -> None:
        problems.append(Problem(kind, name, args, detail))

    value = g.evaluate(point)
    if not t.defined and math.isnan(t.value):  # no answer: any non-finite value says so
        if math.isfinite(value):
            bad("value", f"value {value!r}, truth: no value at all")
    elif math.isnan(t.value):
        if not math.isnan(value):
            bad("value", f"value {value!r}, truth nan")
    elif math.isinf(t.value) or math.isnan(value):
        if value != t.value:
            bad("value", f"value {value!r}, truth {t.value!r}")
    elif ulps(value, t.value) > VALUE_ULPS[name]:
        bad("value", f"value {value!r}, truth {t.value!r} ({ulps(value, t.value)} ulps)")
    elif value == 0 and t.zero_sign is not None and math.copysign(1.0, value) != t.zero_sign:
        bad("zero-sign", f"value {value!r}, truth {math.copysign(0.0, t.zero_sign)!r}")

    names = "xy"[: len(args)]
    grads = {}
    for mode in MODES:
        fast = g.gradient(point, mode=mode)  # the unrecorded sweep (reverse: the planned one, once cached)
        result = g.differentiate(point, mode)  # the recorded sweep, with its warnings
        grads[mode] = fast
        gradient = [fast[v] for v in names]
        assert same(result.value, value), (mode, result.value, value)
        if any(not same(fast[v], result.gradient[v]) for v in names):
            bad("modes", f"{mode}: gradient {fast!r}, recorded {result.gradient!r}")
        if not all(math.isfinite(d) for d in gradient) and not result.warnings:
            bad("warning", f"{mode}: gradient {gradient!r} and no warning")
        for v, got, true in zip(names, gradient, t.partials, strict=True):
            where = f"{mode} ∂/∂{v} = {got!r}"
            if not t.real:
                if not math.isnan(got):
                    bad("domain", f"{where}, truth nan (value not real)")
            elif true is UNDEFINED:
                if math.isfinite(got) and not any(math.isnan(a) for a in args):
                    bad("undefined", f"{where}, truth: no derivative at all (value {t.value!r})")
            elif true is NO_DERIVATIVE:
                expected = CONVENTION.get(name, (None, None))[names.index(v)]
                if not result.warnings:
                    bad("kink", f"{where} at a point with no derivative, and no warning")
                elif math.isfinite(got) and got != expected:
                    bad("kink", f"{where}, the README's convention is {expected!r}")
            elif math.isnan(true):
                if not math.isnan(got):
                    bad("domain", f"{where}, truth nan")
            elif math.isinf(true):
                if got != true:
                    bad("infinite", f"{where}, truth {true!r}")
            else:
                kind = _partial_ok(name, args, got, true)
                if kind:
                    bad(kind, f"{where}, truth {true!r}")
    a, b = (grads[m] for m in MODES)
    if any(not same(a[v], b[v]) for v in names):
        bad("modes", f"reverse {a!r}, forward {b!r}")
    return problems


# -- the fixed edge tables -----------------------------------------------------------------

EDGE = sorted(
    {
        0.0,
        TINY,
        2 * TINY,
        1e-310,
        6e-309,
        MIN_NORMAL,
        1e-300,
        1e-200,
        1e-160,
        1e-100,
        1e-20,
        1e-8,
        0.1,
        0.5,
        1 - 1e-8,
        1 - 2**-53,
        1.0,
        1 + 2**-52,
        1 + 1e-8,
        1.5,
        2.0,
        2.5,
        3.0,
        math.pi / 2,
        math.pi,
        5.0,
        10.0,
        20.0,
        26.5,
        27.0,
        30.0,
        40.0,
        100.0,
        355.0,
        360.0,
        400.0,
        709.0,
        710.0,
        711.0,
        745.0,
        1000.0,
        1e15,
        1e22,
        1e100,
        1.5e154,
        1e160,
        1e200,
        1e300,
        1e308,
        MAX,
        inf,
    }
)
UNARY_POINTS = [s * x for x in EDGE for s in (1.0, -1.0)] + [nan]
PAIR_VALUES = [
    0.0,
    -0.0,
    TINY,
    -TINY,
    1e-310,
    MIN_NORMAL,
    1e-200,
    1e-160,
    3e-10,
    3e-5,
    0.3,
    0.5,
    -0.5,
    1.0,
    -1.0,
    1 + 1e-8,
    2.0,
    -2.0,
    3.0,
    -3.0,
    1e160,
    1e200,
    1e308,
    -MAX,
    MAX,
    inf,
    -inf,
    nan,
]
PAIR_POINTS = [(a, b) for a in PAIR_VALUES for b in PAIR_VALUES]


# Points the random runs found, kept so each class has a fixed witness.
EXTRA: dict[str, list[tuple[float, ...]]] = {
    "pow": [(1 + 1e-14, 1e16), (1 - 1e-14, 1e16), (2.225073858507203e-309, 1.3680920447152067e-308)],
    "div": [(TINY, 3.1622776601683795e-05)],
    "hypot": [(1e-310, 1e-310)],
    "atan2": [(1.2711610061536464e308, 1.2711610061536464e308)],
    "logb": [(8.988465674311579e307, 8.988465674311579e307)],
}


def edge_points(name: str) -> list[tuple[float, ...]]:
    base = PAIR_POINTS if name in BINARY else [(x,) for x in UNARY_POINTS]
    return base + EXTRA.get(name, [])


@cache
def edge_problems(name: str) -> dict[str, list[Problem]]:
    found: dict[str, list[Problem]] = {kind: [] for kind in KINDS}
    for args in edge_points(name):
        for p in check(name, args):
            found[p.kind].append(p)
    return found


# Known failures, by the item of an issue they belong to: {(operation, kind): reason}, each
# marked xfail(strict=True), so that a pair whose fix lands turns red and its line is then
# deleted. None today: every class issue 10 found (items 1-6) is fixed at its root.
KNOWN: dict[tuple[str, str], str] = {}


def _cases():
    for name in NAMES:
        for kind in KINDS:
            reason = KNOWN.get((name, kind))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(name, kind, marks=marks, id=f"{name}-{kind}")


def _report(problems: list[Problem], limit: int = 12) -> str:
    lines = [str(p) for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"... and {len(problems) - limit} more")
    return "\n".join(lines)


@pytest.mark.parametrize(("name", "kind"), list(_cases()))
def test_edge_table(name, kind):
    problems = edge_problems(name)[kind]
    assert not problems, "\n" + _report(problems)


# -- random points in three regimes --------------------------------------------------------

EXAMPLES = int(os.environ.get("ADCLI_MPMATH_EXAMPLES", "25"))
RANDOM_RUN = "ADCLI_MPMATH_EXAMPLES" in os.environ


def _signed(magnitudes):
    return st.tuples(st.sampled_from([1.0, -1.0]), magnitudes).map(lambda t: t[0] * t[1])


def _log_uniform(lo: float, hi: float):
    return st.floats(lo, hi).map(lambda e: 10.0**e)


SINGULAR = [0.0, 1.0, -1.0, math.pi / 2, -math.pi / 2, math.pi, 2.0, 0.5]


def _near():
    """A double a relative distance 1e-16..1e-4 (or a few ulps) from a singular point."""
    offset = _signed(_log_uniform(-16, -4))
    around = st.tuples(st.sampled_from(SINGULAR[1:]), offset).map(lambda t: t[0] * (1 + t[1]))
    steps = st.tuples(st.sampled_from(SINGULAR), st.integers(-4, 4)).map(lambda t: _step(*t))
    return st.one_of(around, steps, _signed(_log_uniform(-12, -4)))


def _step(x: float, n: int) -> float:
    for _ in range(abs(n)):
        x = math.nextafter(x, inf if n > 0 else -inf)
    return x


REGIMES = {
    "moderate": st.one_of(
        st.floats(-10, 10), _signed(_log_uniform(-3, 3)), st.integers(-6, 6).map(float), st.just(0.5)
    ),
    "near": _near(),
    "extreme": st.one_of(
        _signed(_log_uniform(-323.3, -250)),
        st.floats(-MIN_NORMAL, MIN_NORMAL),
        _signed(_log_uniform(250, 308.25)),
        _signed(st.floats(MAX / 2, MAX)),
    ),
}


def _arguments(name: str, regime: str):
    one = REGIMES[regime]
    if name not in BINARY:
        return st.tuples(one)
    pairs = st.tuples(one, one)
    if name == "pow":  # integer exponents of negative bases, and huge or tiny powers near 1
        pairs = st.one_of(pairs, st.tuples(one, st.integers(-8, 8).map(float)))
    if name in ("min", "max", "sub", "atan2", "hypot", "logb"):
        pairs = st.one_of(pairs, one.map(lambda x: (x, x)), st.tuples(one, one).map(lambda t: (t[0], -t[0])))
    return pairs


def _random_cases():
    for name in NAMES:
        for regime in REGIMES:
            yield pytest.param(name, regime, id=f"{name}-{regime}")


@pytest.mark.parametrize(("name", "regime"), list(_random_cases()))
def test_random_points(name, regime):
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=not RANDOM_RUN,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(_arguments(name, regime))
    def run(args):
        problems = [p for p in check(name, args) if (name, p.kind) not in KNOWN]
        assert not problems, "\n" + _report(problems)

    run()


# -- the oracle itself, against mpmath's numerical derivative ------------------------------

MODERATE = {
    "asin": [(0.3,), (-0.7,)],
    "acos": [(0.3,), (-0.7,)],
    "atanh": [(0.3,), (-0.7,)],
    "acosh": [(1.5,), (7.0,)],
    "log": [(0.3,), (7.0,)],
    "log2": [(0.3,), (7.0,)],
    "log10": [(0.3,), (7.0,)],
    "log1p": [(0.3,), (-0.7,)],
    "sqrt": [(0.3,), (7.0,)],
    "pow": [(1.7, 2.3), (0.4, -1.3), (2.5, 3.0)],
    "logb": [(3.0, 2.0), (0.4, 7.5)],
    "div": [(1.5, -2.5), (3.0, 0.7)],
    "hypot": [(1.5, -2.5), (0.3, 0.7)],
    "atan2": [(1.5, -2.5), (-0.3, 0.7)],
    "min": [(1.5, -2.5), (0.3, 0.7)],
    "max": [(1.5, -2.5), (0.3, 0.7)],
}


def _moderate(name: str) -> list[tuple[float, ...]]:
    if name in MODERATE:
        return MODERATE[name]
    if name in BINARY:
        return [(1.5, -2.5), (0.3, 0.7)]
    return [(0.3,), (-1.7,), (2.6,)]


def _diff(name: str, args: tuple[float, ...], order: tuple[int, ...]):
    return mp.diff(lambda *z: _mp_value(name, *z), [mp.mpf(a) for a in args], order)


def _mp_value(name: str, *z):
    """The oracle's value function at mpmath points (it takes doubles: convert in between)."""
    if name in ("add", "sub", "mul", "div", "neg", "hypot", "atan2", "min", "max", "abs", "relu", "floor", "ceil"):
        formulas = {
            "add": lambda a, b: a + b,
            "sub": lambda a, b: a - b,
            "mul": lambda a, b: a * b,
            "div": lambda a, b: a / b,
            "neg": lambda a: -a,
            "hypot": lambda a, b: mp.sqrt(a * a + b * b),
            "atan2": lambda a, b: mp.atan2(a, b),
            "min": lambda a, b: mp.mpf(min(a, b)),
            "max": lambda a, b: mp.mpf(max(a, b)),
            "abs": lambda a: abs(a),
            "relu": lambda a: a if a > 0 else mp.mpf(0),
            "floor": lambda a: mp.floor(a),
            "ceil": lambda a: mp.ceil(a),
        }
        return formulas[name](*z)
    if name == "pow":
        return mp.power(*z)
    if name == "logb":
        return mp.log(z[0]) / mp.log(z[1])
    if name == "sign":
        return mp.sign(z[0])
    return mp.mpf(_unary_mp(name)(z[0]))


def _unary_mp(name: str):
    table = {
        "sigmoid": lambda x: 1 / (1 + mp.exp(-x)),
        "softplus": lambda x: mp.log(1 + mp.exp(x)),
        "log2": lambda x: mp.log(x, 2),
        "log10": lambda x: mp.log(x, 10),
        "cbrt": lambda x: mp.cbrt(x) if x > 0 else -mp.cbrt(-x),
    }
    return table.get(name) or getattr(mp, name)


def _close(a: float, b, rel: float = 1e-12) -> bool:
    b = mp_oracle.to_double(b)
    return abs(a - b) <= rel * abs(b) + 1e-30


@pytest.mark.parametrize("name", NAMES)
def test_oracle_partials_are_the_derivatives_of_its_values(name):
    """The hand-written partials agree with mpmath's numerical differentiation of the values."""
    for args in _moderate(name):
        partials = truth(name, *args).partials
        for i in range(len(args)):
            order = tuple(int(j == i) for j in range(len(args)))
            assert _close(partials[i], _diff(name, args, order)), (name, args, i)
        seconds = mp_oracle.second(name, *args)
        orders = [(2,)] if len(args) == 1 else [(2, 0), (1, 1), (0, 2)]
        for got, order in zip(seconds, orders, strict=True):
            assert _close(got, _diff(name, args, order), rel=1e-9), (name, args, order)


def test_the_oracle_and_the_formulas_cover_the_whole_table():
    assert set(mp_oracle.ORACLE) == set(NAMES)
    for name in NAMES:
        assert tuple(graph(name).variables) == ("x", "y")[: 2 if name in BINARY else 1], name


def test_the_oracle_rounds_correctly():
    assert mp_oracle.to_double(mp.mpf(2) ** -1075) == 0.0  # the halfway tie goes to even
    assert mp_oracle.to_double(mp.mpf(2) ** -1075 * 3) == 2 * TINY
    half_ulp = mp.mpf(2) ** 970
    assert mp_oracle.to_double(mp.mpf(MAX) + half_ulp) == inf  # halfway to 2^1024: overflows, as IEEE rounds
    assert mp_oracle.to_double(mp.mpf(MAX) + half_ulp * (1 - mp.mpf(2) ** -60)) == MAX
    assert truth("log10", MAX).partials[0] == 2.415843246442137e-309


# -- composite checks for items 2-6 --------------------------------------------------------


def _both(text: str, **point):
    g = adcli.parse(text)
    return [g.differentiate(point, mode) for mode in MODES]


@pytest.mark.parametrize(
    ("text", "x", "slope"),
    [
        ("log10(x)*1e10", MAX, 2.4158432464421365e-299),  # x·ln 10 overflows
        ("log2(x)*1e10", MAX, 8.025257553200027e-299),
        ("atan(x)*1e300", 1.4e154, 5.102040816326531e-09),  # 1 + x² overflows
        ("tanh(x)*1e300", 355.6, 5.3929260081424205e-09),  # cosh² overflows
        ("hypot(x, 1e308)", 1.7e308, 0.8619342151577695),  # the value overflows: x/v = 0
        ("5e-324/x*1e300", 3e-10, -5.489618287124962e-05),  # -a/b², not -v/b with v = a/b a subnormal
        ("log10(x)", 3e-309, 1.4476482730108392e308),  # 1/x overflows
        ("x^0.3*1e-300", 1e-310, 3.0000000000000303e-84),  # 0.3 - 1 rounds: y·x^(y-1) was off by 3e-14
    ],
)
def test_a_partial_that_overflows_in_between(text, x, slope):
    """The true partial is subnormal (about 5e-309, so good to 1e-15) or normal; scaled up it is normal.
    The slopes are mpmath's at 50 digits."""
    for result in _both(text, x=x):
        assert math.isclose(result.gradient["x"], slope, rel_tol=2e-15), (result.mode, result.gradient)


@pytest.mark.parametrize(
    "text",
    [
        "sqrt(relu(x))",  # relu's zero partial times sqrt's infinite one
        "sqrt(max(x, 0))",  # max's losing side
        "sqrt(sign(x) + 1)",
        "sqrt(ceil(x) + 1)",
        "cbrt(floor(x) + 2)",
    ],
)
def test_a_branch_not_taken_passes_no_derivative(text):
    """Near x = -1.5 these formulas are constant: the slope is 0, not nan."""
    for result in _both(text, x=-1.5):
        assert result.gradient["x"] == 0.0, (result.mode, result.gradient)


@pytest.mark.parametrize(
    ("text", "x", "value"),
    [
        ("atan2(ceil(x), -1)", -0.5, -math.pi),  # ceil(-0.5) is -0
        ("atan2(floor(x), -1)", -0.0, -math.pi),
        ("atan2(x, -1)", -0.0, -math.pi),
    ],
)
def test_the_sign_of_zero_survives(text, x, value):
    for result in _both(text, x=x):
        assert result.value == value, (result.mode, result.value)


@pytest.mark.parametrize(
    ("text", "point"),
    [
        ("x^x", {"x": 0.0}),
        ("x^y", {"x": 0.0, "y": 0.0}),
        ("x^y", {"x": 0.0, "y": -1.0}),
    ],
)
def test_no_silent_convention_at_a_singularity(text, point):
    for result in _both(text, **point):
        finite = all(math.isfinite(d) for d in result.gradient.values())
        assert result.warnings or not finite, f"{result.mode}: {result.gradient} passed off as a derivative"


@pytest.mark.parametrize(
    ("text", "point"),
    [
        ("x*1e-300*1e300*1e300", {"x": 1.0}),  # values 1e-300, 1, 1e300; adjoints 1e300, inf: forward 1e300
        ("x*1e200*1e200", {"x": 1.0}),  # the value overflows: its warning is there
    ],
)
def test_a_non_finite_gradient_comes_with_a_warning(text, point):
    for result in _both(text, **point):
        gradient = list(result.gradient.values())
        if not all(math.isfinite(d) for d in gradient):
            assert result.warnings, (result.mode, gradient)
