"""Batches of points: the vectorised engine equals the one-point path row by row, and the
`--points` command streams rows in and out with the documented formats and messages."""

from __future__ import annotations

import itertools
import json
import math
import tracemalloc

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from oracles import close, same_bits

import adcli
from adcli.cli import batch as cli_batch
from adcli.cli import cli
from adcli.core.ops import BY_NAME, OPERATIONS, RULE_OPERATIONS
from adcli.engines.batch import VALUES, gradient_batch

EDGES = [0.0, -0.0, 1.0, -1.0, 2.0, 0.5, -2.5, 1e-300, -1e-300, 5e-324, 1e300, 1.7976931348623157e308]
EDGES += [math.inf, -math.inf, math.nan, 3.0, 1e-8, 1 - 1e-16, 0.7, 2.2250738585072014e-308]
# Operations whose numpy form is IEEE-exact, as is the scalar one: results equal bit for bit.
EXACT = {"add", "sub", "mul", "div", "neg", "sqrt", "abs", "sign", "floor", "ceil", "relu", "min", "max"}


def _ulps(a: float, b: float) -> int:
    """How many doubles apart a and b are; 0 for two nans; huge when only one is finite."""
    if math.isnan(a) or math.isnan(b):
        return 0 if math.isnan(a) and math.isnan(b) else 1 << 62
    if a == b:
        return 0 if math.copysign(1.0, a) == math.copysign(1.0, b) else 1
    if math.isinf(a) or math.isinf(b):
        return 1 << 62

    def ordered(x: float) -> int:
        i = int(np.float64(x).view(np.int64))
        return i if i >= 0 else -(i & 0x7FFFFFFFFFFFFFFF)

    return abs(ordered(a) - ordered(b))


def _formula(op) -> str:
    if op.symbol:
        return f"x {op.symbol} y" if op.arity == 2 else f"{op.symbol}x"
    return f"{op.written}(x, y)" if op.arity == 2 else f"{op.written}(x)"


def test_every_operation_has_a_value_on_arrays():
    assert set(VALUES) == set(BY_NAME)


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_the_whole_table_equals_the_one_point_path(op, mode):
    """At every pair of edge values and at random points, row by row against adcli's scalar
    gradient: bit for bit on the IEEE-exact operations; within 2 ulp on values of library
    functions and 8 ulp on their derivatives (a rule such as 1/cosh(a)² compounds the
    function's own ulp); the same nan, inf and signed zeros everywhere else."""
    graph = adcli.parse(_formula(op))
    rng = np.random.default_rng(7)
    values = EDGES + list(rng.uniform(-5, 5, 12)) + list(rng.normal(0, 100, 4))
    points = list(itertools.product(values, repeat=graph.n_inputs))
    columns = {name: np.array([p[k] for p in points]) for k, name in enumerate(graph.variables)}
    value, gradient = gradient_batch(graph, columns, mode=mode)
    exact = op.name in EXACT
    for r, p in enumerate(points):
        want = graph.differentiate(dict(zip(graph.variables, p, strict=True)), mode, record=False)
        got = [(float(value[r]), want.value, 2)] + [(float(gradient[n][r]), want.gradient[n], 8) for n in want.gradient]
        for a, b, ulps in got:
            if exact or not (math.isfinite(a) and math.isfinite(b)):
                assert same_bits(a, b), (op.name, p, a, b)
            else:
                assert _ulps(a, b) <= ulps, (op.name, p, a, b)


# Rule operations whose numpy form does the scalar function's own IEEE-exact steps (frexp,
# ldexp, + - * /): equal bit for bit. The others call log, pow or hypot, which numpy and libm
# may round an ulp apart: within 8 ulp, as the derivatives above.
EXACT_RULES = {"step", "below", "divz", "gate", "real", "recip", "recip2", "divsq", "atand"}
# Beside the edges: results that are subnormal, overflow, or need the scalar path's care.
RULE_EXTRA = [1e-160, -1e-160, 1e160, 3e-310, -7e-320, 1e200, 0.3, 1e16, 1 + 2**-52, -3.0, 4.5e15]


@pytest.mark.parametrize("op", RULE_OPERATIONS, ids=lambda op: op.name)
def test_every_rule_operation_equals_the_scalar_table(op):
    """Every rule operation's numpy value against the table's scalar function, row by row,
    at every pair of edge values and at random points over the whole range of doubles."""
    rng = np.random.default_rng(11)
    wide = (rng.choice([-1.0, 1.0], 24) * 10.0 ** rng.uniform(-320, 308, 24)).tolist()
    values = EDGES + RULE_EXTRA + wide
    points = list(itertools.product(values, repeat=op.arity))
    columns = [np.array([p[k] for p in points]) for k in range(op.arity)]
    with np.errstate(all="ignore"):
        got = VALUES[op.name](*columns)
    for r, p in enumerate(points):
        a, b = float(got[r]), op.value(*p)
        if op.name in EXACT_RULES or not (math.isfinite(a) and math.isfinite(b)):
            assert same_bits(a, b), (op.name, p, a, b)
        else:
            assert _ulps(a, b) <= 8, (op.name, p, a, b)


@pytest.mark.parametrize("c", [0.3, -2.0, 3.0, 0.5, 1e16, -1e300, 4.5e15 + 0.5, 1 + 2**-52])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_a_constant_exponent_follows_the_table(c, mode):
    """x^c with c known before any row (the specialised powd): as the scalar path, edges included."""
    graph = adcli.parse(f"x^({c!r})")
    xs = np.array(EDGES + RULE_EXTRA + [1e-20, 1e20, 1e-310, 1.5e154])
    value, gradient = gradient_batch(graph, {"x": xs}, mode=mode)
    for r, x in enumerate(xs.tolist()):
        want = graph.differentiate({"x": x}, mode, record=False)
        for a, b in ((float(value[r]), want.value), (float(gradient["x"][r]), want.gradient["x"])):
            if math.isfinite(a) and math.isfinite(b):
                assert _ulps(a, b) <= 8, (c, x, a, b)
            else:
                assert same_bits(a, b), (c, x, a, b)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_where_a_value_is_nan_every_derivative_through_it_is_nan(mode):
    """log at -1, inf - inf, 0·inf: nan values, so nan derivatives, not the rule's finite number;
    the other rows of the chunk keep theirs."""
    graph = adcli.parse("log(x) + (y - y) + 0*y")
    x = np.array([-1.0, 2.0, 2.0, -1.0])
    y = np.array([1.0, math.inf, 1.0, 1.0])
    value, gradient = gradient_batch(graph, {"x": x, "y": y}, mode=mode)
    assert np.isnan(value).tolist() == [True, True, False, True]
    assert np.isnan(gradient["x"]).tolist() == [True, True, False, True]  # ∂/∂x = 1/x by hand, where finite
    assert np.isnan(gradient["y"]).tolist() == [True, True, False, True]
    assert gradient["x"][2] == 0.5 and gradient["y"][2] == 0.0
    one = adcli.parse("sqrt(x - 3) * 0 + x")  # a nan value inside: its partials too, as at one point
    _, g = gradient_batch(one, {"x": np.array([1.0, 4.0])}, mode=mode)
    assert math.isnan(g["x"][0]) and g["x"][1] == 1.0
    # Through sums and constant factors (adjoints known before any row) and through a select.
    texts = ("2*(x*y) + x - 3", "exp(x*y) + relu(y)", "-(x*y)/4 + min(x, 1)", "sin(x*y)^0 + x", "hypot(1/x, x*y) + x")
    for text in texts:
        graph = adcli.parse(text)
        xs, ys = np.array([0.0, 1.0, 0.0, 2.0]), np.array([math.inf, 2.0, 1.0, math.nan])
        value, gradient = gradient_batch(graph, {"x": xs, "y": ys}, mode=mode)
        for r in range(4):
            want = graph.differentiate({"x": xs[r], "y": ys[r]}, mode, record=False)
            assert all(same_bits(float(gradient[n][r]), want.gradient[n]) for n in "xy"), (text, r)
        assert np.isnan(gradient["x"]).tolist() == [True, False, False, True]


def test_the_operations_said_to_keep_nan_do():
    """The reverse sweep looks for nan values only where an operation may drop a nan (pow, hypot):
    every other operation a formula calls must be nan wherever an argument is."""
    from adcli.engines.batch import _KEEPS_NAN

    assert {"pow", "hypot"}.isdisjoint(_KEEPS_NAN) and set(BY_NAME) >= _KEEPS_NAN
    for name in _KEEPS_NAN:
        op = BY_NAME[name]
        for other in EDGES:
            for k in range(op.arity):
                args = [other] * op.arity
                args[k] = math.nan
                assert math.isnan(op.value(*args)), (name, args)


def test_floor_and_ceil_keep_the_sign_of_zero():
    x = np.array([-0.0, -0.5, 0.0, 0.5, -1.5])
    assert [math.copysign(1.0, v) for v in VALUES["floor"](x)] == [-1.0, -1.0, 1.0, 1.0, -1.0]
    assert [math.copysign(1.0, v) for v in VALUES["ceil"](x)] == [-1.0, -1.0, 1.0, 1.0, -1.0]


def test_a_select_passes_nothing_where_its_branch_is_not_taken():
    """relu(log x) at 0: log x = -inf, its slope inf, but relu passes nothing there: 0, not nan."""
    graph = adcli.parse("relu(log(x)) + min(x, 1/y) + abs(sqrt(y))")
    x = np.array([0.0, 2.0, 0.5, 3.0])
    y = np.array([0.0, 0.25, 1.0, 0.0])
    _, gradient = graph.gradient_batch({"x": x, "y": y})
    # By hand: d/dx = [x > 1]/x + [x < 1/y]; d/dy = -[1/y < x]/y² + 1/(2√y) (abs of √y ≥ 0 passes at y > 0).
    assert gradient["x"].tolist() == [1.0, 0.5 + 1.0, 1.0, 1 / 3 + 1.0]
    assert gradient["y"][0] == 0.0 or math.isinf(gradient["y"][0])  # √0: the slope is inf, as at one point
    for r in range(4):
        one = graph.gradient({"x": x[r], "y": y[r]})
        assert same_bits(gradient["x"][r], one["x"]) and same_bits(gradient["y"][r], one["y"])


def test_closed_form():
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-3, 3, 1000), rng.uniform(-3, 3, 1000)
    value, gradient = adcli.parse("(x+y)*(x-y)").gradient_batch({"x": x, "y": y})
    assert np.array_equal(value, (x + y) * (x - y))
    assert np.array_equal(gradient["x"], (x - y) + (x + y))  # what the sweep adds: v̄₂·1 + v̄₁·1
    assert np.allclose(gradient["x"], 2 * x) and np.allclose(gradient["y"], -2 * y)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_random_formulas_equal_the_one_point_path(data):
    from formulas import formulas

    text = data.draw(formulas)
    graph = adcli.parse(text)
    assume(graph.variables)  # without a column there are no rows
    rows = data.draw(st.lists(st.tuples(*[st.floats(-3, 3)] * 3), min_size=1, max_size=6))
    columns = {name: np.array([r[k] for r in rows]) for k, name in enumerate("xyz") if name in graph.variables}
    for mode in ("reverse", "forward"):
        value, gradient = graph.gradient_batch(columns, mode=mode)
        for r in range(len(rows)):
            want = graph.differentiate({n: columns[n][r] for n in columns}, mode, record=False)
            assert close(float(value[r]), want.value, rel=1e-9, abs_=1e-300), (text, r)
            for name, d in want.gradient.items():
                a = float(gradient[name][r])
                # A derivative that cancels to about 0 (log(c, c)' for c = cosh(cosh(y)) is 0 up
                # to rounding) differs by the ulps numpy's and libm's functions differ by: an
                # absolute 1e-13 on these O(1)-sized formulas, relative 1e-9 elsewhere.
                assert close(a, d, rel=1e-9, abs_=1e-13) or (abs(a) > 1e250 and abs(d) > 1e250), (text, name, a, d)


def test_api_evaluate_batch_and_errors():
    graph = adcli.parse("x*y + 1")
    assert graph.evaluate_batch({"x": [1.0, 2.0], "y": 3.0}).tolist() == [4.0, 7.0]
    with pytest.raises(adcli.PointError, match="'z', which the formula does not use"):
        graph.evaluate_batch({"x": [1.0], "y": [1.0], "z": [1.0]})
    with pytest.raises(adcli.PointError, match="no column for 'y'"):
        graph.evaluate_batch({"x": [1.0]})
    with pytest.raises(adcli.PointError, match="one length"):
        graph.evaluate_batch({"x": [1.0, 2.0], "y": [1.0, 2.0, 3.0]})
    _, gradient = graph.gradient_batch({"x": [2.0], "y": [5.0]}, wrt=["y"])
    assert list(gradient) == ["y"] and gradient["y"].tolist() == [2.0]


# The command.


def _run(args, stdin=None):
    return CliRunner().invoke(cli, args, input=stdin, prog_name="adcli")


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_csv_in_json_lines_out(tmp_path):
    points = tmp_path / "p.csv"
    points.write_text("x,y\n3,2\n1e-5,-0.5\n")
    run = _run(["grad", "(x+y)*(x-y)", "--points", str(points)])
    assert run.exit_code == 0, run.output
    rows = _lines(run.stdout)
    assert rows[0] == {"value": 5.0, "gradient": {"x": 6.0, "y": -4.0}}
    x, y = 1e-5, -0.5
    assert rows[1]["gradient"] == {"x": (x - y) + (x + y), "y": (x - y) - (x + y)}  # v̄ as the sweep adds it
    assert run.stderr == ""


def test_json_lines_in_csv_out_with_kept_columns_and_fixed_variables():
    stdin = '{"id": "a", "x": 2}\n\n{"x": "pi/2", "id": 7}\n'
    run = _run(["grad", "sin(x)*y", "--points", "-", "--at", "y=3", "--keep", "id", "--output", "csv"], stdin)
    assert run.exit_code == 0, run.output
    lines = run.stdout.splitlines()
    assert lines[0] == "id,value,d/dx,d/dy"
    id_, value, dx, dy = lines[1].split(",")
    assert (id_, float(value), float(dx), float(dy)) == ("a", 3 * math.sin(2), 3 * math.cos(2), math.sin(2))
    assert lines[2].startswith("7,3.0,")


def test_non_finite_numbers_and_the_warnings_come_once():
    stdin = "x\n1\n0\n-1\n0\n"
    run = _run(["grad", "sqrt(x) + abs(x)", "--points", "-"], stdin)
    assert run.exit_code == 0
    rows = _lines(run.stdout)
    assert rows[1] == {"value": 0.0, "gradient": {"x": "Infinity"}}
    assert rows[2] == {"value": "NaN", "gradient": {"x": "NaN"}}
    assert run.stderr.splitlines() == [
        "warning: 3 rows with a value or gradient that is not finite (the first at line 3)",
        "warning: 2 rows at a point where an operation has no derivative (the first at line 3): adcli uses its "
        "convention there (see Numerical conventions in the README)",
    ]
    csv = _run(["eval", "1/x", "--points", "-", "--output", "csv"], "x\n0\n-0.0\nnan\n")
    assert csv.stdout.splitlines()[1:] == ["inf", "-inf", "nan"]


def test_bad_rows_are_fatal_with_their_line_or_skipped_and_counted():
    stdin = "x,y\n1,2\n3,oops\n4\n5,6\n"
    run = _run(["eval", "x+y", "--points", "-"], stdin)
    assert run.exit_code == 2
    assert "error: standard input, line 3: the value of y must be a constant expression" in run.stderr
    assert _lines(run.stdout) == [{"value": 3.0}]  # the rows before it are out
    run = _run(["eval", "x+y", "--points", "-", "--skip-bad"], stdin)
    assert run.exit_code == 0
    assert _lines(run.stdout) == [{"value": 3.0}, {"value": 11.0}]
    assert run.stderr.startswith("warning: skipped 2 rows that could not be read (the first: standard input, line 3")
    dup = _run(["eval", "x", "--points", "-"], '{"x": 1, "x": 2}\n')
    assert dup.exit_code == 2 and "line 1: the object gives 'x' twice" in dup.stderr


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["eval", "x", "--points", "-"], "x,z\n1,2\n", "names 'z', which the formula does not use"),
        (["eval", "x", "--points", "-"], "x,z\n1,2\n", "add --keep z"),
        (["eval", "x*y", "--points", "-"], "x\n1\n", "the header has no value for 'y'"),
        (["eval", "x", "--points", "-", "--keep", "id"], "x\n1\n", "no column 'id' to keep"),
        (["eval", "x", "--points", "-", "--json"], "x\n1\n", "--json does not go with --points"),
        (["eval", "x", "--output", "csv"], None, "--output goes with --points FILE"),
        (["eval", "x", "--points", "-", "--output", "npy"], "x\n1\n", "--output npy needs --out FILE"),
        (["eval", "x", "--points", "/no/such/file"], None, "cannot read the points file"),
        (["eval", "x", "--points", "-"], "", "is empty"),
    ],
)
def test_mistakes_say_what_and_exit_2(args, stdin, message):
    run = _run(args, stdin)
    assert run.exit_code == 2
    assert message in run.stderr
    assert "Traceback" not in run.stderr


def test_npy_output(tmp_path):
    out = tmp_path / "g.npy"
    run = _run(["grad", "x*y", "--points", "-", "--output", "npy", "--out", str(out)], "x,y\n2,3\n4,5\n")
    assert run.exit_code == 0, run.output
    assert np.load(out).tolist() == [[6.0, 3.0, 2.0], [20.0, 5.0, 4.0]]


def test_many_chunks_give_the_rows_of_one(monkeypatch, tmp_path):
    rng = np.random.default_rng(3)
    data = rng.uniform(-2, 2, (2000, 2))
    points = tmp_path / "p.csv"
    points.write_text("x,y\n" + "".join(f"{a!r},{b!r}\n" for a, b in data.tolist()))
    args = ["grad", "sin(x)*y^2 + relu(x - y)", "--points", str(points)]
    whole = _run(args).stdout
    monkeypatch.setattr(cli_batch, "CHUNK_ROWS", 7)
    assert _run(args).stdout == whole
    rows = _lines(whole)
    assert len(rows) == 2000
    x, y = data[1234]
    assert math.isclose(rows[1234]["gradient"]["x"], math.cos(x) * y * y + (x > y), rel_tol=1e-14)


def _peak(tmp_path, rows: int) -> int:
    points = tmp_path / f"p{rows}.csv"
    points.write_text("x,y\n" + "1.25,-0.5\n" * rows)
    tracemalloc.start()
    run = _run(["grad", "exp(x)*y + x/y", "--points", str(points), "--out", str(tmp_path / "out.jsonl")])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert run.exit_code == 0, run.output
    return peak


def test_memory_stays_flat_however_many_rows(monkeypatch, tmp_path):
    """Chunks of 500 rows: 40 times the rows must not take more memory (numpy reports to tracemalloc)."""
    monkeypatch.setattr(cli_batch, "CHUNK_ROWS", 500)
    small, large = _peak(tmp_path, 1000), _peak(tmp_path, 40_000)
    assert large < 1.5 * small + 100_000, (small, large)


def test_keep_completes_the_columns_that_are_not_variables(tmp_path):
    from click.shell_completion import ShellComplete

    points = tmp_path / "p.csv"
    points.write_text("id,x,label,y\n1,2,a,3\n")
    complete = ShellComplete(cli, {}, "adcli", "_ADCLI_COMPLETE")
    args = ["grad", "x*y", "--points", str(points), "--keep"]
    assert [item.value for item in complete.get_completions(args, "")] == ["id", "label"]
    assert [item.value for item in complete.get_completions(args, "id,")] == ["id,label"]


def test_kept_json_values_pass_through_as_the_line_wrote_them():
    """A kept column is the line's own JSON: an object stays an object, numbers keep their
    spelling (a long integer, 2.50, 1.5e400), whether orjson or the careful path read the chunk."""
    lines = [
        '{"id":{"b":1,"a":[2.50,true,null]},"x":1,"y":2}',
        '{"id":12345678901234567890123,"x":1,"y":2}',
        '{"id":1.5e400,"x":1,"y":2}',
        '{"id":"p4","x":1,"y":2}',
    ]
    for rows in (lines, lines[3:]):  # the first chunk goes the careful way, the second orjson's
        result = _run(["grad", "x*y", "--points", "-", "--keep", "id"], "\n".join(rows) + "\n")
        assert result.exit_code == 0, result.output
        ids = [line[len('{"id":') : line.index(',"value"')] for line in result.stdout.splitlines()]
        assert ids == [row[len('{"id":') : row.index(',"x"')] for row in rows]


def test_json_minus_zero_reads_as_float_reads_it_on_every_path():
    """-0 in JSON is -0.0, as float("-0") and a CSV -0 are (orjson's integer 0 would lose the sign)."""
    for text in ('{"x":-0,"y":2}\n', '{"x":-0,"y":2}\n{"x":{"a":1},"y":2}\n'):
        result = _run(["eval", "x*y", "--points", "-", "--skip-bad"], text)
        assert result.stdout.splitlines()[0] == '{"value":-0.0}', result.output


def test_out_may_not_be_the_points_file_and_dash_is_standard_output(tmp_path):
    points = tmp_path / "p.csv"
    points.write_text("x,y\n1,2\n")
    refused = _run(["grad", "x*y", "--points", str(points), "--out", str(points)])
    assert refused.exit_code == 2 and "is the points file itself" in refused.output
    assert points.read_text() == "x,y\n1,2\n"  # untouched
    piped = _run(["grad", "x*y", "--points", str(points), "--out", "-"])
    assert piped.exit_code == 0 and piped.stdout == '{"value":2.0,"gradient":{"x":2.0,"y":1.0}}\n'


def test_keep_may_not_name_a_column_twice():
    result = _run(["grad", "x*y", "--points", "-", "--keep", "id,id"], "id,x,y\na,1,2\n")
    assert result.exit_code == 2 and "--keep names 'id' twice" in result.output


def test_skipping_every_row_is_no_result():
    """--skip-bad with nothing left is exit 1 (an evaluation that produced no result), not a silent 0."""
    result = _run(["grad", "x*y", "--points", "-", "--skip-bad"], "x,y\na,b\n")
    assert result.exit_code == 1 and "no row could be read (1 row skipped)" in result.output
    empty = _run(["grad", "x*y", "--points", "-", "--skip-bad"], "x,y\n")  # no rows at all: nothing to skip
    assert empty.exit_code == 0 and empty.stdout == ""
