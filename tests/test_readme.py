"""The README's promises: its Python session runs as printed, its commands are the CI's."""

import doctest
from pathlib import Path

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
