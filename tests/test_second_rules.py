"""Second and higher derivatives that stay accurate near 0, against mpmath at 50 digits.

The slopes of asin, acos, atanh, tanh, sigmoid and softplus are written for accuracy at the
edges (1 - a² as (1-a)·(1+a), σ' as σ(a)·σ(-a)); differentiated again, those forms cancel near
0 unless the rule operations that hold them (omsq, sigmoidd, sech2) carry rules of their own.
The truth is mpmath's numerical derivative of the function itself (mpmath.diff), with working
precision raised by the bits a derivative of size ~x loses against values of size ~1.
"""

import math

import mpmath
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import adcli

mp = mpmath.MPContext()
mp.dps = 50

FUNCTIONS = {
    "asin": mp.asin,
    "acos": mp.acos,
    "atanh": mp.atanh,
    "tanh": mp.tanh,
    "sigmoid": lambda x: 1 / (1 + mp.exp(-x)),
    "softplus": lambda x: mp.log(1 + mp.exp(x)),
}
NEAR_ZERO = [1e-3, -1e-3, 1e-8, -1e-8, 1e-20, -1e-20, 1e-300, -1e-300]
ORDINARY = [0.3, -0.7, 0.9, 2.0, -5.0]
# Relative error allowed: 8 ulps of 1 (the rounding of a handful of operations, each a few ulps
# at most), i.e. 8·2⁻⁵² ≈ 1.8e-15. Before the rule operations, the error near 0 was ~1e-16/|x|,
# and 1 (a derivative of 0) below |x| ~ 1e-16.
BOUND = 8 * 2.0**-52


def truth(name: str, x: float, k: int) -> float:
    """dᵏf/dxᵏ at x by mpmath.diff at 50 digits, rounded to a double."""
    f, x = FUNCTIONS[name], mp.mpf(x)
    extra = max(0, -int(mp.mag(x)))  # bits a derivative ~x loses against values ~1
    with mp.workprec(mp.prec + extra):
        return float(mp.diff(f, x, k))


def points(name: str) -> list[float]:
    inside = [x for x in ORDINARY if abs(x) < 1] if name in ("asin", "acos", "atanh") else ORDINARY
    return NEAR_ZERO + inside


def relative_error(got: float, want: float) -> float:
    assert math.isfinite(got), got
    return abs(got - want) / abs(want)


CASES = [(name, x) for name in FUNCTIONS for x in points(name)]


@pytest.mark.parametrize(("name", "x"), CASES)
def test_the_hessian_is_accurate_near_zero(name, x):
    got = adcli.hessian(adcli.parse(f"{name}(x)"), {"x": x}).matrix[0][0]
    assert relative_error(got, truth(name, x, 2)) <= BOUND, (name, x, got)


@pytest.mark.parametrize(("name", "x"), CASES)
def test_taylor_orders_two_to_six_are_accurate_near_zero(name, x):
    got = adcli.derivatives(adcli.parse(f"{name}(x)"), {"x": x}, 6, wrt="x").derivatives
    wants = [truth(name, x, k) for k in range(7)]
    for k in range(2, 7):
        if abs(x) < 0.01:
            assert relative_error(got[k], wants[k]) <= BOUND, (name, x, k, got[k], wants[k])
            continue
        # At ordinary points dᵏf/dxᵏ may pass through 0 (tanh''' = -2·sech²·(1 - 3·tanh²) near
        # x = 0.66): there the error is relative to the largest Taylor coefficient up to order k,
        # as the README states for Taylor mode.
        coefficients = [abs(w) / math.factorial(j) for j, w in enumerate(wants[: k + 1])]
        error = abs(got[k] - wants[k]) / math.factorial(k)
        assert error <= BOUND * max(coefficients), (name, x, k, got[k], wants[k])


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(FUNCTIONS)), st.floats(-30.0, -4.0), st.sampled_from([1.0, -1.0]))
def test_second_and_third_derivatives_near_zero_anywhere(name, exponent, sign):
    x = sign * 10.0**exponent
    graph = adcli.parse(f"{name}(x)")
    hessian = adcli.hessian(graph, {"x": x}).matrix[0][0]
    series = adcli.derivatives(graph, {"x": x}, 3, wrt="x").derivatives
    assert relative_error(hessian, truth(name, x, 2)) <= BOUND, (name, x, hessian)
    assert relative_error(series[2], truth(name, x, 2)) <= BOUND, (name, x, series)
    assert relative_error(series[3], truth(name, x, 3)) <= BOUND, (name, x, series)


def test_the_cli_deriv_agrees_near_zero():
    """What `adcli deriv` prints is the accurate series: tanh'' at 1e-20 is -2e-20, not 0."""
    from click.testing import CliRunner

    from adcli.cli.commands import cli

    out = CliRunner().invoke(cli, ["deriv", "tanh(x)", "--wrt", "x", "--order", "3", "--at", "x=1e-20", "--json"])
    assert out.exit_code == 0, out.output
    import json

    derivs = json.loads(out.output)["derivatives"]
    assert relative_error(derivs[2], -2e-20) <= BOUND and relative_error(derivs[3], -2.0) <= BOUND


# Second derivatives at the documented edges where a rule used to multiply 0 by inf (or
# subtract inf from inf) although the truth is a number; each truth worked by hand.
@pytest.mark.parametrize(
    ("formula", "point", "want"),
    [
        ("x^0", {"x": 0.0}, [[0.0]]),  # x^0 is constant: powd's rule b·powd(a, b-1) gave 0·(-inf)
        ("x^0", {"x": -0.0}, [[0.0]]),
        ("x^0", {"x": 1e-300}, [[0.0]]),
        ("x^0", {"x": 5e-324}, [[0.0]]),
        ("x^0", {"x": math.inf}, [[0.0]]),
        # ∂²atan2(y, x)/∂y∂x = (y² - x²)/(x² + y²)²: 0 on the diagonal (was inf - inf)
        ("atan2(y, x)", {"y": 1e-300, "x": 1e-300}, None),
        ("atan2(y, x)", {"y": -1e-300, "x": 1e-300}, None),
    ],
)
def test_no_zero_times_inf_at_the_edges(formula, point, want):
    result = adcli.hessian(adcli.parse(formula), point)
    if want is not None:
        assert result.matrix == want
        return
    names = list(point)
    cross = result.matrix[names.index("y")][names.index("x")]
    assert cross == 0.0, result.matrix


def test_log_base_second_derivative_at_one_is_zero_for_a_subnormal_base():
    """log(1, b) = 0 for every b: ∂²/∂b² is 0, also at b = 5e-324 where 1/(b·ln b) overflows."""
    result = adcli.hessian(adcli.parse("log(x, b)"), {"x": 1.0, "b": 5e-324}, wrt=["b"])
    assert result.matrix == [[0.0]]


@pytest.mark.parametrize("formula", ["log(x)", "log2(x)", "log10(x)", "log(x, 3)"])
@pytest.mark.parametrize("x", [0.0, -0.0])
def test_every_logarithm_curves_down_at_zero(formula, x):
    """-1/(x²·ln b) → -inf at x = ±0 for every base: recip2 reads a zero as +0, so log2 and
    log10 at -0 agree with log (they gave +inf there)."""
    result = adcli.hessian(adcli.parse(formula), {"x": x})
    assert result.matrix == [[-math.inf]]


@pytest.mark.parametrize("formula", ["erf(x)", "erfc(x)"])
@pytest.mark.parametrize("x", [1e308, -1e308, 1.7976931348623157e308, -1.7976931348623157e308])
def test_erf_curvature_underflows_to_zero_at_the_largest_doubles(formula, x):
    """erf'' = -2a·erf'(a) = ∓0 at |a| ~ 1e308 (e^(-a²) underflows): erf's slope is a rule
    operation whose own rule is -2·(a·v), so a + a overflowing no longer meets v = 0 (nan)."""
    graph = adcli.parse(formula)
    assert adcli.hessian(graph, {"x": x}).matrix == [[0.0]]
    assert adcli.derivatives(graph, {"x": x}, 4, wrt="x").derivatives[1:] == [0.0] * 4
