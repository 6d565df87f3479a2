"""The adcli command line: read inputs, call the library, pick a renderer.

Kept thin on purpose: everything here is reachable from ``import adcli``. Renderers
are imported only by the command that uses them, and rich only when a person is
reading, so ``adcli grad ... --json`` starts fast.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys

import click

from .. import __version__
from ..errors import EvaluationError
from . import batch
from .common import (
    FormulaCommand,
    _check_writable,
    _completer,
    _formula_and_point,
    _run,
    _split_names,
    _trace_options,
    _trace_view,
    read_formula,
    read_point,
)

_EPILOG_GRAD = """\b
Examples:
  adcli grad "(x+y)*(x-y)" --at x=3,y=2
  adcli grad "sin(x)*exp(y)" --at x=pi/4,y=0 --mode forward --trace
  adcli grad "(x+y)*(x-y)" --points points.csv --output csv > gradients.csv
"""

_EPILOG_EVAL = """\b
Examples:
  adcli eval "hypot(3, 4)"
  adcli eval "a = x + y; b = x - y; a * b" --at x=3,y=2 --json
  cat points.jsonl | adcli eval "hypot(x, y)" --points - --keep id
"""


# Commands defined in modules of their own, imported only when one of them runs, is
# completed or is listed (click's lazy-loading group pattern): start-up pays for none.
# Each such module names its commands in COMMANDS and imports nothing of this one.
_LAZY_COMMANDS = {
    "check": "derivatives",
    "deriv": "taylor",
    "fit": "optimize",
    "hessian": "derivatives",
    "jacobian": "derivatives",
    "jvp": "derivatives",
    "minimize": "optimize",
    "vjp": "derivatives",
}


class AdcliGroup(click.Group):
    """click.Group that names the nearest command when one is mistyped (click < 8.4 does not)
    and loads the commands of _LAZY_COMMANDS on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str):
        module = _LAZY_COMMANDS.get(cmd_name)
        if module is not None and cmd_name not in self.commands:
            from importlib import import_module

            self.add_command(import_module(f"{__package__}.{module}").COMMANDS[cmd_name], cmd_name)
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name = args[0] if args else ""
        if not ctx.resilient_parsing and name and not name.startswith("-") and self.get_command(ctx, name) is None:
            from difflib import get_close_matches

            commands = self.list_commands(ctx)
            near = get_close_matches(name, commands, n=1)
            hint = f"Did you mean '{near[0]}'?" if near else f"Commands: {', '.join(commands)}."
            raise click.UsageError(f"No such command '{name}'. {hint}", ctx)
        return super().resolve_command(ctx, args)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Read the options (--help and --version print here); a failed write leaves as _OutputFailed."""
        try:
            return super().parse_args(ctx, args)
        except OSError as error:
            raise _OutputFailed(error) from None

    def invoke(self, ctx: click.Context):
        """Run the command; a failed write leaves as _OutputFailed, past click's own handling
        (which would make a closed pipe exit 1 and a full disk an internal error)."""
        try:
            return super().invoke(ctx)
        except OSError as error:
            raise _OutputFailed(error) from None


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
    multiple=True,
    help="Differentiate by these variables only (x,y); repeatable; others are held fixed.",
    shell_complete=_completer("complete_names"),
)
@_output_options("Show every elementary operation with its value and derivative.")
@batch.batch_options
def grad(expr: str, at: tuple[str, ...], mode: str, wrt: tuple[str, ...], as_json: bool, trace: bool, **view) -> None:
    """Value and gradient of EXPR at a point, or at every row of --points FILE.

    EXPR is a formula, '-' to read it from standard input, or @FILE.
    """
    if (rows := batch.split(view)) is not None:
        return batch.answer(expr, at, rows, _refused(as_json, trace, view), mode=mode, wrt=wrt)
    _answer(expr, at, as_json, trace, view, mode=mode, wrt=wrt)


@cli.command("eval", cls=FormulaCommand, epilog=_EPILOG_EVAL)
@_formula_and_point
@_output_options("Show every elementary operation with its value.")
@batch.batch_options
def evaluate(expr: str, at: tuple[str, ...], as_json: bool, trace: bool, **view) -> None:
    """Value of EXPR at a point, or at every row of --points FILE.

    EXPR is a formula, '-' to read it from standard input, or @FILE.
    """
    if (rows := batch.split(view)) is not None:
        return batch.answer(expr, at, rows, _refused(as_json, trace, view), gradient=False)
    _answer(expr, at, as_json, trace, view, gradient=False)


def _refused(as_json: bool, trace: bool, view: dict) -> dict[str, bool]:
    """The options for one point's output, and whether each was given (none goes with --points)."""
    given = {"--json": as_json, "--trace": trace, "--digits": view["digits"] is not None, "--full": view["full"]}
    return {**given, "--format": view["fmt"] != "text", "--svg": view["svg"] is not None}


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
    wrt: tuple[str, ...] = (),
    gradient: bool = True,
) -> None:
    """What grad and eval share: parse, differentiate (by no variable, for eval), show."""
    trace = _trace_view(as_json, trace, view["fmt"], view["svg"], view["full"])
    if view["svg"] not in (None, "-"):  # before any work or output, not after printing the whole result
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
        from ..engines.gradient import differentiate

        return differentiate(graph, point, mode, names, record=trace)

    _emit(_run(work), as_json, trace, gradient=gradient, **view)


_EPILOG_FUNCTIONS = """\b
Examples:
  adcli functions
  adcli functions --json | jq -r '.operations[] | select(.arity == 2) | .syntax'
"""


@cli.command(epilog=_EPILOG_FUNCTIONS)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object: the operations and the constants.")
@click.option("--second", is_flag=True, help="Also list each operation's second derivatives.")
def functions(as_json: bool, second: bool) -> None:
    """Operators and functions, with their derivative rules.

    Everything a formula may use, read from adcli's one table of elementary
    operations: a and b are the arguments, v is the result, and each rule gives
    ∂v/∂a (and ∂v/∂b). With --second, each rule's second derivatives too (JSON
    always has them).
    """
    from ..core.ops import CONSTANTS, FOLDABLE, FUNCTIONS, OPERATIONS, RULE_OPERATIONS
    from ..engines.rules import second_derivatives

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
                "second": dict(second_derivatives(op, limit=1000)),
            }
            for name, op, syntax in rows
        ]
        pieces = {
            op.name: {"summary": op.summary, "rules": dict(zip("ab", op.rule, strict=False))} for op in RULE_OPERATIONS
        }
        click.echo(dumps({"operations": operations, "rule_operations": pieces, "constants": CONSTANTS}))
        return
    width = max(len(syntax) for _, _, syntax in rows)
    summary_width = max(len(op.summary) for _, op, _ in rows)
    click.echo("a and b are the arguments, v is the result; ∂v/∂a is the local derivative AD multiplies by.\n")
    for _, op, syntax in rows:
        summary = op.name if op.summary == syntax else op.summary  # an operator's summary is its syntax
        rules = "; ".join(f"∂v/∂{arg} = {rule}" for arg, rule in zip("ab", op.rule, strict=False))
        click.echo(f"{syntax:<{width}}  {summary:<{summary_width}}  {rules}")
        if second:
            seconds = "; ".join(f"{which} = {text}" for which, text in second_derivatives(op))
            click.echo(f"{'':<{width}}  {'':<{summary_width}}  {seconds}")
    if second:
        click.echo("\nThe second derivatives are the rules differentiated again, as `adcli hessian` runs them,")
        click.echo("with these operations of the rules:")
        for op in RULE_OPERATIONS:
            args = ", ".join("ab"[: op.arity])
            click.echo(f"  {op.name}({args}): {op.summary}")
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
    help="With --at: label nodes with their adjoints (reverse) or tangents (forward); dot and mermaid also label "
    "edges with local partials.",
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
        from ..engines.gradient import differentiate

        return graph, differentiate(graph, read_point(at), mode or "reverse", None if mode else ())

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
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the completion script for SHELL (bash, zsh or fish).

    It completes commands, options and their values, the formula's function names
    and, after --at, the variables of the formula that still need a value.
    """
    from .completion import script

    click.echo(script(shell, ctx.find_root().command), nl=False)


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


# Exit codes for the two ways a run is cut short from outside, as a shell reports a
# program stopped by the signal (128 + its number): Ctrl-C (SIGINT) and a reader of
# the output that went away (SIGPIPE: adcli ... | head).
INTERRUPTED = 130
READER_GONE = 141


class _OutputFailed(Exception):
    """Writing to standard output or standard error failed (a closed pipe, a full disk)."""

    def __init__(self, error: OSError):
        super().__init__(error)
        self.error = error


class _WholeWrites(io.RawIOBase):
    """Standard output's file descriptor, written whole: a short write is carried on until the
    system reports why it stopped. (Python's own buffered writer returns a short count for a
    large write to a pipe whose reader has gone, and the text layer drops the rest silently,
    so ``adcli graph BIG | head -c1`` would exit 0 where a small output exits with a broken pipe.)
    """

    def __init__(self, fd: int):
        super().__init__()
        self._fd = fd

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return os.isatty(self._fd)

    def write(self, data) -> int:
        view = memoryview(data).cast("B")
        size = len(view)
        while view:
            view = view[os.write(self._fd, view) :]
        return size


def _whole_stdout() -> None:
    """Put standard output on _WholeWrites, with the same encoding and buffering."""
    out = sys.stdout
    try:
        fd = out.fileno()
    except (AttributeError, OSError, ValueError):  # no real file (a test's capture): leave it
        return
    raw = _WholeWrites(fd)
    sys.stdout = io.TextIOWrapper(
        io.BufferedWriter(raw), encoding=out.encoding, errors=out.errors, line_buffering=bool(out.line_buffering)
    )


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so the output still buffered is dropped at exit, not reported again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):  # no stdout to point anywhere
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def _exit_for(error: OSError) -> int:
    """Say why the output could not be written (nothing when the reader left) and give the exit code."""
    import errno

    _quiet_stdout()
    if isinstance(error, BrokenPipeError) or error.errno == errno.EPIPE:
        return READER_GONE
    reason = error.strerror or str(error)
    with contextlib.suppress(OSError, ValueError):  # stderr may be gone too
        click.echo(f"error: could not write the output: {reason}", err=True)
    return EvaluationError.exit_code


def main() -> None:
    """Entry point of the adcli script and of python -m adcli.

    click's own exit paths are taken over so that every command ends alike: errors are
    one line and their exit code, Ctrl-C is 130, a reader that went away is 141 with
    nothing on stderr, and a full disk says the output could not be written (exit 1).
    """
    try:
        if "_ADCLI_COMPLETE" in os.environ:  # a shell asks for completions: use adcli's shell scripts and candidates
            from .completion import register

            register()
        _whole_stdout()
        code = cli.main(prog_name="adcli", standalone_mode=False)
        sys.stdout.flush()  # output still buffered fails here, where it can be reported, not at exit
        code = code if isinstance(code, int) else 0
    except click.ClickException as error:
        try:
            error.show()
        except OSError as unwritable:
            code = _exit_for(unwritable)
        else:
            code = error.exit_code
    except (click.Abort, KeyboardInterrupt):
        code = INTERRUPTED
    except _OutputFailed as failed:
        code = _exit_for(failed.error)
    except OSError as error:  # the final flush, or writing outside a command (--help, --version)
        code = _exit_for(error)
    except RecursionError:  # nothing in adcli recurses on depth; a library might
        click.echo("error: the formula is nested too deeply for this Python", err=True)
        code = EvaluationError.exit_code
    except Exception as error:  # a bug: say so in one line rather than a traceback
        click.echo(f"error: internal error ({type(error).__name__}: {error}); please report it", err=True)
        code = EvaluationError.exit_code
    sys.exit(code)
