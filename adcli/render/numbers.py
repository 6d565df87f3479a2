"""How numbers look to people (JSON has its own rules in jsonout)."""

from __future__ import annotations


def human(x: float | None) -> str:
    """Shortest round-trip text, without a trailing '.0': 5, -4, 0.1, 1e+16, inf, nan."""
    if x is None:
        return "0"
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text
