"""The seed example, worked by hand: f = (x+y)(x-y) = x² - y², so ∇f = (2x, -2y)."""

import json

import pytest

import adcli


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_api_value_and_gradient(mode):
    graph = adcli.parse("(x+y)*(x-y)")
    assert graph.variables == ("x", "y")
    assert graph.evaluate({"x": 3, "y": 2}) == 5.0
    assert graph.gradient({"x": 3, "y": 2}, mode=mode) == {"x": 6.0, "y": -4.0}


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_cli_json(adcli_run, mode):
    run = adcli_run("grad", "(x+y)*(x-y)", "--at", "x=3,y=2", "--mode", mode, "--json")
    assert run.code == 0, run.err
    assert run.err == ""
    obj = json.loads(run.out)
    assert obj == {
        "expression": "(x+y)*(x-y)",
        "mode": mode,
        "point": {"x": 3.0, "y": 2.0},
        "value": 5.0,
        "gradient": {"x": 6.0, "y": -4.0},
    }


def test_cli_human_output_piped_is_plain(adcli_run):
    run = adcli_run("grad", "(x+y)*(x-y)", "--at", "x=3,y=2")
    assert run.code == 0
    assert "\x1b[" not in run.out
    lines = [line.split() for line in run.out.splitlines()]
    assert lines == [["value", "5"], ["∂/∂x", "6"], ["∂/∂y", "-4"]]


def test_trace_has_three_operations(adcli_run):
    """(x+y)*(x-y) at (3, 2): v1 = x+y = 5, v2 = x-y = 1, v3 = v1·v2 = 5."""
    run = adcli_run("grad", "(x+y)*(x-y)", "--at", "x=3,y=2", "--json", "--trace")
    trace = json.loads(run.out)["trace"]
    ops = [entry for entry in trace if entry["op"] not in ("input", "const")]
    assert [e["op"] for e in ops] == ["add", "sub", "mul"]
    assert [e["value"] for e in ops] == [5.0, 1.0, 5.0]
    ids = {e["id"]: e for e in trace}
    add, sub, mul = ops
    assert [ids[a]["name"] for a in add["args"]] == ["x", "y"]
    assert mul["args"] == [add["id"], sub["id"]]
    # Reverse mode: ȳ = 1; v̄1 = v2 = 1, v̄2 = v1 = 5; x̄ = v̄1 + v̄2 = 6, ȳ_y = v̄1 - v̄2 = -4.
    assert [e["adjoint"] for e in ops] == [1.0, 5.0, 1.0]
    assert [ids[i]["adjoint"] for i in add["args"]] == [6.0, -4.0]


def test_forward_trace_tangents(adcli_run):
    run = adcli_run("grad", "(x+y)*(x-y)", "--at", "x=3,y=2", "--json", "--trace", "--mode", "forward")
    trace = json.loads(run.out)["trace"]
    ops = [entry for entry in trace if entry["op"] not in ("input", "const")]
    # ẋ-direction: v̇1 = 1, v̇2 = 1, v̇3 = v̇1·v2 + v1·v̇2 = 1 + 5 = 6; ẏ-direction: 1, -1, 1·1 + 5·(-1) = -4.
    assert [e["tangent"] for e in ops] == [{"x": 1.0, "y": 1.0}, {"x": 1.0, "y": -1.0}, {"x": 6.0, "y": -4.0}]
