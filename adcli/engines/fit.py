"""Fitting a model's parameters to data: the mean loss over rows, its exact derivatives, and minibatch training.

The model is a formula in the data's columns and the parameters. The vectorised engine
(batch.py) runs it over every row with the parameters held as columns, and its reverse
sweep gives each row's prediction p and ∂p/∂θ. The loss is a formula too, in
``prediction`` and ``target``, run by the same engine for ℓ and ∂ℓ/∂p per row; the chain
rule joins them: ∇L = mean(∂ℓ/∂p · ∂p/∂θ). The exact Hessian adds ∂²ℓ/∂p² (the loss's
recorded gradient, differentiated again) and the model's per-row second derivatives (the
model's recorded gradient, one output at a time). For least squares the residual's
Jacobian J = ∂p/∂θ also gives the Gauss–Newton matrix JᵀJ and the standard errors
σ²(JᵀJ)⁻¹ with σ² = RSS/(n − p).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import AdcliError, PointError, counted
from .batch import compile_batch, run
from .optimize import Diverged, Outcome, _check, _norm, _Recorder

if TYPE_CHECKING:
    from ..core.graph import Graph

LOSSES = {
    "mse": "(prediction - target)^2",
    "abs": "abs(prediction - target)",
    "huber": "m = min(abs(prediction - target), 1); m*(abs(prediction - target) - m/2)",
    "logistic": "softplus(prediction) - target*prediction",
}
"""The named losses per row, in the formula language (huber's δ is 1; logistic's prediction is the log-odds)."""

LOSS_NAMES = ("prediction", "target")


def _single(graph: Graph, output: int) -> Graph:
    """A view of ``graph`` with one of its outputs as the only one (for the engines that take one)."""
    from ..core.graph import Graph

    return Graph(
        graph.text, graph.variables, graph.ops, graph.args, graph.const_values,
        graph.leaf_text, graph.labels, (output,),
    )  # fmt: skip


class FitObjective:
    """The mean loss over the rows (or a subset), as a function of the parameters: values and exact derivatives."""

    def __init__(
        self,
        model: Graph,
        params: list[str],
        columns: Mapping[str, np.ndarray],
        target: np.ndarray | None,
        loss: Graph,
    ):
        model.require_one_output("fit")
        loss.require_one_output("the loss")
        unknown = [v for v in loss.variables if v not in LOSS_NAMES]
        if unknown:
            raise PointError(
                f"the loss uses '{unknown[0]}': a loss formula is written in 'prediction' and 'target' only"
            )
        if "prediction" not in loss.variables:
            raise PointError("the loss formula does not use 'prediction'")
        self.model, self.loss, self.names = model, loss, list(params)
        self.columns = dict(columns)
        self.rows = len(next(iter(columns.values()))) if columns else (len(target) if target is not None else 0)
        if self.rows == 0:
            raise PointError("the data has no rows")
        self.target = np.zeros(self.rows) if target is None else np.asarray(target, dtype=np.float64)
        self.program = compile_batch(model, self.names)
        self.loss_program = compile_batch(loss, ["prediction"])
        self.nfev = self.ngev = self.nhev = self.nhvp = 0
        self.subset: np.ndarray | None = None  # rows of the current minibatch (None: every row)
        self._memo: dict[bytes, tuple[float, np.ndarray]] = {}
        self._second: Any = None

    # One pass over the rows.

    def _model_inputs(self, graph: Graph, theta: np.ndarray, rows: int, subset) -> list[np.ndarray]:
        index = {name: k for k, name in enumerate(self.names)}
        inputs = []
        for name in graph.variables:
            if name in index:
                inputs.append(np.full(rows, theta[index[name]]))
            else:
                column = self.columns[name]
                inputs.append(column if subset is None else column[subset])
        return inputs

    def _rows(self):
        subset = self.subset
        rows = self.rows if subset is None else len(subset)
        target = self.target if subset is None else self.target[subset]
        return subset, rows, target

    def _loss_inputs(self, graph: Graph, p: np.ndarray, target: np.ndarray) -> list[np.ndarray]:
        return [p if name == "prediction" else target for name in graph.variables]

    def predictions(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every row's prediction p and ∂p/∂θ (rows × parameters), at ``theta``."""
        subset, rows, _ = self._rows()
        result = run(self.program, self._model_inputs(self.model, theta, rows, subset), rows)
        jac = np.column_stack([result.gradient[name] for name in self.names]) if self.names else np.zeros((rows, 0))
        return result.value, jac

    def value(self, theta: np.ndarray) -> float:
        return self.value_and_gradient(theta)[0]

    def value_and_gradient(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """L = mean ℓ(p, t) and ∇L = mean(∂ℓ/∂p · ∂p/∂θ): two vectorised reverse sweeps and the chain rule."""
        key = np.asarray(theta, dtype=np.float64).tobytes() + (b"" if self.subset is None else self.subset.tobytes())
        known = self._memo.get(key)
        if known is not None:
            return known[0], known[1].copy()
        self.nfev += 1
        self.ngev += 1
        _, rows, target = self._rows()
        p, jac = self.predictions(theta)
        lres = run(self.loss_program, self._loss_inputs(self.loss, p, target), rows)
        with np.errstate(all="ignore"):
            f = float(np.mean(lres.value))
            g = (lres.gradient["prediction"] @ jac) / rows
        if len(self._memo) >= 4:
            del self._memo[next(iter(self._memo))]
        self._memo[key] = (f, g)
        return f, g.copy()

    def _second_programs(self):
        """The programs for ∂²ℓ/∂p² and each row of the model's Hessian, compiled once."""
        if self._second is None:
            from .derivatives import recorded_gradient

            dloss = recorded_gradient(self.loss, self.loss.variable_nodes(["prediction"]))
            recorded = recorded_gradient(self.model, self.model.variable_nodes(self.names))
            rows = [compile_batch(_single(recorded, output), self.names) for output in recorded.outputs]
            self._second = (dloss, compile_batch(dloss, ["prediction"]), recorded, rows)
        return self._second

    def _hessian(self, theta: np.ndarray) -> np.ndarray:
        subset, rows, target = self._rows()
        dloss, dloss_program, recorded, programs = self._second_programs()
        p, jac = self.predictions(theta)
        d2 = run(dloss_program, self._loss_inputs(dloss, p, target), rows)
        d1 = d2.value  # ∂ℓ/∂p, the recorded gradient's value
        inputs = self._model_inputs(recorded, theta, rows, subset)
        with np.errstate(all="ignore"):
            h = (jac * d2.gradient["prediction"][:, None]).T @ jac
            for k, program in enumerate(programs):
                second = run(program, inputs, rows)
                h[k] += np.array([d1 @ second.gradient[name] for name in self.names])
        return h / rows

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        """The exact Hessian of L: mean(ℓ''·∂p∂pᵀ) + mean(ℓ'·∂²p/∂θ²), from the recorded gradients."""
        self.nhev += 1
        return self._hessian(theta)

    def hessp(self, theta: np.ndarray, d: np.ndarray) -> np.ndarray:
        """H·d (the parameters are few: the exact Hessian times d)."""
        self.nhvp += 1
        return self._hessian(theta) @ d


# Standard errors.


def standard_errors(objective: FitObjective, theta: np.ndarray, least_squares: bool) -> tuple[np.ndarray | None, str]:
    """Standard errors of the parameters, and how they were found (or why not).

    Least squares: σ²(JᵀJ)⁻¹ with σ² = RSS/(n − p), J = ∂(residual)/∂θ (Gauss–Newton).
    Otherwise, for a loss that is a negative log-likelihood per row (logistic): the inverse of
    the exact Hessian of the summed loss.
    """
    saved, objective.subset = objective.subset, None
    try:
        n, p = objective.rows, len(objective.names)
        if least_squares:
            if n <= p:
                return None, f"standard errors need more rows ({n}) than parameters ({p})"
            pred, jac = objective.predictions(theta)
            rss = float(np.sum((pred - objective.target) ** 2))
            matrix, how = jac.T @ jac, "σ²(JᵀJ)⁻¹, σ² = RSS/(n − p)"
            scale = rss / (n - p)
        else:
            matrix, scale = objective._hessian(theta) * n, 1.0
            how = "the inverse of the exact Hessian of the summed loss"
        try:
            cov = scale * np.linalg.inv(matrix)
        except np.linalg.LinAlgError:
            return None, "standard errors: the matrix is singular (a parameter the data does not determine)"
        diag = np.diag(cov)
        if not np.all(np.isfinite(diag)) or np.any(diag < 0):
            return None, "standard errors: the matrix is not positive definite at the solution"
        return np.sqrt(diag), how
    finally:
        objective.subset = saved


# Minibatch training.


@dataclass
class Minibatch:
    method: str  # "sgd" or "adam"
    batch: int
    epochs: int
    seed: int
    lr: float
    extra: dict[str, Any] = field(default_factory=dict)


def train(
    objective: FitObjective,
    theta0: np.ndarray,
    plan: Minibatch,
    every: int = 1,
    trace: bool = False,
    progress: Callable[[int, float, float], None] | None = None,
) -> Outcome:
    """Minibatch SGD or Adam: each epoch a shuffle by numpy's default_rng(seed), then a step per batch.

    The path holds the full loss after every epoch (iterate k is epoch k); the same seed gives
    the same steps, bit for bit.
    """
    from .optimize import ADAM

    rng = np.random.default_rng(plan.seed)
    theta = np.array(theta0, dtype=np.float64)
    record = _Recorder(every, progress, trace)
    n = objective.rows
    f0, g = objective.value_and_gradient(theta)
    record.add(0, theta, f0, _norm(g), 0.0)
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    b1, b2, eps = ADAM
    t = 0
    per_epoch = counted(math.ceil(n / plan.batch), "step")
    reason, detail = "budget", f"{counted(plan.epochs, 'epoch')} of {per_epoch} (--epochs)"
    try:
        _check(f0, g, f0, 0, lr=True)
        for epoch in range(1, plan.epochs + 1):
            order = rng.permutation(n)
            before = theta.copy()
            for start in range(0, n, plan.batch):
                objective.subset = np.sort(order[start : start + plan.batch])
                _, g = objective.value_and_gradient(theta)
                t += 1
                if plan.method == "sgd":
                    theta = theta - plan.lr * g
                else:
                    m = b1 * m + (1 - b1) * g
                    v = b2 * v + (1 - b2) * (g * g)
                    theta = theta - plan.lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
            objective.subset = None
            f, g = objective.value_and_gradient(theta)
            record.add(epoch, theta, f, _norm(g), _norm(theta - before))
            _check(f, g, f0, epoch, lr=True)
    except Diverged as error:
        reason, detail = "diverged", str(error)
    finally:
        objective.subset = None
    last = record.last
    assert last is not None
    return Outcome(
        plan.method, list(objective.names), list(map(float, theta0)), last.x, last.f, last.gnorm, t,
        objective.nfev, objective.ngev, 0, 0, reason, detail, record.finish(), record.values,
    )  # fmt: skip


def read_data(
    path: str, names: list[str], fmt: str | None = None, params: tuple[str, ...] = ()
) -> dict[str, np.ndarray]:
    """The columns ``names`` of a CSV or JSON Lines file, every row (other columns are ignored).

    A parameter (``params``) that is also a column of the file is refused: the model would
    fit it where the data has it.
    """
    import sys

    from ..lang.rows import RowReader

    source = "the data file" if path == "-" else f"the data file '{path}'"
    try:
        stream = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    except OSError as error:
        raise AdcliError(f"cannot read {source}: {error.strerror or error}") from None
    with stream:
        header = _header(stream)
        clash = [name for name in params if name in header]
        if clash:
            raise PointError(
                f"--params names '{clash[0]}', which is a column of {source}: a parameter is fitted, "
                "a column is data; rename one of them"
            )
        keep = [c for c in header if c not in names]
        reader = RowReader(stream, names, keep, fmt, source=source)
        pieces: dict[str, list[np.ndarray]] = {name: [] for name in names}
        for chunk in reader.chunks():
            for name in names:
                pieces[name].append(chunk.columns[name])
    columns = {name: np.concatenate(parts) if parts else np.zeros(0) for name, parts in pieces.items()}
    bad = [name for name, column in columns.items() if not np.all(np.isfinite(column))]
    if bad:
        row = int(np.flatnonzero(~np.isfinite(columns[bad[0]]))[0]) + 1
        raise PointError(f"{source}: the column '{bad[0]}' is not finite in data row {row}")
    return columns


def _header(stream) -> list[str]:
    """The names the file gives (its CSV header, or the first JSON object's keys), without consuming them."""
    import csv
    import json

    head = stream.peek(1 << 16)
    first = head.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace")
    if first.lstrip().startswith("{"):
        try:
            return list(json.loads(first))
        except ValueError:
            return []
    try:
        return [name.strip() for name in next(csv.reader([first]))]
    except (StopIteration, csv.Error):
        return []


def loss_graph(loss: str) -> Graph:
    """The per-row loss as a graph: a named loss or a formula in prediction and target."""
    from ..lang.parser import parse

    return parse(LOSSES.get(loss, loss))
