"""``adcli deriv``: derivatives of any order by Taylor mode, along a variable or a direction,
and mixed partials from a few directional expansions.

The engine is adcli.engines.taylor; this module reads the options and picks a renderer.
It imports nothing heavy: the engine and renderers load only when the command runs.
"""

from __future__ import annotations

import sys

import click

from .common import (
    _DIGITS,
    _TRACE_OPTIONS,
    FormulaCommand,
    _check_writable,
    _completer,
    _formula_and_point,
    _run,
    _trace_view,
    read_formula,
    read_point,
)

_FORMAT, _SVG = _TRACE_OPTIONS[2], _TRACE_OPTIONS[3]  # the same --format and --svg as grad's trace

MAX_ORDER = 1000  # the engine's limit (adcli.engines.taylor.MAX_ORDER; a test keeps them equal)

_EPILOG_DERIV = """\b
Examples:
  adcli deriv "exp(sin(x))/(1+x^2)" --order 5 --at x=0.7
  adcli deriv "x^2*y + sin(x*y)" --order 3 --at x=1,y=2 --dir x=1,y=-1 --trace
  adcli deriv "x^2*y^3" --mixed "x^2*y" --at x=1,y=2
"""


@click.command("deriv", cls=FormulaCommand, epilog=_EPILOG_DERIV)
@_formula_and_point
@click.option(
    "--wrt",
    metavar="NAME",
    help="The variable to differentiate by, the others held fixed (default: the formula's only variable).",
    shell_complete=_completer("complete_names"),
)
@click.option(
    "--order",
    type=click.IntRange(0, MAX_ORDER),
    metavar="K",
    help=f"The highest order, 0 to {MAX_ORDER} (needed unless --mixed gives it).",
)
@click.option("--taylor", is_flag=True, help="Print the Taylor coefficients f⁽ᵏ⁾/k! instead of the derivatives.")
@click.option(
    "--dir",
    "direction",
    metavar="DIRECTION",
    help="Differentiate f(p + t·d) by t along this direction: name=value pairs (x=1,y=2); others are 0.",
    shell_complete=_completer("complete_point"),
)
@click.option(
    "--mixed",
    metavar="MONOMIAL",
    help='A mixed partial by its monomial: "x^2*y" is ∂³f/∂x²∂y, from a few directional expansions.',
    shell_complete=_completer("complete_monomial"),
)
@click.option("--json", "as_json", is_flag=True, help="Print one strict JSON object.")
@click.option("--trace", is_flag=True, help="Show every operation's coefficient recurrence and coefficients.")
@_DIGITS
@click.option("--full", is_flag=True, help="Show every row and every coefficient column of the trace.")
@_FORMAT
@_SVG
def deriv(
    expr: str,
    at: tuple[str, ...],
    wrt: str | None,
    order: int | None,
    taylor: bool,
    direction: str | None,
    mixed: str | None,
    as_json: bool,
    trace: bool,
    digits: int | None,
    full: bool,
    fmt: str,
    svg: str | None,
) -> None:
    """Derivatives of EXPR of orders 1 … K at a point, by Taylor mode.

    Along one variable (--wrt, the others held fixed) or a direction (--dir), adcli
    pushes truncated power series through the computational graph, one coefficient
    recurrence per operation, and prints dᵏf/dxᵏ for k = 0 … K (with --taylor the
    coefficients f⁽ᵏ⁾/k!). --mixed gives one mixed partial from a few expansions
    along integer directions (no truncation error; --json gives its rounding error
    bound). EXPR is a formula, '-' or @FILE.
    """
    if mixed is not None and (wrt is not None or direction is not None):
        raise click.UsageError("--mixed names its own variables: leave out --wrt and --dir")
    if wrt is not None and direction is not None:
        raise click.UsageError("give --wrt or --dir, not both")
    if mixed is None and order is None:
        raise click.UsageError("--order K is needed: the highest order of derivative to compute")
    trace = _trace_view(as_json, trace, fmt, svg, full)
    if svg not in (None, "-"):  # before any work or output
        _run(lambda: _check_writable(svg, "SVG"))

    def work():
        from ..engines import taylor as engine
        from ..lang.parser import parse

        graph = parse(read_formula(expr))
        graph.require_one_output("deriv")
        point = read_point(at)
        if mixed is not None:
            powers = engine.parse_monomial(mixed, graph.variables)
            if order is not None and order != sum(powers.values()):
                raise click.UsageError(
                    f"--order {order} does not match --mixed {mixed!r}, of order {sum(powers.values())}"
                )
            return engine.mixed_partial(graph, point, powers)
        dvec = None if direction is None else read_point((direction,), "--dir")
        if wrt is None and dvec is None and graph.n_inputs != 1:
            listing = ", ".join(graph.variables) or "none"
            raise click.UsageError(f"name the variable with --wrt or a direction with --dir (the variables: {listing})")
        return engine.expand(graph, point, order, wrt=wrt, direction=dvec, record=trace)

    result = _run(work)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    from ..render import taylor as view

    if as_json:
        from ..render.jsontext import dumps

        obj = view.mixed_object(result) if mixed is not None else view.result_object(result, taylor, trace)
        sys.stdout.write(dumps(obj) + "\n")
        return
    body = view.mixed_rows(result, digits, taylor) if mixed is not None else view.rows(result, taylor, digits)
    if trace:
        _run(lambda: view.render_trace(result, body, digits, full, fmt, svg))
    else:
        view.show_rows(body)


COMMANDS: dict[str, click.Command] = {"deriv": deriv}
"""This module's commands by name, for the lazy group of adcli.cli.commands."""
