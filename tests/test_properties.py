"""Random formulas over the whole table: forward = reverse, and both = finite differences."""

from __future__ import annotations

import math

from formulas import formulas, points
from hypothesis import assume, given, settings
from oracles import central_difference, close

import adcli


def _point(graph, values):
    return {name: values[name] for name in graph.variables}


def _agree(a: float, b: float, scale: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12 * max(1.0, scale))


@settings(max_examples=400, deadline=None)
@given(formulas, points)
def test_forward_equals_reverse(text, values):
    graph = adcli.parse(text)
    point = _point(graph, values)
    rev = graph.differentiate(point, "reverse")
    fwd = graph.differentiate(point, "forward")
    assert rev.value == fwd.value or (math.isnan(rev.value) and math.isnan(fwd.value))
    assert list(rev.gradient) == list(fwd.gradient) == list(graph.variables)
    scale = max((abs(g) for g in rev.gradient.values() if math.isfinite(g)), default=1.0)
    assert rev.warnings == fwd.warnings
    # Past an infinite partial the modes may differ between ±inf and nan (IEEE does not
    # distribute over infinities; README, "Numerical conventions"), and say so alike.
    unbounded = any(w.startswith("the derivative of") for w in rev.warnings)
    for name in graph.variables:
        r, f = rev.gradient[name], fwd.gradient[name]
        inf_or_nan = (math.isinf(r) and math.isnan(f)) or (math.isnan(r) and math.isinf(f))
        assert _agree(r, f, scale) or (unbounded and inf_or_nan), (name, rev.gradient, fwd.gradient)


def _smooth_difference(f, x, i):
    """A central difference, or None where f does not look smooth at x (a kink, a jump, a pole).

    Smooth means: the two one-sided differences agree, and two step sizes agree.
    """

    def shifted(h):
        y = list(x)
        y[i] += h
        return f(y)

    h = 1e-5 * max(1.0, abs(x[i]))
    f0, up, down = f(list(x)), shifted(h), shifted(-h)
    left, right = (f0 - down) / h, (up - f0) / h
    central, finer = (up - down) / (2 * h), (shifted(h / 10) - shifted(-h / 10)) / (h / 5)
    estimates = (left, right, central, finer)
    if not all(math.isfinite(d) for d in estimates):
        return None
    scale = max(1.0, abs(central))
    if abs(left - right) > 1e-3 * scale or abs(central - finer) > 1e-4 * scale:
        return None
    return finer


@settings(max_examples=400, deadline=None)
@given(formulas, points)
def test_gradient_matches_finite_differences(text, values):
    graph = adcli.parse(text)
    names = graph.variables
    point = _point(graph, values)
    result = graph.differentiate(point, "reverse")
    assume(math.isfinite(result.value) and abs(result.value) < 1e8)
    # At a kink the derivative is a documented convention, announced by a warning.
    assume(not any("has no derivative" in w for w in result.warnings))

    def f(x):
        return graph.evaluate(dict(zip(names, x, strict=True)))

    x = [point[n] for n in names]
    for i, name in enumerate(names):
        fd = _smooth_difference(f, x, i)
        if fd is None or not math.isfinite(result.gradient[name]):
            continue
        assert close(result.gradient[name], fd, rel=1e-3, abs_=1e-5), (text, point, name, result.gradient[name], fd)


def test_central_difference_helper_is_an_independent_oracle():
    graph = adcli.parse("x^3")
    assert close(central_difference(lambda x: x[0] ** 3, [2.0], 0), 12.0, rel=1e-8)
    assert graph.gradient({"x": 2.0}) == {"x": 12.0}


def test_a_branch_not_taken_is_not_named_as_the_first_nonfinite_partial():
    """max(x, atan2(y, y)) at x = 1 takes x: atan2's nan partial at the origin reaches nothing,
    so both modes name asin's infinite slope at 1, not atan2 (forward mode named atan2)."""
    graph = adcli.parse("asin(max(x, atan2(y, y)))")
    for mode in ("reverse", "forward"):
        result = graph.differentiate({"x": 1.0, "y": 0.0}, mode)
        assert result.gradient == {"x": math.inf, "y": 0.0}
        assert len(result.warnings) == 1 and result.warnings[0].startswith("the derivative of asin at v3"), mode
