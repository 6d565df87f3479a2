"""Jacobians, J·v, Hessians and H·d at many points: equal to the one-point commands row by row,
and the `--points` path of jacobian, jvp and hessian streams the documented shapes."""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from oracles import close, same_bits
from test_batch import EDGES, EXACT, _formula, _ulps

import adcli
from adcli.cli import batch as cli_batch
from adcli.cli import cli
from adcli.core.ops import OPERATIONS
from adcli.engines import derivatives as one
from adcli.engines.batch_derivatives import (
    compile_jacobian,
    hessian_batch,
    hvp_batch,
    jacobian_batch,
    jvp_batch,
)


def _point(graph, columns, r):
    return {name: float(columns[name][r]) for name in graph.variables}


def _exact(got: float, want: float) -> bool:
    return same_bits(got, want)


def _agree(got: float, want: float, exact: bool, ulps: int, where) -> None:
    """Bit for bit when ``exact`` or where either is not finite; else within ``ulps``."""
    if exact or not (math.isfinite(got) and math.isfinite(want)):
        assert _exact(got, want), (where, got, want)
    else:
        assert _ulps(got, want) <= ulps, (where, got, want)


def _edge_columns(graph, extra: int = 8):
    rng = np.random.default_rng(5)
    values = EDGES + list(rng.uniform(-4, 4, extra))
    points = list(itertools.product(values, repeat=graph.n_inputs))
    return {name: np.array([p[k] for p in points]) for k, name in enumerate(graph.variables)}, len(points)


# The whole table, at every pair of edge values: bit for bit on the IEEE-exact operations; on
# library functions (numpy's sin, exp, … against the C library's), values within 2 ulp and
# derivatives within 8, as grad's batch (a second derivative compounds no more than that here).


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_the_whole_table_hessian_and_hvp_equal_the_one_point_command(op):
    graph = adcli.parse(_formula(op))
    columns, rows = _edge_columns(graph)
    value, gradient, hessian = hessian_batch(graph, columns)
    direction = {"x": 1.5, "y": -0.5} if graph.n_inputs == 2 else {"x": 1.5}
    _, _, hvp = hvp_batch(graph, columns, direction)
    exact = op.name in EXACT
    for r in range(rows):
        point = _point(graph, columns, r)
        want = one.hessian(graph, point)
        _agree(float(value[r]), want.value, exact, 2, (op.name, point))
        for j, name in enumerate(want.variables):
            _agree(float(gradient[r, j]), want.gradient[name], exact, 8, (op.name, point, name))
            for k in range(len(want.variables)):
                _agree(float(hessian[r, j, k]), want.matrix[j][k], exact, 8, (op.name, point, j, k))
        hd = dict(one.hvp(graph, point, direction).product)
        for j, name in enumerate(want.variables):
            _agree(float(hvp[r, j]), hd[name], exact, 8, (op.name, point, "hvp", name))


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_the_whole_table_jacobian_and_jvp_equal_the_one_point_command(op, mode):
    """Three outputs, so a sweep per output and a sweep per column both run."""
    text = _formula(op)
    graph = adcli.parse(f"{text}; -{text}; {text}*{text}")
    columns, rows = _edge_columns(graph, extra=4)
    values, jacobian = jacobian_batch(graph, columns, mode=mode)
    _, jvp = jvp_batch(graph, columns, {"x": 0.0, "y": 2.0} if graph.n_inputs == 2 else {"x": 2.0})
    exact = op.name in EXACT
    for r in range(rows):
        point = _point(graph, columns, r)
        want = one.jacobian(graph, point, mode=mode)
        for o in range(3):
            _agree(float(values[r, o]), want.values[o], exact, 2 if o < 2 else 8, (op.name, point, o))
            for j in range(graph.n_inputs):
                _agree(float(jacobian[r, o, j]), want.matrix[o][j], exact, 8, (op.name, point, o, j))
        direction = {"x": 0.0, "y": 2.0} if graph.n_inputs == 2 else {"x": 2.0}
        along = [v for _, v in one.jvp(graph, point, direction).product]
        for o in range(3):
            _agree(float(jvp[r, o]), along[o], exact, 8, (op.name, point, "jvp", o))


# Random formulas: of + - * / sqrt only, bit for bit; over the whole table, close.

_EXACT_LEAVES = st.one_of(st.sampled_from(["x", "y", "z"]), st.sampled_from(["2", "0.5", "3", "-1.25"]))
exact_formulas = st.recursive(
    _EXACT_LEAVES,
    lambda c: st.one_of(
        st.tuples(c, st.sampled_from(["+", "-", "*", "/"]), c).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        c.map(lambda t: f"sqrt({t})"),
        c.map(lambda t: f"-{t}"),
    ),
    max_leaves=10,
)
_SPECIAL = st.sampled_from([0.0, -0.0, math.inf, -math.inf, math.nan, 1e-300, 1e300, 5e-324])
_NUMBERS = st.one_of(st.floats(-4, 4), _SPECIAL)


def _rows(data, graph, numbers):
    rows = data.draw(st.lists(st.tuples(*[numbers] * 3), min_size=1, max_size=5))
    return {name: np.array([r[k] for r in rows]) for k, name in enumerate("xyz") if name in graph.variables}, len(rows)


def _check_everything(graph, columns, rows, agree) -> None:
    """jacobian (both modes and auto), jvp, hessian and hvp, each row against the one-point engines."""
    names = graph.variables
    direction = {name: float(k) - 0.5 for k, name in enumerate(names)}
    for mode in ("auto", "forward", "reverse"):
        values, jacobian = jacobian_batch(graph, columns, mode=mode)
        for r in range(rows):
            want = one.jacobian(graph, _point(graph, columns, r), mode=mode)
            for o, v in enumerate(want.values):
                agree(float(values[r, o]), v, ("value", r, o))
                for j, d in enumerate(want.matrix[o]):
                    agree(float(jacobian[r, o, j]), d, (mode, r, o, j))
    _, jvp = jvp_batch(graph, columns, direction)
    texts = one.output_texts(graph)
    for r in range(rows):
        want = one.jvp(graph, _point(graph, columns, r), direction)
        assert [text for text, _ in want.product] == list(texts)  # one entry per output, also where two read alike
        for o, (_, d) in enumerate(want.product):
            agree(float(jvp[r, o]), d, ("jvp", r, o))
    if len(graph.outputs) > 1:
        return
    value, gradient, hessian = hessian_batch(graph, columns)
    _, _, hvp = hvp_batch(graph, columns, direction)
    for r in range(rows):
        point = _point(graph, columns, r)
        want = one.hessian(graph, point)
        agree(float(value[r]), want.value, ("value", r))
        for j, name in enumerate(names):
            agree(float(gradient[r, j]), want.gradient[name], ("gradient", r, name))
            for k in range(len(names)):
                agree(float(hessian[r, j, k]), want.matrix[j][k], ("hessian", r, j, k))
        hd = dict(one.hvp(graph, point, direction).product)
        for j, name in enumerate(names):
            agree(float(hvp[r, j]), hd[name], ("hvp", r, name))


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_random_exact_formulas_equal_the_one_point_commands_bit_for_bit(data):
    texts = data.draw(st.lists(exact_formulas, min_size=1, max_size=3))
    graph = adcli.parse("; ".join(texts))
    assume(graph.variables)
    columns, rows = _rows(data, graph, _NUMBERS)

    def agree(got, want, where):
        assert _exact(got, want), (texts, where, got, want)

    _check_everything(graph, columns, rows, agree)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_random_formulas_over_the_whole_table_equal_the_one_point_commands(data):
    from formulas import formulas

    texts = data.draw(st.lists(formulas, min_size=1, max_size=2))
    graph = adcli.parse("; ".join(texts))
    assume(graph.variables)
    columns, rows = _rows(data, graph, st.floats(-3, 3))

    def agree(got, want, where):
        if not (math.isfinite(got) and math.isfinite(want)):
            assert same_bits(got, want) or (math.isnan(got) and math.isnan(want)), (texts, where, got, want)
        else:
            assert close(got, want, rel=1e-9, abs_=1e-300) or (abs(got) > 1e250 and abs(want) > 1e250), (
                texts, where, got, want,
            )  # fmt: skip

    _check_everything(graph, columns, rows, agree)


# Closed forms by hand.


def test_the_hessian_of_x2y_by_hand():
    rng = np.random.default_rng(2)
    x, y = rng.uniform(-3, 3, 500), rng.uniform(-3, 3, 500)
    value, gradient, hessian = hessian_batch(adcli.parse("x^2*y"), {"x": x, "y": y})
    assert np.array_equal(value, x * x * y)
    assert np.array_equal(gradient[:, 0], (x + x) * y) and np.array_equal(gradient[:, 1], x * x)
    assert np.array_equal(hessian[:, 0, 0], 2 * y) and np.array_equal(hessian[:, 1, 1], np.zeros(500))
    assert np.array_equal(hessian[:, 0, 1], 2 * x) and np.array_equal(hessian[:, 1, 0], 2 * x)
    _, _, hv = hvp_batch(adcli.parse("x^2*y"), {"x": x, "y": y}, {"x": 1.0, "y": -2.0})
    assert np.allclose(hv[:, 0], 2 * y - 4 * x, rtol=1e-15) and np.allclose(hv[:, 1], 2 * x, rtol=1e-15)


def test_the_jacobian_of_polar_coordinates_by_hand():
    r, t = np.linspace(0.5, 3, 50), np.linspace(-3, 3, 50)
    graph = adcli.parse("r*cos(t); r*sin(t)")
    for mode in ("forward", "reverse"):
        values, jac = jacobian_batch(graph, {"r": r, "t": t}, mode=mode)
        assert values.shape == (50, 2) and jac.shape == (50, 2, 2)
        assert np.allclose(jac[:, 0, 0], np.cos(t), rtol=1e-15, atol=0) and np.allclose(jac[:, 1, 0], np.sin(t))
        assert np.allclose(jac[:, 0, 1], -r * np.sin(t)) and np.allclose(jac[:, 1, 1], r * np.cos(t))
    _, jvp = jvp_batch(graph, {"r": r, "t": t}, {"t": 1.0})  # d/dt of the point: (-y, x)
    assert np.allclose(jvp[:, 0], -r * np.sin(t)) and np.allclose(jvp[:, 1], r * np.cos(t))


def test_the_mode_and_the_colouring_are_the_one_point_commands():
    """auto picks as the one-point jacobian; a tridiagonal Hessian takes three sweeps here too."""
    for text, point in [
        ("x*y; x+y; sin(x)", {"x": 1.0, "y": 2.0}),
        ("x*y*z*w", {"x": 1.0, "y": 2.0, "z": 3.0, "w": 4.0}),
        ("x; y; z; x*y", {"x": 1.0, "y": 2.0, "z": 3.0}),
    ]:
        graph = adcli.parse(text)
        program = compile_jacobian(graph)
        want = one.jacobian(graph, point)
        assert (program.mode, program.sweeps) == (want.mode, want.sweeps), text
    n = 40
    chain = " + ".join(f"(x{i + 1} - x{i}^2)^2" for i in range(n - 1))
    graph = adcli.parse(chain)
    from adcli.engines.batch_derivatives import compile_hessian

    assert compile_hessian(graph).sweeps == 3
    rng = np.random.default_rng(4)
    columns = {name: rng.uniform(-2, 2, 6) for name in graph.variables}
    _, _, hessian = hessian_batch(graph, columns)
    for r in range(6):
        want = one.hessian(graph, _point(graph, columns, r))
        assert want.sweeps == 3 and hessian[r].tolist() == want.matrix


def test_no_variables_and_errors():
    value, gradient, hessian = hessian_batch(adcli.parse("x*y"), {"x": [1.0, 2.0], "y": [3.0, 4.0]}, wrt=[])
    assert value.tolist() == [3.0, 8.0] and gradient.shape == (2, 0) and hessian.shape == (2, 0, 0)
    with pytest.raises(adcli.AdcliError, match="one output"):
        hessian_batch(adcli.parse("x; y"), {"x": [1.0], "y": [2.0]})
    with pytest.raises(adcli.PointError, match="'z', which the formula does not use"):
        jvp_batch(adcli.parse("x*y"), {"x": [1.0], "y": [2.0]}, {"z": 1.0})
    with pytest.raises(adcli.PointError, match="which --wrt holds fixed"):
        hvp_batch(adcli.parse("x*y"), {"x": [1.0], "y": [2.0]}, {"y": 1.0}, wrt=["x"])


# The commands.


def _run(args, stdin=None):
    return CliRunner().invoke(cli, args, input=stdin, prog_name="adcli")


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


POINTS = "id,x,y\na,1,2\nb,3,-1\n"


def test_jacobian_rows_are_the_one_point_json_shapes():
    run = _run(["jacobian", "x*y; x+y; sin(x)", "--points", "-", "--keep", "id"], POINTS)
    assert run.exit_code == 0, run.output
    rows = _lines(run.stdout)
    for row, (x, y) in zip(rows, [(1.0, 2.0), (3.0, -1.0)], strict=True):
        point = json.loads(_run(["jacobian", "x*y; x+y; sin(x)", "--at", f"x={x},y={y}", "--json"]).stdout)
        assert row == {"id": row["id"], "value": point["value"], "jacobian": point["jacobian"]}
    assert rows[0]["jacobian"] == [[2.0, 1.0], [1.0, 1.0], [math.cos(1.0), 0.0]]
    csv = _run(["jacobian", "x*y; x+y", "--points", "-", "--keep", "id", "--output", "csv", "--wrt", "y"], POINTS)
    assert csv.stdout.splitlines() == ["id,f1,f2,df1/dy,df2/dy", "a,2.0,3.0,1.0,1.0", "b,-3.0,2.0,3.0,1.0"]


def test_jvp_rows_and_columns():
    run = _run(["jvp", "x*y; sqrt(x)", "--points", "-", "--at", "y=2", "--dir", "x=1,y=0"], "x\n4\n0\n")
    assert run.exit_code == 0, run.output
    assert _lines(run.stdout) == [
        {"value": [8.0, 2.0], "jvp": [2.0, 0.25]},
        {"value": [0.0, 0.0], "jvp": [2.0, "Infinity"]},
    ]
    assert run.stderr == "warning: 1 row with a value or derivative that is not finite (the first at line 3)\n"
    csv = _run(["jvp", "x*y; sqrt(x)", "--points", "-", "--dir", "y=1", "--output", "csv"], "x,y\n4,1\n")
    assert csv.stdout.splitlines() == ["f1,f2,jvp:f1,jvp:f2", "4.0,2.0,4.0,0.0"]


def test_hessian_and_hvp_rows_and_columns():
    run = _run(["hessian", "x^2*y", "--points", "-", "--keep", "id"], POINTS)
    assert run.exit_code == 0, run.output
    assert _lines(run.stdout)[1] == {  # by hand: gradient (2xy, x²), Hessian [[2y, 2x], [2x, 0]]
        "id": "b", "value": -9.0, "gradient": {"x": -6.0, "y": 9.0}, "hessian": [[-2.0, 6.0], [6.0, 0.0]],
    }  # fmt: skip
    csv = _run(["hessian", "x^2*y", "--points", "-", "--keep", "id", "--output", "csv"], POINTS).stdout
    assert csv.splitlines() == [
        "id,value,d/dx,d/dy,d2/dx*dx,d2/dx*dy,d2/dy*dx,d2/dy*dy",
        "a,2.0,4.0,1.0,4.0,2.0,2.0,0.0",
        "b,-9.0,-6.0,9.0,-2.0,6.0,6.0,0.0",
    ]
    hv = _run(["hessian", "x^2*y", "--points", "-", "--keep", "id", "--dir", "x=1,y=1"], POINTS)
    want = {"id": "a", "value": 2.0, "gradient": {"x": 4.0, "y": 1.0}, "hvp": {"x": 6.0, "y": 2.0}}  # (2y+2x, 2x)
    assert _lines(hv.stdout)[0] == want
    hv = _run(["hessian", "x^2*y", "--points", "-", "--keep", "id", "--dir", "y=1", "--output", "csv"], POINTS)
    assert hv.stdout.splitlines()[:2] == ["id,value,d/dx,d/dy,hvp:x,hvp:y", "a,2.0,4.0,1.0,2.0,0.0"]


def test_npy_shapes(tmp_path):
    out = tmp_path / "o.npy"
    points = "x,y\n1,2\n3,-1\n"
    assert _run(["jacobian", "x*y; x+y", "--points", "-", "--output", "npy", "--out", str(out)], points).exit_code == 0
    a = np.load(out)  # (rows, outputs, 1 + variables): each output's value, then its row of the Jacobian
    assert a.shape == (2, 2, 3) and a[1].tolist() == [[-3.0, -1.0, 3.0], [2.0, 1.0, 1.0]]
    assert _run(["jvp", "x*y; x+y", "--points", "-", "--dir", "x=1", "--output", "npy", "--out", str(out)], points)
    a = np.load(out)  # (rows, outputs, 2): value and J·v
    assert a.shape == (2, 2, 2) and a[1].tolist() == [[-3.0, -1.0], [2.0, 1.0]]
    _run(["hessian", "x^2*y", "--points", "-", "--output", "npy", "--out", str(out)], points)
    a = np.load(out)  # (rows, 1 + n, 1 + n): [[f, ∇fᵀ], [∇f, H]]
    assert a.shape == (2, 3, 3) and a[1].tolist() == [[-9.0, -6.0, 9.0], [-6.0, -2.0, 6.0], [9.0, 6.0, 0.0]]
    _run(["hessian", "x^2*y", "--points", "-", "--dir", "x=1", "--output", "npy", "--out", str(out)], points)
    a = np.load(out)  # (rows, 1 + 2n): value, gradient, H·d
    assert a.shape == (2, 5) and a[0].tolist() == [2.0, 4.0, 1.0, 4.0, 2.0]


def test_bad_rows_kinks_and_warnings_come_once():
    stdin = "x,y\n1,2\n0,oops\n0,1\n0,-1\n"
    run = _run(["hessian", "abs(x)*y", "--points", "-"], stdin)
    assert run.exit_code == 2 and "standard input, line 3" in run.stderr
    assert len(_lines(run.stdout)) == 1
    run = _run(["hessian", "abs(x)*y", "--points", "-", "--skip-bad"], stdin)
    assert run.exit_code == 0
    assert len(_lines(run.stdout)) == 3
    assert run.stderr.splitlines() == [
        "warning: skipped 1 row that could not be read (the first: standard input, line 3: the value of y must be "
        "a constant expression, but 'oops' uses oops)",
        "warning: 2 rows at a point where an operation has no derivative (the first at line 4): adcli uses its "
        "convention there (see Numerical conventions in the README)",
    ]


def test_many_chunks_give_the_rows_of_one(monkeypatch, tmp_path):
    rng = np.random.default_rng(8)
    points = tmp_path / "p.csv"
    points.write_text("x,y\n" + "".join(f"{a!r},{b!r}\n" for a, b in rng.uniform(-2, 2, (700, 2)).tolist()))
    for args in (["jacobian", "sin(x)*y; relu(x - y)"], ["hessian", "exp(x)*y^3"], ["jvp", "x/y; y", "--dir", "x=1"]):
        whole = _run([*args, "--points", str(points)]).stdout
        monkeypatch.setattr(cli_batch, "CHUNK_ROWS", 9)
        assert _run([*args, "--points", str(points)]).stdout == whole
        monkeypatch.setattr(cli_batch, "CHUNK_ROWS", 65536)
        assert len(whole.splitlines()) == 700


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["jacobian", "x", "--json"], "--json does not go with --points"),
        (["jvp", "x", "--dir", "x=1", "--trace"], "--trace does not go with --points"),
        (["hessian", "x*x", "--sparse"], "--sparse does not go with --points"),
        (["hessian", "x*x", "--digits", "3"], "--digits does not go with --points"),
        (["hessian", "x; x*x"], "one output"),
        (["jvp", "x", "--dir", "z=1"], "'z', which the formula does not use"),
        (["jacobian", "x*y", "--keep", "jacobian"], "--keep cannot pass a column called 'jacobian'"),
        (["hessian", "x*y", "--output", "npy"], "--output npy needs --out FILE"),
    ],
)
def test_mistakes_say_what_and_exit_2(args, message):
    run = _run([*args, "--points", "-"], "x,y,jacobian\n1,2,3\n")
    assert run.exit_code == 2, run.output
    assert message in run.stderr and "Traceback" not in run.stderr


@pytest.mark.cli
def test_one_point_derivative_commands_load_no_numpy():
    probe = (
        "import sys\nfrom adcli.cli import cli\n"
        "for args in (['jacobian', 'x*y; x', '--at', 'x=1,y=2', '--json'], ['hessian', 'x^2*y', '--at', 'x=1,y=2', "
        "'--json'], ['jvp', 'x*y', '--at', 'x=1,y=2', '--dir', 'x=1', '--json']):\n"
        "    try:\n        cli(args, prog_name='adcli')\n    except SystemExit:\n        pass\n"
        "print(' '.join(m for m in sys.modules if m.split('.')[0] in ('numpy', 'orjson')), file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert proc.stdout.count("\n") == 3, proc.stdout
    assert proc.stderr.strip() == ""


def test_the_graph_methods_are_the_engine_functions():
    graph = adcli.parse("x^2*y; x - y")
    columns = {"x": np.array([1.0, -2.0]), "y": 3.0}
    values, jac = graph.jacobian_batch(columns, wrt=["x"])
    assert values.tolist() == [[3.0, -2.0], [12.0, -5.0]] and jac.tolist() == [[[6.0], [1.0]], [[-12.0], [1.0]]]
    assert graph.jvp_batch(columns, {"y": 1.0})[1].tolist() == [[1.0, -1.0], [4.0, -1.0]]
    square = adcli.parse("x^2*y")
    assert square.hessian_batch(columns)[2].tolist() == [[[6.0, 2.0], [2.0, 0.0]], [[6.0, -4.0], [-4.0, 0.0]]]
    assert square.hvp_batch(columns, {"x": 1.0})[2].tolist() == [[6.0, 2.0], [6.0, -4.0]]


def _peak(tmp_path, rows: int, args: list[str]) -> int:
    import tracemalloc

    points = tmp_path / f"p{rows}.csv"
    points.write_text("x,y\n" + "1.25,-0.5\n" * rows)
    tracemalloc.start()
    run = _run([*args, "--points", str(points), "--out", str(tmp_path / "out.jsonl")])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert run.exit_code == 0, run.output
    return peak


@pytest.mark.parametrize("args", [["hessian", "exp(x)*y^3 + x/y"], ["jacobian", "exp(x)*y; x/y; sin(x*y)"]])
def test_memory_stays_flat_however_many_rows(monkeypatch, tmp_path, args):
    """Chunks of 500 rows: 40 times the rows must not take more memory (numpy reports to tracemalloc)."""
    monkeypatch.setattr(cli_batch, "CHUNK_ROWS", 500)
    small, large = _peak(tmp_path, 1000, args), _peak(tmp_path, 40_000, args)
    assert large < 1.5 * small + 100_000, (small, large)


def test_non_finite_entries_and_empty_matrices_are_spelled_as_in_json():
    """Each row's Hessian is one text from the whole chunk: its non-finite entries are patched in order."""
    stdin = "x,y\n0,1\n4,0\n-1,2\n"
    run = _run(["hessian", "sqrt(x)*y + 1/y", "--points", "-"], stdin)
    rows = _lines(run.stdout)
    for row, (x, y) in zip(rows, [(0.0, 1.0), (4.0, 0.0), (-1.0, 2.0)], strict=True):
        point = json.loads(_run(["hessian", "sqrt(x)*y + 1/y", "--at", f"x={x},y={y}", "--json"]).stdout)
        assert row == {k: point[k] for k in ("value", "gradient", "hessian")}
    assert rows[0]["hessian"] == [["-Infinity", "Infinity"], ["Infinity", 2.0]]  # by hand: -y/(4x^1.5), 1/(2√x), 2/y³
    csv = _run(["hessian", "sqrt(x)*y + 1/y", "--points", "-", "--output", "csv"], stdin).stdout.splitlines()
    assert csv[1] == "1.0,inf,-1.0,-inf,inf,inf,2.0"  # ∂/∂y = √x - 1/y²
    assert csv[3].split(",")[0] == "nan"
    # No variable to differentiate by (the API allows it; the command wants one): [] and [[], []].
    import io

    from adcli.cli.batch import _layout
    from adcli.engines.batch_derivatives import compile_hessian, run_blocks
    from adcli.render.jsontext import hessian_object, jacobian_object
    from adcli.render.rows import BlocksJsonLines

    for text, compile_, kind, to_json, compute in (
        ("x*y", lambda g: compile_hessian(g, []), "hessian", hessian_object, lambda g: one.hessian(g, P, [])),
        ("x*y; x", lambda g: compile_jacobian(g, []), "jacobian", jacobian_object, lambda g: one.jacobian(g, P, [])),
    ):
        graph = adcli.parse(text)
        program = compile_(graph)
        out = io.BytesIO()
        writer = BlocksJsonLines(out, [], _layout(kind, len(graph.outputs), program.wrt)[0])
        writer.write(run_blocks(program, [np.array([1.0]), np.array([2.0])], 1).flat(), {})
        assert (
            json.loads(out.getvalue())[kind] == to_json(compute(graph))[kind] == ([] if kind == "hessian" else [[], []])
        )


P = {"x": 1.0, "y": 2.0}


@pytest.mark.parametrize("command", [["jacobian", "x*y; x"], ["jvp", "x*y", "--dir", "x=1"], ["hessian", "x*y"]])
def test_keep_completes_the_columns_that_are_not_variables(tmp_path, command):
    from click.shell_completion import ShellComplete

    points = tmp_path / "p.csv"
    points.write_text("id,x,label,y\n1,2,a,3\n")
    complete = ShellComplete(cli, {}, "adcli", "_ADCLI_COMPLETE")
    args = [*command, "--points", str(points), "--keep"]
    assert [item.value for item in complete.get_completions(args, "")] == ["id", "label"]
