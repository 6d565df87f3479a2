"""Nothing recurses on depth: very deep and very long formulas parse and differentiate."""

import pytest

import adcli

N = 100_000


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_deeply_nested_parentheses(mode):
    text = "(" * N + "x" + ")" * N + "*y"
    graph = adcli.parse(text)
    assert graph.gradient({"x": 3, "y": 2}, mode=mode) == {"x": 2.0, "y": 3.0}


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_long_sum(mode):
    text = " + ".join(f"{i % 7}*x" for i in range(N))
    expected = float(sum(i % 7 for i in range(N)))
    graph = adcli.parse(text)
    assert graph.gradient({"x": 1.5}, mode=mode) == {"x": expected}


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_stacked_unary_minus(mode):
    graph = adcli.parse("-" * 50_000 + "x")
    assert graph.evaluate({"x": 2}) == 2.0
    assert graph.gradient({"x": 2}, mode=mode) == {"x": 1.0}
    graph = adcli.parse("-" * 50_001 + "x")
    assert graph.gradient({"x": 2}, mode=mode) == {"x": -1.0}


def test_deep_nesting_of_functions():
    text = "sin(" * 20_000 + "x" + ")" * 20_000
    graph = adcli.parse(text)
    assert graph.operation_count == 20_000
    value = graph.evaluate({"x": 0.5})
    assert 0 < value < 0.5
    text = graph.expression(limit=20)
    cut = text.index("…")
    assert len(text) <= 20 and text.startswith("sin(sin(") and text[cut + 1 :] == ")" * (len(text) - cut - 1) != ""


def test_deep_formula_error_reports_without_recursion():
    text = "(" * N + "x" + ")" * (N - 1)
    with pytest.raises(adcli.ParseError) as info:
        adcli.parse(text)
    assert "never closed" in (info.value.hint or "")


def test_deep_formula_through_the_command_line(adcli_run, tmp_path):
    path = tmp_path / "deep.txt"
    path.write_text("(" * N + "x^2" + ")" * N)
    run = adcli_run("grad", f"@{path}", "--at", "x=3", "--json", "--trace")
    assert run.code == 0, run.err[-500:]
    assert '"gradient": {"x": 6.0}' in run.out
