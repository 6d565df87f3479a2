"""Numerical conventions, each as the README states it, in both modes."""

import math

import pytest
from oracles import close

import adcli

MODES = ["reverse", "forward"]


def grad(text, mode, **point):
    return adcli.parse(text).differentiate(point, mode)


inf, nan = math.inf, math.nan

# Each row of the README's "Numerical conventions" table, by its first cell, with cases
# that show it: (formula, point, value, gradient). A row without cases, or a case for a
# row the README lacks, fails test_every_readme_row_is_tested.
ROWS: dict[str, list[tuple[str, dict[str, float], float, dict[str, float]]]] = {
    "`1/0`, `1/-0`": [
        ("1/x", {"x": 0.0}, inf, {"x": -inf}),
        ("1/x", {"x": -0.0}, -inf, {"x": -inf}),
    ],
    "outside the domain: `log(-1)`, `sqrt(-1)`, `asin(2)`, `atanh(2)`, `(-8)^(1/3)`": [
        ("log(x)", {"x": -1.0}, nan, {"x": nan}),  # JAX and PyTorch give -1
        ("sqrt(x)", {"x": -1.0}, nan, {"x": nan}),
        ("asin(x)", {"x": 2.0}, nan, {"x": nan}),
        ("atanh(x)", {"x": 2.0}, nan, {"x": nan}),  # the rule 1/(1 - x²) would give -1/3
        ("x^(1/3)", {"x": -8.0}, nan, {"x": nan}),  # never a complex number
        ("log1p(x) + log2(x + 3) + log10(x + 3)", {"x": -2.0}, nan, {"x": nan}),
        ("log(x, y)", {"x": -2.0, "y": 3.0}, nan, {"x": nan, "y": nan}),
        ("x^y", {"x": -2.0, "y": 0.5}, nan, {"x": nan, "y": nan}),
        ("2*log(x) + 5", {"x": -1.0}, nan, {"x": nan}),  # and on through the rest of the formula
    ],
    "no value at all: `0/0`, `inf - inf`, `0*inf`, `inf/inf`": [
        ("x/y", {"x": 0.0, "y": 0.0}, nan, {"x": nan, "y": nan}),
        ("x - y", {"x": inf, "y": inf}, nan, {"x": nan, "y": nan}),
        ("x + y", {"x": inf, "y": -inf}, nan, {"x": nan, "y": nan}),
        ("x*y", {"x": 0.0, "y": inf}, nan, {"x": nan, "y": nan}),
        ("x/y", {"x": inf, "y": -inf}, nan, {"x": nan, "y": nan}),
        ("sin(x)", {"x": inf}, nan, {"x": nan}),
    ],
    "overflow: `exp(1000)`, `10^400`, `1e200^3`": [
        ("exp(x)", {"x": 1000.0}, inf, {"x": inf}),
        ("x^3", {"x": 1e200}, inf, {"x": inf}),
        ("x*x*x", {"x": 1e200}, inf, {"x": inf}),
    ],
    "underflow: `exp(-1000)`": [("exp(x)", {"x": -1000.0}, 0.0, {"x": 0.0})],
    "`log(0)`, `log(-0)`": [
        ("log(x)", {"x": 0.0}, -inf, {"x": inf}),
        ("log(x)", {"x": -0.0}, -inf, {"x": inf}),  # the domain's side, not 1/-0
        ("log2(x)", {"x": -0.0}, -inf, {"x": inf}),
        ("log10(x)", {"x": -0.0}, -inf, {"x": inf}),
    ],
    "`sqrt(0)`, `cbrt(0)`, `asin(1)`, `atanh(1)`": [
        ("sqrt(x)", {"x": 0.0}, 0.0, {"x": inf}),
        ("sqrt(x)", {"x": -0.0}, -0.0, {"x": inf}),
        ("cbrt(x)", {"x": 0.0}, 0.0, {"x": inf}),
        ("asin(x)", {"x": 1.0}, math.pi / 2, {"x": inf}),
        ("atanh(x)", {"x": 1.0}, inf, {"x": inf}),
    ],
    "`abs` at 0, `hypot(0, 0)`": [
        ("abs(x)", {"x": 0.0}, 0.0, {"x": 0.0}),
        ("abs(x)", {"x": -2.0}, 2.0, {"x": -1.0}),
        ("hypot(x, 0)", {"x": 0.0}, 0.0, {"x": 0.0}),
    ],
    "`relu` at 0": [("relu(x)", {"x": 0.0}, 0.0, {"x": 0.0}), ("relu(x)", {"x": 1.0}, 1.0, {"x": 1.0})],
    "`sign`, `floor`, `ceil`": [
        ("sign(x)", {"x": 0.0}, 0.0, {"x": 0.0}),
        ("sign(x)", {"x": -3.0}, -1.0, {"x": 0.0}),
        ("floor(x)", {"x": 2.0}, 2.0, {"x": 0.0}),
        ("ceil(x)", {"x": 2.5}, 3.0, {"x": 0.0}),
        ("floor(x)", {"x": -0.0}, -0.0, {"x": 0.0}),
        ("ceil(x)", {"x": -0.5}, -0.0, {"x": 0.0}),
        ("atan2(ceil(x), -1)", {"x": -0.5}, -math.pi, {"x": 0.0}),  # the sign of zero decides the side
    ],
    "a branch not taken: `relu` below 0, the losing side of `min`/`max`, `sign`, `floor`, `ceil`": [
        ("sqrt(relu(x))", {"x": -1.0}, 0.0, {"x": 0.0}),
        ("sqrt(max(x, 0))", {"x": -1.0}, 0.0, {"x": 0.0}),
        ("sqrt(floor(x) + 2)*1", {"x": -1.5}, 0.0, {"x": 0.0}),
    ],
    "`min(a, b)`, `max(a, b)` at a tie": [
        ("min(x, 1)", {"x": 1.0}, 1.0, {"x": 0.5}),
        ("max(x, 1)", {"x": 1.0}, 1.0, {"x": 0.5}),
        ("max(x, x)", {"x": 4.0}, 4.0, {"x": 1.0}),
        ("min(x, y, z)", {"x": 1.0, "y": 1.0, "z": 1.0}, 1.0, {"x": 0.25, "y": 0.25, "z": 0.5}),
    ],
    "`min`, `max` with a nan argument": [("min(x, y)", {"x": 1.0, "y": nan}, nan, {"x": nan, "y": nan})],
    "`x^y` with y = 0": [
        ("x^0", {"x": 0.0}, 1.0, {"x": 0.0}),
        ("x^y", {"x": 0.0, "y": 0.0}, 1.0, {"x": 0.0, "y": -inf}),
    ],
    "`x^y` with x = 0": [
        ("x^2", {"x": 0.0}, 0.0, {"x": 0.0}),  # no nan from 0·ln 0
        ("x^y", {"x": 0.0, "y": 2.0}, 0.0, {"x": 0.0, "y": 0.0}),
        ("x^y", {"x": 0.0, "y": -1.0}, inf, {"x": -inf, "y": -inf}),
        ("x^x", {"x": 0.0}, 1.0, {"x": -inf}),  # x^x (ln x + 1) → -inf from the right
    ],
    "`x^y` with x < 0": [
        ("x^2", {"x": -3.0}, 9.0, {"x": -6.0}),
        ("x^3", {"x": -2.0}, -8.0, {"x": 12.0}),
        ("x^y", {"x": -2.0, "y": 2.0}, 4.0, {"x": -4.0, "y": nan}),
    ],
    "constants, and inputs held fixed by `--wrt`": [
        ("x^2", {"x": -3.0}, 9.0, {"x": -6.0}),
        ("x^2*0 + 2^x", {"x": 1.0}, 2.0, {"x": 2.0 * math.log(2.0)}),
    ],
}


def _readme_rows() -> list[str]:
    from pathlib import Path

    text = (Path(__file__).parent.parent / "README.md").read_text()
    section = text.split("## Numerical conventions", 1)[1].split("\n## ", 1)[0]
    rows = [
        line for line in section.splitlines() if line.startswith("| ") and not line.startswith(("| where", "| ---"))
    ]
    return [row.split(" | ")[0][2:] for row in rows]


def test_every_readme_row_is_tested():
    assert _readme_rows() == list(ROWS)
    assert all(ROWS.values())


def _same(got: float, want: float) -> bool:
    """Equal to the last bit, a zero's sign included; nan only as nan."""
    if math.isnan(want):
        return math.isnan(got)
    return got == want and math.copysign(1.0, got) == math.copysign(1.0, want)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("text", "point", "value", "gradient"),
    [pytest.param(*case, id=f"{case[0]}@{case[1]}") for cases in ROWS.values() for case in cases],
)
def test_readme_row(mode, text, point, value, gradient):
    """The row's value and derivatives, traced, untraced and (reverse mode) by the planned sweep."""
    from adcli.engines.reverse import PLAN_AFTER

    graph = adcli.parse(text)
    result = graph.differentiate(point, mode)
    assert _same(result.value, value), result.value
    for got in [result.gradient] + [graph.gradient(point, mode) for _ in range(PLAN_AFTER + 1)]:
        for name, want in gradient.items():
            assert _same(got[name], want) or (want == 0.0 and got[name] == 0.0), (name, got)


def test_the_hessians_gradient_keeps_the_conventions():
    """The recorded backward sweep (the Hessian's) passes nan on where a value is nan, as the sweeps do."""
    from adcli.engines.derivatives import hessian

    for text, point, _, gradient in ROWS["no value at all: `0/0`, `inf - inf`, `0*inf`, `inf/inf`"]:
        result = hessian(adcli.parse(text), point)
        assert all(math.isnan(result.gradient[name]) for name in gradient), (text, result.gradient)
    result = hessian(adcli.parse("log(x) + x*y"), {"x": -1.0, "y": 2.0})
    assert math.isnan(result.gradient["x"]) and math.isnan(result.gradient["y"])
    assert math.isnan(result.matrix[0][0]) and math.isnan(result.matrix[0][1])


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
    graph = adcli.parse("sqrt(2*y - y)")
    forward = graph.differentiate({"y": 0.0}, "forward")
    reverse = graph.differentiate({"y": 0.0}, "reverse")
    assert forward.gradient["y"] == math.inf
    assert math.isnan(reverse.gradient["y"])
    assert forward.warnings == reverse.warnings
    assert reverse.warnings[0].startswith(
        "the derivative of sqrt at v3 (sqrt(2 * y - y)) with respect to 2 * y - y is inf"
    )


@pytest.mark.parametrize("record", [True, False])
def test_an_adjoint_that_overflows_is_warned_about(record):
    """Every value and partial is finite, yet reverse mode's adjoint overflows: the warning names where."""
    graph = adcli.parse("x*1e-300*1e300*1e300")
    reverse = graph.differentiate({"x": 1.0}, "reverse", record=record)
    forward = graph.differentiate({"x": 1.0}, "forward", record=record)
    assert reverse.gradient == {"x": math.inf} and forward.gradient == {"x": 1e300}
    assert len(reverse.warnings) == 1
    assert reverse.warnings[0].startswith("the adjoint of mul at v1 (x * 1e-300) is inf, though every value")
    assert forward.warnings == []


@pytest.mark.parametrize("record", [True, False])
def test_a_tangent_that_overflows_is_warned_about(record):
    """The mirror image: forward mode's tangents overflow where reverse mode's adjoints do not."""
    graph = adcli.parse("x*1e300*1e10*1e-300")  # at 1e-10: tangents 1e300, inf; adjoints 1e-300, 1e-290
    forward = graph.differentiate({"x": 1e-10}, "forward", record=record)
    reverse = graph.differentiate({"x": 1e-10}, "reverse", record=record)
    assert forward.gradient == {"x": math.inf} and math.isclose(reverse.gradient["x"], 1e10, rel_tol=1e-15)
    assert forward.warnings == [
        "the tangent ∂/∂x of mul at v2 (x * 1e300 * 1e10) is inf, though every value and local partial is "
        "finite: the sweep overflowed (products of large partials); reverse mode multiplies them in another "
        "order and may not ('adcli check' compares the two)"
    ]
    assert reverse.warnings == []


def test_an_adjoint_that_underflows_gives_a_finite_wrong_number_only_the_other_mode_shows():
    """README: nothing in one sweep tells the 0 from a true 0; the other mode gives the slope."""
    graph = adcli.parse("x*1e300*1e-300*1e-300")
    assert graph.differentiate({"x": 1.0}, "reverse").gradient == {"x": 0.0}
    assert graph.differentiate({"x": 1.0}, "forward").gradient == {"x": 1e-300}


@pytest.mark.parametrize("mode", MODES)
def test_a_warning_about_partials_is_the_same_without_a_trace(mode):
    """Without a trace the partials are found by one recording sweep back, after the fact."""
    from adcli.engines.reverse import PLAN_AFTER

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
