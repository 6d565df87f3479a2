"""The adcli command line: read inputs, call the library, pick a renderer.

Kept thin on purpose: everything here is reachable from ``import adcli``. Renderers
are imported only by the command that uses them, and rich only when a person is
reading, so ``adcli grad ... --json`` starts fast.
"""

from __future__ import annotations

import os
import sys

import click

from .. import __version__
from ..errors import AdcliError, EvaluationError

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
        with open(path, encoding="utf-8-sig") as handle:  # -sig: a byte-order mark is not part of the text
            return handle.read()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise AdcliError(f"cannot read the {what} file '{path}': {reason}") from None


def read_point(specs: tuple[str, ...]):
    from ..lang.point import parse_point

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

_DIGITS = click.option(
    "--digits",
    type=click.IntRange(1, 17),
    metavar="N",
    help="Significant digits in output for people (default: shortest exact form; JSON is never rounded).",
)


_TRACE_OPTIONS = (  # listed in --help in this order
    _DIGITS,
    click.option("--full", is_flag=True, help="Show every row of a long trace, not only its first and last rows."),
    click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "markdown", "latex"]),
        default="text",
        show_default=True,
        help="The trace as a terminal table, or as Markdown or LaTeX tables to paste into notes (implies --trace).",
    ),
    click.option(
        "--svg",
        metavar="FILE",
        type=click.Path(dir_okay=False),
        help="Also write the traced table as SVG to FILE (implies --trace).",
    ),
)


def _trace_options(command):
    """--digits, --full, --format and --svg: how the traced table looks (JSON is never rounded or cut)."""
    for option in reversed(_TRACE_OPTIONS):
        command = option(command)
    return command


def _trace_view(as_json: bool, trace: bool, fmt: str, svg: str | None, full: bool) -> bool:
    """Whether to show the trace; --format, --svg and --full ask for it, and none of them fits --json."""
    if as_json and (fmt != "text" or svg is not None):
        raise click.UsageError("--format and --svg shape the table for people; --json prints the whole trace as JSON")
    return trace or fmt != "text" or svg is not None or full


def _completer(name: str):
    """A shell_complete callback that imports adcli.completion only when a shell asks."""

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
        from . import completion

        return getattr(completion, name)(ctx, param, incomplete)

    return complete


class AdcliGroup(click.Group):
    """click.Group that names the nearest command when one is mistyped (click < 8.4 does not)."""

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name = args[0] if args else ""
        if not ctx.resilient_parsing and name and not name.startswith("-") and self.get_command(ctx, name) is None:
            from difflib import get_close_matches

            commands = self.list_commands(ctx)
            near = get_close_matches(name, commands, n=1)
            hint = f"Did you mean '{near[0]}'?" if near else f"Commands: {', '.join(commands)}."
            raise click.UsageError(f"No such command '{name}'. {hint}", ctx)
        return super().resolve_command(ctx, args)


class FormulaCommand(click.Command):
    """A command whose argument is a formula: "-x^2" there reads as options, so say how to pass it."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as error:
            if not error.option_name.startswith("--"):
                error.message += (
                    " A formula that starts with '-' goes after '--' (adcli grad --at x=1 -- \"-x^2\")"
                    ' or after a space (" -x^2")'
                )
            raise


_EPILOG_CLI = """\b
Examples:
  adcli grad "(x+y)*(x-y)" --at x=3,y=2
  adcli eval "hypot(3, 4)"
  adcli functions
"""


@click.group(cls=AdcliGroup, epilog=_EPILOG_CLI, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="adcli")
def cli() -> None:
    """Exact derivatives of formulas by automatic differentiation.

    Give a formula and a point; adcli builds the computational graph and runs
    forward- or reverse-mode AD over it.
    """


def _formula_and_point(command):
    """EXPR and --at: what every command that reads a formula takes."""
    command = click.option(
        "--at", "at", multiple=True, metavar="POINT", help=_AT_HELP, shell_complete=_completer("complete_point")
    )(command)
    return click.argument("expr", shell_complete=_completer("complete_formula"))(command)


def _output_options(trace_help: str):
    """--json, --trace and the options that shape the traced table."""

    def apply(command):
        command = _trace_options(command)
        command = click.option("--trace", is_flag=True, help=trace_help)(command)
        return click.option("--json", "as_json", is_flag=True, help="Print one strict JSON object.")(command)

    return apply


@cli.command(cls=FormulaCommand, epilog=_EPILOG_GRAD)
@_formula_and_point
@click.option(
    "--mode",
    type=click.Choice(["reverse", "forward"]),
    default="reverse",
    show_default=True,
    help="Reverse: one backward sweep of adjoints. Forward: one tangent sweep per variable.",
)
@click.option(
    "--wrt",
    metavar="NAMES",
    help="Differentiate by these variables only (x,y); others are held fixed.",
    shell_complete=_completer("complete_names"),
)
@_output_options("Show every elementary operation with its value and derivative.")
def grad(expr: str, at: tuple[str, ...], mode: str, wrt: str | None, as_json: bool, trace: bool, **view) -> None:
    """Value and gradient of EXPR at a point.

    EXPR is a formula, '-' to read it from standard input, or @FILE.
    """
    _answer(expr, at, as_json, trace, view, mode=mode, wrt=wrt)


@cli.command("eval", cls=FormulaCommand, epilog=_EPILOG_EVAL)
@_formula_and_point
@_output_options("Show every elementary operation with its value.")
def evaluate(expr: str, at: tuple[str, ...], as_json: bool, trace: bool, **view) -> None:
    """Value of EXPR at a point.

    EXPR is a formula, '-' to read it from standard input, or @FILE.
    """
    _answer(expr, at, as_json, trace, view, gradient=False)


def _check_writable(path: str, what: str) -> None:
    """Fail now if ``path`` cannot be written (no such directory, no permission); leave no file behind."""
    existed = os.path.lexists(path)
    try:
        with open(path, "a", encoding="utf-8"):  # "a": an existing file is not emptied
            pass
    except OSError as error:
        raise AdcliError(f"cannot write the {what} file '{path}': {error.strerror or error}") from None
    if not existed:
        os.remove(path)  # made only to try: the real file is written after the computation


# Forward mode past this many operation sweeps (variables × operations) takes a while:
# say why, before the wait. (With a trace, far fewer are refused: see result.py.)
_SLOW_FORWARD = 10**8


def _answer(
    expr: str,
    at: tuple[str, ...],
    as_json: bool,
    trace: bool,
    view: dict,
    mode: str = "reverse",
    wrt: str | None = None,
    gradient: bool = True,
) -> None:
    """What grad and eval share: parse, differentiate (by no variable, for eval), show."""
    trace = _trace_view(as_json, trace, view["fmt"], view["svg"], view["full"])
    if view["svg"] is not None:  # before any work or output, not after printing the whole result
        _run(lambda: _check_writable(view["svg"], "SVG"))

    def work():
        from ..lang.parser import parse

        graph = parse(read_formula(expr))
        graph.require_one_output("grad" if gradient else "eval")
        names = _split_names(wrt) if gradient else ()
        point = read_point(at)
        sweeps = graph.n_inputs if names is None else len(names)
        if gradient and mode == "forward" and not trace and sweeps * graph.operation_count > _SLOW_FORWARD:
            click.echo(
                f"note: forward mode sweeps once per variable: {sweeps:,} sweeps of {graph.operation_count:,} "
                "operations; reverse mode (the default) needs one sweep back",
                err=True,
            )
        return graph.differentiate(point, mode, names, record=trace)

    _emit(_run(work), as_json, trace, gradient=gradient, **view)


_EPILOG_FUNCTIONS = """\b
Examples:
  adcli functions
  adcli functions --json | jq -r '.operations[] | select(.arity == 2) | .syntax'
"""


@cli.command(epilog=_EPILOG_FUNCTIONS)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object: the operations and the constants.")
def functions(as_json: bool) -> None:
    """Operators and functions, with their derivative rules.

    Everything a formula may use, read from adcli's one table of elementary
    operations: a and b are the arguments, v is the result, and each rule gives
    ∂v/∂a (and ∂v/∂b).
    """
    from ..core.ops import CONSTANTS, FOLDABLE, FUNCTIONS, OPERATIONS

    rows = []  # read from the one table: operators first, then every name a formula may call
    for op in OPERATIONS:
        if op.symbol:
            rows.append((op.name, op, f"a {op.symbol} b" if op.arity == 2 else f"{op.symbol}a"))
    for name, forms in FUNCTIONS.items():
        for arity, op in forms.items():
            args = "a, b, …" if name in FOLDABLE else ", ".join("ab"[:arity])
            rows.append((name, op, f"{name}({args})"))
    if as_json:
        from ..render.jsontext import dumps

        operations = [
            {
                "name": name,
                "operation": op.name,
                "arity": op.arity,
                "syntax": syntax,
                "summary": op.summary,
                "rules": dict(zip(("a", "b"), op.rule, strict=False)),
            }
            for name, op, syntax in rows
        ]
        click.echo(dumps({"operations": operations, "constants": CONSTANTS}))
        return
    width = max(len(syntax) for _, _, syntax in rows)
    summary_width = max(len(op.summary) for _, op, _ in rows)
    click.echo("a and b are the arguments, v is the result; ∂v/∂a is the local derivative AD multiplies by.\n")
    for _, op, syntax in rows:
        summary = op.name if op.summary == syntax else op.summary  # an operator's summary is its syntax
        rules = "; ".join(f"∂v/∂{arg} = {rule}" for arg, rule in zip("ab", op.rule, strict=False))
        click.echo(f"{syntax:<{width}}  {summary:<{summary_width}}  {rules}")
    click.echo("constants: " + ", ".join(CONSTANTS))


_EPILOG_GRAPH = """\b
Examples:
  adcli graph "(x+y)*(x-y)"
  adcli graph "ln(x1) + x1*x2 - sin(x2)" --at x1=2,x2=5 --mode reverse
  adcli graph "(x+y)*(x-y)" --at x=3,y=2 --format dot | dot -Tsvg > graph.svg
"""


@cli.command("graph", cls=FormulaCommand, epilog=_EPILOG_GRAPH)
@_formula_and_point
@click.option(
    "--mode",
    type=click.Choice(["reverse", "forward"]),
    help="With --at: label nodes with their adjoints (reverse) or tangents (forward), edges with local partials.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["ascii", "dot", "mermaid"]),
    default="ascii",
    show_default=True,
    help="A drawing for the terminal, Graphviz DOT, or a Mermaid flowchart.",
)
@click.option(
    "--digits",
    type=click.IntRange(1, 17),
    metavar="N",
    help="Significant digits of the numbers on nodes and edges (default: shortest exact form).",
)
def draw_graph(expr: str, at: tuple[str, ...], mode: str | None, fmt: str, digits: int | None) -> None:
    """Draw the computational graph of EXPR.

    Inputs, constants, operations and the output are different kinds of node; a
    node used twice is drawn once. With --at every node carries its value.
    """
    if mode is not None and not at:
        raise click.UsageError("--mode needs --at: tangents and adjoints are taken at a point")

    def work():
        from ..lang.parser import parse

        graph = parse(read_formula(expr))
        if not at:
            return graph, None
        return graph, graph.differentiate(read_point(at), mode or "reverse", None if mode else ())

    graph, result = _run(work)
    for warning in result.warnings if result else ():
        click.echo(f"warning: {warning}", err=True)
    from ..render.picture import render

    sys.stdout.write(render(graph, result, fmt, digits))


_EPILOG_COMPLETION = """\b
Examples:
  eval "$(adcli completion bash)"          # in ~/.bashrc
  adcli completion zsh > ~/.zfunc/_adcli   # a directory on $fpath, before compinit
  adcli completion fish > ~/.config/fish/completions/adcli.fish
"""


@cli.command(epilog=_EPILOG_COMPLETION)
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the completion script for SHELL (bash, zsh or fish).

    It completes commands, options and their values, the formula's function names
    and, after --at, the variables of the formula that still need a value.
    """
    from .completion import script

    click.echo(script(shell), nl=False)


def _emit(result, as_json: bool, trace: bool, gradient: bool, **view) -> None:
    """Warnings on stderr, then JSON, or the result for people (``view``: digits, full, fmt, svg)."""
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if as_json:
        from ..render.jsontext import dumps, result_object

        sys.stdout.write(dumps(result_object(result, trace=trace, gradient=gradient)) + "\n")
        return
    from ..render.text import render

    _run(lambda: render(result, trace=trace, gradient=gradient, **view))


from . import taylor as _taylor  # noqa: E402, F401  (adcli deriv registers itself)


def main() -> None:
    """Entry point of the adcli script and of python -m adcli."""
    if "_ADCLI_COMPLETE" in os.environ:  # a shell asks for completions: use adcli's shell scripts and candidates
        from .completion import register

        register()
    try:
        cli(prog_name="adcli")
    except BrokenPipeError:  # e.g. adcli ... | head: the reader left; that is not an error
        sys.stderr.close()
        sys.exit(0)
    except RecursionError:  # nothing in adcli recurses on depth; a library might
        click.echo("error: the formula is nested too deeply for this Python", err=True)
        sys.exit(EvaluationError.exit_code)
    except Exception as error:  # a bug: say so in one line rather than a traceback
        click.echo(f"error: internal error ({type(error).__name__}: {error}); please report it", err=True)
        sys.exit(EvaluationError.exit_code)
