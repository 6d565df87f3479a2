"""minimize and fit: exact gradients put to work, from the shell.

Each command is a few lines over adcli.engines.optimize and adcli.engines.fit; numpy and
scipy are imported only when one of them runs, matplotlib only for ``--plot FILE``.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from ..errors import AdcliError, EvaluationError, PointError
from ..lang.point import input_values
from .common import _DIGITS, FormulaCommand, _completer, _run, _split_names, read_formula, read_point

_METHODS = ("gd", "momentum", "adam", "bfgs", "lbfgs", "newton", "trust")


def _shared(minibatch: bool):
    """The options both commands take: the method, its budget and tolerance, and how to show the run."""
    methods = (*_METHODS, "sgd") if minibatch else _METHODS
    options = [
        click.option(
            "--method",
            type=click.Choice(methods),
            help="gd, momentum (heavy ball, β = 0.9), adam: adcli's loops; bfgs, lbfgs (L-BFGS-B, takes --bounds), "
            "newton (Newton-CG on exact H·v), trust (trust-exact on the exact Hessian): scipy.optimize's. "
            + ("sgd, and adam with --batch or --epochs: minibatch training. " if minibatch else "")
            + "Default: bfgs, or lbfgs with --bounds.",
        ),
        click.option(
            "--lr",
            type=float,
            help=f"Learning rate of gd, momentum, adam{' and sgd' if minibatch else ''}. [default: 0.001]",
        ),
        click.option(
            "--steps", type=click.IntRange(0), default=10_000, show_default=True, help="The most steps (iterations)."
        ),
        click.option(
            "--tol",
            type=click.FloatRange(0.0),
            default=1e-8,
            show_default=True,
            help="Stop when the largest gradient component (‖∇f‖∞) is at most this.",
        ),
        click.option("--trace", is_flag=True, help="Show every step: the point, f, ‖∇f‖∞ and the step length."),
        click.option(
            "--every",
            type=click.IntRange(1),
            default=1,
            show_default=True,
            metavar="K",
            help="Keep every K-th step in the path (--json, --trace).",
        ),
        click.option(
            "--plot",
            metavar="[FILE]",
            is_flag=False,
            flag_value="-",
            help="Draw the value over the steps: in the terminal, or into FILE.svg / FILE.png (with matplotlib; for "
            "two variables also the path over the contours). Put it last, or give FILE.",
        ),
        _DIGITS,
        click.option("--json", "as_json", is_flag=True, help="Print one strict JSON object: the summary and the path."),
    ]

    def apply(command):
        for option in reversed(options):
            command = option(command)
        return command

    return apply


class _Progress:
    """step, f and ‖∇f‖ on standard error while it runs, when that is a terminal; nothing on a pipe."""

    def __init__(self, total: int, unit: str = "step"):
        self.total, self.unit = total, unit
        self.bar: Any = None
        self.task: Any = None
        self.shown = 0.0

    def __enter__(self):
        if not sys.stderr.isatty():
            return None
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(
            TextColumn(f"{self.unit} {{task.completed}}"),
            BarColumn(),
            TextColumn("f {task.fields[f]}   ‖∇f‖∞ {task.fields[g]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self.bar.__enter__()
        self.task = self.bar.add_task(self.unit, total=self.total or None, f="–", g="–")
        return self.update

    def update(self, k: int, f: float, g: float) -> None:
        now = time.perf_counter()
        if now - self.shown > 0.05:
            self.shown = now
            self.bar.update(self.task, completed=k, f=f"{f:.6g}", g=f"{g:.3g}")

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


def _check_plot(plot: str | None) -> None:
    if plot not in (None, "-") and not plot.lower().endswith((".svg", ".png", ".pdf")):
        raise click.UsageError(f"--plot FILE writes .svg, .png or .pdf; '{plot}' names none of them")


def _check_method(method: str, lr: float | None, bounds: Any) -> None:
    from ..engines.optimize import BOUNDED, OURS

    if lr is not None and method not in (*OURS, "sgd"):
        raise click.UsageError(f"--lr goes with gd, momentum and adam (and fit's sgd); {method} chooses its own steps")
    if lr is not None and not lr > 0:
        raise click.UsageError("--lr must be positive")
    if bounds and method not in BOUNDED:
        raise click.UsageError(f"--bounds goes with {', '.join(BOUNDED)}; {method} is unconstrained")


def _show(outcome, as_json: bool, obj: dict | None, trace: bool, plot: str | None, digits: int | None, summary,
          what: str = "f") -> None:  # fmt: skip
    """JSON, or the trace, the summary and the chart; then a run that diverged exits 1 with its message."""
    from ..render import optimize as render

    if as_json:
        from ..render.jsontext import dumps

        sys.stdout.write(dumps(obj) + "\n")
    else:
        if trace:
            render.render_trace(outcome, digits, what)
        summary()
        if plot == "-":
            sys.stdout.write("\n" + render.text_chart(outcome.values, label=what))
    if outcome.diverged:
        raise EvaluationError(outcome.detail)


_EPILOG_MINIMIZE = """\b
Examples:
  adcli minimize "100*(y-x^2)^2 + (1-x)^2" --from x=-1.2,y=1
  adcli minimize "(x-1)^2 + 10*(y+2)^2" --from x=0,y=0 --method gd --lr 0.05 --trace --every 10
  adcli minimize "(x-2)^2 + (y-2)^2" --from x=0,y=0 --bounds x=0:1 --json | jq .end
"""


@click.command(cls=FormulaCommand, epilog=_EPILOG_MINIMIZE)
@click.argument("expr", shell_complete=_completer("complete_formula"))
@click.option(
    "--from",
    "start",
    multiple=True,
    required=True,
    metavar="POINT",
    help="The start: a value for each variable to minimise over (x=-1.2,y=1); repeatable; @FILE.",
    shell_complete=_completer("complete_point"),
)
@click.option(
    "--at",
    "at",
    multiple=True,
    metavar="POINT",
    help="Values of the variables held fixed (with --wrt, or any variable not in --from).",
    shell_complete=_completer("complete_point"),
)
@click.option(
    "--wrt",
    metavar="NAMES",
    multiple=True,
    help="Minimise over these variables only (x,y); the others are held at their --at values.",
    shell_complete=_completer("complete_names"),
)
@click.option(
    "--bounds",
    multiple=True,
    metavar="BOUNDS",
    help="Box constraints name=lower:upper (x=0:1,y=:5; an empty side is open): lbfgs, or gd, momentum, adam "
    "by projection.",
)
@_shared(minibatch=False)
def minimize(expr: str, start, at, wrt, bounds, method, lr, steps, tol, trace, every, plot, digits, as_json) -> None:
    """Minimise EXPR from a start, with exact gradients (and Hessians).

    Stops when the largest gradient component is at most --tol, when a step stalls,
    after --steps steps, or when it diverges (a value or gradient that is not finite,
    or a value growing without bound: a message and exit 1), and says which. The
    summary gives the start, the end, f, ‖∇f‖∞, the steps and how many function,
    gradient and Hessian evaluations it took. On a terminal a progress display runs
    meanwhile.
    """
    _check_plot(plot)
    method = method or ("lbfgs" if bounds else "bfgs")
    _check_method(method, lr, bounds)

    def work():
        from ..engines import optimize as engine
        from ..lang.parser import parse

        graph = parse(read_formula(expr))
        graph.require_one_output("minimize")
        first = read_point(start, "--from")
        fixed = read_point(at)
        names = _split_names(wrt)
        both = [n for n in first if n in fixed]
        if both:
            raise PointError(f"'{both[0]}' is given both a start (--from) and a fixed value (--at)")
        for n in fixed:
            if n not in graph.variables:
                raise PointError("--at " + graph._unknown_message(n))
        if names is None:
            names = [v for v in graph.variables if v not in fixed]
        else:
            graph.variable_nodes(names)  # unknown or repeated names
            held = [n for n in names if n in fixed]
            if held:
                raise PointError(f"--wrt names '{held[0]}', which --at holds fixed")
        for n in first:
            if n not in graph.variables:
                raise PointError("--from " + graph._unknown_message(n))
            if n not in names:
                raise PointError(f"--from gives a start for '{n}', which --wrt leaves out: give it with --at")
        missing = [n for n in names if n not in first]
        if missing:
            raise PointError(f"no start for '{missing[0]}': add --from {missing[0]}=... (or hold it with --at)")
        if not names:
            raise PointError("nothing to minimise over: every variable is held fixed by --at")
        point = {**fixed, **first}
        values = input_values(graph, point)  # the values' rules (constants, files) and every variable given
        values_by = dict(zip(graph.variables, values, strict=True))
        box = engine.parse_bounds(bounds, names)
        objective = engine.Objective(graph, names, {n: values_by[n] for n in graph.variables if n not in names})
        with _Progress(steps if method in engine.OURS else 0) as progress:
            outcome = engine.minimize(
                objective, [values_by[n] for n in names], method, lr, steps, tol, box, every, trace, progress
            )
        return graph, objective, outcome

    graph, objective, outcome = _run(work)
    obj = None
    if as_json:
        from ..render.jsontext import number
        from ..render.optimize import outcome_object

        obj = {
            "expression": graph.text,
            "variables": outcome.names,
            "fixed": {
                n: number(x) for n, x in zip(graph.variables, objective.base, strict=True) if n not in outcome.names
            },
            "start": {n: number(x) for n, x in zip(outcome.names, outcome.start, strict=True)},
            "end": {n: number(x) for n, x in zip(outcome.names, outcome.x, strict=True)},
            **outcome_object(outcome, every),
        }
    if plot not in (None, "-"):
        _run(lambda: _plot_minimize(plot, graph, objective, outcome))
    from ..render.optimize import render_summary

    _run(lambda: _show(outcome, as_json, obj, trace, plot, digits, lambda: render_summary(outcome, digits)))


def _plot_minimize(path: str, graph, objective, outcome) -> None:
    import numpy as np

    from ..render.optimize import plot_minimize

    surface = None
    if len(outcome.names) == 2:

        def surface(X, Y):
            columns = {n: float(x) for n, x in zip(graph.variables, objective.base, strict=True)}
            columns[outcome.names[0]], columns[outcome.names[1]] = X, Y
            columns = {n: (np.full(X.shape, c) if isinstance(c, float) else c) for n, c in columns.items()}
            from ..engines.batch import evaluate_batch

            return evaluate_batch(graph, columns)

    plot_minimize(path, outcome, surface)


_EPILOG_FIT = """\b
Examples:
  cat line.csv | adcli fit "a*x + b" --data - --params a=0,b=0 --target y
  adcli fit "w*x + b" --data labels.csv --params w=0,b=0 --target label --loss logistic --json > fit.json
  adcli fit "a*x + b" --data big.csv --params a=0,b=0 --target y --method sgd --batch 64 --seed 1 | tail -3
"""


@click.command(cls=FormulaCommand, epilog=_EPILOG_FIT)
@click.argument("model", shell_complete=_completer("complete_formula"))
@click.option(
    "--data",
    required=True,
    metavar="FILE",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="The data: CSV with a header of names, or JSON Lines ('-': standard input); columns not used are ignored.",
)
@click.option(
    "--input",
    "input_format",
    type=click.Choice(["csv", "jsonl"]),
    help="The format of --data (default: JSON Lines if it starts with '{', else CSV).",
)
@click.option(
    "--params",
    multiple=True,
    required=True,
    metavar="POINT",
    help="The parameters and their starting values (a=0,b=1); the model's other variables are columns.",
    shell_complete=_completer("complete_point"),
)
@click.option(
    "--target",
    metavar="COLUMN",
    help="The column the model predicts; without it the model is the residual itself (target 0).",
    shell_complete=_completer("complete_data_columns"),
)
@click.option(
    "--loss",
    default="mse",
    show_default=True,
    metavar="mse|abs|huber|logistic|FORMULA",
    help="The loss per row, averaged: mse (prediction - target)^2, abs, huber (δ = 1), logistic (the model is "
    "the log-odds, target 0 or 1), or a formula in 'prediction' and 'target'.",
)
@click.option("--batch", type=click.IntRange(1), metavar="N", help="Minibatch size (sgd, adam). [default: 32]")
@click.option("--epochs", type=click.IntRange(0), metavar="E", help="Passes over the data (sgd, adam). [default: 10]")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the shuffle (numpy default_rng).")
@_shared(minibatch=True)
def fit(model, data, input_format, params, target, loss, batch, epochs, seed, method, lr, steps, tol, trace, every,
        plot, digits, as_json) -> None:  # fmt: skip
    """Fit MODEL's parameters to the rows of --data by minimising the mean loss.

    MODEL is a formula in the data's columns and the parameters (a*x + b). The loss and
    its exact gradient over all rows come from the vectorised reverse sweep; full-batch
    methods are minimize's, and sgd or adam with --batch/--epochs train on minibatches
    in an order shuffled by --seed (the same seed, the same numbers, bit for bit).
    Reports the fitted parameters, the final loss and, for least squares (mse), the
    standard errors σ²(JᵀJ)⁻¹ with σ² = RSS/(n − p); for the logistic loss, those of
    the inverse exact Hessian.
    """
    _check_plot(plot)
    minibatch = method == "sgd" or (method == "adam" and (batch is not None or epochs is not None))
    if not minibatch and (batch is not None or epochs is not None):
        raise click.UsageError("--batch and --epochs go with --method sgd or adam (minibatch training)")
    method = method or "bfgs"
    _check_method(method, lr, None)

    def work():
        import numpy as np

        from ..engines import fit as engine
        from ..engines import optimize
        from ..lang.parser import parse

        graph = parse(read_formula(model))
        graph.require_one_output("fit")
        start = read_point(params, "--params")
        for name in start:
            if name not in graph.variables:
                raise PointError("--params " + graph._unknown_message(name))
        names = [v for v in graph.variables if v in start]
        theta0 = input_values(graph, {**{v: 0.0 for v in graph.variables if v not in start}, **start})
        theta0 = [theta0[graph.variables.index(n)] for n in names]
        inputs = [v for v in graph.variables if v not in start]
        if target is not None and target in start:
            raise PointError(f"--target '{target}' is a parameter; it must be a column of the data")
        if target is not None and target in inputs:
            raise PointError(f"--target '{target}' is also a variable of the model; the model predicts it")
        try:
            lgraph = engine.loss_graph(loss)
        except AdcliError as error:
            raise AdcliError(f"--loss: {error}") from None
        wanted = inputs + ([target] if target is not None else [])
        columns = engine.read_data(data, wanted, input_format, tuple(names))
        tcol = columns.pop(target) if target is not None else None
        objective = engine.FitObjective(graph, names, columns, tcol, lgraph)
        if minibatch:
            plan = engine.Minibatch(method, batch or 32, 10 if epochs is None else epochs, seed, lr or 1e-3)
            with _Progress(plan.epochs, "epoch") as progress:
                outcome = engine.train(objective, np.array(theta0), plan, every, trace, progress)
        else:
            with _Progress(steps if method in optimize.OURS else 0) as progress:
                outcome = optimize.minimize(objective, theta0, method, lr, steps, tol, None, every, trace, progress)
        least = loss == "mse"
        errors, how = (None, "")
        if least or loss == "logistic":
            if outcome.reason in ("tolerance", "stalled"):
                errors, how = engine.standard_errors(objective, np.array(outcome.x), least)
            elif not outcome.diverged:
                how = "no standard errors: they hold at a minimum, and this run stopped on its budget"
        return graph, objective, outcome, errors, how, columns, tcol, inputs

    graph, objective, outcome, errors, how, columns, tcol, inputs = _run(work)
    from ..render.jsontext import number
    from ..render.optimize import outcome_object

    obj = None
    if as_json:
        obj = {
            "model": graph.text,
            "loss": loss,
            "rows": objective.rows,
            "parameters": {n: number(x) for n, x in zip(outcome.names, outcome.x, strict=True)},
            "standard_errors": None if errors is None else {
                n: number(float(e)) for n, e in zip(outcome.names, errors, strict=True)},
            "standard_errors_from": how or None,
            "start": {n: number(x) for n, x in zip(outcome.names, outcome.start, strict=True)},
            **outcome_object(outcome, every),
        }  # fmt: skip
        if method == "sgd" or outcome.method in ("sgd",) or (method == "adam" and (batch or epochs) is not None):
            obj.update({"batch": batch or 32, "epochs": 10 if epochs is None else epochs, "seed": seed})
    if errors is None and how and not as_json:
        click.echo(f"note: {how}", err=True)
    if plot not in (None, "-"):
        _run(lambda: _plot_fit(plot, graph, objective, outcome, columns, tcol, inputs))

    def summary() -> None:
        from ..render.matrix import write_matrix, write_pairs
        from ..render.optimize import _number, summary_pairs

        num = _number(digits)
        header = ["value", "std. error"] if errors is not None else ["value"]
        cells = [[num(x), *([num(float(e))] if errors is not None else [])] for x, e in zip(
            outcome.x, errors if errors is not None else outcome.x, strict=True)]  # fmt: skip
        write_matrix("parameter", list(outcome.names), header, cells)
        sys.stdout.write("\n")
        pairs = summary_pairs(outcome, digits, fit=True)
        pairs.insert(1, ("rows", f"{objective.rows:,}"))
        if errors is not None:
            pairs.append(("std. errors", how))
        write_pairs(pairs)

    _run(lambda: _show(outcome, as_json, obj, trace, plot, digits, summary, what="loss"))


def _plot_fit(path, graph, objective, outcome, columns, tcol, inputs) -> None:
    import numpy as np

    from ..render.optimize import plot_fit

    data = None
    if len(inputs) == 1:
        name = inputs[0]
        y = tcol if tcol is not None else np.zeros(objective.rows)
        fitted = dict(zip(outcome.names, outcome.x, strict=True))

        def curve(grid):
            cols = {v: (grid if v == name else np.full(grid.shape, fitted[v])) for v in graph.variables}
            from ..engines.batch import evaluate_batch

            return evaluate_batch(graph, cols)

        data = (name, columns[name], y, curve)
    plot_fit(path, outcome, data)


COMMANDS: dict[str, click.Command] = {"fit": fit, "minimize": minimize}
"""This module's commands by name, for the lazy group of adcli.cli.commands."""
