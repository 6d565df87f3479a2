"""jacobian, hessian, jvp, vjp and check: the commands beyond one gradient.

Each is a few lines over adcli.engines.derivatives and adcli.engines.check, with the
options every formula command shares (EXPR, --at, --digits, --json).
"""

from __future__ import annotations

import sys

import click

from . import batch
from .common import (
    _DIGITS,
    FormulaCommand,
    _completer,
    _formula_and_point,
    _run,
    _split_names,
    read_formula,
    read_point,
)

_JSON = click.option("--json", "as_json", is_flag=True, help="Print one strict JSON object.")
_WRT = click.option(
    "--wrt",
    metavar="NAMES",
    multiple=True,
    help="Differentiate by these variables only (x,y); others are held fixed. Repeatable.",
    shell_complete=_completer("complete_names"),
)


def _wrt(wrt: tuple[str, ...]) -> list[str] | None:
    return _split_names(wrt)


def _graph(expr: str):
    from ..lang.parser import parse

    return parse(read_formula(expr))


def _warn(result) -> None:
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)


def _json(obj) -> None:
    from ..render.jsontext import dumps

    sys.stdout.write(dumps(obj) + "\n")


_EPILOG_JACOBIAN = """\b
Examples:
  adcli jacobian "x*y; x+y; sin(x)" --at x=1,y=2
  adcli jacobian "r*cos(t); r*sin(t)" --points grid.csv --mode forward --output csv > jac.csv
  adcli jacobian @model.txt --at @point.json --json | jq .jacobian
"""


@click.command(cls=FormulaCommand, epilog=_EPILOG_JACOBIAN)
@_formula_and_point
@click.option(
    "--mode",
    type=click.Choice(["auto", "forward", "reverse"]),
    default="auto",
    show_default=True,
    help="Forward: a sweep per variable; reverse: a sweep per output; auto: the fewer "
    "(counted after grouping the columns or rows the sparsity pattern lets share a sweep).",
)
@_WRT
@_DIGITS
@_JSON
@batch.batch_options
def jacobian(
    expr: str, at: tuple[str, ...], mode: str, wrt: tuple[str, ...], digits: int | None, as_json: bool, **rows
):
    """The Jacobian of EXPR's outputs at a point, or at every row of --points FILE: one row
    per output, one column per variable.

    The outputs are the formula's unnamed statements, in order ("x*y; x+y"); named
    statements (a = ...) are steps on the way.
    """
    if (options := batch.split(rows)) is not None:
        refused = {"--json": as_json, "--digits": digits is not None}
        return batch.answer_derivatives("jacobian", expr, at, options, refused, mode=mode, wrt=wrt)
    from ..engines.derivatives import jacobian as compute

    result = _run(lambda: compute(_graph(expr), read_point(at), _wrt(wrt), mode))
    _warn(result)
    if as_json:
        from ..render.jsontext import jacobian_object

        _json(jacobian_object(result))
        return
    from ..render.matrix import render_jacobian

    render_jacobian(result, digits)


_EPILOG_HESSIAN = """\b
Examples:
  adcli hessian "100*(y-x^2)^2 + (1-x)^2" --at x=1,y=1
  adcli hessian "x^3*y + sin(y)" --points points.csv --dir x=1,y=0 > hvp.jsonl
  adcli hessian @rosenbrock1000.txt --at @start.json --sparse --json
"""


@click.command(cls=FormulaCommand, epilog=_EPILOG_HESSIAN)
@_formula_and_point
@_WRT
@click.option(
    "--dir",
    "direction",
    metavar="POINT",
    multiple=True,
    help="Only the Hessian-vector product H·d along this direction (x=1,y=0; a variable left out is 0).",
    shell_complete=_completer("complete_point"),
)
@click.option("--sparse", is_flag=True, help="Only the structurally nonzero entries.")
@_DIGITS
@_JSON
@batch.batch_options
def hessian(
    expr: str,
    at: tuple[str, ...],
    wrt: tuple[str, ...],
    direction: tuple[str, ...],
    sparse: bool,
    digits: int | None,
    as_json: bool,
    **rows,
):
    """Value, gradient and exact second derivatives of EXPR at a point, or at every row of --points FILE.

    Forward over reverse: the backward sweep is recorded as a graph and forward mode
    runs over it, one sweep per colour of the Hessian's sparsity pattern (a
    tridiagonal Hessian takes three, whatever its size). Never differences.
    """
    from ..engines import derivatives

    if direction and sparse:
        raise click.UsageError("--sparse shapes the matrix; --dir prints only H·d")
    if (options := batch.split(rows)) is not None:
        refused = {"--json": as_json, "--digits": digits is not None, "--sparse": sparse}
        return batch.answer_derivatives("hessian", expr, at, options, refused, wrt=wrt, direction=direction)

    def work():
        graph = _graph(expr)
        point = read_point(at)
        if direction:
            return derivatives.hvp(graph, point, read_point(direction, "--dir"), _wrt(wrt))
        return derivatives.hessian(graph, point, _wrt(wrt))

    result = _run(work)
    _warn(result)
    if as_json:
        from ..render import jsontext

        _json(jsontext.directional_object(result) if direction else jsontext.hessian_object(result, sparse))
        return
    from ..render import matrix

    if direction:
        matrix.render_directional(result, digits)
    else:
        matrix.render_hessian(result, digits, sparse)


_EPILOG_JVP = """\b
Examples:
  adcli jvp "x*y; x+y; sin(x)" --at x=1,y=2 --dir x=2,y=-1
  adcli jvp "x^2*y" --at x=3,y=1 --dir x=1 --trace
  adcli jvp "x*y; sin(x)" --points points.jsonl --dir x=1,y=0 > jvp.jsonl
"""


def _trace_option(what: str):
    return click.option("--trace", is_flag=True, help=f"Show the {what} trace for this direction.")


def _directional(result, as_json: bool, trace: bool, digits: int | None) -> None:
    _warn(result)
    if as_json:
        from ..render.jsontext import directional_object

        _json(directional_object(result, trace))
        return
    from ..render.matrix import render_directional

    if trace:
        from ..render.trace import render as render_trace

        render_trace(result.trace, True, digits=digits, summary=[])
    render_directional(result, digits)


@click.command(cls=FormulaCommand, epilog=_EPILOG_JVP)
@_formula_and_point
@click.option(
    "--dir",
    "direction",
    metavar="POINT",
    multiple=True,
    required=True,
    help="The direction v: a tangent per variable (x=2,y=-1); a variable left out is 0.",
    shell_complete=_completer("complete_point"),
)
@_trace_option("tangent")
@_DIGITS
@_JSON
@batch.batch_options
def jvp(
    expr: str, at: tuple[str, ...], direction: tuple[str, ...], trace: bool, digits: int | None, as_json: bool, **rows
):
    """J·v: the derivative of every output of EXPR along a direction, in one forward sweep
    (at a point, or at every row of --points FILE)."""
    if (options := batch.split(rows)) is not None:
        refused = {"--json": as_json, "--trace": trace, "--digits": digits is not None}
        return batch.answer_derivatives("jvp", expr, at, options, refused, direction=direction)
    from ..engines.derivatives import jvp as compute

    result = _run(lambda: compute(_graph(expr), read_point(at), read_point(direction, "--dir"), record=trace))
    _directional(result, as_json, trace, digits)


_EPILOG_VJP = """\b
Examples:
  adcli vjp "x*y; x+y; sin(x)" --at x=1,y=2 --seed 1,-2,3
  adcli vjp "x*y" --at x=3,y=2 --seed 1 --trace
"""


def _weights(text: str) -> list[float]:
    from ..lang.point import constant_value

    parts = [part.strip() for part in text.split(",")]
    if not all(parts):
        raise click.UsageError("--seed takes one weight per output, separated by commas (1,-2,3)")
    return [constant_value(part, f"weight {k + 1}") for k, part in enumerate(parts)]


@click.command(cls=FormulaCommand, epilog=_EPILOG_VJP)
@_formula_and_point
@click.option("--seed", "seed", metavar="WEIGHTS", required=True, help="One weight per output, in order (1,-2,3).")
@_trace_option("adjoint")
@_DIGITS
@_JSON
def vjp(expr: str, at: tuple[str, ...], seed: str, trace: bool, digits: int | None, as_json: bool):
    """vᵀJ: the gradient of Σ vₖ·(output k) of EXPR, in one reverse sweep."""
    from ..engines.derivatives import vjp as compute

    result = _run(lambda: compute(_graph(expr), read_point(at), _weights(seed), record=trace))
    _directional(result, as_json, trace, digits)


_EPILOG_CHECK = """\b
Examples:
  adcli check "x^3*sin(y)" --at x=1.3,y=0.4
  adcli check "x^3*sin(y)" --at x=1.3,y=0.4 --against "3*x^2*sin(y); x^3*cos(y)"
  adcli check @f.txt --at @p.json --rtol 1e-8 --json | jq .agree
"""


@click.command(cls=FormulaCommand, epilog=_EPILOG_CHECK)
@_formula_and_point
@click.option(
    "--against",
    metavar="FORMULAS",
    help="Your own partials: one formula per variable, in order of first appearance, ';'-separated.",
    shell_complete=_completer("complete_formula"),
)
@click.option("--rtol", type=float, default=1e-6, show_default=True, help="Relative tolerance of agreement.")
@click.option("--atol", type=float, default=1e-9, show_default=True, help="Absolute tolerance of agreement.")
@_DIGITS
@_JSON
def check(
    expr: str,
    at: tuple[str, ...],
    against: str | None,
    rtol: float,
    atol: float,
    digits: int | None,
    as_json: bool,
):
    """Check the gradient of EXPR: forward mode, reverse mode and finite differences agree?

    The finite differences are central differences extrapolated by Ridders' method
    from a step chosen for the point. Exit 0 when every comparison agrees within
    tolerance, 1 when any disagrees. At a kink or a non-finite value it says why a
    comparison does not apply.
    """
    from ..engines.check import check as compute

    result = _run(lambda: compute(_graph(expr), read_point(at), against, rtol, atol))
    _warn(result)
    if as_json:
        from ..render.jsontext import check_object

        _json(check_object(result))
    else:
        from ..render.matrix import render_check

        render_check(result, digits)
    if not result.agree:
        click.get_current_context().exit(1)


COMMANDS: dict[str, click.Command] = {"check": check, "hessian": hessian, "jacobian": jacobian, "jvp": jvp, "vjp": vjp}
"""This module's commands by name, for the lazy group of adcli.cli.commands."""
