"""Taylor mode (adcli deriv): derivatives of any order, checked against independent oracles.

Closed forms worked by hand, mixed partials of polynomials by hand, nested first
derivatives (forward mode over recorded gradients) and the Hessian, and mpmath's own
Taylor expansion at 40 digits over the whole operation table (hypothesis picks the points).
"""

from __future__ import annotations

import json
import math
from fractions import Fraction

import mpmath as mp
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import adcli
from adcli.cli import cli
from adcli.cli import taylor as taylor_cli
from adcli.core.ops import BY_NAME, OPERATIONS, RULE_OPERATIONS
from adcli.engines import forward, primal, taylor
from adcli.engines.derivatives import hessian
from adcli.engines.rules import gradient_graph

mp.mp.dps = 40


def derivs(formula: str, point: dict, order: int, **kw) -> list[float]:
    return adcli.derivatives(adcli.parse(formula), point, order=order, **kw).derivatives


def rel(a: float, b: float, scale: float | None = None) -> float:
    return abs(a - b) / (abs(b) if scale is None else scale)


# Closed forms.


def test_geometric_series_gives_factorials():
    d = derivs("1/(1-x)", {"x": 0}, 20)
    assert d == [float(math.factorial(k)) for k in range(21)]  # every coefficient is exactly 1


@pytest.mark.parametrize(("a", "x"), [(2.0, 0.3), (-0.5, 1.7), (3.0, -1.0)])
def test_exp_of_a_multiple(a, x):
    d = derivs(f"exp({a}*x)", {"x": x}, 15)
    for k, got in enumerate(d):
        assert rel(got, a**k * math.exp(a * x)) < 1e-14


def test_sine_cycles_through_its_derivatives():
    x = 0.9
    cycle = [math.sin(x), math.cos(x), -math.sin(x), -math.cos(x)]
    for k, got in enumerate(derivs("sin(x)", {"x": x}, 24)):
        assert abs(got - cycle[k % 4]) < 1e-15 * math.factorial(k) ** 0 + 1e-13


@pytest.mark.parametrize("x", [0.0, 2.0, -1.5])
@pytest.mark.parametrize("n", [1, 3, 5])
def test_powers_vanish_past_their_degree(n, x):
    d = derivs(f"x^{n}", {"x": x}, n + 4)
    for k in range(n + 1):
        expected = math.factorial(n) // math.factorial(n - k) * x ** (n - k)
        assert d[k] == pytest.approx(expected, rel=1e-15, abs=0)
    assert d[n + 1 :] == [0.0] * 4


def test_log1p_series():
    x = 0.2
    for k, got in enumerate(derivs("log(1+x)", {"x": x}, 12)[1:], start=1):
        expected = (-1) ** (k - 1) * math.factorial(k - 1) / (1 + x) ** k
        assert rel(got, expected) < 1e-14


def test_taylor_coefficients_are_derivatives_over_factorials():
    r = adcli.derivatives(adcli.parse("exp(x)"), {"x": 0}, order=10)
    assert r.coefficients == pytest.approx([1 / math.factorial(k) for k in range(11)], rel=1e-15)


# Mixed partials of polynomials, by hand.


@pytest.mark.parametrize(
    ("formula", "point", "monomial", "expected"),
    [
        ("x^2*y^3", {"x": 1, "y": 2}, "x^2*y", 24.0),  # 2·3y² at y = 2
        ("x^2*y^3", {"x": 1, "y": 2}, "x^2*y^3", 12.0),  # 2·6
        ("x^3*y + y^2", {"x": 2, "y": 5}, "x*y", 12.0),  # 3x²
        ("(x+y)^4", {"x": 1, "y": 1}, "x^2*y^2", 24.0),  # 4·3·2·1
        ("x*y*z + x^2*z", {"x": 3, "y": 4, "z": 5}, "x*y*z", 1.0),
        ("x*y*z + x^2*z", {"x": 3, "y": 4, "z": 5}, "x*x*z", 2.0),
        ("x^2*y^3", {"x": 1, "y": 2}, "x^3", 0.0),
    ],
)
def test_mixed_partials_of_polynomials(formula, point, monomial, expected):
    r = adcli.mixed_partial(adcli.parse(formula), point, monomial)
    assert r.derivative == pytest.approx(expected, rel=1e-12, abs=1e-11)


def test_interpolation_weights_reproduce_every_monomial():
    """Σ w_s·s^β = [β = α]: checked in exact arithmetic for every β of the order."""
    alpha = (2, 1, 1)
    weights = taylor.interpolation_weights(alpha)
    for beta in taylor._compositions(4, 3):
        total = sum(w * math.prod(Fraction(s) ** e for s, e in zip(d, beta, strict=True)) for d, w in weights)
        assert total == (1 if beta == alpha else 0)


def test_mixed_partial_of_a_transcendental_function_matches_mpmath():
    r = adcli.mixed_partial(adcli.parse("exp(x*y)*sin(y)"), {"x": 0.3, "y": 0.7}, {"x": 2, "y": 1})
    truth = mp.diff(lambda x, y: mp.exp(x * y) * mp.sin(y), (mp.mpf("0.3"), mp.mpf("0.7")), (2, 1))
    assert rel(r.derivative, float(truth)) < 1e-12


# Agreement with the other engines.

FORMULAS = ["exp(sin(x))/(1+x^2)", "x^x + atan(x)", "tanh(x)*sqrt(x)", "log(x)/sigmoid(x)", "erf(x)*hypot(x, 2)"]
FORMULAS += ["log(x, 3)*atan2(x, 2) + log2(x)/x", "pow(2, x)*log(3, x) + x^1.5"]


@pytest.mark.parametrize("formula", FORMULAS)
def test_order_one_is_forward_mode_bit_for_bit(formula):
    g = adcli.parse(formula)
    tangent = g.gradient({"x": 0.8}, mode="forward")["x"]
    assert adcli.derivatives(g, {"x": 0.8}, order=1).derivatives[1] == tangent


@pytest.mark.parametrize("formula", FORMULAS)
def test_order_two_and_three_match_nested_first_derivatives(formula):
    g = adcli.parse(formula)
    x = 0.8
    d = adcli.derivatives(g, {"x": x}, order=3).derivatives
    assert rel(d[2], hessian(g, {"x": x}).matrix[0][0]) < 1e-12
    # Third order: the recorded gradient of the recorded gradient, then one tangent sweep.
    once = gradient_graph(g, [0], primal.active_nodes(g, [0]))
    twice = gradient_graph(once, [0], primal.active_nodes(once, [0]))
    values = primal.sweep(twice, [x])
    dot, _ = forward.sweep(twice, values, {0: 1.0})
    assert rel(d[3], dot[twice.output], scale=max(1.0, abs(d[3]))) < 1e-11


def test_a_direction_is_the_hessian_quadratic_form():
    g = adcli.parse("x^2*y + sin(x*y) + exp(x-y)")
    point, d = {"x": 0.4, "y": -0.3}, {"x": 1.5, "y": -2.0}
    second = adcli.derivatives(g, point, order=2, direction=d).derivatives[2]
    h = hessian(g, point).matrix
    v = [1.5, -2.0]
    quadratic = sum(v[i] * h[i][j] * v[j] for i in range(2) for j in range(2))
    assert rel(second, quadratic) < 1e-13


# The whole table against mpmath's Taylor expansion at 40 digits.

MP = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "neg": lambda a: -a,
    "pow": mp.power,
    "sin": mp.sin, "cos": mp.cos, "tan": mp.tan, "asin": mp.asin, "acos": mp.acos, "atan": mp.atan,
    "sinh": mp.sinh, "cosh": mp.cosh, "tanh": mp.tanh, "asinh": mp.asinh, "acosh": mp.acosh,
    "atanh": mp.atanh, "exp": mp.exp, "expm1": mp.expm1, "log": mp.log, "log1p": mp.log1p,
    "log2": lambda a: mp.log(a, 2), "log10": mp.log10, "sqrt": mp.sqrt, "cbrt": mp.cbrt,
    "abs": abs, "sign": mp.sign, "floor": mp.floor, "ceil": mp.ceil, "relu": lambda a: max(a, 0),
    "sigmoid": lambda a: 1 / (1 + mp.exp(-a)), "softplus": lambda a: mp.log(1 + mp.exp(a)),
    "erf": mp.erf, "erfc": mp.erfc, "min": min, "max": max, "atan2": mp.atan2, "hypot": mp.hypot,
    "logb": lambda a, b: mp.log(a) / mp.log(b),
}  # fmt: skip

# Where each operation is analytic, with room around the point for the expansion.
DOMAIN = {"asin": (-0.8, 0.8), "acos": (-0.8, 0.8), "atanh": (-0.8, 0.8), "acosh": (1.3, 4.0), "tan": (-1.2, 1.2)}
POSITIVE = {"log", "log2", "log10", "sqrt", "log1p", "pow", "logb", "cbrt"}
# The piecewise ones: kept away from their jumps and kinks (those have tests of their own).
AWAY = {"abs", "sign", "floor", "ceil", "relu", "min", "max"}


def _call(name: str, arity: int) -> str:
    op = next(o for o in OPERATIONS if o.name == name)
    if op.symbol and arity == 2:
        return f"(x {op.symbol} y)"
    if op.symbol:
        return f"{op.symbol}x"
    return f"{op.written}(x)" if arity == 1 else f"{op.written}(x, y)"


def _point(name: str, u: float, w: float) -> tuple[float, float]:
    lo, hi = DOMAIN.get(name, (0.3, 3.0) if name in POSITIVE else (-3.0, 3.0))
    x, y = lo + (hi - lo) * u, 0.3 + 2.7 * w
    if name in AWAY:
        x = round(x) + 0.5 if name in ("floor", "ceil") else (x if abs(x) > 0.3 else x + 0.6)
        y = x + 0.7 if name in ("min", "max") else y
    if name == "logb":
        y = 2.0 + w
    return x, y


ORDER = 8


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(u=st.floats(0.02, 0.98), w=st.floats(0.02, 0.98))
def test_every_operation_against_mpmath(op, u, w):
    x, y = _point(op.name, u, w)
    formula = _call(op.name, op.arity)
    g = adcli.parse(formula)
    point = {"x": x, "y": y} if op.arity == 2 else {"x": x}
    direction = {"x": 1.0, "y": 0.5} if op.arity == 2 else {"x": 1.0}
    got = adcli.derivatives(g, point, order=ORDER, direction=direction).coefficients
    f = MP[op.name]
    if op.arity == 2:
        truth = mp.taylor(lambda t: f(mp.mpf(x) + t, mp.mpf(y) + t / 2), 0, ORDER)
    else:
        truth = mp.taylor(lambda t: f(mp.mpf(x) + t), 0, ORDER)
    truth = [float(c) for c in truth]
    # The bound stated in the README: within 1e-12 of mpmath, relative to the largest
    # coefficient up to that order.
    for k in range(ORDER + 1):
        scale = max(abs(c) for c in truth[: k + 1]) or 1.0
        assert abs(got[k] - truth[k]) <= 1e-12 * scale, (formula, point, k, got[k], truth[k])


# The rule operations' series against mpmath: each as the plain expression it stands for.
MP_RULES = {
    "recip": lambda a, b: 1 / a,
    "recip2": lambda a, b: 1 / (a * b),
    "divsq": lambda a, b: a / b**2,
    "atand": lambda a, b: a / (a**2 + b**2),
    "hypotd": lambda a, b: a / mp.hypot(a, b),
    "logbd": lambda a, b: mp.log(a) / (b * mp.log(b) ** 2),
    "powlog": lambda a, b: a**b * mp.log(a),
    "powd": lambda a, b: b * a ** (b - 1),
    "xlog": lambda a, b: a * mp.log(b),
    "divz": lambda a, b: a / b,
    "real": lambda a, b: a,
    "gate": lambda a, b: a * b,
    "step": lambda a, b: mp.mpf(1),
    "below": lambda a, b: mp.mpf(1),
    "omsq": lambda a, b: 1 - a**2,
    "sigmoidd": lambda a, b: 1 / ((1 + mp.exp(-a)) * (1 + mp.exp(a))),
    "sech2": lambda a, b: mp.sech(a) ** 2,
    "erfd": lambda a, b: 2 / mp.sqrt(mp.pi) * mp.exp(-(a**2)),
}


@pytest.mark.parametrize("op", RULE_OPERATIONS, ids=lambda op: op.name)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(u=st.floats(0.02, 0.98), w=st.floats(0.02, 0.98))
def test_every_rule_operation_against_mpmath(op, u, w):
    """Rule operations are not for formulas, yet programs hold them (log's slope is recip, atan's
    atand): their series, along (1, ½) from a point with a < b, against mpmath at 40 digits."""
    x, y = 0.3 + 2.7 * u, 3.5 + w if op.name == "logbd" else 3.3 + 2.7 * w
    b = taylor._Builder()
    sx, sy = b.seed(x), b.seed(y)
    node = b.apply(op, (sx, sy)[: op.arity])
    b.unfold()
    got = taylor.run(b.p, {sx: 1.0, sy: 0.5}, ORDER)[node]
    truth = [float(c) for c in mp.taylor(lambda t: MP_RULES[op.name](mp.mpf(x) + t, mp.mpf(y) + t / 2), 0, ORDER)]
    for k in range(ORDER + 1):
        scale = max(abs(c) for c in truth[: k + 1]) or 1.0
        assert abs(got[k] - truth[k]) <= 1e-12 * scale, (op.name, x, y, k, got[k], truth[k])


@pytest.mark.parametrize("op", OPERATIONS + RULE_OPERATIONS, ids=lambda op: op.name)
def test_every_rule_closes_in_a_few_nodes(op):
    """Unfolding a rule through its own rules ends: sin and cos close on each other, sigmoid on itself."""
    b = taylor._Builder()
    x, y = b.seed(0.7), b.seed(1.3)
    b.apply(op, (x, y)[: op.arity])
    b.unfold()
    assert len(b.p) < 24  # atan2, with atand's two slopes: 20


def test_a_rule_that_would_unfold_for_ever_is_stopped(monkeypatch):
    """powd's own rule calls powd again (b·powd(a, b-1)): taken as b·a^(b-1) it closes; left to
    unfold, the guard stops it with an error rather than a hang."""
    monkeypatch.delitem(taylor._EQUAL, "powd")
    b = taylor._Builder()
    b.apply(BY_NAME["powd"], (b.seed(0.7), b.seed(1.3)))
    with pytest.raises(adcli.AdcliError, match="the Taylor rule of powd does not close"):
        b.unfold()


@pytest.mark.parametrize(
    ("formula", "point"),
    [("log(x)", -1.0), ("x - x", math.inf), ("0*x + x", math.inf), ("sqrt(x - 3)*0 + x", 1.0), ("log(x, x)", 1.0)],
)
def test_where_a_value_is_nan_every_derivative_is_nan(formula, point):
    """log at -1 has no derivative: not the rule's finite 1/x = -1, at any order; as grad says."""
    g = adcli.parse(formula)
    r = adcli.derivatives(g, {"x": point}, order=3)
    assert all(math.isnan(d) for d in r.derivatives), (formula, r.derivatives)
    assert math.isnan(g.gradient({"x": point}, mode="forward")["x"])


@pytest.mark.parametrize("order", [50, 100])
def test_high_orders(order):
    r = adcli.derivatives(adcli.parse("exp(x)/(1-x/2)"), {"x": 0.5}, order=order)
    truth = mp.taylor(lambda t: mp.exp(0.5 + t) / (1 - (0.5 + t) / 2), 0, order)
    for k in range(order + 1):
        assert rel(r.coefficients[k], float(truth[k])) < 1e-13
    assert r.derivatives[order] == pytest.approx(float(truth[order]) * math.factorial(order), rel=1e-13)


def test_the_benchmark_function_at_order_100():
    """exp(sin(x))/(1+x²) at 0.7: the README's bound for high orders, against mpmath at 50 digits."""
    with mp.workdps(50):
        truth = mp.taylor(lambda t: mp.exp(mp.sin(mp.mpf("0.7") + t)) / (1 + (mp.mpf("0.7") + t) ** 2), 0, 100)
    got = adcli.derivatives(adcli.parse("exp(sin(x))/(1+x^2)"), {"x": 0.7}, order=100).coefficients
    assert max(rel(got[k], float(truth[k])) for k in range(21)) < 1e-13
    assert max(rel(got[k], float(truth[k])) for k in range(101)) < 1e-11


# Conventions and warnings.


def test_kinks_keep_grads_conventions_at_every_order():
    r = adcli.derivatives(adcli.parse("abs(x) + x^3"), {"x": 0}, order=4)
    assert r.derivatives == [0.0, 0.0, 0.0, 6.0, 0.0]
    assert any("a derivative of any order up to 4 there is a convention" in w for w in r.warnings)
    tie = adcli.derivatives(adcli.parse("max(x, x^2)"), {"x": 1}, order=2)
    assert tie.derivatives == [1.0, 1.5, 1.0]  # ½ to each argument, at every order
    assert any("½ to each argument" in w for w in tie.warnings)


def test_a_select_passes_nothing_even_an_infinite_series():
    """relu(-sqrt(x)) at 0: sqrt's series is infinite there, relu's slope 0 lets none of it through."""
    r = adcli.derivatives(adcli.parse("x + relu(-sqrt(x))"), {"x": 0}, order=3)
    assert r.derivatives == [0.0, 1.0, 0.0, 0.0]


def test_variable_exponent_with_a_base_of_zero_is_nan_past_order_one():
    r = adcli.derivatives(adcli.parse("x^y"), {"x": 0, "y": 2}, order=3, direction={"x": 1, "y": 1})
    assert r.derivatives[1] == 0.0  # order 1: grad's conventions
    assert all(math.isnan(d) for d in r.derivatives[2:])
    assert any("not finite" in w for w in r.warnings)


def test_constant_zero_base_is_zero_for_every_order():
    assert derivs("0^x", {"x": 2}, 3) == [0.0, 0.0, 0.0, 0.0]


def test_a_pole_gives_ieee_infinities_and_a_warning():
    r = adcli.derivatives(adcli.parse("1/x"), {"x": 0}, order=2)
    assert r.value == math.inf and not math.isfinite(r.derivatives[2])
    assert r.warnings


def test_orders_beyond_170_keep_coefficients_finite():
    r = adcli.derivatives(adcli.parse("1/(1-x)"), {"x": 0}, order=200)
    assert r.coefficients[200] == 1.0
    assert r.derivatives[200] == math.inf  # 200! is past the largest double


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"order": -1}, "the order must be"),
        ({"order": 1001}, "the order must be"),
        ({"order": 2, "wrt": "z"}, "wrt names 'z'"),
        ({"order": 2, "direction": {"q": 1}}, "names 'q'"),
    ],
)
def test_bad_requests_are_one_clear_error(kw, message):
    with pytest.raises(adcli.AdcliError, match=message):
        adcli.derivatives(adcli.parse("x*y"), {"x": 1, "y": 2}, **{"wrt": "x", **kw} if "direction" not in kw else kw)


def test_the_cli_limit_is_the_engines():
    assert taylor_cli.MAX_ORDER == taylor.MAX_ORDER


# The command line, in process.


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), prog_name="adcli", terminal_width=100)


def test_deriv_json_shape():
    run = invoke("deriv", "exp(2*x)", "--order", "3", "--at", "x=0", "--json")
    assert run.exit_code == 0, run.output
    obj = json.loads(run.output)
    assert list(obj) == ["expression", "point", "wrt", "direction", "order", "value", "coefficients", "derivatives"]
    assert obj["derivatives"] == [1.0, 2.0, 4.0, 8.0]
    assert obj["coefficients"] == [1.0, 2.0, 2.0, pytest.approx(4 / 3, rel=1e-15)]


def test_deriv_trace_json_has_every_node_and_its_kind():
    obj = json.loads(invoke("deriv", "sin(x)*x", "--order", "2", "--at", "x=1", "--json", "--trace").output)
    kinds = {e["op"]: e["kind"] for e in obj["trace"]}
    assert kinds == {"input": "input", "sin": "rule", "cos": "rule", "neg": "linear", "mul": "mul"}
    assert all(len(e["coefficients"]) == 3 for e in obj["trace"])


def test_deriv_mixed_json_gives_exact_weights():
    obj = json.loads(invoke("deriv", "x^2*y^3", "--mixed", "x^2*y", "--at", "x=1,y=2", "--json").output)
    assert obj["derivative"] == 24.0
    weights = [Fraction(d["weight"]) for d in obj["directions"]]
    assert all(w.denominator > 0 for w in weights) and len(weights) <= 4


def test_deriv_human_output_and_trace():
    run = invoke("deriv", "x^3", "--order", "4", "--at", "x=2")
    assert run.output.split() == ["value", "8", "d/dx", "12", "d²/dx²", "12", "d³/dx³", "6", "d⁴/dx⁴", "0"]
    trace = invoke("deriv", "exp(sin(x))/(1+x^2)", "--order", "20", "--at", "x=0.7", "--trace", "--digits", "3")
    assert trace.exit_code == 0
    assert "Σⱼ₌₁ᵏ" in trace.output and "vᵢ,₂₀" in trace.output and "…" in trace.output
    assert "w₁ = cos(v₀)" in trace.output
    assert all(len(line) <= 100 for line in trace.output.splitlines())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["deriv", "x*y", "--order", "2", "--at", "x=1,y=2"], "name the variable with --wrt"),
        (["deriv", "x", "--at", "x=1"], "--order K is needed"),
        (["deriv", "x", "--order", "2", "--at", "x=1", "--wrt", "x", "--dir", "x=1"], "not both"),
        (["deriv", "x*y", "--mixed", "x^2*w", "--at", "x=1,y=2"], "not a variable"),
        (["deriv", "x*y", "--mixed", "x^a", "--at", "x=1,y=2"], "whole powers"),
        (["deriv", "x; x^2", "--order", "2", "--at", "x=1"], "deriv takes a formula with one output"),
    ],
)
def test_deriv_errors(args, message):
    run = invoke(*args)
    assert run.exit_code == 2
    assert message in run.output


def test_deriv_mixed_taylor_prints_the_mixed_coefficient():
    # f = x²y³: ∂³f/∂x²∂y = 2·3y² = 24 at y = 2, and the coefficient of (Δx)²(Δy) is 24/(2!·1!) = 12.
    run = invoke("deriv", "x^2*y^3", "--mixed", "x^2*y", "--at", "x=1,y=2", "--taylor")
    assert run.exit_code == 0, run.output
    assert run.output.split() == ["value", "8", "[x²·y]", "12"]
    # f = x³y²: ∂⁵f/∂x³∂y² = 6·2 = 12, over 3!·2! = 12: the coefficient is 1 (its own monomial's).
    obj = json.loads(invoke("deriv", "x^3*y^2", "--mixed", "x^3*y^2", "--at", "x=0.5,y=3", "--json").output)
    assert math.isclose(obj["derivative"], 12.0, rel_tol=1e-12) and math.isclose(obj["coefficient"], 1.0, rel_tol=1e-12)


def test_deriv_mixed_trace_shows_the_interpolation_by_hand():
    # f = x²y³ at (1, 2): the t³ coefficients of f(p + t·s), by hand: s = (0, 3): (2+3t)³ → 27;
    # s = (1, 2): 8(1+t)⁵ → 80; s = (2, 1): (1+2t)²(2+t)³ → 1 + 24 + 48 = 73; s = (3, 0): 0.
    run = invoke("deriv", "x^2*y^3", "--mixed", "x^2*y", "--at", "x=1,y=2", "--trace")
    assert run.exit_code == 0, run.output
    rows = {}
    for line in run.output.splitlines():
        cells = line.split()
        if cells and cells[0].startswith("x="):
            rows[cells[0]] = (float(cells[1]), Fraction(cells[2]), float(cells[3]))
    assert {s: c for s, (c, _, _) in rows.items()} == {"x=0,y=3": 27, "x=1,y=2": 80, "x=2,y=1": 73, "x=3,y=0": 0}
    # The weights solve for the x²y coefficient exactly: Σ w·c = 12, and 12·2!·1! = 24.
    assert sum(w * Fraction(c) for c, w, _ in rows.values()) == 12
    assert all(math.isclose(p, float(w) * c, abs_tol=0) for c, w, p in rows.values())
    assert "Σ = [x²·y]" in run.output and "[x²·y]·2!·1! = ∂³/∂x²∂y" in run.output
    assert run.output.split()[-4:] == ["value", "8", "∂³/∂x²∂y", "24"]
    assert "adcli deriv 'x^2*y^3' --at x=1,y=2 --dir x=0,y=3 --order 3 --trace" in run.output


def test_deriv_trace_as_markdown_like_grads_trace():
    # x³ at 1: (1 + t)³ = 1 + 3t + 3t² + t³, so every node's coefficients are worked by hand.
    run = invoke("deriv", "x^3", "--order", "3", "--at", "x=1", "--format", "markdown")
    assert run.exit_code == 0, run.output
    lines = run.output.splitlines()
    assert lines[0] == "Trace of `x^3` at x = 1."  # the heading grad's Markdown trace writes
    assert "| node | vᵢ,ₖ for k ≥ 1 | vᵢ,₀ | vᵢ,₁ | vᵢ,₂ | vᵢ,₃ |" in lines
    assert lines[-1].replace(" ", "").endswith("|1|3|3|1|")
    grad = invoke("grad", "x^3", "--at", "x=1", "--format", "markdown").output.splitlines()
    assert grad[0] == "Trace of `x^3` at x = 1 (reverse mode)."


def test_deriv_trace_as_latex_is_ascii_with_indices_as_groups():
    run = invoke("deriv", "sin(x)*exp(x)", "--order", "3", "--at", "x=0.5", "--format", "latex", "--digits", "3")
    assert run.exit_code == 0, run.output
    assert run.output.isascii() and "\\begin{tabular}" in run.output
    assert "w_{1,k-j}" in run.output and "\\Sigma _{j=1}^{k}" in run.output
    mixed = invoke("deriv", "x^2*y^3", "--mixed", "x^2*y", "--at", "x=1,y=2", "--format", "latex")
    assert mixed.exit_code == 0 and mixed.output.isascii() and "$[t^{3}] f(p + t\\cdot s)$" in mixed.output


def test_deriv_trace_as_svg(tmp_path):
    import xml.etree.ElementTree as ET

    target = tmp_path / "taylor.svg"
    run = invoke("deriv", "x^3", "--order", "3", "--at", "x=1", "--svg", str(target))
    assert run.exit_code == 0, run.output
    assert "Taylor trace (order 3" in run.output  # --svg implies --trace and still prints
    text = "".join(ET.parse(target).getroot().itertext())
    assert "Taylor trace (order 3" in text and "adcli: x^3 at x = 1" in text


def test_deriv_format_does_not_fit_json():
    run = invoke("deriv", "x^3", "--order", "3", "--at", "x=1", "--format", "latex", "--json")
    assert run.exit_code == 2 and "--json prints the whole trace" in run.output


def test_deriv_svg_to_an_unwritable_path_fails_first_with_one_message(tmp_path):
    for target, reason in ((tmp_path / "missing" / "t.svg", "No such file"), (tmp_path, "is a directory")):
        run = invoke("deriv", "x^3", "--order", "3", "--at", "x=1", "--svg", str(target))
        assert run.exit_code == 2 and reason in run.output
        assert "Taylor trace" not in run.output  # refused before any work or output
