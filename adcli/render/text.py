"""The result for people: value and partial derivatives; the traced table is render_trace's.

With a terminal on stdout this is a rich table; piped, it is plain aligned text with
no ANSI codes. rich is imported only in the first case (and for a trace).

Shared with the trace: new_console, a console never narrower than MIN_WIDTH (COLUMNS=0
would make rich print nothing), and fit, which lays a rich table out in the terminal's
width without ever splitting a number.
"""

from __future__ import annotations

import os
import re
import sys
from typing import TYPE_CHECKING, Any

from .numbers import human

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from ..engines.gradient import Result

PLAIN_ROWS = 200  # a summary longer than this that rich would fold is printed plain: rich takes seconds
MIN_WIDTH = 20  # tables for people are laid out at least this wide, whatever COLUMNS says (0, 5, junk)
TEXT_MIN = 12  # a text column gives way to its longest word, or to this many columns if that is longer
FOLD_MIN = 4  # and if that is not enough, it folds its words down to this many columns
_NUMBER = re.compile(r"(?<![\w.])[-+]?(\d+\.?\d*|\.\d+|inf\b|nan\b)")  # 2, -0.5, 1e20, -inf; not x1's 1


def rows(result: Result, gradient: bool, digits: int | None = None) -> list[tuple[str, str]]:
    """The value and, for grad, one partial derivative per variable, as (label, number) pairs."""
    if digits is None:
        number = human
    else:
        from .trace import number_text

        def number(x: float) -> str:
            return number_text(x, digits)

    out = [("value", number(result.value))]
    if gradient:
        out += [(f"∂/∂{name}", number(d)) for name, d in result.gradient.items()]
    return out


def render(
    result: Result,
    trace: bool,
    gradient: bool,
    digits: int | None = None,
    full: bool = False,
    fmt: str = "text",
    svg: str | None = None,
) -> None:
    """Print the result for a person; with ``trace``, the traced table first (see render_trace)."""
    body = rows(result, gradient, digits)
    if trace:
        from .trace import render as render_trace

        render_trace(result, gradient, digits=digits, full=full, fmt=fmt, svg=svg, summary=body)
        return
    if sys.stdout.isatty() and not _render_simple(body):
        _render_rich(body)
        return
    width = max(len(k) for k, _ in body)
    sys.stdout.write("\n".join(f"{k:<{width}}  {v}" for k, v in body) + "\n")


def _render_simple(body: list[tuple[str, str]]) -> bool:
    """On a terminal, print what rich would draw, without rich, if the layout is simple: every
    character one column wide and every row on one line. Past PLAIN_ROWS rows a table that does
    not fit is printed plain (as piped) rather than folded by rich. False: let rich lay it out."""
    width = _terminal_width()
    names = max(len(k) for k, _ in body)
    numbers = max(len(v) for _, v in body)
    if names + 2 + numbers <= width and all(_narrow(k) and _narrow(v) for k, v in body):
        bold, plain = ("", "") if os.environ.get("TERM", "").lower() in ("dumb", "unknown") else ("\x1b[1m", "\x1b[0m")
        sys.stdout.write("".join(f"{bold}{k:<{names}} {plain} {v:>{numbers}}\n" for k, v in body))
        return True
    return len(body) > PLAIN_ROWS


def _narrow(text: str) -> bool:
    """Each character takes one column: printable Latin (below U+0300), or the ∂ of a partial."""
    return text.isprintable() and all(ch < "\u0300" or ch == "∂" for ch in text)


def _terminal_width() -> int:
    """The width rich would lay out in: 80 on a dumb terminal, else COLUMNS if it is a number,
    else the size of the first standard stream that is a terminal, 80 if that says 0; and
    never under MIN_WIDTH (see new_console)."""
    if os.environ.get("TERM", "").lower() in ("dumb", "unknown"):
        return 80
    width = 0
    for fd in (0, 1, 2):
        try:
            width = os.get_terminal_size(fd).columns
        except (OSError, ValueError):
            continue
        break
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit():
        width = int(columns)
    return max(width or 80, MIN_WIDTH)


def new_console(**options: Any) -> Console:
    """A rich Console on stdout at least MIN_WIDTH columns wide: at COLUMNS=0 rich would print nothing."""
    from rich.console import Console

    console = Console(**options)
    if console.width < MIN_WIDTH:
        console.width = MIN_WIDTH
    return console


def fit(table: Table, width: int) -> Table:
    """Lay ``table`` out in ``width`` columns without ever splitting a number.

    Where the natural layout is too wide, the widest columns give way first, wrapping at
    spaces: down to their longest word (or TEXT_MIN), and if the table then fits only by
    folding words, down to FOLD_MIN. No column becomes narrower than a word of it that
    holds a number (0.693, v̇₀·0.2837, 1e20). A table that cannot fit is drawn wider than
    ``width``, words whole: better than cutting a number. Print it with crop=False.
    """
    from rich.cells import cell_len

    columns = table.columns
    natural, whole, least = [], [], []
    for column in columns:
        lines = [line for cell in [column.header, *column.cells] for line in str(cell).splitlines()]
        words = [word for line in lines for word in line.split()]
        numbers = max((cell_len(w) for w in words if _NUMBER.search(w)), default=0)
        natural.append(max(map(cell_len, lines), default=1))
        whole.append(min(max(min(max(map(cell_len, words), default=1), TEXT_MIN), numbers), natural[-1]))
        least.append(min(max(FOLD_MIN, numbers), natural[-1]))
    # The frame: the box's edges and rules, and the padding between cells (none at the edges: pad_edge is off).
    left, right = table.padding[3], table.padding[1]
    rule = 1 if table.box else 0
    room = width - 2 * rule * table.show_edge - (len(columns) - 1) * (left + right + rule)
    if sum(natural) <= room:  # rich's own layout: every column at its natural width
        table.width = None
        for column in columns:
            column.width = None
        return table
    if sum(whole) <= room or sum(least) > room:  # fold words only if that makes the table fit
        least = whole
    # Cut the widest columns down to a common level, none below its least width.
    level = _level(natural, least, room)
    widths = [max(low, min(high, level)) for high, low in zip(natural, least, strict=True)]
    spare = room - sum(widths)
    for k, (high, low) in enumerate(zip(natural, least, strict=True)):
        if spare > 0 and low <= level < high:  # one more column each, while the room lasts
            widths[k] += 1
            spare -= 1
    for column, w in zip(columns, widths, strict=True):
        column.width = w
    table.width = width - room + sum(widths)
    return table


def _level(natural: list[int], least: list[int], room: int) -> int:
    """The highest level L at which columns cut to max(least, min(natural, L)) fit in ``room``."""
    lo, hi = 0, max(natural)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if sum(max(low, min(high, mid)) for high, low in zip(natural, least, strict=True)) <= room:
            lo = mid
        else:
            hi = mid - 1
    return lo


def summary_table(body: list[tuple[str, str]]) -> Table:
    """The value and gradient as a rich table: names left, numbers right."""
    from rich.table import Table
    from rich.text import Text

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold", overflow="fold")
    table.add_column(justify="right", overflow="fold")
    for k, v in body:
        table.add_row(Text(k), Text(v))
    return table


def _render_rich(body: list[tuple[str, str]]) -> None:
    console = new_console()
    console.print(fit(summary_table(body), console.width), crop=False)
