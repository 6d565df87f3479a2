"""Gradient checks: forward mode, reverse mode, finite differences and the user's own partials.

The finite-difference estimate is Ridders' extrapolation of central differences: a
step that starts large, shrinks by a constant factor, and a Neville tableau that
cancels the error terms h², h⁴, … while the estimate of its own error keeps falling.
It is the independent witness; agreement is judged within ``rtol``·|∂| + ``atol``,
widened by the estimate's own error bound.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from ..errors import AdcliError, PointError
from ..lang.point import input_values
from . import primal
from .derivatives import _warnings
from .gradient import differentiate
from .results import CheckResult, CheckRow

_SHRINK = 1.4  # the step's factor from one row of the tableau to the next
_ROWS = 10
_SAFE = 2.0  # stop once the diagonal's change exceeds this multiple of the best error


def ridders(f: Callable[[float], float], x: float, h: float) -> tuple[float, float]:
    """f'(x) by extrapolated central differences from step ``h`` down, and an estimate of its error."""
    best, error = math.nan, math.inf
    previous: list[float] = []
    for i in range(_ROWS):
        column = [(f(x + h) - f(x - h)) / (2.0 * h)]
        factor = _SHRINK * _SHRINK
        for j in range(1, i + 1):
            column.append((column[j - 1] * factor - previous[j - 1]) / (factor - 1.0))
            factor *= _SHRINK * _SHRINK
            guess = max(abs(column[j] - column[j - 1]), abs(column[j] - previous[j - 1]))
            if guess <= error:
                best, error = column[j], guess
        if i and abs(column[i] - previous[i - 1]) >= _SAFE * error:
            break
        previous = column
        h /= _SHRINK
    if math.isnan(best):  # one row only: the plain central difference
        best = previous[0] if previous else math.nan
    return best, error


def check(
    graph,
    point: Mapping[str, float],
    against: str | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> CheckResult:
    """Compare forward mode, reverse mode, finite differences and (with ``against``) hand-derived partials.

    ``against`` holds one formula per variable, in the order of first appearance,
    separated by ';' (each may use the formula's variables).
    """
    from ..lang.parser import parse

    graph.require_one_output("check")
    if not (rtol >= 0.0 and atol >= 0.0):
        raise AdcliError("--rtol and --atol must be numbers ≥ 0")
    inputs = input_values(graph, point)
    names = graph.variables
    at = dict(zip(names, inputs, strict=True))
    reverse = differentiate(graph, at, "reverse", None, record=False)
    forward = differentiate(graph, at, "forward", None, record=False)
    yours: list[float] | None = None
    formulas: tuple[str, ...] = ()
    if against is not None:
        hand = parse(against)
        if len(hand.outputs) != len(names):
            raise PointError(
                f"--against needs one formula per variable ({len(names)}: {', '.join(names)}), "
                f"and it has {len(hand.outputs)}"
            )
        extra = [v for v in hand.variables if v not in at]
        if extra:
            raise PointError(f"--against uses '{extra[0]}', which is not a variable of the formula")
        hvalues = primal.sweep(hand, [at[v] for v in hand.variables])
        yours = [hvalues[o] for o in hand.outputs]
        formulas = tuple(hand.expression(o, 60) for o in hand.outputs)
    kinked = any("has no derivative" in w for w in reverse.warnings)
    rows = []
    for k, name in enumerate(names):
        fd, err = _difference(graph, inputs, k)
        fwd, rev = forward.gradient[name], reverse.gradient[name]
        note = ""
        agree = _close(fwd, rev, rtol, atol)
        if not (math.isfinite(rev) and math.isfinite(reverse.value)):
            note = "the derivative or the value is not finite: finite differences do not apply"
        elif kinked:
            note = "a kink on the way: the derivative is a convention, finite differences do not apply"
        elif not math.isfinite(fd):
            note = "the function is not finite near the point: finite differences do not apply"
        else:
            agree = agree and _close(rev, fd, rtol, atol, err)
        mine = None if yours is None else yours[k]
        if mine is not None:
            agree = agree and _close(rev, mine, rtol, atol)
        rows.append(CheckRow(name, fwd, rev, fd, err, mine, agree, note))
    result = CheckResult(graph, at, reverse.value, rows, rtol, atol, formulas)
    seeds = list(range(graph.n_inputs))
    result.warnings = _warnings(graph, reverse.values, seeds)
    return result


def _close(x: float, y: float, rtol: float, atol: float, slack: float = 0.0) -> bool:
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    if math.isinf(x) or math.isinf(y):
        return x == y
    return abs(x - y) <= atol + rtol * max(abs(x), abs(y)) + 2.0 * slack


def _difference(graph, inputs: list[float], k: int) -> tuple[float, float]:
    """∂f/∂(variable k) by Ridders' method: from a few starting steps scaled to the point (each shrunk
    until f is finite on both sides), the estimate with the smallest error bound."""
    x0 = inputs[k]
    output = graph.output

    def f(x: float) -> float:
        moved = list(inputs)
        moved[k] = x
        return primal.sweep(graph, moved)[output]

    if not math.isfinite(x0):
        return math.nan, math.inf
    best = (math.nan, math.inf)
    for h in {0.1 * max(abs(x0), 1.0), 0.1 * abs(x0) or 1e-3, 1e-3 * max(abs(x0), 1.0)}:
        for _ in range(12):
            if math.isfinite(f(x0 + h)) and math.isfinite(f(x0 - h)):
                estimate = ridders(f, x0, h)
                if estimate[1] < best[1]:
                    best = estimate
                break
            h /= 10.0
    return best
