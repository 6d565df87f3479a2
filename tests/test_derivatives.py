"""Jacobians, Hessians, jvp, vjp and check, against oracles worked out independently of the engines."""

from __future__ import annotations

import json
import math

import mp_oracle
import pytest
from formulas import formulas, points
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from oracles import run_adcli

import adcli
from adcli.core.ops import OPERATIONS
from adcli.engines import derivatives
from adcli.engines.check import check, ridders


def rosenbrock(n: int) -> str:
    return " + ".join(f"100*(x{i + 1} - x{i}^2)^2 + (1 - x{i})^2" for i in range(1, n))


def rosenbrock_hessian(x: list[float]) -> list[list[float]]:
    """The n-variable Rosenbrock Hessian by hand: tridiagonal."""
    n = len(x)
    h = [[0.0] * n for _ in range(n)]
    for i in range(n - 1):
        h[i][i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        h[i + 1][i + 1] += 200
        h[i][i + 1] = h[i + 1][i] = -400 * x[i]
    return h


def test_rosenbrock_hessian_at_the_minimum_is_the_textbook_matrix():
    graph = adcli.parse("100*(y-x^2)^2 + (1-x)^2")
    result = derivatives.hessian(graph, {"x": 1, "y": 1}, wrt=["x", "y"])
    assert result.matrix == [[802.0, -400.0], [-400.0, 200.0]]
    assert result.value == 0.0 and result.gradient == {"x": 0.0, "y": 0.0}


@pytest.mark.parametrize("n", [3, 10, 200])
def test_a_tridiagonal_hessian_takes_three_sweeps_whatever_its_size(n):
    graph = adcli.parse(rosenbrock(n))
    names = [f"x{i}" for i in range(1, n + 1)]
    x = [0.3 + 0.01 * i for i in range(n)]
    result = derivatives.hessian(graph, dict(zip(names, x, strict=True)), wrt=names)
    assert result.sweeps == 3
    want = rosenbrock_hessian(x)
    for i in range(n):
        for j in range(n):
            assert math.isclose(result.matrix[i][j], want[i][j], rel_tol=1e-13, abs_tol=1e-12), (i, j)
    assert len(result.entries) == 3 * n - 2


def test_a_dense_hessian_is_dense_and_symmetric():
    graph = adcli.parse("(x + 2*y + 3*z)^3 + x*y*z")
    point = {"x": 0.5, "y": -1.0, "z": 2.0}
    result = derivatives.hessian(graph, point)
    s = 0.5 - 2.0 + 6.0  # hand: ∂²/∂a∂b (s^3) = 6·s·ca·cb, plus the product's cross terms
    c = {"x": 1, "y": 2, "z": 3}
    for i, a in enumerate(result.variables):
        for j, b in enumerate(result.variables):
            cross = 0.0 if a == b else point[({"x", "y", "z"} - {a, b}).pop()]
            assert math.isclose(result.matrix[i][j], 6 * s * c[a] * c[b] + cross, rel_tol=1e-14)


def _gradient_difference(graph, point, name, h=1e-6):
    """Central difference of the reverse-mode gradient: column ``name`` of the Hessian."""
    up, down = dict(point), dict(point)
    up[name] += h
    down[name] -= h
    gu, gd = graph.gradient(up), graph.gradient(down)
    return {k: (gu[k] - gd[k]) / (2 * h) for k in gu}


@settings(max_examples=150, deadline=None)
@given(formulas, points)
def test_hessians_of_random_formulas_match_differences_of_the_gradient_and_are_symmetric(text, values):
    graph = adcli.parse(text)
    point = {name: values[name] for name in graph.variables}
    result = derivatives.hessian(graph, point)
    assume(not result.warnings and all(math.isfinite(x) for row in result.matrix for x in row))
    assume(all(abs(v) < 1e3 for v in point.values()))
    n = len(result.variables)
    for i in range(n):
        for j in range(n):
            a, b = result.matrix[i][j], result.matrix[j][i]
            assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (text, point)
    for j, name in enumerate(result.variables):
        column = _gradient_difference(graph, point, name)
        finer = _gradient_difference(graph, point, name, h=1e-7)
        for i, other in enumerate(result.variables):
            fd = column[other]
            if not math.isclose(fd, finer[other], rel_tol=1e-3, abs_tol=1e-3):
                continue  # the gradient is not smooth within the step (a kink nearby): no witness here
            scale = max(1.0, abs(fd), abs(result.matrix[i][j]))
            if math.isfinite(fd) and abs(fd) < 1e6:
                # A difference of gradients has error ~h² f'''' + ε/h: loose, it is the independent witness.
                assert abs(result.matrix[i][j] - fd) <= 1e-3 * scale, (text, point, other, name, fd)


_INSIDE = {  # points inside each operation's domain, away from its kinks
    1: [0.3, 0.7, 1.6, -0.4],
    2: [(0.7, 1.3), (1.9, 0.4), (2.5, 3.0)],
}


@pytest.mark.parametrize("op", [op for op in OPERATIONS if op.is_function], ids=lambda op: op.name)
def test_second_derivatives_of_every_function_match_mpmath(op):
    call = op.written
    if op.arity == 1:
        graph = adcli.parse(f"{call}(x)")
        for x in _INSIDE[1]:
            (want,) = mp_oracle.second(op.name, x)
            if not isinstance(want, float) or not math.isfinite(want):
                continue
            got = derivatives.hessian(graph, {"x": x}).matrix[0][0]
            assert math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-300), (op.name, x, got, want)
        return
    graph = adcli.parse(f"{call}(x, y)")
    for x, y in _INSIDE[2]:
        want = mp_oracle.second(op.name, x, y)
        got = derivatives.hessian(graph, {"x": x, "y": y}, wrt=["x", "y"]).matrix
        for (i, j), w in zip([(0, 0), (0, 1), (1, 1)], want, strict=True):
            if isinstance(w, float) and math.isfinite(w):
                assert math.isclose(got[i][j], w, rel_tol=1e-12, abs_tol=1e-15), (op.name, x, y, i, j, got, w)


def test_second_derivatives_at_a_kink_are_a_convention_and_say_so():
    result = derivatives.hessian(adcli.parse("abs(x)*y"), {"x": 0.0, "y": 3.0})
    assert any("second derivative" in w and "convention" in w for w in result.warnings)
    locally_flat = derivatives.hessian(adcli.parse("sqrt(relu(x))"), {"x": -1.0})
    assert locally_flat.matrix == [[0.0]]  # 0 near -1: no nan from the infinite slope of sqrt at 0


def test_hessian_vector_products_are_the_hessian_times_the_direction():
    graph = adcli.parse("x^3*y + sin(y)*x")
    point = {"x": 1.5, "y": -0.5}
    # By hand: H = [[6xy, 3x² + cos y], [3x² + cos y, -x sin y]].
    h = [[6 * 1.5 * -0.5, 3 * 1.5**2 + math.cos(-0.5)], [3 * 1.5**2 + math.cos(-0.5), -1.5 * math.sin(-0.5)]]
    d = {"x": 2.0, "y": -1.0}
    result = derivatives.hvp(graph, point, d)
    product = dict(result.product)
    assert math.isclose(product["x"], h[0][0] * 2 - h[0][1], rel_tol=1e-14)
    assert math.isclose(product["y"], h[1][0] * 2 - h[1][1], rel_tol=1e-14)


def _jacobian_by_hand(x: float, y: float) -> list[list[float]]:
    return [[y, x], [1.0, 1.0], [math.cos(x), 0.0]]


@pytest.mark.parametrize("mode", ["auto", "forward", "reverse"])
def test_jacobian_in_every_mode_is_the_matrix_worked_by_hand(mode):
    result = derivatives.jacobian(adcli.parse("x*y; x+y; sin(x)"), {"x": 1.0, "y": 2.0}, mode=mode)
    assert result.outputs == ("x*y", "x+y", "sin(x)")
    assert result.matrix == _jacobian_by_hand(1.0, 2.0)
    assert result.values == [2.0, 3.0, math.sin(1.0)]
    assert result.sweeps == {"forward": 2, "reverse": 3}
    assert result.mode == ("forward" if mode == "auto" else mode)


def test_named_statements_are_steps_not_outputs():
    result = derivatives.jacobian(adcli.parse("a = x*y; a + 1; a*a"), {"x": 2.0, "y": 3.0})
    assert result.matrix == [[3.0, 2.0], [2 * 6.0 * 3.0, 2 * 6.0 * 2.0]]


def test_auto_picks_reverse_for_many_variables_and_forward_for_many_outputs():
    wide = adcli.parse(" + ".join(f"sin(x{i})*x{i + 1}" for i in range(30)))
    tall = adcli.parse("; ".join(f"sin({k}*t)" for k in range(1, 31)))
    assert derivatives.jacobian(wide, {f"x{i}": 0.1 * i for i in range(31)}).mode == "reverse"
    assert derivatives.jacobian(tall, {"t": 0.3}).mode == "forward"


def _agree(a: float, b: float, scale: float = 1.0) -> bool:
    """Equal to rounding: the modes add the same products in another order (cancellation leaves ~ε·scale)."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12 * scale)


@settings(max_examples=200, deadline=None)
@given(formulas, formulas, points)
def test_forward_and_reverse_jacobians_agree_on_random_formulas_and_edges(first, second, values):
    graph = adcli.parse(f"{first}; {second}")
    point = {name: values[name] for name in graph.variables}
    fwd = derivatives.jacobian(graph, point, mode="forward")
    rev = derivatives.jacobian(graph, point, mode="reverse")
    assert fwd.warnings == rev.warnings or any("not finite" in w for w in fwd.warnings + rev.warnings)
    unbounded = any("not finite" in w or "is inf" in w or "is nan" in w for w in fwd.warnings + rev.warnings)
    scale = 1.0 + max((abs(x) for row in rev.matrix for x in row if math.isfinite(x)), default=0.0)
    for row_f, row_r in zip(fwd.matrix, rev.matrix, strict=True):
        for f, r in zip(row_f, row_r, strict=True):
            inf_or_nan = not math.isfinite(f) and not math.isfinite(r)
            assert _agree(f, r, scale) or (unbounded and inf_or_nan), (first, second, point, fwd.matrix, rev.matrix)


@settings(max_examples=100, deadline=None)
@given(formulas, formulas, points, st.floats(-3, 3), st.floats(-3, 3))
def test_jvp_and_vjp_are_products_with_the_jacobian(first, second, values, u, w):
    graph = adcli.parse(f"{first}; {second}")
    point = {name: values[name] for name in graph.variables}
    jac = derivatives.jacobian(graph, point, mode="reverse")
    assume(all(math.isfinite(x) and abs(x) < 1e100 for row in jac.matrix for x in row))
    direction = {name: (u, w, 1.0)[k % 3] for k, name in enumerate(graph.variables)}
    jvp = derivatives.jvp(graph, point, direction)
    for r, (_, got) in enumerate(jvp.product):
        want = sum(jac.matrix[r][j] * direction[v] for j, v in enumerate(jac.variables))
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9 * (1 + sum(map(abs, jac.matrix[r])))), (r, got)
    vjp = derivatives.vjp(graph, point, [u, w])
    for j, v in enumerate(jac.variables):
        want = u * jac.matrix[0][j] + w * jac.matrix[1][j]
        assert math.isclose(dict(vjp.product)[v], want, rel_tol=1e-9, abs_tol=1e-9 * (1 + abs(jac.matrix[0][j]))), v


def test_a_vjp_needs_one_weight_per_output():
    with pytest.raises(adcli.PointError, match="one weight per output"):
        derivatives.vjp(adcli.parse("x; y"), {"x": 1, "y": 2}, [1.0])


def test_ridders_differences_are_accurate_on_a_closed_form():
    value, error = ridders(math.exp, 1.0, 0.1)
    assert abs(value - math.e) < 1e-12 and error < 1e-10


def test_check_agrees_with_a_right_hand_derivative_and_catches_a_wrong_one():
    graph = adcli.parse("x^3*sin(y)")
    point = {"x": 1.3, "y": 0.4}
    assert check(graph, point, against="3*x^2*sin(y); x^3*cos(y)").agree
    wrong = check(graph, point, against="3*x^2; x^3*cos(y)")
    assert not wrong.agree
    assert [row.agree for row in wrong.rows] == [False, True]


def test_check_catches_an_underflowing_sweep_below_the_absolute_tolerance():
    """README: reverse mode underflows to 0 where forward mode gives 1e-300; --atol 0 says so."""
    graph = adcli.parse("x*1e300*1e-300*1e-300")
    strict = check(graph, {"x": 1.0}, atol=0.0)
    assert (strict.rows[0].forward, strict.rows[0].reverse) == (1e-300, 0.0)
    assert not strict.agree
    assert check(graph, {"x": 1.0}).agree  # within the default atol of 1e-9


def test_check_says_why_a_comparison_does_not_apply():
    at_kink = check(adcli.parse("abs(x) + y"), {"x": 0.0, "y": 1.0})
    assert at_kink.agree and "kink" in at_kink.rows[0].note
    infinite = check(adcli.parse("sqrt(x)"), {"x": 0.0})
    assert "not finite" in infinite.rows[0].note


@pytest.mark.cli
def test_the_commands_speak_strict_json_and_exit_as_documented():
    run = run_adcli("jacobian", "x*y; x+y; sin(x)", "--at", "x=1,y=2", "--json")
    assert run.code == 0, run.err
    obj = json.loads(run.out)
    assert obj["outputs"] == ["x*y", "x+y", "sin(x)"] and obj["variables"] == ["x", "y"]
    assert obj["jacobian"] == _jacobian_by_hand(1.0, 2.0) and obj["mode"] == "forward"
    run = run_adcli("hessian", "100*(y-x^2)^2 + (1-x)^2", "--at", "x=1,y=1", "--wrt", "x,y", "--json")
    assert json.loads(run.out)["hessian"] == [[802.0, -400.0], [-400.0, 200.0]]
    run = run_adcli("hessian", "log(x)*y", "--at", "x=0,y=1", "--json")
    assert json.loads(run.out)["hessian"][0][0] == "-Infinity" and "warning" in run.err
    run = run_adcli("check", "x^2", "--at", "x=3", "--against", "3*x")
    assert run.code == 1 and "DISAGREE" in run.out
    run = run_adcli("check", "x^2", "--at", "x=3", "--against", "2*x")
    assert run.code == 0 and "all agree" in run.out
    run = run_adcli("jvp", "x*y", "--at", "x=1,y=2", "--dir", "z=1")
    assert run.code == 2 and run.err.startswith("error: the direction names 'z'")
    run = run_adcli("grad", "x*y; x+y", "--at", "x=1,y=2")
    assert run.code == 2 and "adcli jacobian" in run.err


def test_counted_takes_the_noun_in_its_number():
    from adcli.errors import counted

    assert [counted(1, "entry", "entries"), counted(2, "entry", "entries"), counted(1000, "row")] == [
        "1 entry",
        "2 entries",
        "1,000 rows",
    ]


def test_a_vjp_with_one_weight_too_few_says_one_weight_was_given():
    with pytest.raises(adcli.PointError) as caught:
        derivatives.vjp(adcli.parse("x; y"), {"x": 1, "y": 2}, [1.0])
    assert "the formula has 2 outputs, and 1 weight was given" in str(caught.value)


def test_non_finite_warnings_count_in_the_singular_and_advise_what_fits_the_command():
    # 1/x at 0: ∂/∂x = -1/x² is -inf in both outputs 1/x + y and 1/x: two entries are not finite.
    jac = derivatives.jacobian(adcli.parse("1/x + y; 1/x"), {"x": 0, "y": 1})
    warning = next(w for w in jac.warnings if w.startswith("∂"))
    assert warning.startswith("∂(1/x + y)/∂x is -inf (1 more entry is not finite); ")
    assert "'adcli check' on that output alone" in warning
    # log(x)*y at x = 0: ∂²/∂x² = -y/x² and ∂²/∂x∂y = 1/x are not finite, ∂²/∂y² = 0 is.
    hes = derivatives.hessian(adcli.parse("log(x)*y"), {"x": 0, "y": 1})
    warning = next(w for w in hes.warnings if w.startswith("∂²f/∂"))
    assert warning.startswith("∂²f/∂x² is -inf (2 more entries are not finite); ")  # ∂x∂y and ∂y∂x
    assert 'adcli deriv --mixed "x^2"' in warning
    assert "adcli check" not in warning


def test_hvp_direction_zero_entries_add_no_term():
    """(H·d)_x = Σ_j H[x][j]·d_j: with d = (0, 1) it is H[x][y] alone, even where H[x][x] = -inf
    (log(x)·y at x = 1e-300: -2/x² overflows; a zero tangent through it gave nan)."""
    graph = adcli.parse("log(x)*y + x*y^2")
    point = {"x": 1e-300, "y": 2.0}
    h = adcli.hessian(graph, point).matrix
    assert h[0][0] == -math.inf
    product = dict(adcli.hvp(graph, point, {"x": 0.0, "y": 1.0}).product)
    assert product == {"x": h[0][1], "y": h[1][1]}
    assert math.isclose(h[0][1], 1e300 + 4e-300, rel_tol=1e-15)  # ∂²/∂x∂y = 1/x + 2y
