"""The command line: one module per command family, and shell completion."""

from . import derivatives  # noqa: F401  (registers jacobian, hessian, jvp, vjp and check)
from .commands import cli, main

__all__ = ["cli", "main"]
