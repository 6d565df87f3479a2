"""The value and gradient for people on a terminal: without rich where rich would draw the same."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from adcli.render import text

ANSI = re.compile(r"\x1b\[[0-9;]*m")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def by_rich(body, width):
    console = Console(file=io.StringIO(), force_terminal=True, width=width)
    console.print(text.fit(text.summary_table(body), console.width), crop=False)
    return console.file.getvalue()


def by_us(body, monkeypatch, width):
    out = Terminal()
    monkeypatch.setattr("sys.stdout", out)
    monkeypatch.setenv("COLUMNS", str(width))
    monkeypatch.delenv("TERM", raising=False)
    simple = text._render_simple(body)
    return simple, out.getvalue()


@pytest.mark.parametrize(
    "body",
    [
        [("value", "5"), ("∂/∂x", "6"), ("∂/∂y", "-4")],
        [("value", "0.7071067811865476"), ("∂/∂alpha_long_name", "-inf"), ("∂/∂b", "nan")],
        [("value", "1e+300")],
    ],
)
def test_a_simple_summary_on_a_terminal_looks_as_rich_draws_it(body, monkeypatch):
    simple, ours = by_us(body, monkeypatch, 80)
    assert simple
    rich = by_rich(body, 80)
    assert ANSI.sub("", ours) == ANSI.sub("", rich)
    assert ours.count("\x1b[1m") == len(body)  # the names in bold, as rich has them


def test_a_summary_too_wide_for_the_terminal_is_left_to_rich_unless_it_is_long(monkeypatch):
    body = [("value", "1"), ("∂/∂" + "x" * 40, "-0.123456789")]
    simple, ours = by_us(body, monkeypatch, 30)
    assert not simple and ours == ""  # rich folds it to fit
    long = body + [(f"∂/∂y{i}", "1") for i in range(text.PLAIN_ROWS)]
    simple, ours = by_us(long, monkeypatch, 30)
    assert simple and ours == ""  # past PLAIN_ROWS: the caller prints the plain layout


def test_characters_of_other_widths_are_left_to_rich(monkeypatch):
    simple, _ = by_us([("value", "1"), ("∂/∂ｘ", "2")], monkeypatch, 80)
    assert not simple
