"""What the commands share: reading formulas and points, the error path, the options every
formula command takes, and shell-completion callbacks that load adcli.cli.completion late.

adcli.cli.commands (the group, grad, eval, ...), batch, and the command modules the group
loads lazily (derivatives, taylor, optimize) import from here; this module imports none of
them, and adcli.cli.completion (which imports no command module) only inside a callback.
"""

from __future__ import annotations

import os
import sys

import click

from ..errors import AdcliError, EvaluationError


class Failure(click.ClickException):
    """An AdcliError on its way out: one message on stderr and its exit code."""

    def __init__(self, error: AdcliError):
        super().__init__(str(error))
        # click annotates exit_code as a ClassVar, yet reads it from the instance: ours is 1 or 2 per error.
        self.exit_code = error.exit_code  # type: ignore[misc]

    def show(self, file=None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def read_formula(expr: str) -> str:
    """EXPR as given, '-' for standard input, '@PATH' for a file (both read up to the size limit)."""
    if expr == "-":
        try:
            return _read_bounded(sys.stdin, "formula on standard input")
        except UnicodeDecodeError as error:
            raise AdcliError(f"cannot read the formula on standard input: {error}") from None
    if expr.startswith("@"):
        return _read_file(expr[1:], "formula")
    return expr


_CHUNK = 1 << 20  # characters read at a time: an endless source is refused at the limit, not read to the end


def _read_bounded(handle, what: str) -> str:
    """All of ``handle``'s text, read in pieces; past MAX_FORMULA_CHARS it is refused (exit 2).

    A file, a pipe, a device such as /dev/zero and standard input are all read this way,
    so memory stays near the limit whatever the source.
    """
    from ..lang.parser import MAX_FORMULA_CHARS

    pieces, total = [], 0
    while piece := handle.read(min(_CHUNK, MAX_FORMULA_CHARS + 1 - total)):
        pieces.append(piece)
        total += len(piece)
        if total > MAX_FORMULA_CHARS:
            raise AdcliError(f"the {what} is longer than {MAX_FORMULA_CHARS:,} characters, the most adcli reads")
    return "".join(pieces)


def _read_file(path: str, what: str) -> str:
    try:
        with open(path, encoding="utf-8-sig") as handle:  # -sig: a byte-order mark is not part of the text
            return _read_bounded(handle, f"{what} file '{path}'")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise AdcliError(f"cannot read the {what} file '{path}': {reason}") from None


def read_point(specs: tuple[str, ...], option: str = "--at"):
    """The point of one option's arguments (``--at`` unless named), @FILE read."""
    from ..lang.point import parse_point

    return parse_point((_read_file(s[1:], "point") if s.startswith("@") else s for s in specs), option)


def _split_names(texts: tuple[str, ...]) -> list[str] | None:
    """--wrt's names: every use adds its names (``--wrt x --wrt y`` is ``--wrt x,y``); none given is None."""
    if not texts:
        return None
    names = [n.strip() for text in texts for n in text.split(",") if n.strip()]
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
        help="Also write the traced table as SVG to FILE ('-': only the SVG, to standard output; implies --trace).",
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
    if svg == "-" and fmt != "text":
        raise click.UsageError(f"--svg - writes the SVG to standard output, where --format {fmt} writes too")
    return trace or fmt != "text" or svg is not None or full


def _completer(name: str):
    """A shell_complete callback that imports adcli.completion only when a shell asks."""

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
        from . import completion

        return getattr(completion, name)(ctx, param, incomplete)

    return complete


class FormulaCommand(click.Command):
    """A command whose argument is a formula: "-x^2" there reads as options, so say how to pass it."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        given = list(args)  # click consumes args
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as error:
            if not error.option_name.startswith("--"):
                formula = next(
                    (a for a in given if a.startswith(error.option_name)), "-x^2"
                )  # as typed, in this command
                # click annotates message as Final; click shows this exception, so the hint goes into its message.
                error.message += (  # type: ignore[misc]
                    f" A formula that starts with '-' goes after '--' ({ctx.command_path} [options] -- \"{formula}\")"
                    f' or after a space (" {formula}")'
                )
            raise


def _formula_and_point(command):
    """EXPR and --at: what every command that reads a formula takes."""
    command = click.option(
        "--at", "at", multiple=True, metavar="POINT", help=_AT_HELP, shell_complete=_completer("complete_point")
    )(command)
    return click.argument("expr", shell_complete=_completer("complete_formula"))(command)


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
