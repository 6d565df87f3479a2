"""The result for people: value and partial derivatives, and a plain trace listing.

With a terminal on stdout this is a rich table; piped, it is plain aligned text with
no ANSI codes. rich is imported only in the first case.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from .numbers import human

if TYPE_CHECKING:
    from .result import Result


def rows(result: Result, gradient: bool) -> list[tuple[str, str]]:
    out = [("value", human(result.value))]
    if gradient:
        out += [(f"∂/∂{name}", human(d)) for name, d in result.gradient.items()]
    return out


def trace_lines(result: Result, gradient: bool) -> list[str]:
    """A plain listing: one line per node, in evaluation order."""
    graph = result.graph
    lines = []
    for i in range(len(graph)):
        label = graph.labels.get(i)
        text = graph.expression(i, 40)
        if label:
            text = f"{label} = {text}"
        line = f"{i:>4}  {graph.ops[i].name:<7} {text:<40}  {human(result.values[i])}"
        if gradient and result.tangents is not None:
            line += "  tangent " + " ".join(f"{n}:{human(d[i])}" for n, d in result.tangents.items())
        elif gradient and result.adjoints is not None:
            line += f"  adjoint {human(result.adjoints[i])}"
        lines.append(line)
    return lines


def render(result: Result, trace: bool, gradient: bool) -> None:
    body = rows(result, gradient)
    if sys.stdout.isatty() and not os.environ.get("ADCLI_PLAIN"):
        _render_rich(result, body, trace, gradient)
        return
    width = max(len(k) for k, _ in body)
    out = [f"{k:<{width}}  {v}" for k, v in body]
    if trace:
        out = [*trace_lines(result, gradient), "", *out]
    sys.stdout.write("\n".join(out) + "\n")


def _render_rich(result: Result, body, trace: bool, gradient: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if trace:
        for line in trace_lines(result, gradient):
            console.print(line, highlight=False, markup=False)
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for k, v in body:
        table.add_row(k, v)
    console.print(table)
