"""The adcli command line: read inputs, call the library, pick a renderer.

Kept thin on purpose: everything here is reachable from ``import adcli``. Renderers
are imported only by the command that uses them, and rich only when a person is
reading, so ``adcli grad ... --json`` starts fast.
"""

from __future__ import annotations

import sys

import click

from . import __version__
from .errors import AdcliError, EvaluationError

_EPILOG_GRAD = """\b
Examples:
  adcli grad "(x+y)*(x-y)" --at x=3,y=2
  adcli grad "sin(x)*exp(y)" --at x=pi/4,y=0 --mode forward --trace
  adcli grad @model.txt --at @point.json --wrt x --json | jq .gradient.x
"""

_EPILOG_EVAL = """\b
Examples:
  adcli eval "hypot(3, 4)"
  adcli eval "a = x + y; b = x - y; a * b" --at x=3,y=2 --json
"""


class Failure(click.ClickException):
    """An AdcliError on its way out: one message on stderr and its exit code."""

    def __init__(self, error: AdcliError):
        super().__init__(str(error))
        self.exit_code = error.exit_code

    def show(self, file=None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def read_formula(expr: str) -> str:
    """EXPR as given, '-' for standard input, '@PATH' for a file."""
    if expr == "-":
        return sys.stdin.read()
    if expr.startswith("@"):
        return _read_file(expr[1:], "formula")
    return expr


def _read_file(path: str, what: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise AdcliError(f"cannot read the {what} file '{path}': {reason}") from None


def read_point(specs: tuple[str, ...]):
    from .point import parse_point

    return parse_point(_read_file(s[1:], "point") if s.startswith("@") else s for s in specs)


def _split_names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise AdcliError("--wrt needs at least one variable name")
    return names


def _run(fn):
    """Turn adcli's errors into click's exit path; running out of memory is exit 1."""
    try:
        return fn()
    except AdcliError as error:
        raise Failure(error) from None
    except MemoryError:
        raise Failure(EvaluationError("out of memory while evaluating the formula")) from None


_AT_HELP = "Point: name=value pairs (x=3,y=pi/4); repeatable; @FILE reads pairs or a JSON object."


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="adcli")
def cli() -> None:
    """Exact derivatives of formulas by automatic differentiation.

    Give a formula and a point; adcli builds the computational graph and runs
    forward- or reverse-mode AD over it.
    """


@cli.command(epilog=_EPILOG_GRAD)
@click.argument("expr")
@click.option("--at", "at", multiple=True, metavar="POINT", help=_AT_HELP)
@click.option(
    "--mode",
    type=click.Choice(["reverse", "forward"]),
    default="reverse",
    show_default=True,
    help="Reverse: one backward sweep of adjoints. Forward: one tangent sweep per variable.",
)
@click.option("--wrt", metavar="NAMES", help="Differentiate by these variables only (x,y); others are held fixed.")
@click.option("--json", "as_json", is_flag=True, help="Print one strict JSON object.")
@click.option("--trace", is_flag=True, help="Show every elementary operation with its value and derivative.")
def grad(expr: str, at: tuple[str, ...], mode: str, wrt: str | None, as_json: bool, trace: bool) -> None:
    """Value and gradient of EXPR at a point.

    EXPR is a formula, '-' to read it from standard input, or @FILE.
    """

    def work():
        from .parser import parse

        graph = parse(read_formula(expr))
        return graph.differentiate(read_point(at), mode, _split_names(wrt))

    _emit(_run(work), as_json, trace, gradient=True)


@cli.command("eval", epilog=_EPILOG_EVAL)
@click.argument("expr")
@click.option("--at", "at", multiple=True, metavar="POINT", help=_AT_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print one strict JSON object.")
@click.option("--trace", is_flag=True, help="Show every elementary operation with its value.")
def evaluate(expr: str, at: tuple[str, ...], as_json: bool, trace: bool) -> None:
    """Value of EXPR at a point.

    EXPR is a formula, '-' to read it from standard input, or @FILE.
    """

    def work():
        from .parser import parse

        graph = parse(read_formula(expr))
        return graph.differentiate(read_point(at), "reverse", wrt=())

    _emit(_run(work), as_json, trace, gradient=False)


def _emit(result, as_json: bool, trace: bool, gradient: bool) -> None:
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if as_json:
        from .jsonout import dumps, result_object

        sys.stdout.write(dumps(result_object(result, trace=trace, gradient=gradient)) + "\n")
        return
    from .render_text import render

    render(result, trace=trace, gradient=gradient)


def main() -> None:
    """Entry point of the adcli script and of python -m adcli."""
    try:
        cli(prog_name="adcli")
    except BrokenPipeError:  # e.g. adcli ... | head: the reader left; that is not an error
        sys.stderr.close()
        sys.exit(0)
    except RecursionError:  # nothing in adcli recurses on depth; a library might
        click.echo("error: the formula is nested too deeply for this Python", err=True)
        sys.exit(EvaluationError.exit_code)
