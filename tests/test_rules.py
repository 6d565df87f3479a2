"""The rule formulas are the one source: every fast rule the sweeps run is that formula, bit for bit."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import same_bits

import adcli
from adcli.core.ops import OPERATIONS, RULE_OPERATIONS
from adcli.engines.derivatives import hessian
from adcli.engines.rules import evaluate_rule, rule_graph

EDGES = [0.0, -0.0, 1.0, -1.0, 2.0, 0.5, -2.5, 1e-300, -1e-300, 5e-324, 1e300, 1.7976931348623157e308, math.inf]
EDGES += [-math.inf, math.nan, 3.0, 1e-8, 1 - 1e-16, 0.7]
values = st.one_of(st.sampled_from(EDGES), st.floats(allow_nan=True, allow_infinity=True))
TABLE = OPERATIONS + RULE_OPERATIONS


def _check(op, args):
    v = op.value(*args)
    for k, fast in enumerate(op.partials):
        got = fast if isinstance(fast, float) else fast(*args, v)
        want = evaluate_rule(op.name, k, args, v)
        assert same_bits(got, want), (op.name, k, args, got, want)


@pytest.mark.parametrize("op", TABLE, ids=lambda op: op.name)
def test_fast_rules_are_their_formulas_at_the_edges(op):
    for a in EDGES:
        for b in EDGES if op.arity == 2 else [None]:
            _check(op, (a,) if b is None else (a, b))


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(TABLE), values, values)
def test_fast_rules_are_their_formulas_anywhere(op, a, b):
    _check(op, (a,) if op.arity == 1 else (a, b))


def test_rule_text_is_printed_from_the_formula():
    by_name = {op.name: op for op in TABLE}
    assert by_name["sigmoid"].rule == ("sigmoid(a)·sigmoid(-a)",)  # what runs is what reads
    assert by_name["atanh"].rule == ("1/(1 - a²)",)  # a rule operation's sum, parenthesised in a product
    assert by_name["asin"].rule == ("1/√(1 - a²)",)
    assert by_name["tanh"].rule == ("sech²(a)",)
    assert by_name["pow"].rule == ("b·a^(b-1)", "v·ln(a)")
    assert by_name["tan"].rule == ("1 + v²",)
    for op in TABLE:
        for k in range(op.arity):
            graph = rule_graph(op.name, k)
            assert set(graph.variables) <= {"a", "b", "v"}, (op.name, graph.variables)


def test_the_recorded_gradient_is_the_gradient():
    """The reverse sweep recorded as a graph computes the same numbers as the sweep itself."""
    graph = adcli.parse("a = x*y; sin(a) + exp(x - y)^2 + hypot(x, 3) + log(x, y)")
    point = {"x": 0.7, "y": 1.9}
    result = hessian(graph, point)
    want = graph.gradient(point)
    for name in graph.variables:
        assert math.isclose(result.gradient[name], want[name], rel_tol=1e-15)
