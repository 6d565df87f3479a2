"""Both backward sweeps give the textbook sweep's numbers, bit for bit.

The plain sweep (the first gradients, traces) and the planned one (from a graph's eighth
gradient on: edges worked out once, partials in bulk, terms of a sum sharing their
sum's adjoint) may not differ by a single bit from the oracle: the sweep written as
textbooks write it (tests/oracles.py), one operation at a time.
"""

from __future__ import annotations

import math

import pytest
from formulas import formulas
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import same_bits, textbook_adjoints

import adcli
from adcli.core import ieee
from adcli.core.ops import d_pow_base
from adcli.engines import primal
from adcli.engines.reverse import PLAN_AFTER, Plan

# Values where signed zeros, infinities, poles and negative bases show up.
_awkward = st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.0, -2.5, 0.5, 1e-300, 1e300, math.inf, -math.inf, math.nan])
values = st.one_of(_awkward, st.floats(min_value=-4.0, max_value=4.0, allow_nan=False))
points = st.fixed_dictionaries({name: values for name in ("x", "y", "z")})


def _check(graph: adcli.Graph, point: dict[str, float], wrt: list[str] | None = None) -> None:
    seeds = graph.variable_nodes(wrt)
    active = primal.active_nodes(graph, seeds)
    result = graph.differentiate(point, "reverse", wrt)  # recorded: the plain sweep
    expected = textbook_adjoints(graph, result.values, active)
    assert len(result.adjoints) == len(expected)
    for i, (got, want) in enumerate(zip(result.adjoints, expected, strict=True)):
        assert same_bits(got, want), (graph.text, point, i, got, want)
    # Through the API: plain sweeps, then the graph works out its plan and uses it.
    gradients = [graph.gradient(point, "reverse", wrt) for _ in range(PLAN_AFTER + 1)]
    # The plan is fixed before any point: where a select passes nothing, the engine sweeps without it.
    planned = Plan(graph, active).gradient(result.values, seeds)
    closed = primal.flows_at(graph, result.values) is not graph.flows
    for name, s, by_plan in zip(result.wrt, seeds, planned, strict=True):
        want = 0.0 if expected[s] is None else expected[s]
        assert same_bits(result.gradient[name], want), (graph.text, point, name)
        assert closed or same_bits(by_plan, want), (graph.text, point, name)
        for gradient in gradients:
            assert same_bits(gradient[name], want), (graph.text, point, name)


@settings(max_examples=300, deadline=None)
@given(formulas, points)
def test_every_adjoint_matches_the_textbook_sweep(text, values):
    graph = adcli.parse(text)
    _check(graph, {name: values[name] for name in graph.variables})


@settings(max_examples=150, deadline=None)
@given(formulas, formulas, points, st.data())
def test_programs_and_partial_gradients_match_the_textbook_sweep(first, second, values, data):
    """Named statements (used or not) and --wrt subsets, in any order."""
    graph = adcli.parse(f"a = {first}\nb = a * {second}\nb + a")
    point = {name: values[name] for name in graph.variables}
    wrt = data.draw(st.lists(st.sampled_from(graph.variables), unique=True)) if graph.variables else []
    _check(graph, point, wrt)
    unused = adcli.parse(f"a = {first}\nb = {second}\nz + 1")
    _check(unused, {name: values[name] for name in unused.variables})


@pytest.mark.parametrize(
    ("text", "x"),
    [
        ("x^2", -0.0),  # a + a keeps the sign of zero
        ("x^3", 1e200),  # overflow in math.pow: the rule gives inf
        ("x^0.5", -1.0),  # negative base: math.pow raises, the rule gives nan
        ("x^0.5", 0.0),  # pole of x^-0.5: math.pow raises, the rule gives inf
        ("x^1.5 + (x + 5)^1.5", -2.0),  # one failing term sends the whole group to the rule
        ("x^0 + x", math.nan),  # x^0 is constant: its rule gives 0, where 0·x^-1 would be nan
        ("x^-1", 0.0),  # -1 is neg(1), not a constant leaf: the rule, mapped
    ],
)
def test_constant_powers_in_bulk_equal_the_rule(text, x):
    graph = adcli.parse(text)
    _check(graph, {"x": x})


def test_bulk_constant_power_is_the_rule_itself():
    """Each exponent's group, taken in bulk, holds exactly the numbers d_pow_base returns."""
    xs = [0.0, -0.0, 3.0, -3.0, 1e-310, 1e300, math.inf, -math.inf, math.nan, 0.7]
    for c in ("2", "3", "0.5", "1e-3", "7", "1.5", "1e999", "pi"):
        graph = adcli.parse(" + ".join(f"(x{k})^{c}" for k in range(len(xs))))
        plan = Plan(graph, graph.varies)
        exponent = float(c) if c != "pi" else math.pi
        # The bulk path where c - 1 is exact (for 1e-3 it rounds and for inf it is no number: the rule, mapped)
        bulk = exponent if c not in ("1e-3", "1e999") else None
        assert [group.exponent for group in plan.groups] == [bulk]
        # The group's own numbers: the gradient of a sum with a nan term is nan everywhere.
        values = _values(graph, {f"x{k}": x for k, x in enumerate(xs)})
        every = plan.partial_values(values)
        for a, got in zip(plan.groups[0].a, every[len(graph) + len(plan.constants) :], strict=True):
            x = values[a]
            assert same_bits(got, d_pow_base(x, exponent, ieee.pow(x, exponent))), (c, x)


def test_a_term_of_a_sum_shares_the_sums_adjoint_instead_of_an_edge():
    graph = adcli.parse("s = x*y + sin(x) + y^2\n3*s")
    plan = Plan(graph, graph.varies)
    # Edges: 3*s -> s (partial 3); the terms and partial sums of s share its adjoint;
    # x*y -> x, y; sin(x) -> x; y^2 -> y. Five, all read s's adjoint; the plain sweep
    # takes nine.
    assert len(plan.sources) == 5
    assert set(plan.sources) == {graph.output, graph.output - 1}
    assert plan.gradient(_values(graph, {"x": 1.0, "y": 2.0}), [0, 1]) == [
        3 * (2.0 + math.cos(1.0)),
        3 * (1.0 + 4.0),
    ]


def _values(graph: adcli.Graph, point: dict[str, float]) -> list[float]:
    return primal.sweep(graph, graph.input_values(point))


def test_a_graph_works_out_a_plan_at_its_eighth_gradient_for_a_set_of_variables():
    graph = adcli.parse("x*y + z")
    for _ in range(PLAN_AFTER - 1):
        assert graph.reverse_plan([0, 1, 2]) is None  # the plain sweep, for now
    every = graph.reverse_plan([0, 1, 2])
    assert isinstance(every, Plan)
    assert graph.reverse_plan([2, 0, 1]) is every  # any order: the same edges
    for _ in range(PLAN_AFTER - 1):
        assert graph.reverse_plan([0]) is None  # another set counts for itself
    only_x = graph.reverse_plan([0])
    # Its own edges: x*y and z share the sum's adjoint; every variable needs x*y -> x and
    # x*y -> y, x alone only the first.
    assert (len(every.sources), len(only_x.sources)) == (2, 1)
    for point, want in [
        ({"x": 1, "y": 2, "z": 3}, {"x": 2.0, "y": 1.0, "z": 1.0}),
        ({"x": 5, "y": 7, "z": 0}, {"x": 7.0, "y": 5.0, "z": 1.0}),
    ]:
        assert graph.gradient(point) == want
        assert graph.gradient(point, wrt="x") == {"x": want["x"]}


def test_plan_with_no_operations():
    for text, point, gradient in [("x", {"x": 4.0}, [1.0]), ("2", {}, [])]:
        graph = adcli.parse(text)
        plan = Plan(graph, graph.varies)
        assert plan.sources == []
        assert plan.gradient(_values(graph, point), list(range(graph.n_inputs))) == gradient


@settings(max_examples=200, deadline=None)
@given(formulas, points)
def test_partials_taken_in_bulk_are_the_rules_numbers(text, values):
    """Each group of partials computed in bulk holds what its rule returns at each node,
    so the partials a trace shows (the rules at the nodes) are the ones the sweep used."""
    graph = adcli.parse(text)
    inputs = graph.input_values({name: values[name] for name in graph.variables})
    v = primal.sweep(graph, inputs)
    plan = Plan(graph, graph.varies)
    every = plan.partial_values(v)
    place = len(graph) + len(plan.constants)
    assert every[: len(graph)] == v or any(map(math.isnan, v))  # the values come first, unchanged
    for group in plan.groups:
        for a, b, node in zip(group.a, group.b, group.node, strict=True):
            if group.exponent is not None:
                want = d_pow_base(v[a], group.exponent, v[node])
            else:
                want = group.rule(v[a], v[b], v[node]) if group.binary else group.rule(v[a], v[node])
            assert same_bits(every[place], want), (text, group.rule, node)
            place += 1
    assert place == len(every)
