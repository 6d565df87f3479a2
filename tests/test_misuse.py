"""Misuse of the Python API and of points: an adcli error with a message, never a bare Python one,
and the same point rules for the API and the command line."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import pytest
from click.testing import CliRunner

import adcli
from adcli.cli import cli


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), prog_name="adcli")


# 15. Every misuse of the API raises an adcli error subclass with a message.

GRAPH = adcli.parse("x*y")


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: adcli.parse(None), adcli.ArgumentError, "parse takes the formula as a string, not None"),
        (lambda: adcli.parse(b"x+1"), adcli.ArgumentError, "parse takes the formula as a string, not a bytes"),
        (lambda: GRAPH.evaluate([3, 2]), adcli.PointError, "a point maps variable names to values"),
        (lambda: GRAPH.evaluate(None), adcli.PointError, "not None"),
        (lambda: GRAPH.evaluate({1: 3, "x": 1, "y": 2}), adcli.PointError, "keys are variable names"),
        (lambda: GRAPH.evaluate({"x": None, "y": 2}), adcli.PointError, "the value of 'x' must be a number"),
        (lambda: GRAPH.evaluate({"x": True, "y": 2}), adcli.PointError, "not a bool"),
        (lambda: GRAPH.evaluate({"x": 1j, "y": 2}), adcli.PointError, "not a complex"),
        (lambda: GRAPH.gradient({"x": 1, "y": 2}, mode="sideways"), adcli.ArgumentError, "not 'sideways'"),
        (lambda: GRAPH.differentiate({"x": 1, "y": 2}, mode=None), adcli.ArgumentError, "'reverse' or 'forward'"),
        (lambda: GRAPH.gradient({"x": 1, "y": 2}, wrt=5), adcli.ArgumentError, "wrt takes variable names"),
        (lambda: GRAPH.gradient({"x": 1, "y": 2}, wrt=[None]), adcli.ArgumentError, "not None"),
        (lambda: adcli.parse_point(None), adcli.ArgumentError, "parse_point takes a text"),
        (lambda: adcli.parse_point([3]), adcli.ArgumentError, "not an int"),
    ],
)
def test_misuse_raises_an_adcli_error_with_a_message(call, error, message):
    with pytest.raises(error, match=message) as caught:
        call()
    assert type(caught.value) is not adcli.AdcliError  # a specific subclass
    assert caught.value.exit_code == 2
    for repr_ in ("[3, 2]", "b'x+1'", "True", "1j"):  # the value's kind, never its repr
        assert repr_ not in str(caught.value)


def test_a_huge_int_is_inf_as_1e400_is_on_the_command_line():
    """float(10**400) raises OverflowError; a double overflows to inf, as --at x=1e400 does."""
    assert GRAPH.evaluate({"x": 10**400, "y": 1}) == math.inf
    assert GRAPH.evaluate({"x": -(10**400), "y": 1}) == -math.inf
    assert GRAPH.evaluate({"x": Fraction(10**400, 3), "y": 1}) == math.inf
    run = invoke("eval", "x*y", "--at", "x=1e400,y=1", "--json")
    assert json.loads(run.stdout)["value"] == "Infinity"
    result = GRAPH.differentiate({"x": 10**400, "y": 1})
    assert any("input x is inf" in w for w in result.warnings)  # and it says so


@pytest.mark.parametrize(
    ("value", "expected"),
    [("pi", math.pi), ("pi/4", math.pi / 4), ("-2", -2.0), ("2^-10", 2**-10), ("atan2(1, 2)", math.atan2(1, 2))],
)
def test_the_api_and_the_command_line_accept_the_same_point_values(value, expected, tmp_path):
    # By hand: x*y at y = 1 is x.
    assert GRAPH.evaluate({"x": value, "y": 1}) == expected
    assert adcli.parse_point([f"x={value}"]) == {"x": expected}
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"x": value, "y": 1}))
    run = invoke("eval", "x*y", "--at", f"@{path}", "--json")
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["value"] == expected


def test_the_json_spellings_of_non_finite_numbers_work_in_the_api():
    assert GRAPH.evaluate({"x": "Infinity", "y": 1}) == math.inf
    assert math.isnan(GRAPH.evaluate({"x": "NaN", "y": 1}))


def test_a_variable_in_a_point_value_is_refused_alike():
    with pytest.raises(adcli.PointError, match="must be a constant expression, but 'z' uses z"):
        GRAPH.evaluate({"x": "z", "y": 1})
    run = invoke("eval", "x*y", "--at", "x=z,y=1")
    assert run.exit_code == 2
    assert "must be a constant expression, but 'z' uses z" in run.output


# 16. Point messages without Python reprs; comments in point files; digits are 0-9.


@pytest.mark.parametrize(
    ("value", "said"),
    [("true", "true"), ("false", "false"), ("null", "null"), ('{"v": 1}', "an object"), ("[1]", "an array")],
)
def test_json_point_errors_speak_json_not_python(tmp_path, value, said):
    path = tmp_path / "p.json"
    path.write_text(f'{{"x": {value}}}')
    run = invoke("grad", "x", "--at", f"@{path}")
    assert run.exit_code == 2
    assert run.output == f"error: the value of 'x' must be a number or a string holding one, not {said}\n"
    for python in ("True", "None", "[(", "1.0"):
        assert python not in run.output


def test_a_text_point_file_takes_comments(tmp_path):
    path = tmp_path / "point.txt"
    path.write_text("# the textbook point\nx1 = 2   # Baydin et al.\n\n# and\nx2 = 5\n")
    run = invoke("grad", "ln(x1) + x1*x2 - sin(x2)", "--at", f"@{path}", "--json")
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["point"] == {"x1": 2.0, "x2": 5.0}
    assert adcli.parse_point(["x=1 # one, y=2"]) == {"x": 1.0}  # a comment runs to the end of its line


@pytest.mark.parametrize("digit", ["٣", "３", "३", "𝟑"])
def test_digits_other_than_0_to_9_are_refused_alike_in_points_and_formulas(digit):
    formula = invoke("grad", f"{digit}*x", "--at", "x=1")
    point = invoke("grad", "x", "--at", f"x={digit}")
    for run in (formula, point):
        assert run.exit_code == 2
        assert f"'{digit}' is a digit of another script: adcli reads numbers written with 0-9 only" in run.output
    with pytest.raises(adcli.ParseError) as caught:
        adcli.parse(f"x + 1{digit}")
    assert caught.value.column == 6
    with pytest.raises(adcli.PointError):
        GRAPH.evaluate({"x": digit, "y": 1})


def _adjoint_text(formula: str, point: dict, mode: str = "reverse") -> str:
    import io as _io

    from rich.console import Console

    from adcli.render import trace

    result = adcli.parse(formula).differentiate(point, mode)
    console = Console(width=200, record=True, file=_io.StringIO(), color_system=None)
    trace.render(result, True, console=console)
    return console.export_text()


@pytest.mark.parametrize(
    ("formula", "tangent_rule", "partial"),
    [
        ("x^2", "v̇₁ = v̇₀·(2·v₀)", "2·v₀"),
        ("x^3", "v̇₁ = v̇₀·(3·v₀^2)", "3·v₀^2"),
        ("x^0.5", "v̇₁ = v̇₀·(0.5·v₀^(-0.5))", "0.5·v₀^(-0.5)"),
        ("x^1", "v̇₁ = v̇₀ ", "1"),
    ],
)
def test_the_partial_of_a_constant_power_is_worked_out(formula, tangent_rule, partial):
    forward = _adjoint_text(formula, {"x": 2.0}, "forward")
    reverse = _adjoint_text(formula, {"x": 2.0}, "reverse")
    assert tangent_rule in forward
    (row,) = [line for line in reverse.splitlines() if "∂v₁/∂v₀ " in line]
    assert row.split()[3] == partial  # v̄₀ += v̄₁·∂v₁/∂v₀ PARTIAL g·p term
    for text in (forward, reverse):
        assert "-1)" not in text


def test_a_name_of_several_letters_gets_one_bar_not_one_per_letter():
    from adcli.render.trace import BAR, DOT, marked

    assert marked("out", BAR) == "o\u0305u\u0305t\u0305"  # one continuous overline
    assert marked("out", DOT) == "ou\u0307t"  # one dot, over the middle as \dot{out} puts it
    assert marked("x1", BAR) == "x̄1"
    text = _adjoint_text("x*y + f", {"x": 1, "y": 2, "f": 3})  # the output is called out
    assert "ōūt̄" not in text and "\u0304u" not in text
    assert "v̄₂ = o\u0305u\u0305t\u0305" in text


def test_the_kink_warning_counts_the_other_kinks():
    result = adcli.parse("abs(x) + relu(y) + max(x, y) + abs(2*x)").differentiate({"x": 0, "y": 0})
    (warning,) = [w for w in result.warnings if "no derivative" in w]
    assert warning.startswith("abs at v1 (abs(x)) is at a point where it has no derivative")
    assert warning.endswith("; 3 more operations are at such a point too")
    (one,) = adcli.parse("abs(x) + relu(x)").differentiate({"x": 0}).warnings
    assert one.endswith("; 1 more operation is at such a point too")
    (alone,) = [w for w in adcli.parse("abs(x) + y").differentiate({"x": 0, "y": 1}).warnings]
    assert "more" not in alone


def test_graph_help_promises_edge_partials_only_where_they_are_drawn():
    from adcli.render.picture import render

    run = invoke("graph", "--help")
    help_text = " ".join(run.output.split())
    graph = adcli.parse("x*y")
    result = graph.differentiate({"x": 3, "y": 2})
    drawings = {fmt: render(graph, result, fmt) for fmt in ("ascii", "dot", "mermaid")}
    # ∂(x·y)/∂x = y = 2 labels an edge in DOT and Mermaid; the ASCII drawing has no edge labels.
    assert 'label="2"' in drawings["dot"] and '|"2"|' in drawings["mermaid"]
    assert "dot and mermaid also label edges with local partials" in help_text
    assert "edges with local partials." not in help_text.replace("also label edges with local partials.", "")
