"""adcli's exceptions: each carries the exit code the command line reports."""

from __future__ import annotations


class AdcliError(Exception):
    """A mistake in what the user gave adcli; the message is written for them."""

    exit_code = 2


class ParseError(AdcliError):
    """The formula is not valid adcli; shows the text with a caret under the column."""

    def __init__(self, message: str, text: str, pos: int, hint: str | None = None, expected: str | None = None):
        self.message = message
        self.text = text
        self.pos = pos
        self.hint = hint
        self.expected = expected
        super().__init__(self.render())

    @property
    def line(self) -> int:
        return self.text.count("\n", 0, self.pos) + 1

    @property
    def column(self) -> int:
        return self.pos - (self.text.rfind("\n", 0, self.pos) + 1) + 1

    def render(self) -> str:
        where = f"line {self.line}, column {self.column}" if "\n" in self.text else f"column {self.column}"
        parts = [f"{self.message} ({where})", caret_display(self.text, self.pos)]
        if self.expected:
            parts.append(f"  expected {self.expected}")
        if self.hint:
            parts.append(f"  hint: {self.hint}")
        return "\n".join(parts)


class PointError(AdcliError):
    """The point (--at) is malformed, misses a variable or names one the formula lacks."""


class ArgumentError(AdcliError):
    """A Python API call got an argument it does not take: a formula that is not a string,
    an unknown mode, a ``wrt`` that is not variable names."""


class EvaluationError(AdcliError):
    """An evaluation that could not produce a result (exit code 1)."""

    exit_code = 1


def kind_of(value: object) -> str:
    """A Python value by its type, for a message that must not show a repr: None, a list, an int."""
    if value is None:
        return "None"
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


_WINDOW = 60  # characters of context shown left of the caret


def _printable(ch: str) -> str:
    return ch if ch.isprintable() else "?"


def caret_display(text: str, pos: int) -> str:
    """Two lines: the line of ``text`` holding ``pos`` (cut to a window) and a caret under ``pos``."""
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    end = len(text) if end < 0 else end
    left = max(start, pos - _WINDOW)
    right = min(end, pos + _WINDOW // 2)
    prefix = "…" if left > start else ""
    suffix = "…" if right < end else ""
    shown = "".join(_printable(ch) for ch in text[left:right])
    return f"  {prefix}{shown}{suffix}\n  {' ' * (len(prefix) + pos - left)}^"


def counted(n: int, word: str, plural: str | None = None) -> str:
    """``n`` and the noun in the number it takes: 1 entry, 2 entries, 1,000 rows."""
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"
