"""Minimisation fed by exact derivatives: our first-order loops, and scipy.optimize's methods.

gd, momentum (heavy ball) and adam are the textbook loops, written here so that every step
can be recorded and shown. bfgs, lbfgs (L-BFGS-B, with bounds), newton (Newton-CG on exact
Hessian-vector products) and trust (trust-exact on the exact Hessian) are scipy.optimize's,
given adcli's gradient (``jac=``) and Hessian (``hess=``, ``hessp=``): what scipy does well is
not written again. Every method runs over an *objective* — anything with ``value_and_gradient``,
``hessian``, ``hessp`` and the evaluation counters of `Objective` — so ``adcli fit`` reuses
them with the loss over data rows.

The stopping rules are the same for all methods: the largest gradient component (projected
onto the bounds, if any) at most ``tol``; a stalled step; the step budget; or divergence —
a value or gradient that is not finite, or a value beyond ``DIVERGED`` times its start.
numpy is imported with this module (only the optimising commands do); scipy only by its methods.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import AdcliError, PointError, counted
from ..lang.point import input_values
from . import forward, primal, reverse
from .gradient import _zero_if_none

if TYPE_CHECKING:
    from ..core.graph import Graph

OURS = ("gd", "momentum", "adam")
SCIPY = {"bfgs": "BFGS", "lbfgs": "L-BFGS-B", "newton": "Newton-CG", "trust": "trust-exact"}
METHODS = OURS + tuple(SCIPY)
BOUNDED = ("lbfgs", *OURS)  # the methods that take bounds (ours by projection onto them)

LEARNING_RATE = 1e-3
MOMENTUM = 0.9  # heavy ball: v ← β·v − lr·∇f
ADAM = (0.9, 0.999, 1e-8)  # β₁, β₂, ε (Kingma & Ba's defaults)
DIVERGED = 1e30  # |f| beyond this many times max(1, |f(start)|) is growing without bound
STALL = 4 * 2.0**-52  # a step no larger than this, relative to max(1, ‖x‖∞), has stalled

REASONS = {
    "tolerance": "the gradient norm reached the tolerance",
    "stalled": "the step stalled",
    "budget": "the step budget ran out",
    "diverged": "diverged",
}


class Diverged(AdcliError):
    """The iterates ran away: a value or gradient that is not finite, or a value growing without bound (exit 1)."""

    exit_code = 1


# The objective: a graph over some of its variables, the others held fixed.


class Objective:
    """f(x) for the variables ``names`` of ``graph``, the others at ``fixed``: values and exact derivatives, counted."""

    def __init__(self, graph: Graph, names: list[str], fixed: Mapping[str, float]):
        graph.require_one_output("minimize")
        self.graph = graph
        self.names = list(names)
        self.seeds = graph.variable_nodes(self.names)
        start = dict(fixed)
        for name in self.names:
            start.setdefault(name, 0.0)
        self.base = input_values(graph, start)
        self.active = graph.varies if len(self.seeds) == graph.n_inputs else primal.active_nodes(graph, self.seeds)
        self.nfev = self.ngev = self.nhev = self.nhvp = 0
        self._memo: dict[bytes, tuple[float, np.ndarray]] = {}

    def _inputs(self, x: np.ndarray) -> list[float]:
        inputs = list(self.base)
        for node, value in zip(self.seeds, x.tolist(), strict=True):
            inputs[node] = value
        return inputs

    def value(self, x: np.ndarray) -> float:
        self.nfev += 1
        return primal.sweep(self.graph, self._inputs(x))[self.graph.output]

    def value_and_gradient(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """f and ∇f in one forward and one backward sweep (the planned sweep once the graph has one)."""
        key = np.asarray(x, dtype=np.float64).tobytes()
        known = self._memo.get(key)
        if known is not None:
            return known[0], known[1].copy()
        self.nfev += 1
        self.ngev += 1
        graph = self.graph
        values = primal.sweep(graph, self._inputs(x))
        closed = graph.selectors and primal.flows_at(graph, values) is not graph.flows
        plan = None if closed else reverse.reverse_plan(graph, self.seeds)
        if plan is not None:
            gradient = plan.gradient(values, self.seeds)
        else:
            bar, _ = reverse.sweep(graph, values, self.active)
            gradient = [_zero_if_none(bar[s]) for s in self.seeds]
        f, g = values[graph.output], np.array(gradient, dtype=np.float64)
        if len(self._memo) >= 4:
            del self._memo[next(iter(self._memo))]
        self._memo[key] = (f, g)
        return f, g.copy()

    def hessp(self, x: np.ndarray, d: np.ndarray) -> np.ndarray:
        """H·d: one forward sweep along d over the recorded gradient."""
        from .derivatives import recorded_gradient

        self.nhvp += 1
        recorded = recorded_gradient(self.graph, self.seeds)
        values = primal.sweep(recorded, self._inputs(x))
        direction = dict(zip(self.seeds, np.asarray(d, dtype=np.float64).tolist(), strict=True))
        dot, _ = forward.sweep(recorded, values, direction)
        return np.array([0.0 if dot[o] is None else dot[o] for o in recorded.outputs], dtype=np.float64)

    def hessian(self, x: np.ndarray) -> np.ndarray:
        """The exact Hessian: forward over reverse, a sweep per colour of its sparsity pattern."""
        from .derivatives import hessian

        self.nhev += 1
        point = dict(zip(self.graph.variables, self._inputs(x), strict=True))
        return np.array(hessian(self.graph, point, self.names).matrix, dtype=np.float64)


# Results.


@dataclass
class Step:
    """One iterate: its number, point, value, gradient norm (∞) and the length (∞) of the step that led here."""

    k: int
    x: list[float]
    f: float
    gnorm: float
    step: float


@dataclass
class Outcome:
    """What a run found, how it stopped, what it cost, and the path it took."""

    method: str
    names: list[str]
    start: list[float]
    x: list[float]
    f: float
    gnorm: float
    steps: int
    nfev: int
    ngev: int
    nhev: int
    nhvp: int
    reason: str  # one of REASONS
    detail: str  # the reason in a sentence, with the numbers
    path: list[Step] = field(default_factory=list)  # every ``every``-th iterate, and the last
    values: list[float] = field(default_factory=list)  # f at every iterate, for plots
    bounded: bool = False

    @property
    def diverged(self) -> bool:
        return self.reason == "diverged"


KEPT = 10_000  # iterates (and values of f) kept at most; past that, every other one is dropped


class _Recorder:
    """Keeps every ``every``-th iterate (and the last), f at all of them, and tells the progress display."""

    def __init__(self, every: int, progress: Callable[[int, float, float], None] | None, trace: bool):
        self.every = max(1, every)
        self.progress = progress
        self.trace = trace
        self.path: list[Step] = []
        self.values: list[float] = []
        self.stride = 1  # f is kept at every stride-th step
        self.last: Step | None = None

    def add(self, k: int, x: np.ndarray, f: float, gnorm: float, step: float) -> None:
        s = Step(k, x.tolist(), f, gnorm, step)
        if k % self.stride == 0:
            self.values.append(f)
            if len(self.values) > KEPT:  # memory stays bounded however many steps: every other one goes
                self.values = self.values[::2]
                self.stride *= 2
        if k % self.every == 0:
            self.path.append(s)
            if len(self.path) > KEPT:
                self.path = self.path[::2]
                self.every *= 2
        self.last = s
        if self.progress is not None:
            self.progress(k, f, gnorm)

    def finish(self) -> list[Step]:
        if self.last is not None and (not self.path or self.path[-1].k != self.last.k):
            self.path.append(self.last)
        return self.path


def _norm(g: np.ndarray) -> float:
    return float(np.max(np.abs(g))) if g.size else 0.0


def projected(g: np.ndarray, x: np.ndarray, lower: np.ndarray | None, upper: np.ndarray | None) -> np.ndarray:
    """The gradient with the components that push against an active bound left out."""
    if lower is None or upper is None:
        return g
    return np.where(((x <= lower) & (g > 0)) | ((x >= upper) & (g < 0)), 0.0, g)


def _check(f: float, g: np.ndarray, f0: float, k: int, lr: bool = False) -> None:
    """Raise `Diverged` at a value or gradient that is not finite, or a value beyond DIVERGED times the start."""
    if not math.isfinite(f) or not np.all(np.isfinite(g)):
        what = "value" if not math.isfinite(f) else "gradient"
        hint = "try a smaller --lr or another start" if lr else "try another start, or check the function"
        raise Diverged(f"diverged at step {k}: the {what} is not finite (f = {f!r}); {hint}")
    if abs(f) > DIVERGED * max(1.0, abs(f0)):
        hint = "the function may have no minimum" + (", or --lr is too large" if lr else "")
        raise Diverged(f"diverged at step {k}: f = {f:.6g} is growing without bound (it started at {f0:.6g}); {hint}")


def minimize(
    objective: Any,
    x0: Iterable[float],
    method: str = "bfgs",
    lr: float | None = None,
    steps: int = 10_000,
    tol: float = 1e-8,
    bounds: list[tuple[float, float]] | None = None,
    every: int = 1,
    trace: bool = False,
    progress: Callable[[int, float, float], None] | None = None,
) -> Outcome:
    """Minimise ``objective`` from ``x0`` by ``method``; a run that diverges ends with reason "diverged"."""
    if method not in METHODS:
        raise AdcliError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if bounds is not None and method not in BOUNDED:
        raise AdcliError(f"--bounds goes with {', '.join(BOUNDED)}; {method} is unconstrained")
    x = np.array(list(x0), dtype=np.float64)
    lower = upper = None
    if bounds is not None:
        lower = np.array([b[0] for b in bounds], dtype=np.float64)
        upper = np.array([b[1] for b in bounds], dtype=np.float64)
        outside = np.flatnonzero((x < lower) | (x > upper))
        if outside.size:
            i = int(outside[0])
            raise PointError(
                f"the start {objective.names[i]}={float(x[i])!r} is outside its bounds "
                f"{float(lower[i])!r}:{float(upper[i])!r}"
            )
    record = _Recorder(every, progress, trace)
    start = x.tolist()
    try:
        if method in OURS:
            reason, detail, k = _ours(objective, x, method, lr or LEARNING_RATE, steps, tol, lower, upper, record)
        else:
            reason, detail, k = _scipy(objective, x, method, steps, tol, lower, upper, record)
    except Diverged as error:
        if record.last is None:
            raise
        reason, detail, k = "diverged", str(error), record.last.k
    last = record.last
    assert last is not None
    return Outcome(
        method, list(objective.names), start, last.x, last.f, last.gnorm, k,
        objective.nfev, objective.ngev, objective.nhev, objective.nhvp, reason, detail,
        record.finish(), record.values, bounds is not None,
    )  # fmt: skip


def _ours(objective, x, method, lr, steps, tol, lower, upper, record) -> tuple[str, str, int]:
    """The textbook loops: each step one gradient, recorded."""
    f, g = objective.value_and_gradient(x)
    f0 = f
    pg = projected(g, x, lower, upper)
    record.add(0, x, f, _norm(pg), 0.0)
    _check(f, g, f0, 0, lr=True)
    velocity = np.zeros_like(x)
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    b1, b2, eps = ADAM
    for k in range(1, steps + 1):
        if _norm(pg) <= tol:
            return "tolerance", f"the largest gradient component {_norm(pg):.3g} ≤ tol {tol:g}", k - 1
        if method == "gd":
            new = x - lr * g
        elif method == "momentum":
            velocity = MOMENTUM * velocity - lr * g
            new = x + velocity
        else:
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * (g * g)
            new = x - lr * (m / (1 - b1**k)) / (np.sqrt(v / (1 - b2**k)) + eps)
        if lower is not None:
            new = np.clip(new, lower, upper)
        dx = _norm(new - x)
        x = new
        f, g = objective.value_and_gradient(x)
        pg = projected(g, x, lower, upper)
        record.add(k, x, f, _norm(pg), dx)
        _check(f, g, f0, k, lr=True)
        if dx <= STALL * max(1.0, _norm(x)):
            return "stalled", f"step {k} moved x by {dx:.3g}: no coordinate changes beyond rounding", k
    if _norm(pg) <= tol:
        return "tolerance", f"the largest gradient component {_norm(pg):.3g} ≤ tol {tol:g}", steps
    taken = counted(steps, "step")
    return "budget", f"{taken} taken (--steps); the largest gradient component is {_norm(pg):.3g}", steps


class _Reached(Exception):
    """Raised by the callback when our gradient rule holds before scipy's own."""


def scipy_options(method: str, steps: int, tol: float) -> dict[str, Any]:
    """scipy.optimize.minimize's options for our method: what a side-by-side run must use too."""
    if method == "bfgs":
        return {"gtol": tol, "norm": math.inf, "maxiter": steps}
    if method == "lbfgs":
        return {"gtol": tol, "ftol": 1e-15, "maxiter": steps, "maxfun": 100 * steps}
    if method == "newton":
        return {"xtol": tol, "maxiter": steps}
    return {"gtol": tol, "maxiter": steps}


def _scipy(
    objective: Objective,
    x: np.ndarray,
    method: str,
    steps: int,
    tol: float,
    lower: np.ndarray | None,
    upper: np.ndarray | None,
    record: _Recorder,
) -> tuple[str, str, int]:
    """scipy.optimize.minimize with our exact gradient and Hessian; each iteration is recorded by the callback."""
    from scipy.optimize import Bounds
    from scipy.optimize import minimize as scipy_minimize

    f0, g = objective.value_and_gradient(x)
    record.add(0, x, f0, _norm(projected(g, x, lower, upper)), 0.0)
    _check(f0, g, f0, 0)
    state: dict[str, Any] = {"k": 0, "x": x, "reached": False}

    def callback(intermediate_result):
        xk = np.array(intermediate_result.x, dtype=np.float64)
        f, gk = objective.value_and_gradient(xk)  # scipy has just evaluated here: the memo answers
        state["k"] += 1
        pg = projected(gk, xk, lower, upper)
        record.add(state["k"], xk, f, _norm(pg), _norm(xk - state["x"]))
        state["x"] = xk
        _check(f, gk, f0, state["k"])
        if _norm(pg) <= tol and method in ("newton", "trust"):  # their own rules are others: ours holds first
            state["reached"] = True
            raise StopIteration

    kwargs: dict[str, Any] = {"jac": True}
    if method == "newton":
        kwargs["hessp"] = objective.hessp
    elif method == "trust":
        kwargs["hess"] = objective.hessian
    if lower is not None:
        kwargs["bounds"] = Bounds(lower, upper)
    import warnings

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        result = scipy_minimize(
            objective.value_and_gradient, x, method=SCIPY[method], callback=callback,
            options=scipy_options(method, steps, tol), **kwargs,
        )  # fmt: skip
    k = state["k"]
    xk = np.array(result.x, dtype=np.float64)
    if k == 0 or not np.array_equal(xk, state["x"]):  # scipy's answer is not the last iterate seen
        f, gk = objective.value_and_gradient(xk)
        k = max(k, int(getattr(result, "nit", k)))
        record.add(k, xk, f, _norm(projected(gk, xk, lower, upper)), _norm(xk - state["x"]))
        _check(f, gk, f0, k)
    last = record.last
    assert last is not None  # the start was recorded first
    gnorm = last.gnorm
    message = str(result.message).rstrip(".")
    if state["reached"] or gnorm <= tol:
        return "tolerance", f"the largest gradient component {gnorm:.3g} ≤ tol {tol:g}", k
    if result.status == 1 or k >= steps:
        return "budget", f"{counted(steps, 'step')} taken (--steps); the largest gradient component is {gnorm:.3g}", k
    return "stalled", f"scipy's {SCIPY[method]}: {message}; the largest gradient component is {gnorm:.3g}", k


def parse_bounds(specs: Iterable[str], names: list[str]) -> list[tuple[float, float]] | None:
    """``x=0:1,y=:5`` as (lower, upper) per variable of ``names``; an empty side is unbounded."""
    from ..lang.point import _split, constant_value

    found: dict[str, tuple[float, float]] = {}
    for spec in specs:
        for piece in _split(spec):
            piece = piece.strip()
            if not piece:
                continue
            name, eq, rest = piece.partition("=")
            name = name.strip()
            if not eq or ":" not in rest:
                raise PointError(f"a bound is name=lower:upper (x=0:1, y=:5, z=-1:), not '{piece}'")
            if name not in names:
                raise PointError(f"--bounds names '{name}', which is not one of the variables minimised over")
            if name in found:
                raise PointError(f"--bounds gives '{name}' twice")
            lo_text, _, hi_text = rest.partition(":")
            lo = constant_value(lo_text, f"the lower bound of {name}") if lo_text.strip() else -math.inf
            hi = constant_value(hi_text, f"the upper bound of {name}") if hi_text.strip() else math.inf
            if not lo <= hi:
                raise PointError(f"the bounds of '{name}' are empty: {lo!r} > {hi!r}")
            found[name] = (lo, hi)
    if not found:
        return None
    return [found.get(name, (-math.inf, math.inf)) for name in names]
