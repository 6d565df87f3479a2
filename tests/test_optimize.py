"""minimize and fit: known minimisers, scipy given hand-written derivatives, numpy's lstsq, Newton by hand.

The oracles are independent of adcli's derivatives: closed-form minimisers, scipy.optimize
fed with gradients and Hessians written out by hand below, numpy.linalg.lstsq, and a
logistic regression solved by Newton's method in numpy.
"""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from scipy.optimize import minimize as scipy_minimize

import adcli
from adcli.cli import cli
from adcli.engines.fit import FitObjective, Minibatch, loss_graph, standard_errors, train
from adcli.engines.optimize import SCIPY, Objective, minimize, scipy_options
from adcli.render.optimize import text_chart

# Test functions, with their gradients and Hessians by hand.

ROSENBROCK = "100*(y - x^2)^2 + (1 - x)^2"


def rosen(v):
    x, y = v
    return 100 * (y - x * x) ** 2 + (1 - x) ** 2


def rosen_grad(v):
    x, y = v
    return np.array([-400 * x * (y - x * x) - 2 * (1 - x), 200 * (y - x * x)])


def rosen_hess(v):
    x, y = v
    return np.array([[1200 * x * x - 400 * y + 2, -400 * x], [-400 * x, 200.0]])


CASES = {  # formula, start, minimiser (Himmelblau from (0, 0) goes to (3, 2))
    "rosenbrock": (ROSENBROCK, {"x": -1.2, "y": 1.0}, {"x": 1.0, "y": 1.0}),
    "himmelblau": ("(x^2 + y - 11)^2 + (x + y^2 - 7)^2", {"x": 0.0, "y": 0.0}, {"x": 3.0, "y": 2.0}),
    "beale": (
        "(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2",
        {"x": 1.0, "y": 1.0},
        {"x": 3.0, "y": 0.5},
    ),
    "booth": ("(x + 2*y - 7)^2 + (2*x + y - 5)^2", {"x": 0.0, "y": 0.0}, {"x": 1.0, "y": 3.0}),
}


def _run(formula, start, method, **options):
    graph = adcli.parse(formula)
    names = list(graph.variables)
    objective = Objective(graph, names, {})
    outcome = minimize(objective, [start[n] for n in names], method, **options)
    return dict(zip(names, outcome.x, strict=True)), outcome


@pytest.mark.parametrize("method", ["bfgs", "lbfgs", "newton", "trust"])
@pytest.mark.parametrize("case", list(CASES))
def test_known_minimisers(case, method):
    formula, start, known = CASES[case]
    found, outcome = _run(formula, start, method)
    assert outcome.reason in ("tolerance", "stalled")
    for name, value in known.items():
        assert found[name] == pytest.approx(value, abs=1e-6)


def _chain(n):
    text = " + ".join(f"100*(x{i + 1} - x{i}^2)^2 + (1 - x{i})^2" for i in range(n - 1))
    return text, {f"x{i}": (-1.2 if i % 2 == 0 else 1.0) for i in range(n)}


def test_rosenbrock_in_100_variables():
    text, start = _chain(100)
    found, outcome = _run(text, start, "bfgs")
    assert outcome.reason == "tolerance"
    assert max(abs(v - 1.0) for v in found.values()) < 1e-6


def _by_hand_chain(v):
    f = np.sum(100 * (v[1:] - v[:-1] ** 2) ** 2 + (1 - v[:-1]) ** 2)
    g = np.zeros_like(v)
    g[:-1] += -400 * v[:-1] * (v[1:] - v[:-1] ** 2) - 2 * (1 - v[:-1])
    g[1:] += 200 * (v[1:] - v[:-1] ** 2)
    return f, g


@pytest.mark.parametrize(
    ("method", "extra"),
    [
        ("bfgs", {}),
        ("lbfgs", {}),
        ("trust", {"hess": rosen_hess}),
        ("newton", {"hessp": lambda v, p: rosen_hess(v) @ p}),
    ],
)
def test_the_same_counts_as_scipy_with_derivatives_by_hand(method, extra):
    """Same algorithm, same iterations and evaluations (within a few: the two gradients round differently)."""
    tol = 1e-5
    _, ours = _run(ROSENBROCK, {"x": -1.2, "y": 1.0}, method, tol=tol)
    # adcli orders the variables y, x (first appearance): the hand-written side runs in (x, y).
    theirs = scipy_minimize(
        lambda v: (rosen(v), rosen_grad(v)), [-1.2, 1.0], jac=True, method=SCIPY[method],
        options=scipy_options(method, 10_000, tol), **extra,
    )  # fmt: skip
    assert abs(ours.steps - theirs.nit) <= 3
    assert abs(ours.nfev - theirs.nfev) <= 3


def test_bfgs_on_100_variables_counts_as_scipy():
    text, start = _chain(100)
    _, ours = _run(text, start, "bfgs", tol=1e-5)
    x0 = np.array(list(start.values()))
    theirs = scipy_minimize(_by_hand_chain, x0, jac=True, method="BFGS", options=scipy_options("bfgs", 10_000, 1e-5))
    assert abs(ours.steps - theirs.nit) <= 10
    assert abs(ours.nfev - theirs.nfev) <= 10


@pytest.mark.parametrize(("method", "lr"), [("gd", 0.05), ("momentum", 0.02), ("adam", 0.1)])
def test_our_loops_reach_the_minimum_of_a_quadratic(method, lr):
    found, outcome = _run("(x - 1)^2 + 10*(y + 2)^2", {"x": 0.0, "y": 0.0}, method, lr=lr, steps=20_000, tol=1e-9)
    assert outcome.reason == "tolerance"
    assert found["x"] == pytest.approx(1.0, abs=1e-8)
    assert found["y"] == pytest.approx(-2.0, abs=1e-8)


def test_gradient_descent_is_the_textbook_loop():
    """x ← x − lr·f'(x) on f = x², by hand: x_k = (1 − 2·lr)^k x_0, one gradient per step."""
    _, outcome = _run("x^2", {"x": 1.0}, "gd", lr=0.25, steps=5, tol=0.0)
    assert [s.x[0] for s in outcome.path] == [0.5**k for k in range(6)]
    assert [s.gnorm for s in outcome.path] == [2 * 0.5**k for k in range(6)]
    assert outcome.reason == "budget" and outcome.steps == 5 and outcome.ngev == 6


def test_adam_steps_by_hand():
    lr, (b1, b2, eps) = 0.1, (0.9, 0.999, 1e-8)
    _, outcome = _run("x^2", {"x": 1.0}, "adam", lr=lr, steps=3, tol=0.0)
    x, m, v = 1.0, 0.0, 0.0
    for k in range(1, 4):
        g = 2 * x
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        x -= lr * (m / (1 - b1**k)) / (np.sqrt(v / (1 - b2**k)) + eps)
        assert outcome.path[k].x[0] == pytest.approx(x, rel=1e-15)


def test_momentum_is_the_heavy_ball():
    _, outcome = _run("x^2", {"x": 1.0}, "momentum", lr=0.1, steps=3, tol=0.0)
    x, velocity = 1.0, 0.0
    for k in range(1, 4):
        velocity = 0.9 * velocity - 0.1 * 2 * x
        x += velocity
        assert outcome.path[k].x[0] == pytest.approx(x, rel=1e-15)


def test_bounds_hold_the_answer_at_the_wall():
    found, outcome = _run("(x - 2)^2 + (y + 1)^2", {"x": 0.0, "y": 0.0}, "lbfgs", bounds=[(0.0, 1.0), (-5.0, 5.0)])
    assert found == pytest.approx({"x": 1.0, "y": -1.0}, abs=1e-8)
    assert outcome.gnorm == pytest.approx(0.0, abs=1e-8)  # projected: the wall's push is left out
    found, _ = _run("(x - 2)^2", {"x": 0.0}, "gd", lr=0.1, bounds=[(0.0, 1.0)], steps=100)
    assert found["x"] == 1.0


def test_hessian_vector_products_match_the_hand_written_hessian():
    graph = adcli.parse(ROSENBROCK)
    objective = Objective(graph, ["x", "y"], {})
    v, d = np.array([0.3, -0.7]), np.array([1.5, 2.0])
    assert objective.hessp(v, d) == pytest.approx(rosen_hess(v) @ d, rel=1e-14)
    assert objective.hessian(v) == pytest.approx(rosen_hess(v), rel=1e-14)
    assert objective.value_and_gradient(v)[1] == pytest.approx(rosen_grad(v), rel=1e-14)


# Divergence and stopping, through the command line in process.


def _cli(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input)


def test_divergence_exits_1_with_a_message():
    run = _cli("minimize", "x^2", "--from", "x=1", "--method", "gd", "--lr", "1.5")
    assert run.exit_code == 1
    assert "diverged at step" in run.output and "--lr" in run.output
    run = _cli("minimize", "x", "--from", "x=0")
    assert run.exit_code == 1 and "growing without bound" in run.output
    run = _cli("minimize", "exp(-x)*0 + log(x)", "--from", "x=1", "--method", "gd", "--lr", "10")
    assert run.exit_code == 1 and "not finite" in run.output


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["minimize", "x^2+y", "--from", "x=1"], "no start for 'y'"),
        (["minimize", "x^2", "--from", "z=1"], "does not use"),
        (["minimize", "x^2", "--from", "x=1", "--method", "bfgs", "--bounds", "x=0:1"], "--bounds goes with"),
        (["minimize", "x^2", "--from", "x=1", "--method", "trust", "--lr", "0.1"], "--lr goes with"),
        (["minimize", "x^2", "--from", "x=1", "--bounds", "x=2:1"], "empty"),
        (["minimize", "x^2", "--from", "x=5", "--bounds", "x=0:1"], "outside its bounds"),
        (["minimize", "x^2", "--from", "x=1", "--at", "x=2"], "both"),
        (["minimize", "x^2*", "--from", "x=1"], "error"),
        (["minimize", "x^2", "--from", "x=1", "--plot", "out.txt"], ".svg"),
        (["fit", "a*x", "--data", "nonexistent.csv", "--params", "a=0"], "cannot read"),
        (["minimize", "x^2", "--from", "x=5", "--bounds", "x=0:1"], "x=5.0 is outside its bounds 0.0:1.0"),
        (
            ["fit", "a*x + b", "--data", "docs/line.csv", "--params", "x=0,a=0,b=0", "--target", "y"],
            "'x', which is a column of the data file",
        ),
    ],
)
def test_bad_input_exits_2(args, says):
    run = _cli(*args)
    assert run.exit_code == 2, run.output
    assert says in run.output
    assert "Traceback" not in run.output


def test_wrt_holds_the_others_at_their_values():
    run = _cli("minimize", "(x - y)^2 + (y - 3)^2", "--from", "x=0", "--wrt", "x", "--at", "y=1", "--json")
    obj = json.loads(run.output)
    assert obj["end"]["x"] == pytest.approx(1.0, abs=1e-8)  # y held at 1, not moved to 3
    assert obj["fixed"] == {"y": 1.0}


def test_json_path_every_k():
    run = _cli("minimize", "x^2", "--from", "x=1", "--method", "gd", "--lr", "0.25", "--steps", "10", "--tol", "0",
               "--every", "3", "--json")  # fmt: skip
    obj = json.loads(run.output)
    assert [p["step"] for p in obj["path"]] == [0, 3, 6, 9, 10]
    assert obj["path"][1]["x"]["x"] == 0.5**3
    assert obj["stopped"] == "budget" and obj["evaluations"]["gradient"] == 11


def test_summary_and_terminal_chart():
    run = _cli("minimize", "(x-1)^2 + 10*(y+2)^2", "--from", "x=0,y=0", "--method", "trust", "--plot")
    assert run.exit_code == 0
    assert "stopped" in run.output and "Hessians" in run.output
    assert "f over the steps" in run.output
    chart = text_chart([100.0, 10.0, 1.0, 0.1])
    assert "log scale" in chart and chart.count("\n") == 11 and "step 0 step 3" in chart


def test_plot_file(tmp_path):
    path = tmp_path / "path.svg"
    run = _cli("minimize", ROSENBROCK, "--from", "x=-1.2,y=1", "--plot", str(path))
    assert run.exit_code == 0
    assert path.read_text().lstrip().startswith("<?xml")


# fit.


def _write_csv(path, columns):
    names = list(columns)
    lines = [",".join(names)] + [
        ",".join(repr(float(c[i])) for c in columns.values()) for i in range(len(columns[names[0]]))
    ]
    path.write_text("\n".join(lines) + "\n")


def test_linear_least_squares_matches_lstsq_on_10_5_rows(tmp_path):
    rng = np.random.default_rng(7)
    n = 100_000
    x, z = rng.normal(size=n), rng.uniform(-3, 3, size=n)
    y = 1.7 * x - 0.4 * z + 2.0 + rng.normal(scale=0.3, size=n)
    path = tmp_path / "data.csv"
    _write_csv(path, {"x": x, "z": z, "y": y})
    run = _cli("fit", "a*x + b*z + c", "--data", str(path), "--params", "a=0,b=0,c=0", "--target", "y",
               "--method", "trust", "--json")  # fmt: skip
    assert run.exit_code == 0, run.output
    obj = json.loads(run.output)
    design = np.column_stack([x, z, np.ones(n)])
    solution, rss, *_ = np.linalg.lstsq(design, y, rcond=None)
    fitted = np.array([obj["parameters"][k] for k in "abc"])
    assert np.abs(fitted - solution).max() <= 1e-8 * np.abs(solution).max()
    # Standard errors by the textbook formula, from the design matrix itself.
    sigma2 = rss[0] / (n - 3)
    expected = np.sqrt(np.diag(sigma2 * np.linalg.inv(design.T @ design)))
    assert [obj["standard_errors"][k] for k in "abc"] == pytest.approx(expected, rel=1e-6)


def _newton_logistic(design, t):
    """Logistic regression by Newton's method, in numpy: the reference."""
    w = np.zeros(design.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-design @ w))
        step = np.linalg.solve(design.T @ (design * (p * (1 - p))[:, None]), design.T @ (p - t))
        w -= step
        if np.abs(step).max() < 1e-14:
            break
    return w


def test_logistic_regression():
    rng = np.random.default_rng(11)
    n = 5000
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    t = (rng.random(n) < 1 / (1 + np.exp(-(1.2 * x1 - 0.8 * x2 + 0.3)))).astype(float)
    model = adcli.parse("w1*x1 + w2*x2 + b")
    objective = FitObjective(model, ["w1", "w2", "b"], {"x1": x1, "x2": x2}, t, loss_graph("logistic"))
    outcome = minimize(objective, [0.0, 0.0, 0.0], "trust", tol=1e-12)
    theta = np.array(outcome.x)
    design = np.column_stack([x1, x2, np.ones(n)])
    p = 1 / (1 + np.exp(-design @ theta))
    assert np.abs(design.T @ (p - t) / n).max() < 1e-8  # the gradient of the mean log-loss, by hand
    reference = 1 / (1 + np.exp(-design @ _newton_logistic(design, t)))
    assert np.abs(p - reference).max() < 1e-8
    errors, _ = standard_errors(objective, theta, least_squares=False)
    fisher = design.T @ (design * (p * (1 - p))[:, None])
    assert errors == pytest.approx(np.sqrt(np.diag(np.linalg.inv(fisher))), rel=1e-8)


def test_exact_hessian_of_a_nonlinear_fit_against_differences():
    rng = np.random.default_rng(2)
    tt = np.linspace(0, 4, 30)
    y = 2 * np.exp(-0.6 * tt) + rng.normal(scale=0.05, size=30)
    objective = FitObjective(adcli.parse("a*exp(-k*t)"), ["a", "k"], {"t": tt}, y, loss_graph("mse"))
    theta = np.array([1.5, 0.4])

    def loss(th):
        return np.mean((th[0] * np.exp(-th[1] * tt) - y) ** 2)

    h = 1e-4

    def second(e, f):
        return (
            loss(theta + h * (e + f))
            - loss(theta + h * (e - f))
            - loss(theta - h * (e - f))
            + loss(theta - h * (e + f))
        ) / (4 * h * h)

    numeric = np.array([[second(e, f) for f in np.eye(2)] for e in np.eye(2)])
    assert objective.hessian(theta) == pytest.approx(numeric, rel=1e-6)


def test_sgd_with_a_seed_is_reproducible_bit_for_bit(tmp_path):
    rng = np.random.default_rng(5)
    x = rng.normal(size=500)
    path = tmp_path / "data.csv"
    _write_csv(path, {"x": x, "y": 3 * x - 1 + rng.normal(scale=0.1, size=500)})
    args = ["fit", "a*x + b", "--data", str(path), "--params", "a=0,b=0", "--target", "y", "--method", "sgd",
            "--batch", "16", "--epochs", "5", "--lr", "0.05", "--json"]  # fmt: skip
    first, again = _cli(*args, "--seed", "3"), _cli(*args, "--seed", "3")
    other = _cli(*args, "--seed", "4")
    assert first.exit_code == 0
    assert first.output == again.output
    assert json.loads(first.output)["parameters"] != json.loads(other.output)["parameters"]
    assert json.loads(first.output)["parameters"] == pytest.approx({"a": 3.0, "b": -1.0}, abs=0.05)


def test_minibatch_loop_by_hand():
    """SGD with the shuffle of default_rng(seed), written out in numpy."""
    x = np.linspace(-1, 1, 10)
    y = 2 * x + 1
    objective = FitObjective(adcli.parse("a*x + b"), ["a", "b"], {"x": x}, y, loss_graph("mse"))
    outcome = train(objective, np.zeros(2), Minibatch("sgd", 4, 2, 9, 0.1))
    rng, theta = np.random.default_rng(9), np.zeros(2)
    for _ in range(2):
        order = rng.permutation(10)
        for s in range(0, 10, 4):
            rows = np.sort(order[s : s + 4])
            r = theta[0] * x[rows] + theta[1] - y[rows]
            theta = theta - 0.1 * np.array([np.mean(2 * r * x[rows]), np.mean(2 * r)])
    assert outcome.x == pytest.approx(theta, rel=1e-14)
    assert outcome.steps == 6


def test_custom_loss_and_residual_model(tmp_path):
    x = np.linspace(0, 1, 20)
    path = tmp_path / "d.jsonl"
    path.write_text(
        "".join(json.dumps({"x": float(a), "y": float(2 * a + 1), "id": i}) + "\n" for i, a in enumerate(x))
    )
    run = _cli("fit", "a*x + b - y", "--data", str(path), "--params", "a=0,b=0", "--json")
    obj = json.loads(run.output)
    assert obj["parameters"] == pytest.approx({"a": 2.0, "b": 1.0}, abs=1e-7)
    run = _cli("fit", "a*x + b", "--data", str(path), "--params", "a=0,b=0", "--target", "y",
               "--loss", "(prediction - target)^4", "--json")  # fmt: skip
    assert json.loads(run.output)["parameters"] == pytest.approx({"a": 2.0, "b": 1.0}, abs=1e-2)
    run = _cli("fit", "a*x + b", "--data", str(path), "--params", "a=0,b=0", "--target", "y", "--loss", "p - t")
    assert run.exit_code == 2 and "prediction" in run.output
