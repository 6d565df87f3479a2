"""The result for people: value and partial derivatives; the traced table is render_trace's.

With a terminal on stdout this is a rich table; piped, it is plain aligned text with
no ANSI codes. rich is imported only in the first case (and for a trace). The table
layout (new_console, fit, summary_table) is render/console.py's, shared with the trace.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from .console import MIN_WIDTH, fit, new_console, summary_table
from .numbers import human

if TYPE_CHECKING:
    from ..engines.gradient import Result

PLAIN_ROWS = 200  # a summary longer than this that rich would fold is printed plain: rich takes seconds


def rows(result: Result, gradient: bool, digits: int | None = None) -> list[tuple[str, str]]:
    """The value and, for grad, one partial derivative per variable, as (label, number) pairs."""
    if digits is None:
        number = human
    else:
        from .trace import number_text

        def number(x: float | None) -> str:
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


def _render_rich(body: list[tuple[str, str]]) -> None:
    console = new_console()
    console.print(fit(summary_table(body), console.width), crop=False)
