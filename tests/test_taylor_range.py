"""Taylor mode at the edges of the doubles: powers whose value under/overflows, orders whose
coefficients underflow, and the rounding of mixed partials. Oracles are closed forms worked
in exact rationals or mpmath at high precision."""

from __future__ import annotations

import math
import re
from fractions import Fraction

import pytest

import adcli


def falling(r: Fraction, k: int) -> Fraction:
    """r·(r−1)···(r−k+1): d^k/dx^k x^r = falling(r, k)·x^(r−k)."""
    out = Fraction(1)
    for j in range(k):
        out *= r - j
    return out


def power_derivative(r: float, x: float, k: int) -> float:
    """d^k/dx^k x^r at x, correctly rounded (x^(r-k) exact for whole r, by mpmath otherwise)."""
    import mpmath as mp

    with mp.workdps(60):
        return float(
            mp.mpf(falling(Fraction(r), k).numerator)
            / falling(Fraction(r), k).denominator
            * mp.mpf(x) ** (mp.mpf(r) - k)
        )


def close(a: float, b: float, tol: float = 1e-14) -> bool:
    if b == 0.0 or math.isinf(b):
        return a == b
    return abs(a - b) <= tol * abs(b)


@pytest.mark.parametrize(
    ("formula", "r", "x", "order"),
    [
        ("x^5", 5.0, 1e-100, 5),
        ("x^10", 10.0, 1e-40, 10),
        ("x^3", 3.0, 3e-162, 3),
        ("x^4", 4.0, 1e-107, 4),
        ("x^2.5", 2.5, 1e-300, 4),
        ("x^3", 3.0, 1e300, 4),
        ("x^3", 3.0, 1e110, 3),
        ("x^2.5", 2.5, 1e300, 3),
        ("x^10", 10.0, 1e40, 10),
        ("x^-3", -3.0, 1e-120, 2),
    ],
)
def test_a_constant_power_whose_value_under_or_overflows_keeps_every_derivative(formula, r, x, order):
    g = adcli.parse(formula)
    d = adcli.derivatives(g, {"x": x}, order, wrt="x").derivatives
    assert d[1] == g.gradient({"x": x}, mode="forward")["x"]  # coefficient 1 is forward mode's, bit for bit
    for k in range(1, order + 1):
        assert close(d[k], power_derivative(r, x, k)), (k, d[k], power_derivative(r, x, k))


@pytest.mark.parametrize(("formula", "x"), [("x^2.5", 1e-300), ("x^5", 1e-100), ("x^3", 1e300), ("x^2.5", 1e300)])
def test_the_second_derivative_of_such_a_power_agrees_with_the_hessian(formula, x):
    g = adcli.parse(formula)
    h = adcli.hessian(g, {"x": x}).matrix[0][0]
    assert close(adcli.derivatives(g, {"x": x}, 2, wrt="x").derivatives[2], h)
    assert close(h, power_derivative(float(formula.split("^")[1]), x, 2))


# Orders whose Taylor coefficient underflows though the derivative is representable.


@pytest.mark.parametrize(
    ("formula", "a", "order"), [("exp(x)", 1, 180), ("exp(x)", 1, 1000), ("exp(3*x)", 3, 300), ("exp(0.5*x)", 0.5, 400)]
)
def test_high_orders_whose_coefficients_underflow_are_rescaled(formula, a, order):
    r = adcli.derivatives(adcli.parse(formula), {"x": 0.0}, order, wrt="x")
    d = r.derivatives
    for k in range(order + 1):
        assert close(d[k], float(Fraction(a) ** k), 1e-13), (k, d[k])
    assert not any("underflow" in w for w in r.warnings)


def test_rescaling_changes_nothing_below_the_first_order_that_underflows():
    g = adcli.parse("exp(x)*(1+x)")  # d^k = k + 1 at 0
    low = adcli.derivatives(g, {"x": 0.0}, 170, wrt="x")
    high = adcli.derivatives(g, {"x": 0.0}, 400, wrt="x")
    assert high.derivatives[:171] == low.derivatives
    assert all(close(d, k + 1.0, 1e-13) for k, d in enumerate(high.derivatives))


def test_an_underflow_that_cannot_be_rescaled_is_warned_with_its_first_order():
    r = adcli.derivatives(adcli.parse("x^10"), {"x": 1e-40}, 10, wrt="x")
    assert any("underflow from order 2 on" in w for w in r.warnings)


# Mixed partials: exact up to rounding, with a bound on it.


def test_a_mixed_partial_that_is_zero_lies_within_its_interpolation_error_and_is_warned():
    r = adcli.mixed_partial(adcli.parse("x^2*y^3"), {"x": 1.3, "y": -0.7}, "x^3*y")  # truth 0: x appears squared
    assert 0.0 < r.interpolation_error < 1e-13
    assert abs(r.derivative) <= r.interpolation_error
    assert any("may be 0" in w for w in r.warnings)


def test_a_cancelling_mixed_partial_is_within_its_bound_and_warned():
    import mpmath as mp

    point = {"x": 0.1, "y": 0.001}
    r = adcli.mixed_partial(adcli.parse("exp(x + 1000*y)"), point, "x^4*y")
    truth = float(1000 * mp.exp(mp.mpf(0.1) + 1000 * mp.mpf(0.001)))  # ∂⁵/∂x⁴∂y = 1000·e^(x+1000y)
    assert abs(r.derivative - truth) <= r.interpolation_error
    assert any("cancels more than 3 digits" in w for w in r.warnings)


def test_a_mixed_partial_that_does_not_cancel_is_not_warned_and_its_bound_is_in_json():
    import json

    from click.testing import CliRunner

    from adcli.cli import cli

    r = adcli.mixed_partial(adcli.parse("x^2*y^3"), {"x": 1.0, "y": 2.0}, "x^2*y")
    assert r.derivative == 24.0 and r.warnings == [] and 0 < r.interpolation_error < 1e-12
    out = CliRunner().invoke(cli, ["deriv", "x^2*y^3", "--mixed", "x^2*y", "--at", "x=1,y=2", "--json"]).output
    assert json.loads(out)["interpolation_error"] == r.interpolation_error


def test_a_mixed_partial_past_the_work_bound_is_refused_at_once():
    """x^300*y needs 302 expansions of order 301 (hours of exact weights and series): refused
    before any work, where x^60*y (about the largest in two variables) still runs."""
    import time

    graph = adcli.parse("x*y")
    start = time.process_time()
    with pytest.raises(adcli.AdcliError, match="302 expansions of order 301"):
        adcli.mixed_partial(graph, {"x": 1.0, "y": 2.0}, "x^300*y")
    assert time.process_time() - start < 1.0
    assert adcli.mixed_partial(graph, {"x": 1.0, "y": 2.0}, "x^1*y").derivative == 1.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda g, p: adcli.mixed_partial(g, p, {"x": 1.5}), "the power of 'x' must be a whole number ≥ 0, not 1.5"),
        (lambda g, p: adcli.mixed_partial(g, p, None), 'a monomial such as "x^2*y"'),
        (lambda g, p: adcli.derivatives(g, p, 2), "the formula has 2 variables: give one"),
        (lambda g, p: adcli.derivatives(g, p, 2.5, wrt="x"), "the order must be a whole number"),
        (lambda g, p: adcli.derivatives(g, p, 2, wrt="x", direction={"x": 1}), "not both"),
    ],
)
def test_the_taylor_api_refuses_arguments_it_does_not_take(call, message):
    """ArgumentError, as the README promises for the Python API (x^1.5 was read as ∂/∂x)."""
    with pytest.raises(adcli.ArgumentError, match=re.escape(message)):
        call(adcli.parse("x^2*y^3"), {"x": 1.0, "y": 2.0})
