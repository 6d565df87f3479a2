"""Jacobians, Hessians, directional derivatives and gradient checks, for people.

On a terminal a small result is a rich table labelled by output and variable; piped,
or past LARGE cells, it is plain text with no ANSI codes, written row by row (a
1000 × 1000 Hessian is a million numbers: each row is one join of ready strings, and
a structural zero is the string "0" without formatting a float).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from .numbers import human

if TYPE_CHECKING:
    from ..engines.results import CheckResult, DirectionalResult, HessianResult, JacobianResult

LARGE = 2_000  # cells past which people get the plain layout on a terminal too
ALIGN_COLUMNS = 60  # columns up to which the plain layout aligns them


def _number(digits: int | None) -> Callable[[float], str]:
    if digits is None:
        return human
    return lambda x: f"{float(x):.{digits}g}"


def _rich_ok(cells: int) -> bool:
    return sys.stdout.isatty() and cells <= LARGE


def _print_rich(table) -> None:
    from .console import fit, new_console

    console = new_console()
    console.print(fit(table, console.width), crop=False)


def _matrix_table(corner: str, rows: list[str], columns: list[str], cells: list[list[str]]):
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column(Text(corner), style="bold", overflow="fold")
    for name in columns:
        table.add_column(Text(name), justify="right", overflow="fold")
    for label, row in zip(rows, cells, strict=True):
        table.add_row(Text(label), *(Text(c) for c in row))
    return table


def write_matrix(corner: str, rows: list[str], columns: list[str], cells: list[list[str]]) -> None:
    """A labelled matrix: rich on a terminal when small, else plain rows."""
    if _rich_ok(len(rows) * max(1, len(columns))):
        _print_rich(_matrix_table(corner, rows, columns, cells))
        return
    out = sys.stdout
    label_width = max(map(len, [corner, *rows]))
    if len(columns) <= ALIGN_COLUMNS:
        widths = [max([len(name), *(len(row[j]) for row in cells)]) for j, name in enumerate(columns)]
        out.write(
            "  ".join([corner.ljust(label_width), *(n.rjust(w) for n, w in zip(columns, widths, strict=True))]).rstrip()
            + "\n"
        )
        for label, row in zip(rows, cells, strict=True):
            parts = [label.ljust(label_width), *(c.rjust(w) for c, w in zip(row, widths, strict=True))]
            out.write("  ".join(parts) + "\n")
        return
    out.write(" ".join([corner, *columns]) + "\n")
    out.writelines(" ".join([label, *row]) + "\n" for label, row in zip(rows, cells, strict=True))


def _write_sparse_rows(
    corner: str,
    rows: list[str],
    columns: list[str],
    matrix: list[list[float]],
    entries: list[tuple[int, int]],
    number: Callable[[float], str],
) -> None:
    """What write_matrix prints in its unaligned plain layout, from the entries alone: each run
    of structural zeros between them is one slice of a ready " 0 0 ..." string."""
    out = sys.stdout
    header = " ".join([corner, *columns]) + "\n"
    n = len(columns)
    by_row: list[list[int]] = [[] for _ in rows]
    for i, j in entries:
        by_row[i].append(j)
    buffer = getattr(out, "buffer", None)
    if buffer is not None and str(getattr(out, "encoding", "")).lower() in ("utf-8", "utf8"):
        # Bytes: the labels' ∂ would make every joined row a wide string, encoded again on the way out.
        zeros = b" 0" * n
        lines = [header.encode()]
        for label, row, held in zip(rows, matrix, by_row, strict=True):
            parts, last = [label.encode()], 0
            for j in sorted(held):
                parts.append(zeros[: 2 * (j - last)])
                parts.append(b" " + number(row[j]).encode())
                last = j + 1
            parts.append(zeros[: 2 * (n - last)])
            parts.append(b"\n")
            lines.append(b"".join(parts))
        out.flush()
        buffer.write(b"".join(lines))
        return
    text_zeros = " 0" * n
    text_lines = [header]
    for label, row, held in zip(rows, matrix, by_row, strict=True):
        text_parts, last = [label], 0
        for j in sorted(held):
            text_parts.append(text_zeros[: 2 * (j - last)])
            text_parts.append(" " + number(row[j]))
            last = j + 1
        text_parts.append(text_zeros[: 2 * (n - last)])
        text_parts.append("\n")
        text_lines.append("".join(text_parts))
    out.write("".join(text_lines))


def write_pairs(pairs: list[tuple[str, str]]) -> None:
    """Label/number lines: rich on a terminal, aligned plain text when piped."""
    if _rich_ok(len(pairs)):
        from .console import summary_table

        _print_rich(summary_table(pairs))
        return
    width = max(len(k) for k, _ in pairs)
    sys.stdout.write("".join(f"{k:<{width}}  {v}\n" for k, v in pairs))


def render_jacobian(result: JacobianResult, digits: int | None = None) -> None:
    number = _number(digits)
    values = [(f"value {text}" if len(result.outputs) > 1 else "value", number(v)) for text, v in zip(
        result.outputs, result.values, strict=True)]  # fmt: skip
    write_pairs(values)
    sys.stdout.write("\n")
    write_matrix(
        "", list(result.outputs), [f"∂/∂{v}" for v in result.variables], [
            [number(x) for x in row] for row in result.matrix]
    )  # fmt: skip
    sweeps = result.sweeps
    chosen = "picked by auto: " if result.requested == "auto" else ""
    sys.stdout.write(
        f"\n{chosen}{result.mode} mode, {sweeps[result.mode]} sweep{'s' * (sweeps[result.mode] != 1)} "
        f"(forward mode takes {sweeps['forward']}, reverse mode {sweeps['reverse']})\n"
    )


def render_hessian(result: HessianResult, digits: int | None = None, sparse: bool = False) -> None:
    number = _number(digits)
    pairs = [("value", number(result.value))] + [(f"∂/∂{k}", number(v)) for k, v in result.gradient.items()]
    write_pairs(pairs)
    sys.stdout.write("\n")
    names = result.variables
    if sparse:
        write_pairs(
            [(f"∂²/∂{names[i]}∂{names[j]}", number(result.matrix[i][j])) for i, j in result.entries]
            or [("(no nonzero entries)", "")]
        )
    else:
        n = len(names)
        labels = [f"∂/∂{v}" for v in names]
        if n > ALIGN_COLUMNS and not _rich_ok(n * n):  # plain rows, unaligned: written from runs of zeros
            _write_sparse_rows("", labels, labels, result.matrix, result.entries, number)
        else:
            cells = [["0"] * n for _ in range(n)]
            matrix = result.matrix
            for i, j in result.entries:
                cells[i][j] = number(matrix[i][j])
            write_matrix("", labels, labels, cells)
    nnz = len(result.entries)
    sys.stdout.write(
        f"\n{result.sweeps} forward sweep{'s' * (result.sweeps != 1)} over the recorded gradient "
        f"({nnz} structurally nonzero entr{'ies' if nnz != 1 else 'y'} of {len(names) ** 2})\n"
    )


def render_directional(result: DirectionalResult, digits: int | None = None) -> None:
    number = _number(digits)
    pairs: list[tuple[str, str]] = []
    if result.kind == "hvp":
        pairs.append(("value", number(result.values[0])))
        pairs += [(f"∂/∂{k}", number(v)) for k, v in (result.gradient or {}).items()]
        pairs += [(f"(H·d)_{k}", number(v)) for k, v in result.product]
    elif result.kind == "jvp":
        many = len(result.outputs) > 1
        for text, v, (_, p) in zip(result.outputs, result.values, result.product, strict=True):
            pairs.append((f"value {text}" if many else "value", number(v)))
            pairs.append((f"J·v {text}" if many else "J·v", number(p)))
    else:
        many = len(result.outputs) > 1
        pairs += [(f"value {text}" if many else "value", number(v)) for text, v in zip(
            result.outputs, result.values, strict=True)]  # fmt: skip
        pairs += [(f"(vᵀJ)_{k}", number(v)) for k, v in result.product]
    write_pairs(pairs)


def render_check(result: CheckResult, digits: int | None = None) -> None:
    number = _number(digits)
    write_pairs([("value", number(result.value))])
    sys.stdout.write("\n")
    header = ["forward", "reverse", "differences", "± estimate"]
    if result.against:
        header.append("yours")
    header.append("agree")
    cells = []
    for row in result.rows:
        line = [number(row.forward), number(row.reverse), number(row.difference), f"{row.difference_error:.1e}"]
        if result.against:
            line.append(number(row.against) if row.against is not None else "–")
        line.append("yes" if row.agree else "NO")
        cells.append(line)
    write_matrix("∂/∂", [row.variable for row in result.rows], header, cells)
    notes = [f"{row.variable}: {row.note}" for row in result.rows if row.note]
    verdict = "all agree" if result.agree else "DISAGREE"
    tolerance = f"rtol {result.rtol:g}, atol {result.atol:g}"
    sys.stdout.write("".join(f"note: {n}\n" for n in notes) + f"\n{verdict} ({tolerance})\n")
