"""Constant powers of a series that is not linear in t, where the value or the ratio u₁/u₀ is
far from 1: whole exponents by products (no division by u₀), others by the plain recurrence
with a warning where u₀^r leaves the doubles. Oracles: truncated power series in mpmath at
120 digits (products, binomial series), or exact polynomials in rationals."""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath as mp
import pytest

import adcli

DPS = 120


def series_mul(a: list, b: list) -> list:
    return [mp.fsum(a[j] * b[k - j] for j in range(k + 1)) for k in range(len(a))]


def series_pow_int(a: list, n: int) -> list:
    out = [mp.mpf(1)] + [mp.mpf(0)] * (len(a) - 1)
    for _ in range(n):
        out = series_mul(out, a)
    return out


def sin_cos_series(x: float, order: int) -> tuple[list, list]:
    """sin and cos of x + t: derivatives cycle, coefficient k is f⁽ᵏ⁾(x)/k!."""
    x = mp.mpf(x)
    cyc_s = [mp.sin(x), mp.cos(x), -mp.sin(x), -mp.cos(x)]
    cyc_c = [mp.cos(x), -mp.sin(x), -mp.cos(x), mp.sin(x)]
    return (
        [cyc_s[k % 4] / mp.factorial(k) for k in range(order + 1)],
        [cyc_c[k % 4] / mp.factorial(k) for k in range(order + 1)],
    )


def poly_at(coeffs: list[int], x: float, order: int) -> list[Fraction]:
    """Taylor coefficients of Σ cᵢ·xⁱ at x, exactly."""
    x = Fraction(x)
    out = []
    for k in range(order + 1):
        out.append(sum(Fraction(math.comb(i, k)) * c * x ** (i - k) for i, c in enumerate(coeffs) if i >= k))
    return out


def coefficients(formula: str, x: float, order: int):
    r = adcli.derivatives(adcli.parse(formula), {"x": x}, order, wrt="x")
    return r.coefficients, r.warnings


def agree(ours: list[float], truth: list, tol: float = 1e-13) -> None:
    """Each coefficient within tol of the truth, relative to the largest coefficient that is finite
    in doubles (exact zeros must come out 0)."""
    big = max(abs(mp.mpf(t)) for t in truth if abs(mp.mpf(t)) < mp.mpf(1.7e308))
    for k, (c, t) in enumerate(zip(ours, truth, strict=True)):
        assert math.isfinite(c) or abs(mp.mpf(t)) > mp.mpf(1.7e308), (k, c, t)
        if t == 0:
            assert c == 0.0, (k, c)
        elif abs(mp.mpf(t)) <= mp.mpf(1.7e308):
            assert abs(mp.mpf(c) - mp.mpf(t)) <= tol * big or abs(mp.mpf(c) - t) <= tol * abs(t), (k, c, t)


def test_a_square_cubed_at_a_tiny_point_has_exact_high_derivatives():
    d = adcli.derivatives(adcli.parse("(x*x)^3"), {"x": 1e-60}, 8, wrt="x").derivatives
    truth = poly_at([0, 0, 0, 0, 0, 0, 1], 1e-60, 8)
    assert d[6] == 720.0
    assert d[7] == 0.0 and d[8] == 0.0
    for k in range(1, 7):
        assert math.isclose(d[k], float(truth[k] * math.factorial(k)), rel_tol=1e-14), k


def test_x_plus_x_squared_to_the_fourth_at_a_tiny_point():
    c, _ = coefficients("(x+x^2)^4", 1e-90, 10)
    truth = poly_at([0, 0, 0, 0, 1, 4, 6, 4, 1], 1e-90, 10)  # x⁴(1+x)⁴
    for k in range(11):
        t = float(truth[k])
        assert c[k] == t if t == 0.0 else math.isclose(c[k], t, rel_tol=1e-14), (k, c[k], t)
    assert math.isclose(c[6], 6.0, rel_tol=1e-14)


@pytest.mark.parametrize("x", [1e-100, 1e-70])
def test_sin_to_the_fifth_at_a_tiny_point(x):
    with mp.workdps(DPS):
        s, _ = sin_cos_series(x, 10)
        truth = series_pow_int(s, 5)
        c, _ = coefficients("sin(x)^5", x, 10)
        for k in range(11):
            assert math.isfinite(c[k]), k
            assert abs(mp.mpf(c[k]) - truth[k]) <= 1e-13 * max(abs(truth[k]), mp.mpf(2) ** -1074 * 4), (k, c[k])


def test_cos_to_the_seventh_at_half_pi_does_not_divide_by_its_tiny_value():
    x = math.pi / 2
    with mp.workdps(DPS):
        _, cs = sin_cos_series(x, 12)
        truth = series_pow_int(cs, 7)
        c, _ = coefficients("cos(x)^7", x, 12)
        agree(c, truth)
        assert abs(mp.mpf(c[10]) - truth[10]) <= 1e-13 * abs(truth[10])  # 4.3e-16, not 3.8e15


@pytest.mark.parametrize(
    ("formula", "x", "n"), [("sin(x)^5", 1.3, 5), ("cos(x)^7", 0.4, 7), ("sin(x)^3", -2.0, 3), ("cos(x)^12", 1.0, 12)]
)
def test_whole_powers_of_a_curved_series_at_ordinary_points(formula, x, n):
    order = 30
    with mp.workdps(DPS):
        s, cs = sin_cos_series(x, order)
        truth = series_pow_int(s if formula.startswith("sin") else cs, n)
        c, w = coefficients(formula, x, order)
        agree(c, truth, 1e-12)
        assert not w


def test_coefficient_one_of_a_whole_power_is_forward_modes_tangent_bit_for_bit():
    for formula, x in [("sin(x)^5", 1e-100), ("(x+x^2)^4", 0.3), ("cos(x)^7", math.pi / 2), ("(x*x)^3", 1e-60)]:
        g = adcli.parse(formula)
        d = adcli.derivatives(g, {"x": x}, 5, wrt="x").derivatives
        assert d[1] == g.gradient({"x": x}, mode="forward")["x"], formula


def test_an_overflowed_coefficient_times_a_structural_zero_is_not_nan():
    d = adcli.derivatives(adcli.parse("(x+x^2)^3"), {"x": 1e120}, 7, wrt="x").derivatives
    assert d[7] == 0.0  # a polynomial of degree 6
    assert d[6] == 720.0


def test_a_fractional_power_of_a_curved_series_whose_value_underflows_is_not_inf_and_is_warned():
    c, w = coefficients("(x^2+1e-200)^2.5", 0.0, 4)
    assert all(math.isfinite(v) for v in c)
    assert any("may be 0 or inexact" in m for m in w), w


def test_a_fractional_power_of_a_linear_series_keeps_the_scaled_recurrence():
    with mp.workdps(DPS):
        x = mp.mpf(1e-250)
        c, w = coefficients("(2*x)^-1.5", 1e-250, 6)
        for k in range(7):
            t = mp.binomial(-1.5, k) * (2 * x) ** (-1.5 - k) * 2**k
            if abs(t) < mp.mpf(1.7e308):
                assert abs(mp.mpf(c[k]) - t) <= 1e-14 * abs(t), k
        assert not any("may be 0 or inexact" in m for m in w)


@pytest.mark.parametrize(("formula", "x"), [("(x*x+1)^2.5", 1e150), ("(x*x+1)^-2.5", 1e100), ("sin(x)^-3", 1e-120)])
def test_the_plain_recurrence_where_the_value_leaves_the_doubles_is_warned(formula, x):
    _, w = coefficients(formula, x, 6)
    assert any("may be 0 or inexact" in m for m in w), w
