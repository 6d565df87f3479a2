"""The README's promises: its examples run as printed, its commands are the CI's."""

import doctest
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_python_examples_run_as_printed():
    failures, tried = doctest.testfile(str(ROOT / "README.md"), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert tried > 0
    assert failures == 0


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'pip install ".[test]" && pytest' in readme
    assert 'pip install ".[test]"\npytest\n' in ci


def _console_examples() -> list[tuple[str, str]]:
    """Each `$ adcli ...` line of the README's console blocks, with the lines it shows."""
    examples = []
    for block in re.findall(r"```console\n(.*?)```", (ROOT / "README.md").read_text(), re.S):
        for command, shown in re.findall(r"^\$ (adcli [^\n|]*)\n((?:(?!\$ ).*\n?)*)", block, re.M):
            examples.append((command, shown.rstrip("\n")))
    return examples


@pytest.mark.parametrize(("command", "shown"), _console_examples())
def test_console_examples_print_as_shown(command, shown):
    """Standard error (warnings, errors) comes first, as a terminal shows it here."""
    env = {**os.environ, "COLUMNS": "80"}
    env.pop("NO_COLOR", None)
    run = subprocess.run(
        [sys.executable, "-m", "adcli", *shlex.split(command)[1:]], capture_output=True, text=True, env=env
    )
    assert (run.stderr + run.stdout).rstrip("\n") == shown
