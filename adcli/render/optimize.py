"""minimize and fit for people and for scripts: the summary, the step-by-step trace, JSON, and plots.

The terminal chart is a few lines of block characters; a plot file is drawn with matplotlib,
imported only then.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .jsontext import number
from .matrix import write_matrix, write_pairs
from .numbers import human

if TYPE_CHECKING:
    from ..engines.optimize import Outcome

LISTED = 10  # variables up to which the summary lists the end point one per line

METHOD_NAMES = {
    "gd": "gradient descent (adcli's loop)",
    "momentum": "heavy-ball momentum (adcli's loop)",
    "adam": "Adam (adcli's loop)",
    "sgd": "minibatch SGD (adcli's loop)",
    "bfgs": "BFGS (scipy.optimize, exact gradient)",
    "lbfgs": "L-BFGS-B (scipy.optimize, exact gradient)",
    "newton": "Newton-CG (scipy.optimize, exact Hessian-vector products)",
    "trust": "trust-exact (scipy.optimize, exact Hessian)",
}


def _number(digits: int | None) -> Callable[[float], str]:
    if digits is None:
        return human
    return lambda x: f"{float(x):.{digits}g}"


def _point(names: list[str], xs: list[float], num: Callable[[float], str]) -> str:
    shown = [f"{n}={num(x)}" for n, x in zip(names[:LISTED], xs[:LISTED], strict=False)]
    more = f", … ({len(names)} variables: --json lists all)" if len(names) > LISTED else ""
    return ", ".join(shown) + more


def evaluations(outcome: Outcome) -> str:
    parts = [f"{outcome.nfev} f", f"{outcome.ngev} ∇f"]
    if outcome.nhev:
        parts.append(f"{outcome.nhev} Hessians")
    if outcome.nhvp:
        parts.append(f"{outcome.nhvp} H·v")
    return ", ".join(parts)


def stopped(outcome: Outcome) -> str:
    from ..engines.optimize import REASONS

    if outcome.diverged:
        return outcome.detail
    return f"{REASONS[outcome.reason]}: {outcome.detail}"


def summary_pairs(outcome: Outcome, digits: int | None, fit: bool = False) -> list[tuple[str, str]]:
    num = _number(digits)
    norm = "‖∇f‖∞ (projected)" if outcome.bounded else "‖∇f‖∞"
    pairs = [("method", METHOD_NAMES.get(outcome.method, outcome.method))]
    if not fit:
        pairs.append(("start", _point(outcome.names, outcome.start, num)))
        pairs.append(("end", _point(outcome.names, outcome.x, num)))
        pairs.append(("f", num(outcome.f)))
    else:
        pairs.append(("loss", num(outcome.f)))
    pairs += [
        (norm if not fit else "‖∇loss‖∞", num(outcome.gnorm)),
        ("steps", str(outcome.steps)),
        ("evaluations", evaluations(outcome)),
        ("stopped", stopped(outcome)),
    ]
    return pairs


def render_summary(outcome: Outcome, digits: int | None) -> None:
    write_pairs(summary_pairs(outcome, digits))


def render_trace(outcome: Outcome, digits: int | None, what: str = "f") -> None:
    """One row per recorded iterate: step, point, value, gradient norm and step length."""
    num = _number(digits)
    columns = [*outcome.names, what, "‖∇f‖∞" if what == "f" else "‖∇loss‖∞", "‖Δx‖∞"]
    rows = [str(s.k) for s in outcome.path]
    cells = [[*(num(x) for x in s.x), num(s.f), num(s.gnorm), num(s.step) if s.k else "–"] for s in outcome.path]
    write_matrix("step", rows, columns, cells)
    sys.stdout.write("\n")


def path_objects(outcome: Outcome) -> list[dict[str, Any]]:
    return [
        {
            "step": s.k,
            "x": {n: number(x) for n, x in zip(outcome.names, s.x, strict=True)},
            "value": number(s.f),
            "gradient_norm": number(s.gnorm),
            "step_size": number(s.step),
        }
        for s in outcome.path
    ]


def outcome_object(outcome: Outcome, every: int) -> dict[str, Any]:
    """What both commands' JSON share: the result, its cost, why it stopped and the path."""
    return {
        "method": outcome.method,
        "value": number(outcome.f),
        "gradient_norm": number(outcome.gnorm),
        "steps": outcome.steps,
        "evaluations": {
            "function": outcome.nfev,
            "gradient": outcome.ngev,
            "hessian": outcome.nhev,
            "hessian_vector": outcome.nhvp,
        },
        "stopped": outcome.reason,
        "reason": outcome.detail,
        "every": every,
        "path": path_objects(outcome),
    }


# A chart for the terminal.

_BLOCKS = " ▁▂▃▄▅▆▇█"


def text_chart(values: list[float], width: int = 60, height: int = 8, label: str = "f") -> str:
    """``values`` over the steps as columns of block characters; a log scale when they are
    positive and span more than two decades. Non-finite values are left out."""
    finite = [(k, v) for k, v in enumerate(values) if math.isfinite(v)]
    if not finite:
        return f"{label}: no finite values to draw\n"
    n = len(values)
    width = max(1, min(width, n))
    positive = all(v > 0 for _, v in finite)
    lo, hi = min(v for _, v in finite), max(v for _, v in finite)
    log = positive and hi / lo > 100
    tf = (lambda v: math.log10(v)) if log else (lambda v: v)
    tlo, thi = tf(lo), tf(hi)
    span = thi - tlo or 1.0
    heights: list[float | None] = []
    for c in range(width):  # each column: the last value of its slice of steps
        end = min(n, (c + 1) * n // width) - 1
        v = values[end]
        heights.append(None if not math.isfinite(v) else (tf(v) - tlo) / span * height)
    lines = []
    top = f"{hi:.3g}"
    bottom = f"{lo:.3g}"
    pad = max(len(top), len(bottom))
    for row in range(height, 0, -1):
        cells = []
        for h in heights:
            if h is None:
                cells.append(" ")
                continue
            fill = h - (row - 1)
            cells.append(_BLOCKS[8] if fill >= 1 else _BLOCKS[max(0, round(fill * 8))] if fill > 0 else " ")
        if row == 1 and all(c == " " for c in cells):
            cells = ["▁" if h is not None else " " for h in heights]
        tick = top if row == height else bottom if row == 1 else ""
        lines.append(f"{tick:>{pad}} │{''.join(cells).rstrip()}")
    axis = f"{'':>{pad}} └{'─' * width}"
    last = f"step {n - 1}"
    steps = f"{'':>{pad}}  step 0{last:>{max(len(last) + 1, width - 6)}}"
    scale = " (log scale)" if log else ""
    return f"{label} over the steps{scale}\n" + "\n".join(lines) + f"\n{axis}\n{steps}\n"


# Plot files.


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        from ..errors import AdcliError

        raise AdcliError("--plot FILE needs matplotlib: pip install 'adcli[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _values_axes(ax, values: list[float], label: str) -> None:
    steps = list(range(len(values)))
    finite = [v for v in values if math.isfinite(v)]
    ax.plot(steps, values, color="C0")
    if finite and all(v > 0 for v in finite) and max(finite) / min(finite) > 100:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(label)
    ax.grid(True, alpha=0.3)


def plot_minimize(path: str, outcome: Outcome, surface: Callable[[Any, Any], Any] | None) -> None:
    """f over the steps, and for two variables the path over the contours of f (``surface(X, Y)``)."""
    import numpy as np

    plt = _pyplot()
    two = surface is not None and len(outcome.names) == 2
    fig, axes = plt.subplots(1, 2 if two else 1, figsize=(11 if two else 6, 4.5))
    ax = axes[0] if two else axes
    _values_axes(ax, outcome.values, "f")
    ax.set_title(f"{outcome.method}: f over the steps")
    if two:
        assert surface is not None
        xs = np.array([s.x for s in outcome.path])
        (x0, x1), (y0, y1) = (xs[:, 0].min(), xs[:, 0].max()), (xs[:, 1].min(), xs[:, 1].max())
        mx, my = max(0.25 * (x1 - x0), 0.5), max(0.25 * (y1 - y0), 0.5)
        X, Y = np.meshgrid(np.linspace(x0 - mx, x1 + mx, 200), np.linspace(y0 - my, y1 + my, 200))
        Z = surface(X.ravel(), Y.ravel()).reshape(X.shape)
        finite = Z[np.isfinite(Z)]
        ax2 = axes[1]
        if finite.size and finite.min() > 0 and finite.max() / finite.min() > 100:
            levels = np.logspace(np.log10(finite.min()), np.log10(finite.max()), 25)
            ax2.contour(X, Y, Z, levels=levels, cmap="viridis", linewidths=0.8)
        elif finite.size:
            ax2.contour(X, Y, Z, levels=25, cmap="viridis", linewidths=0.8)
        ax2.plot(xs[:, 0], xs[:, 1], ".-", color="C3", markersize=3, linewidth=1)
        ax2.plot(xs[0, 0], xs[0, 1], "o", color="C2", label="start")
        ax2.plot(xs[-1, 0], xs[-1, 1], "*", color="C3", markersize=10, label="end")
        ax2.set_xlabel(outcome.names[0])
        ax2.set_ylabel(outcome.names[1])
        ax2.legend()
        ax2.set_title("the path over the contours of f")
    _save(fig, plt, path)


def plot_fit(path: str, outcome: Outcome, data: tuple[str, Any, Any, Callable[[Any], Any]] | None) -> None:
    """The loss over the steps, and for one input column the data and the fitted curve."""
    import numpy as np

    plt = _pyplot()
    fig, axes = plt.subplots(1, 2 if data else 1, figsize=(11 if data else 6, 4.5))
    ax = axes[0] if data else axes
    _values_axes(ax, outcome.values, "loss")
    ax.set_title(f"{outcome.method}: the loss over the steps")
    if data:
        name, x, y, curve = data
        ax2 = axes[1]
        ax2.scatter(x, y, s=6, alpha=0.5, label="data")
        grid = np.linspace(np.min(x), np.max(x), 400)
        ax2.plot(grid, curve(grid), color="C3", label="fitted")
        ax2.set_xlabel(name)
        ax2.legend()
        ax2.set_title("the data and the fitted model")
    _save(fig, plt, path)


def _save(fig, plt, path: str) -> None:
    from ..errors import AdcliError

    fig.tight_layout()
    try:
        fig.savefig(path)
    except (OSError, ValueError) as error:
        raise AdcliError(f"cannot write the plot file '{path}': {getattr(error, 'strerror', None) or error}") from None
    finally:
        plt.close(fig)
