"""``adcli grad|eval EXPR --points FILE``: one graph, every row of a file, streamed in chunks.

Chunks of rows come in (lang/rows.py), run through the vectorised engine (engines/batch.py)
and go out (render/rows.py) before the next is read, so memory stays flat. numpy and
orjson are imported here only once a batch runs; the options cost a plain ``adcli grad``
nothing.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import click

from ..errors import AdcliError, PointError

if TYPE_CHECKING:
    from rich.progress import Progress

CHUNK_ROWS = 65536  # rows in memory at a time (see "Batches of points" in the README)


def _complete_columns(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    from . import completion

    return completion.complete_columns(ctx, param, incomplete)


_OPTIONS = ("points", "input_format", "keep", "output_format", "out", "skip_bad")

_BATCH_OPTIONS = (  # listed in --help in this order
    click.option(
        "--points",
        metavar="FILE",
        type=click.Path(dir_okay=False, allow_dash=True),
        help="Evaluate at every row of FILE ('-' for standard input): CSV with a header of names, or JSON Lines.",
    ),
    click.option(
        "--input",
        "input_format",
        type=click.Choice(["csv", "jsonl"]),
        help="The format of --points (default: JSON Lines if it starts with '{', else CSV).",
    ),
    click.option(
        "--keep",
        metavar="NAMES",
        help="Columns of --points to pass through to each output row (id,label).",
        shell_complete=_complete_columns,
    ),
    click.option(
        "--output",
        "output_format",
        type=click.Choice(["jsonl", "csv", "npy"]),
        help="With --points: JSON Lines (default), CSV, or a .npy array (needs --out).",
    ),
    click.option("--out", metavar="FILE", type=click.Path(dir_okay=False), help="With --points: write to FILE."),
    click.option("--skip-bad", is_flag=True, help="With --points: skip rows that cannot be read, and count them."),
)


def batch_options(command):
    """--points and the options that shape a batch."""
    for option in reversed(_BATCH_OPTIONS):
        command = option(command)
    return command


def split(view: dict[str, Any]) -> dict[str, Any] | None:
    """Take the batch options out of ``view``: them, if --points is given; else None (and none may be set)."""
    options = {name: view.pop(name) for name in _OPTIONS}
    if options["points"] is None:
        given = [f"--{name.replace('_format', '').replace('_', '-')}" for name in _OPTIONS[1:] if options[name]]
        if given:
            raise click.UsageError(f"{given[0]} goes with --points FILE")
        return None
    return options


def answer(
    expr: str,
    at: tuple[str, ...],
    options: dict[str, Any],
    refused: dict[str, Any],
    mode: str = "reverse",
    wrt: tuple[str, ...] = (),
    gradient: bool = True,
) -> None:
    """Check the options, then run the batch; errors leave as one message and the exit code."""
    from .commands import _run

    for flag, given in refused.items():
        if given:
            raise click.UsageError(f"{flag} does not go with --points: each row gets one line of output")
    fmt = options["output_format"] or "jsonl"
    if fmt == "npy" and not options["out"]:
        raise click.UsageError("--output npy needs --out FILE: a .npy file is written in place, not piped")
    _run(lambda: run(expr, at, options, mode, wrt, gradient))


def _names(text: str | None, what: str) -> list[str]:
    if text is None:
        return []
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise AdcliError(f"{what} needs at least one name")
    return names


class _Counter:
    """Rows of one kind (not finite, at a kink): how many, and the first one's line."""

    def __init__(self) -> None:
        self.count = 0
        self.first = 0

    def add(self, mask, lines) -> None:
        import numpy as np

        found = np.flatnonzero(mask)
        if len(found):
            if not self.count:
                self.first = int(lines[found[0]])
            self.count += len(found)


def _rows(n: int) -> str:
    return f"{n:,} row{'s' * (n != 1)}"


def run(
    expr: str, at: tuple[str, ...], options: dict[str, Any], mode: str, wrt: tuple[str, ...], gradient: bool
) -> None:
    """Parse, compile once, then read, compute and write chunk after chunk."""
    import numpy as np

    from ..engines.batch import compile_batch
    from ..engines.batch import run as run_chunk
    from ..lang.parser import parse
    from ..lang.rows import RowReader
    from ..render.rows import WRITERS
    from .commands import _split_names, read_formula, read_point

    graph = parse(read_formula(expr))
    graph.require_one_output("grad" if gradient else "eval")
    fixed = read_point(at)
    for name in fixed:
        if name not in graph.variables:
            raise PointError("the point " + graph._unknown_message(name))
    keep = _names(options["keep"], "--keep")
    for name in keep:
        if name in graph.variables:
            raise AdcliError(f"--keep names '{name}', a variable of the formula: its values are read, not kept")
        if name in ("value", "gradient"):
            raise AdcliError(f"--keep cannot pass a column called '{name}': the output has its own")
    fmt = options["output_format"] or "jsonl"
    if fmt == "npy" and keep:
        raise AdcliError("--keep does not go with --output npy: a .npy file holds numbers only")
    program = compile_batch(graph, _split_names(wrt) if gradient else (), mode, gradient)
    names = [name for name in graph.variables if name not in fixed]

    def unknown(name: str) -> str:
        if name in fixed:
            return f"gives '{name}', which --at fixes for every row"
        return graph._unknown_message(name) + f"; to pass it through, add --keep {name}"

    path = options["points"]
    source = "standard input" if path == "-" else f"'{path}'"
    try:
        stream = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115 (closed below)
    except OSError as error:
        raise AdcliError(f"cannot read the points file '{path}': {error.strerror or error}") from None
    size = None if path == "-" else os.fstat(stream.fileno()).st_size
    out_path = options["out"]
    try:
        sink = open(out_path, "wb") if out_path else sys.stdout.buffer  # noqa: SIM115
    except OSError as error:
        stream.close()
        raise AdcliError(f"cannot write the output file '{out_path}': {error.strerror or error}") from None
    nonfinite, kinks, rows = _Counter(), _Counter(), 0
    writer = None
    try:
        if not out_path:
            sys.stdout.flush()
        reader = RowReader(
            stream, names, keep, options["input_format"], CHUNK_ROWS, options["skip_bad"], source, unknown
        )
        writer = WRITERS[fmt](sink, keep, program.wrt if gradient else None)
        with _progress(size) as advance:
            for chunk in reader.chunks():
                n = len(chunk)
                columns = chunk.columns
                inputs = [columns[x] if x in columns else np.full(n, fixed[x]) for x in graph.variables]
                result = run_chunk(program, inputs, n)
                nonfinite.add(result.nonfinite(), chunk.lines)
                if result.kinks is not None:
                    kinks.add(result.kinks, chunk.lines)
                writer.write(result.value, result.gradient, chunk.kept)
                rows += n
                advance(reader.bytes_read, rows)
    finally:
        if writer is not None:
            writer.close()
        if path != "-":
            stream.close()
        if out_path:
            sink.close()
    _summary(reader, nonfinite, kinks, gradient)


def _summary(reader, nonfinite: _Counter, kinks: _Counter, gradient: bool) -> None:
    """Once per run, on standard error: rows skipped, rows not finite, rows at a kink."""
    if reader.skipped:
        first = reader.first_bad
        click.echo(f"warning: skipped {_rows(reader.skipped)} that could not be read (the first: {first})", err=True)
    what = "value or gradient" if gradient else "value"
    if nonfinite.count:
        click.echo(
            f"warning: {_rows(nonfinite.count)} with a {what} that is not finite (the first at line {nonfinite.first})",
            err=True,
        )
    if kinks.count:
        click.echo(
            f"warning: {_rows(kinks.count)} at a point where an operation has no derivative (the first at line "
            f"{kinks.first}): adcli uses its convention there (see Numerical conventions in the README)",
            err=True,
        )


class _progress:
    """A rich progress bar on standard error when it is a terminal; nothing on a pipe."""

    def __init__(self, size: int | None):
        self.size = size
        self.bar: Progress | None = None

    def __enter__(self):
        if not sys.stderr.isatty():
            return lambda done, rows: None
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        bar = self.bar = Progress(
            TextColumn("{task.fields[rows]} rows"),
            BarColumn(),
            TextColumn("{task.fields[rate]} rows/s"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        bar.__enter__()
        task = bar.add_task("points", total=self.size, rows="0", rate="–")
        import time

        start = time.perf_counter()

        def advance(done: int, rows: int) -> None:
            elapsed = max(time.perf_counter() - start, 1e-9)
            bar.update(task, completed=done, rows=f"{rows:,}", rate=f"{rows / elapsed:,.0f}")

        return advance

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)
