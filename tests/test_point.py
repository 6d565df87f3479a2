"""The --at point: name=value pairs, constant expressions, files, and loud mistakes."""

import json
import math

import pytest

import adcli
from adcli import parse_point


def test_pairs_and_repetition():
    assert parse_point(["x=3,y=2", "z=-1"]) == {"x": 3.0, "y": 2.0, "z": -1.0}


def test_constant_expressions():
    point = parse_point(["a=pi/4, b=-2, c=1e-3, d=2^-10, e1=atan2(1, 1), f=max(1,2,3)"])
    assert point == {"a": math.pi / 4, "b": -2.0, "c": 1e-3, "d": 2**-10, "e1": math.pi / 4, "f": 3.0}


def test_json_object():
    assert parse_point(['{"x": 3, "y": "pi", "z": "-Infinity"}']) == {"x": 3.0, "y": math.pi, "z": -math.inf}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("x=3,x=4", "gives 'x' twice"),
        ("x", "is not name=value"),
        ("3=x", "is not a variable name"),
        ("x=", "has no value"),
        ("x=abc", "must be a constant expression"),
        ("x=1+", "not a number or constant expression"),
        ("x=three", "must be a constant expression"),
        ("", "--at is empty"),
        ('{"x": NaN}', "not valid JSON"),
        ('{"x": true}', "must be a number"),
        ("[1, 2]", "is not name=value"),
    ],
)
def test_mistakes_are_named(spec, message):
    with pytest.raises(adcli.PointError) as info:
        parse_point([spec])
    assert message in str(info.value)


def test_twice_across_options():
    with pytest.raises(adcli.PointError, match="'y' twice"):
        parse_point(["x=1,y=2", "y=3"])


def test_unknown_and_missing_variables_are_loud():
    graph = adcli.parse("x*y")
    with pytest.raises(adcli.PointError, match=r"names 'yy', which the formula does not use.*did you mean 'y'"):
        graph.evaluate({"x": 1, "yy": 2})
    with pytest.raises(adcli.PointError, match="no value given for variable 'y'"):
        graph.evaluate({"x": 1})


def test_cli_point_file_of_ten_thousand_variables(tmp_path, adcli_run):
    n = 10_000
    formula = " + ".join(f"x{i}*x{i}" for i in range(n))
    (tmp_path / "f.txt").write_text(formula)
    (tmp_path / "p.json").write_text(json.dumps({f"x{i}": i / n for i in range(n)}))
    (tmp_path / "p.txt").write_text("\n".join(f"x{i}={i}/{n}" for i in range(n)))
    for point in ("p.json", "p.txt"):
        run = adcli_run("grad", f"@{tmp_path / 'f.txt'}", "--at", f"@{tmp_path / point}", "--json")
        assert run.code == 0, run.err
        gradient = json.loads(run.out)["gradient"]
        assert list(gradient) == [f"x{i}" for i in range(n)]
        assert all(gradient[f"x{i}"] == pytest.approx(2 * i / n, rel=1e-15) for i in range(n))


def test_cli_unknown_variable_exit_2(adcli_run):
    run = adcli_run("grad", "x*y", "--at", "x=1,y=2,z=3")
    assert run.code == 2
    assert run.out == ""
    assert run.err.startswith("error: the point names 'z'")
    assert "Traceback" not in run.err


def test_cli_missing_point_file(adcli_run):
    run = adcli_run("grad", "x", "--at", "@/nonexistent/p.json")
    assert run.code == 2
    assert "cannot read the point file '/nonexistent/p.json'" in run.err


def test_json_integers_too_large_for_a_double_are_infinite(tmp_path, adcli_run):
    path = tmp_path / "p.json"
    path.write_text('{"x": 1' + "0" * 400 + "}")
    run = adcli_run("grad", "x", "--at", f"@{path}", "--json")
    assert run.code == 0, run.err
    assert json.loads(run.out)["point"] == {"x": "Infinity"}


def test_names_the_formula_defines_are_not_inputs():
    graph = adcli.parse("a = x*2; a + 1")
    with pytest.raises(adcli.PointError, match="'a', which the formula defines"):
        graph.evaluate({"x": 1, "a": 2})


def test_api_accepts_a_comma_separated_wrt_and_rejects_non_numbers():
    graph = adcli.parse("x*y*z")
    assert graph.gradient({"x": 1, "y": 2, "z": 3}, wrt="z,x") == {"z": 2.0, "x": 6.0}
    with pytest.raises(adcli.PointError, match="the value of y must be a constant expression, but 'two' uses two"):
        graph.evaluate({"x": 1, "y": "two", "z": 3})
    with pytest.raises(adcli.PointError, match="the value of 'y' must be a number or a string holding one"):
        graph.evaluate({"x": 1, "y": [2], "z": 3})


def test_formula_file_with_a_byte_order_mark(tmp_path, adcli_run):
    path = tmp_path / "f.txt"
    path.write_bytes("\ufeffx^2".encode())
    run = adcli_run("grad", f"@{path}", "--at", "x=3", "--json")
    assert run.code == 0, run.err
    assert json.loads(run.out)["gradient"] == {"x": 6.0}


def test_a_constant_expression_is_worth_what_the_primal_engine_makes_of_it():
    """lang/point.py sweeps a constant expression itself (lang sits below the engines)."""
    from adcli.engines.primal import sweep
    from adcli.lang.parser import parse
    from adcli.lang.point import constant_value

    for text in ["pi/4", "-2^-10", "atan2(1, 2) * exp(1)", "log(-1)", "1/0", "hypot(3, 4) - sqrt(2)"]:
        graph = parse(text)
        expected = sweep(graph, [])[graph.output]
        got = constant_value(text)
        assert got == expected or (got != got and expected != expected), text


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "--dir is empty: give values as name=value, e.g. --dir x=3,y=2"), ("x=1,x=2", "--dir gives 'x' twice"),
     ("x=", "--dir x= has no value"), ("x=1;y=2", "--dir 'x=1;y=2': separate name=value pairs with commas")],
)  # fmt: skip
def test_messages_name_the_option_the_pairs_came_from(text, message):
    """A direction's pairs are read as a point's; the message names --dir, not --at."""
    with pytest.raises(adcli.PointError) as caught:
        adcli.parse_point(text, "--dir")
    assert str(caught.value) == message
