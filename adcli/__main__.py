"""python -m adcli: the same command line as the adcli script."""

from .cli import main

main()
