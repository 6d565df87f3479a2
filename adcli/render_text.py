"""The result for people: value and partial derivatives; the traced table is render_trace's.

With a terminal on stdout this is a rich table; piped, it is plain aligned text with
no ANSI codes. rich is imported only in the first case (and for a trace).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from .numbers import human

if TYPE_CHECKING:
    from .result import Result


def rows(result: Result, gradient: bool, digits: int | None = None) -> list[tuple[str, str]]:
    """The value and, for grad, one partial derivative per variable, as (label, number) pairs."""
    if digits is None:
        number = human
    else:
        from .render_trace import number_text

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
        from .render_trace import render as render_trace

        render_trace(result, gradient, digits=digits, full=full, fmt=fmt, svg=svg, summary=body)
        return
    if sys.stdout.isatty() and not os.environ.get("ADCLI_PLAIN"):
        _render_rich(body)
        return
    width = max(len(k) for k, _ in body)
    sys.stdout.write("\n".join(f"{k:<{width}}  {v}" for k, v in body) + "\n")


def _render_rich(body: list[tuple[str, str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for k, v in body:
        table.add_row(k, v)
    Console().print(table)
