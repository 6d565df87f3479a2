"""Fixtures shared by the tests (the helpers themselves live in oracles.py)."""

import pytest
from oracles import run_adcli


@pytest.fixture
def adcli_run():
    """Run adcli as a separate process: adcli_run("grad", "x*y", "--at", "x=1,y=2")."""
    return run_adcli
