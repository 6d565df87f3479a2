"""The one-point Hessian's shortcuts, pinned bit for bit against the plain path they replace.

The plain path: the backward sweep recorded with the nan rule's ``real(ḡ, v)`` around
every adjoint, a primal sweep of the whole recording, one forward sweep per variable.
The Hessian command takes shortcuts (a recording without ``real`` at points where no
value is nan, the copied operations' values reused, the columns of a colour seeded
together, the matrix written row by row from runs of zeros); each must give the same
numbers, nan and inf included, at every point, also when one graph meets points of both
kinds one after the other.
"""

from __future__ import annotations

import io
import math
import struct
from contextlib import redirect_stdout

from formulas import VARIABLES, formulas
from hypothesis import given, settings
from hypothesis import strategies as st

import adcli
from adcli.engines import derivatives, forward, primal
from adcli.engines.rules import gradient_graph
from adcli.render import matrix as render

EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, -3.0, 1e300, -1e300, 1e-300, math.inf, -math.inf, math.nan]
values = st.one_of(st.sampled_from(EDGES), st.floats(-3.0, 3.0, allow_nan=False).map(lambda v: round(v, 3)))
edge_points = st.fixed_dictionaries({name: values for name in VARIABLES})


def bits(x: float) -> bytes | str:
    """A float's exact bits; every nan alike (the printed and JSON forms do not tell nans apart)."""
    return "nan" if x != x else struct.pack("<d", x)


def plain(graph, point, direction=None):
    """(gradient, Hessian, H·d) by the plain path: nan rule recorded, whole sweeps, a sweep per column."""
    inputs = graph.input_values(point)
    seeds = list(range(graph.n_inputs))
    if not seeds:  # nothing to differentiate by
        return [], [], []
    recorded = gradient_graph(graph, seeds, primal.active_nodes(graph, seeds))
    rvalues = primal.sweep(recorded, inputs)
    outputs = recorded.outputs
    gradient = [rvalues[o] for o in outputs]
    columns = []
    for s in seeds:
        dot, _ = forward.sweep(recorded, rvalues, {s: 1.0})
        columns.append([0.0 if dot[o] is None else dot[o] for o in outputs])
    hessian = [[columns[j][i] for j in range(len(seeds))] for i in range(len(outputs))]
    product = None
    if direction is not None:
        dot, _ = forward.sweep(recorded, rvalues, {s: direction[graph.variables[s]] for s in seeds})
        product = [0.0 if dot[o] is None else dot[o] for o in outputs]
    return gradient, hessian, product


def check_point(graph, point) -> None:
    direction = {name: 1.0 + k for k, name in enumerate(graph.variables)}
    gradient, hessian, product = plain(graph, point, direction)
    result = derivatives.hessian(graph, point)
    assert [bits(v) for v in result.gradient.values()] == [bits(v) for v in gradient]
    assert [[bits(v) for v in row] for row in result.matrix] == [[bits(v) for v in row] for row in hessian]
    hvp = derivatives.hvp(graph, point, direction)
    assert [bits(v) for _, v in hvp.product] == [bits(v) for v in product]
    assert [bits(v) for v in hvp.gradient.values()] == [bits(v) for v in gradient]


@settings(max_examples=300, deadline=None)
@given(formulas, edge_points, edge_points)
def test_the_hessian_is_the_plain_paths_bit_for_bit_at_any_points_one_after_the_other(text, first, second):
    graph = adcli.parse(text)
    for values_at in (first, second, first):  # the recordings kept beside the graph, reused in turn
        check_point(graph, {name: values_at[name] for name in graph.variables})


def test_a_point_with_a_nan_value_takes_the_nan_rule_after_a_point_without():
    # sqrt(y - 1) is nan at y = 0, and so is f: where the value is nan, so is every partial,
    # while at y = 5 the recording without the nan rule gives the numbers.
    graph = adcli.parse("x*y + sqrt(y - 1) + x^2")
    finite = derivatives.hessian(graph, {"x": 2.0, "y": 5.0})  # (y - 1)^(-1/2)/2 = 1/4, its slope -1/32
    assert finite.gradient == {"x": 9.0, "y": 2.25}
    assert finite.matrix == [[2.0, 1.0], [1.0, -0.03125]]
    at_nan = derivatives.hessian(graph, {"x": 2.0, "y": 0.0})  # the value is nan: every derivative is
    assert all(math.isnan(v) for v in at_nan.gradient.values())
    assert all(math.isnan(v) for row in at_nan.matrix for v in row)
    check_point(graph, {"x": 2.0, "y": 0.0})
    check_point(graph, {"x": 2.0, "y": 5.0})


def test_a_nan_only_inf_minus_inf_makes_is_a_nan_value():
    # No input is nan, the sum of the values is nan (inf - inf), and so is a value:
    graph = adcli.parse("(x - y)*z")
    result = derivatives.hessian(graph, {"x": math.inf, "y": math.inf, "z": 1.0})
    assert math.isnan(result.gradient["z"]) and math.isnan(result.gradient["x"])
    check_point(graph, {"x": math.inf, "y": math.inf, "z": 1.0})
    # ... and an inf value with no nan anywhere is not: ∂f/∂z = x - y = inf, ∂f/∂x = z = 1.
    result = derivatives.hessian(graph, {"x": math.inf, "y": 1.0, "z": 1.0})
    assert result.gradient == {"x": 1.0, "y": -1.0, "z": math.inf}
    check_point(graph, {"x": math.inf, "y": 1.0, "z": 1.0})


def matrix_text(result) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        render.render_hessian(result)
    return out.getvalue()


def plain_matrix_text(result) -> str:
    """The matrix as write_matrix prints any matrix of its size: every cell formatted, joined."""
    n = len(result.variables)
    cells = [["0"] * n for _ in range(n)]
    for i, j in result.entries:
        cells[i][j] = render.human(result.matrix[i][j])
    out = io.StringIO()
    with redirect_stdout(out):
        render.write_matrix("", [f"∂/∂{v}" for v in result.variables], [f"∂/∂{v}" for v in result.variables], cells)
    return out.getvalue()


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 130), st.floats(-2, 2, allow_nan=False), st.sampled_from([0.0, math.inf, math.nan, -0.0]))
def test_the_matrix_written_from_runs_of_zeros_is_every_cell_written(n, x, edge):
    text = " + ".join(f"100*(x{i + 1} - x{i}^2)^2 + (1 - x{i})^2 + sin(x0*x{i})" for i in range(n - 1))
    graph = adcli.parse(text)
    point = {name: x for name in graph.variables}
    point["x1"] = edge
    result = derivatives.hessian(graph, point)
    written = matrix_text(result)
    start = written.index("\n\n") + 2
    end = written.rindex("\n\n")
    assert written[start : end + 1] == plain_matrix_text(result)
