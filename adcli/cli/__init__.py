"""The command line: one module per command family, and shell completion."""

from .commands import cli, main

__all__ = ["cli", "main"]
