"""minimize against scipy.optimize given hand-written derivatives: iterations, evaluations, time per evaluation.

Both sides run the same scipy method with the same options (adcli.engines.optimize.scipy_options);
the baseline's gradient and Hessian are numpy code written by hand, timed in the same run.

    python bench/bench_optimize.py
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import minimize as scipy_minimize

import adcli
from adcli.engines.optimize import SCIPY, Objective, minimize, scipy_options


def rosen2(v):
    x, y = v
    return 100 * (y - x * x) ** 2 + (1 - x) ** 2, np.array([-400 * x * (y - x * x) - 2 * (1 - x), 200 * (y - x * x)])


def rosen2_hess(v):
    x, y = v
    return np.array([[1200 * x * x - 400 * y + 2, -400 * x], [-400 * x, 200.0]])


def chain(v):
    f = np.sum(100 * (v[1:] - v[:-1] ** 2) ** 2 + (1 - v[:-1]) ** 2)
    g = np.zeros_like(v)
    g[:-1] += -400 * v[:-1] * (v[1:] - v[:-1] ** 2) - 2 * (1 - v[:-1])
    g[1:] += 200 * (v[1:] - v[:-1] ** 2)
    return f, g


def chain_hess(v):
    n = len(v)
    h = np.zeros((n, n))
    i = np.arange(n - 1)
    h[i, i] += 1200 * v[:-1] ** 2 - 400 * v[1:] + 2
    h[i + 1, i + 1] += 200
    h[i, i + 1] = h[i + 1, i] = -400 * v[:-1]
    return h


def problem(n):
    if n == 2:
        return "100*(x1 - x0^2)^2 + (1 - x0)^2", rosen2, rosen2_hess
    return " + ".join(f"100*(x{i + 1} - x{i}^2)^2 + (1 - x{i})^2" for i in range(n - 1)), chain, chain_hess


def run(n, method, tol):
    text, by_hand, by_hand_hess = problem(n)
    x0 = np.array([-1.2 if i % 2 == 0 else 1.0 for i in range(n)])
    graph = adcli.parse(text)
    names = [f"x{i}" for i in range(n)]
    objective = Objective(graph, names, {})
    start = time.perf_counter()
    ours = minimize(objective, x0, method, steps=10_000, tol=tol)
    ours_time = time.perf_counter() - start
    extra = {}
    if method == "trust":
        extra["hess"] = by_hand_hess
    elif method == "newton":
        extra["hessp"] = lambda v, p: by_hand_hess(v) @ p
    start = time.perf_counter()
    theirs = scipy_minimize(
        by_hand, x0, jac=True, method=SCIPY[method], options=scipy_options(method, 10_000, tol), **extra
    )
    theirs_time = time.perf_counter() - start
    # Time per evaluation, alone: the value and gradient at the start, many times.
    reps = 2000 if n == 2 else 200
    objective._memo.clear()
    start = time.perf_counter()
    for k in range(reps):
        objective.value_and_gradient(x0 + k * 1e-12)
    ours_eval = (time.perf_counter() - start) / reps
    start = time.perf_counter()
    for k in range(reps):
        by_hand(x0 + k * 1e-12)
    theirs_eval = (time.perf_counter() - start) / reps
    err = float(np.max(np.abs(np.array(ours.x) - 1.0)))
    return ours, ours_time, ours_eval, theirs, theirs_time, theirs_eval, err


def main() -> None:
    rows = [(2, "bfgs", 1e-5), (2, "lbfgs", 1e-5), (2, "newton", 1e-5), (2, "trust", 1e-8), (100, "bfgs", 1e-5),
            (100, "lbfgs", 1e-5), (100, "newton", 1e-5), (100, "trust", 1e-8)]  # fmt: skip
    head = (
        f"{'problem':<17}{'method':<8}{'tol':>6}  {'iters ours/scipy':>16}  {'f evals ours/scipy':>18}  "
        f"{'H ours/scipy':>12}  {'max|x-1|':>9}  {'µs/eval ours':>12}  {'by hand':>8}  {'ratio':>6}  {'run s':>6}"
    )
    print(head)
    print("-" * len(head))
    for n, method, tol in rows:
        ours, t_ours, e_ours, theirs, _, e_theirs, err = run(n, method, tol)
        h_ours = ours.nhev + ours.nhvp
        h_theirs = int(getattr(theirs, "nhev", 0) or 0)
        print(
            f"{f'Rosenbrock {n}-D':<17}{method:<8}{tol:>6.0e}  {f'{ours.steps}/{theirs.nit}':>16}  "
            f"{f'{ours.nfev}/{theirs.nfev}':>18}  {f'{h_ours}/{h_theirs}':>12}  {err:>9.1e}  "
            f"{e_ours * 1e6:>12.1f}  {e_theirs * 1e6:>8.1f}  {e_ours / e_theirs:>6.1f}  {t_ours:>6.2f}"
        )
    print("\n(100-D trust-exact from this start ends at the other local minimum, near x0 = -1, on both sides.)")


if __name__ == "__main__":
    main()
