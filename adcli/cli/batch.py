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

from ..errors import AdcliError, EvaluationError, PointError
from .common import _run, _split_names, read_formula, read_point

if TYPE_CHECKING:
    from rich.progress import Progress

CHUNK_ROWS = 65536  # rows in memory at a time (see "Batches of points" in the README)
CHUNK_NUMBERS = 32 * 65536  # results a chunk of jacobian, jvp or hessian rows holds at most


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
    click.option(
        "--out",
        metavar="FILE",
        type=click.Path(dir_okay=False),
        help="With --points: write to FILE ('-': standard output).",
    ),
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
    _refuse(options, refused)
    _run(lambda: run(expr, at, options, mode, wrt, gradient))


def _refuse(options: dict[str, Any], refused: dict[str, Any]) -> None:
    """The one-point output options do not go with --points; nor a .npy file without --out."""
    for flag, given in refused.items():
        if given:
            raise click.UsageError(f"{flag} does not go with --points: each row gets one line of output")
    fmt = options["output_format"] or "jsonl"
    if fmt == "npy" and options["out"] in (None, "-"):
        raise click.UsageError("--output npy needs --out FILE: a .npy file is written in place, not piped")


def _names(text: str | None, what: str) -> list[str]:
    if text is None:
        return []
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise AdcliError(f"{what} needs at least one name")
    twice = next((name for k, name in enumerate(names) if name in names[:k]), None)
    if twice is not None:
        raise AdcliError(f"{what} names '{twice}' twice")
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
    from ..engines.batch import compile_batch
    from ..engines.batch import run as run_chunk
    from ..render.rows import WRITERS

    graph, fixed, keep = _prepare(expr, at, options, "grad" if gradient else "eval", ("value", "gradient"))
    program = compile_batch(graph, _split_names(wrt) if gradient else (), mode, gradient)
    fmt = options["output_format"] or "jsonl"

    def compute(inputs, rows, kept, writer):
        result = run_chunk(program, inputs, rows)
        writer.write(result.value, result.gradient, kept)
        return result

    def open_writer(sink):
        return WRITERS[fmt](sink, keep, program.wrt if gradient else None)

    _stream(graph, fixed, keep, options, open_writer, compute, "value or gradient" if gradient else "value")


def _prepare(expr: str, at: tuple[str, ...], options: dict[str, Any], command: str, keys: tuple[str, ...]):
    """The graph, the variables --at fixes, and the columns to keep, each checked."""
    from ..lang.parser import parse

    graph = parse(read_formula(expr))
    if command in ("grad", "eval", "hessian"):
        graph.require_one_output("a Hessian" if command == "hessian" else command)
    fixed = read_point(at)
    for name in fixed:
        if name not in graph.variables:
            raise PointError("the point " + graph._unknown_message(name))
    keep = _names(options["keep"], "--keep")
    for name in keep:
        if name in graph.variables:
            raise AdcliError(f"--keep names '{name}', a variable of the formula: its values are read, not kept")
        if name in keys:
            raise AdcliError(f"--keep cannot pass a column called '{name}': the output has its own")
    if (options["output_format"] or "jsonl") == "npy" and keep:
        raise AdcliError("--keep does not go with --output npy: a .npy file holds numbers only")
    return graph, fixed, keep


def _stream(
    graph,
    fixed: dict[str, float],
    keep: list[str],
    options: dict[str, Any],
    open_writer,
    compute,
    what: str,
    chunk_rows: int | None = None,
):
    """Read the points chunk by chunk (of ``chunk_rows``, CHUNK_ROWS unless given); ``compute(inputs,
    rows, kept, writer)`` computes and writes each and returns its result (its nonfinite() rows and
    kinks are counted for the summary)."""
    import numpy as np

    from ..lang.rows import RowReader

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
    out_path = None if options["out"] == "-" else options["out"]  # "-": standard output, as for --points
    if out_path and path != "-" and os.path.exists(out_path) and os.path.samefile(path, out_path):
        stream.close()  # opening the output would empty the input before a row is read
        raise AdcliError(f"--out '{out_path}' is the points file itself: write the results to another file")
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
            stream, names, keep, options["input_format"], chunk_rows or CHUNK_ROWS, options["skip_bad"], source, unknown
        )
        writer = open_writer(sink)
        with _progress(size) as advance:
            for chunk in reader.chunks():
                n = len(chunk)
                columns = chunk.columns
                inputs = [columns[x] if x in columns else np.full(n, fixed[x]) for x in graph.variables]
                result = compute(inputs, n, chunk.kept, writer)
                nonfinite.add(result.nonfinite(), chunk.lines)
                if result.kinks is not None:
                    kinks.add(result.kinks, chunk.lines)
                rows += n
                advance(reader.bytes_read, rows)
    finally:
        if writer is not None:
            writer.close()
        if path != "-":
            stream.close()
        if out_path:
            sink.close()
    _summary(reader, nonfinite, kinks, what)
    if reader.skipped and not rows:
        raise EvaluationError(f"no row could be read ({_rows(reader.skipped)} skipped): there is no result")


def answer_derivatives(
    command: str, expr: str, at: tuple[str, ...], options: dict[str, Any], refused: dict[str, Any], **params: Any
) -> None:
    """jacobian, jvp, hessian with --points: check the options, then run the batch."""
    _refuse(options, refused)
    _run(lambda: run_derivatives(command, expr, at, options, **params))


def run_derivatives(command: str, expr: str, at: tuple[str, ...], options: dict[str, Any], **params: Any) -> None:
    """A Jacobian, J·v, Hessian or H·d per row, laid out as the one-point --json (see _layout)."""
    from ..engines import batch_derivatives as engine
    from ..render import rows as render

    hvp = command == "hessian" and bool(params.get("direction"))
    keys = {"jacobian": ("value", "jacobian"), "jvp": ("value", "jvp")}.get(
        command, ("value", "gradient", "hvp" if hvp else "hessian")
    )
    graph, fixed, keep = _prepare(expr, at, options, command, keys)
    wrt = _split_names(params.get("wrt", ()))
    if command == "jacobian":
        program = engine.compile_jacobian(graph, wrt, params["mode"])
    elif command == "jvp":
        program = engine.compile_jvp(graph, read_point(params["direction"], "--dir"))
    else:
        program = engine.compile_hessian(graph, wrt, read_point(params["direction"], "--dir") if hvp else None)
    blocks, shape, index = _layout(command if not hvp else "hvp", len(graph.outputs), program.wrt)
    fmt = options["output_format"] or "jsonl"

    def open_writer(sink):
        if fmt == "npy":
            return render.BlocksNpy(sink, shape, index)
        return (render.BlocksCsv if fmt == "csv" else render.BlocksJsonLines)(sink, keep, blocks)

    def compute(inputs, rows, kept, writer):
        result = engine.run_blocks(program, inputs, rows)
        writer.write(result.flat(), kept)
        return result

    # A row of a Hessian holds 1 + n + n² numbers: fewer rows to a chunk, so as many numbers.
    width = sum(len(registers) for _, registers in program.blocks.values())
    chunk_rows = max(256, min(CHUNK_ROWS, CHUNK_NUMBERS // max(width, 1)))
    _stream(graph, fixed, keep, options, open_writer, compute, "value or derivative", chunk_rows)


def _layout(kind: str, m: int, names: tuple[str, ...]):
    """The blocks of an output row (JSON keys and CSV columns), and the .npy shape per row with the
    index of each entry in the row's numbers (blocks in order, row-major within each).

    - jacobian: "value" [m], "jacobian" [[n] × m]; CSV f1…, df1/dx…; npy (m, 1 + n): per output
      its value, then its row of the Jacobian (a one-output file is grad's rows).
    - jvp: "value" [m], "jvp" [m]; CSV f1…, jvp:f1…; npy (m, 2): per output its value and J·v.
    - hessian: "value", "gradient" {x: …}, "hessian" [[n] × n]; CSV value, d/dx…, d2/dx*dy…;
      npy (1 + n, 1 + n): the bordered matrix [[f, ∇fᵀ], [∇f, H]].
    - hvp: "value", "gradient" {x: …}, "hvp" {x: …}; CSV value, d/dx…, hvp:x…; npy (1 + 2n,).
    """
    import numpy as np

    from ..render.rows import Block

    index: np.ndarray
    n = len(names)
    fs = [f"f{o + 1}" for o in range(m)]
    if kind == "jacobian":
        blocks = [
            Block("value", (m,), fs),
            Block("jacobian", (m, n), [f"d{f}/d{x}" for f in fs for x in names]),
        ]
        index = np.empty((m, 1 + n), dtype=np.intp)
        index[:, 0] = np.arange(m)
        index[:, 1:] = m + np.arange(m * n).reshape(m, n)
    elif kind == "jvp":
        blocks = [Block("value", (m,), fs), Block("jvp", (m,), [f"jvp:{f}" for f in fs])]
        index = np.stack([np.arange(m), m + np.arange(m)], axis=1)
    else:
        blocks = [Block("value", (), ["value"]), Block("gradient", (n,), [f"d/d{x}" for x in names], names)]
        if kind == "hvp":
            blocks.append(Block("hvp", (n,), [f"hvp:{x}" for x in names], names))
            index = np.arange(1 + 2 * n)
        else:
            blocks.append(Block("hessian", (n, n), [f"d2/d{x}*d{y}" for x in names for y in names]))
            index = np.empty((1 + n, 1 + n), dtype=np.intp)
            index[0, 0] = 0
            index[0, 1:] = index[1:, 0] = 1 + np.arange(n)
            index[1:, 1:] = 1 + n + np.arange(n * n).reshape(n, n)
    return blocks, index.shape, index


def _summary(reader, nonfinite: _Counter, kinks: _Counter, what: str) -> None:
    """Once per run, on standard error: rows skipped, rows whose ``what`` is not finite, rows at a kink."""
    if reader.skipped:
        first = reader.first_bad
        click.echo(f"warning: skipped {_rows(reader.skipped)} that could not be read (the first: {first})", err=True)
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
