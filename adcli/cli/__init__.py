"""The command line: one module per command family, and shell completion.

``main`` imports the commands only when it runs, inside its Ctrl-C handling, so an
interrupt during start-up exits 130 without a traceback like one at any other time.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .commands import cli

__all__ = ["cli", "main"]


def main() -> None:
    """Entry point of the adcli script and of python -m adcli (see commands.main)."""
    try:
        from .commands import main as run

        run()
    except KeyboardInterrupt:  # before run() took over (it handles Ctrl-C itself)
        sys.exit(130)  # commands.INTERRUPTED


def __getattr__(name: str) -> Any:
    if name == "cli":
        from .commands import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
