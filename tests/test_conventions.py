"""Numerical conventions, each as the README states it, in both modes."""

import math

import pytest
from oracles import close

import adcli

MODES = ["reverse", "forward"]


def grad(text, mode, **point):
    return adcli.parse(text).differentiate(point, mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("text", "x", "value", "slope"),
    [
        ("abs(x)", 0.0, 0.0, 0.0),  # abs: slope 0 at 0
        ("abs(x)", -2.0, 2.0, -1.0),
        ("relu(x)", 0.0, 0.0, 0.0),  # relu: slope 0 at 0
        ("relu(x)", 1.0, 1.0, 1.0),
        ("sign(x)", 0.0, 0.0, 0.0),  # sign, floor, ceil: slope 0 everywhere
        ("sign(x)", -3.0, -1.0, 0.0),
        ("floor(x)", 2.0, 2.0, 0.0),
        ("ceil(x)", 2.5, 3.0, 0.0),
        ("min(x, 1)", 1.0, 1.0, 0.5),  # min/max at a tie: the slope splits evenly
        ("max(x, 1)", 1.0, 1.0, 0.5),
        ("max(x, x)", 4.0, 4.0, 1.0),
        ("hypot(x, 0)", 0.0, 0.0, 0.0),  # hypot at the origin: 0, as abs
        ("x^2", 0.0, 0.0, 0.0),  # no nan from 0·ln 0
        ("x^0", 0.0, 1.0, 0.0),  # x^0 is constant, even at 0
        ("x^2", -3.0, 9.0, -6.0),  # negative base, constant exponent
        ("x^3", -2.0, -8.0, 12.0),
        ("sqrt(x)", 0.0, 0.0, math.inf),
        ("cbrt(x)", 0.0, 0.0, math.inf),
        ("log(x)", 0.0, -math.inf, math.inf),
        ("log(x)", -1.0, math.nan, -1.0),
        ("sqrt(x)", -1.0, math.nan, math.nan),
        ("1/x", 0.0, math.inf, -math.inf),
        ("1/x", -0.0, -math.inf, -math.inf),
        ("exp(x)", 1000.0, math.inf, math.inf),  # overflow
        ("exp(x)", -1000.0, 0.0, 0.0),  # underflow
        ("asin(x)", 1.0, math.pi / 2, math.inf),
        ("atanh(x)", 1.0, math.inf, math.inf),
        ("x^(1/3)", -8.0, math.nan, math.nan),  # never a complex number
        ("sigmoid(x)", -800.0, 0.0, 0.0),
        ("softplus(x)", 800.0, 800.0, 1.0),
    ],
)
def test_convention(mode, text, x, value, slope):
    result = grad(text, mode, x=x)
    assert close(result.value, value, rel=1e-15, abs_=0.0), result.value
    assert close(result.gradient["x"], slope, rel=1e-15, abs_=0.0), result.gradient


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1/0", math.inf),
        ("1/-0", -math.inf),
        ("0/0", math.nan),
        ("log(-1)", math.nan),
        ("sqrt(-1)", math.nan),
        ("asin(2)", math.nan),
        ("(-8)^(1/3)", math.nan),
        ("exp(1000)", math.inf),
        ("10^400", math.inf),
        ("1e200^3", math.inf),
        ("exp(-1000)", 0.0),
        ("log(0)", -math.inf),
    ],
)
def test_constant_domain_edges(text, expected):
    assert close(adcli.parse(text).evaluate({}), expected, rel=0.0, abs_=0.0)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("text", "point", "convention"),
    [
        ("abs(x)", {"x": 0.0}, "0"),
        ("relu(x) + y", {"x": 0.0, "y": 1.0}, "0"),
        ("floor(x)", {"x": 3.0}, "0 across the jump"),
        ("sign(x)", {"x": 0.0}, "0 across the jump"),
        ("max(x, min(x, y))", {"x": 0.0, "y": 0.0}, "½ to each argument"),
        ("hypot(x, y)", {"x": 0.0, "y": 0.0}, "0 for both arguments"),
    ],
)
def test_kinks_are_announced(mode, text, point, convention):
    """A derivative taken at a kink is a convention, never passed off as the derivative."""
    result = grad(text, mode, **point)
    assert [w for w in result.warnings if "has no derivative" in w] == [
        w for w in result.warnings if f"adcli uses {convention} " in w
    ]
    assert len(result.warnings) == 1


@pytest.mark.parametrize("mode", MODES)
def test_no_kink_warning_away_from_kinks(mode):
    assert grad("abs(x) + max(x, 1) + floor(x)", mode, x=0.5).warnings == []


@pytest.mark.parametrize("mode", MODES)
def test_pow_at_zero_base_same_in_both_modes(mode):
    result = grad("x^y", mode, x=0.0, y=2.0)
    assert result.value == 0.0
    assert result.gradient == {"x": 0.0, "y": 0.0}  # ∂/∂y of 0^y is 0 for y > 0


@pytest.mark.parametrize("mode", MODES)
def test_pow_with_variable_exponent(mode):
    result = grad("x^y", mode, x=2.0, y=3.0)
    assert result.gradient["x"] == 12.0
    assert close(result.gradient["y"], 8.0 * math.log(2.0), rel=1e-15)
    result = grad("x^y", mode, x=-2.0, y=2.0)  # ∂/∂y needs ln(-2): nan, with a warning
    assert result.gradient["x"] == -4.0 and math.isnan(result.gradient["y"])
    assert any("derivative of pow" in w for w in result.warnings)


@pytest.mark.parametrize("mode", MODES)
def test_warning_names_the_first_non_finite_operation(mode):
    result = grad("a = log(x - 1); b = exp(a * 1000); sqrt(b)", mode, x=1.0)
    assert result.warnings[0].startswith("log at v2 (a = log(x - 1)) is -inf")


@pytest.mark.parametrize("mode", MODES)
def test_no_warning_when_all_is_finite(mode):
    assert grad("sin(x)*exp(x)", mode, x=0.5).warnings == []


@pytest.mark.parametrize("mode", MODES)
def test_overflow_in_multiplication(mode):
    result = grad("x*x*x", mode, x=1e200)
    assert result.value == math.inf
    assert result.gradient["x"] == math.inf


def test_cli_warning_on_stderr_exit_zero(adcli_run):
    run = adcli_run("grad", "log(x)", "--at", "x=-1")
    assert run.code == 0
    assert run.err.startswith("warning: log at v1 (log(x)) is nan")
    assert "value  nan" in run.out


@pytest.mark.parametrize("mode", MODES)
def test_warnings_ignore_statements_the_result_does_not_use(mode):
    result = grad("a = log(x - x); sqrt(-x) + x", mode, x=1.0)
    assert result.warnings[0] == "statement a not used by the result"
    assert result.warnings[1].startswith("sqrt at")


@pytest.mark.parametrize("mode", MODES)
def test_a_named_statement_then_a_line_starting_with_plus_is_warned_about(mode):
    """f = ... ⏎ + (1-x)^2 makes the second line the result; f is dropped, and that is said."""
    result = grad("f = 100*(y-x^2)^2\n  + (1-x)^2", mode, x=0.5, y=0.5)
    assert result.value == 0.25
    assert result.warnings == ["statement f not used by the result"]


@pytest.mark.parametrize("mode", MODES)
def test_warnings_name_operations_as_formulas_write_them(mode):
    result = grad("d = x - 1; log(2, d)", mode, x=2.0)
    assert result.warnings[0].startswith("log at v2 (log(2, d))")
    assert "with respect to d is" in result.warnings[1]


@pytest.mark.parametrize("mode", MODES)
def test_forward_mode_keeps_tangents_only_for_a_trace(mode):
    graph = adcli.parse("x*y")
    assert graph.differentiate({"x": 1, "y": 2}, mode, record=False).gradient == {"x": 2.0, "y": 1.0}
    if mode == "forward":
        assert graph.differentiate({"x": 1, "y": 2}, mode, record=False).tangents == {}
        assert set(graph.differentiate({"x": 1, "y": 2}, mode).tangents) == {"x", "y"}


def test_past_an_infinite_partial_the_modes_may_differ_and_warn_alike():
    """∞·(2 - 1) = ∞ in forward mode, ∞·2 - ∞·1 = nan in reverse (README, Numerical conventions)."""
    graph = adcli.parse("(2*y - y)/x")
    forward = graph.differentiate({"x": 0.0, "y": 0.0}, "forward")
    reverse = graph.differentiate({"x": 0.0, "y": 0.0}, "reverse")
    assert forward.gradient["y"] == math.inf
    assert math.isnan(reverse.gradient["y"])
    assert forward.warnings == reverse.warnings
    assert reverse.warnings[1].startswith(
        "the derivative of div at v3 ((2 * y - y) / x) with respect to 2 * y - y is inf"
    )


@pytest.mark.parametrize("mode", MODES)
def test_a_warning_about_partials_is_the_same_without_a_trace(mode):
    """Without a trace the partials are found by one recording sweep back, after the fact."""
    from adcli.core.graph import PLAN_AFTER

    graph = adcli.parse("a = x*y; log(a) + sqrt(y)")
    traced = graph.differentiate({"x": 0.0, "y": 0.0}, mode)
    assert any(w.startswith("the derivative of") for w in traced.warnings)
    for _ in range(PLAN_AFTER + 1):  # the plain sweep, then (reverse mode) the planned one
        assert graph.differentiate({"x": 0.0, "y": 0.0}, mode, record=False).warnings == traced.warnings


def test_a_forward_trace_too_big_to_keep_is_refused_before_it_starts(monkeypatch):
    from adcli.engines import gradient as result

    monkeypatch.setattr(result, "MAX_FORWARD_TANGENTS", 10)
    graph = adcli.parse("x*y + y*z")  # 3 variables × 6 nodes = 18 tangents
    with pytest.raises(adcli.AdcliError, match=r"3 × 6 is more than adcli keeps \(10\)"):
        graph.differentiate({"x": 1, "y": 2, "z": 3}, "forward")
    assert graph.differentiate({"x": 1, "y": 2, "z": 3}, "forward", wrt="x").gradient == {"x": 2.0}  # 1 × 6
    assert graph.differentiate({"x": 1, "y": 2, "z": 3}, "forward", record=False).gradient["y"] == 4.0
