"""Command-line polish: --version, python -m adcli, help with examples, `adcli functions`,
friendly mistakes and a fast start."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

import adcli
from adcli.cli import cli
from adcli.core import ops


def test_version(adcli_run):
    for flag in ("--version", "-V"):
        run = adcli_run(flag)
        assert run.code == 0
        assert run.out == f"adcli, version {adcli.__version__}\n"


def test_python_dash_m_runs_the_same_cli(adcli_run):
    run = adcli_run("--help")  # adcli_run is `python -m adcli`
    assert run.code == 0
    assert run.out.startswith("Usage: adcli [OPTIONS] COMMAND")
    run = adcli_run("eval", "hypot(3, 4)", "--json")
    assert run.code == 0, run.err
    assert json.loads(run.out)["value"] == 5.0


def _help(args: list[str]) -> str:
    result = CliRunner().invoke(cli, [*args, "--help"], prog_name="adcli", terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output


def _examples(text: str) -> list[str]:
    lines = text.split("Examples:\n", 1)[1].splitlines()
    examples = []
    for line in lines:
        if not line.startswith("    "):
            break
        examples.append(line.strip())
    return examples


COMMANDS = sorted(cli.list_commands(click.Context(cli)))


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_has_a_description_and_examples(command):
    args = [] if command is None else [command]
    text = _help(args)
    description = text.split("\n\n", 2)[1].strip()
    assert len(description) > 10 and not description.startswith("Options")
    assert "Examples:" in text, f"adcli {command or ''} --help has no examples"
    examples = _examples(text)
    assert 2 <= len(examples) <= 3, examples
    assert all("adcli" in e for e in examples)
    if command is not None:
        assert any(f"adcli {command}" in e for e in examples)
        assert cli.get_command(click.Context(cli), command).get_short_help_str(limit=45).rstrip(".") != ""


def _runnable_examples():
    for command in [None, *COMMANDS]:
        text = _help([] if command is None else [command])
        for example in _examples(text):
            if example.startswith("adcli ") and not re.search(r"[|>@#]", example):
                yield example


@pytest.mark.parametrize("example", list(_runnable_examples()))
def test_examples_in_help_run(example):
    """Examples that need no file and no pipe run as printed, so the help cannot rot."""
    result = CliRunner().invoke(cli, shlex.split(example)[1:], prog_name="adcli")
    assert result.exit_code == 0, result.output
    assert result.output


def test_there_are_runnable_examples():
    assert len(list(_runnable_examples())) >= 5


# adcli functions: from the one table, never a second list.


def _listed_names() -> set[str]:
    operators = {op.name for op in ops.OPERATIONS if op.symbol}
    return operators | set(ops.FUNCTIONS)


def test_functions_lists_every_callable_name_and_rule():
    result = CliRunner().invoke(cli, ["functions"], terminal_width=200)
    assert result.exit_code == 0
    text = result.output
    lines = text.splitlines()
    for name, forms in ops.FUNCTIONS.items():
        for arity, op in forms.items():
            args = "a, b, …" if name in ops.FOLDABLE else ", ".join("ab"[:arity])
            line = next((ln for ln in lines if ln.startswith(f"{name}({args}) ")), None)
            assert line is not None, (name, arity)
            assert line.endswith("; ".join(f"∂v/∂{x} = {rule}" for x, rule in zip("ab", op.rule, strict=False)))
    for op in ops.OPERATIONS:
        if op.symbol:
            assert any(ln.startswith(f"a {op.symbol} b") or ln.startswith(f"{op.symbol}a") for ln in lines)
    assert "∂v/∂a = cos(a)" in text
    assert "∂v/∂a = 1/b; ∂v/∂b = -v/b" in text
    assert text.rstrip().endswith("constants: " + ", ".join(ops.CONSTANTS))


def test_functions_json_matches_the_table(adcli_run):
    run = adcli_run("functions", "--json")
    assert run.code == 0, run.err
    obj = json.loads(run.out)
    assert obj["constants"] == ops.CONSTANTS
    entries = obj["operations"]
    assert {e["name"] for e in entries} == _listed_names()
    for entry in entries:
        op = ops.BY_NAME[entry["operation"]]
        assert entry["arity"] == op.arity
        assert entry["summary"] == op.summary
        assert list(entry["rules"].values()) == list(op.rule)
        assert list(entry["rules"]) == ["a", "b"][: op.arity]
    log_forms = {e["arity"]: e["operation"] for e in entries if e["name"] == "log"}
    assert log_forms == {1: "log", 2: "logb"}


def test_functions_follows_the_table(monkeypatch):
    """A new table entry shows up in `adcli functions` with nothing else changed."""
    gamma = ops.Op("gamma", 1, lambda a: a, (lambda a, v: v * a,), ("v*a",), "gamma function")
    monkeypatch.setitem(ops.FUNCTIONS, "gamma", {1: gamma})
    monkeypatch.setitem(ops.BY_NAME, "gamma", gamma)
    text = CliRunner().invoke(cli, ["functions"], terminal_width=200).output
    assert re.search(r"^gamma\(a\) +gamma function +∂v/∂a = v·a$", text, re.MULTILINE)
    entries = json.loads(CliRunner().invoke(cli, ["functions", "--json"]).output)["operations"]
    assert {"name": "gamma", "operation": "gamma", "arity": 1, "syntax": "gamma(a)"}.items() <= next(
        e for e in entries if e["name"] == "gamma"
    ).items()


# Friendly mistakes: the nearest name, exit code 2, no traceback.


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["grd", "x"], "No such command 'grd'. Did you mean 'grad'?"),
        (["fucntions"], "No such command 'fucntions'. Did you mean 'functions'?"),
        (["evl", "x"], "Did you mean 'eval'?"),
        (
            ["frobnicate"],
            "No such command 'frobnicate'. Commands: " + ", ".join(sorted(cli.list_commands(click.Context(cli)))) + ".",
        ),
        (["grad", "x", "--mdoe", "forward"], "No such option '--mdoe'"),
        (["grad", "x", "--at", "x=1", "--jsno"], "No such option '--jsno'"),
        (["grad", "x", "--mode", "forwrd"], "'forwrd' is not one of 'reverse', 'forward'"),
        (["completion", "bsh"], "'bsh' is not one of 'bash', 'zsh', 'fish'"),
    ],
)
def test_mistakes_are_usage_errors(args, message, adcli_run):
    run = adcli_run(*args)
    assert run.code == 2
    assert message in run.err
    assert "Traceback" not in run.err
    assert run.out == ""


@pytest.mark.parametrize(("option", "nearest"), [("--mdoe", "--mode"), ("--jsno", "--json"), ("--wtr", "--wrt")])
def test_unknown_option_names_the_nearest(option, nearest, adcli_run):
    run = adcli_run("grad", "x", option)
    assert run.code == 2
    assert re.search(rf"Did you mean [^\n]*{nearest}\b", run.err), run.err


def test_help_lists_every_command_in_order_with_its_own_short_help():
    """The lazily loaded commands are listed with the others, each by the command object its module names."""
    from importlib import import_module

    from adcli.cli.commands import _LAZY_COMMANDS

    ctx = click.Context(cli)
    lines = _help([]).split("Commands:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    listed = dict(line.split(None, 1) for line in lines)
    assert list(listed) == COMMANDS == sorted({*cli.commands, *_LAZY_COMMANDS})
    assert {"grad", "eval", "functions", "graph", "completion", *_LAZY_COMMANDS} == set(listed)
    for name, short in listed.items():
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name and command.help is not None
        assert " ".join(command.help.split()).startswith(short.removesuffix("..."))
        if name in _LAZY_COMMANDS:
            assert command is import_module(f"adcli.cli.{_LAZY_COMMANDS[name]}").COMMANDS[name]


# Start-up: a one-line gradient imports only what it uses.

_PROBE = """
import sys
from adcli.cli import main
sys.argv = ["adcli", "grad", "(x+y)*(x-y)", "--at", "x=3,y=2", "--json"]
try:
    main()
finally:
    print(" ".join(sorted(sys.modules)), file=sys.stderr)
"""


def _modules_loaded_by_a_json_gradient() -> set[str]:
    proc = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["gradient"] == {"x": 6.0, "y": -4.0}
    return set(proc.stderr.split())


def test_json_gradient_loads_no_renderer_parser_generator_or_completion():
    loaded = _modules_loaded_by_a_json_gradient()
    unwanted = {"rich", "lark", "difflib", "adcli.cli.completion", "click.shell_completion"}
    assert not {m for m in loaded if m in unwanted or m.split(".")[0] in {"rich", "lark"}}


def test_json_gradient_loads_none_of_the_lazily_loaded_command_modules():
    from adcli.cli.commands import _LAZY_COMMANDS

    loaded = _modules_loaded_by_a_json_gradient()
    assert {"adcli.cli.commands", "adcli.cli.common", "adcli.cli.batch"} <= loaded
    assert not loaded & {f"adcli.cli.{module}" for module in _LAZY_COMMANDS.values()}


def test_json_gradient_loads_no_module_that_click_does_not_load_and_adcli_can_do_without():
    """What start-up was cut by (README "Start-up"): dataclasses (exec at import), json (small
    answers are written by render/jsontext), bisect (long formulas only), the separators
    (formulas of several lines), forward mode's engine."""
    loaded = _modules_loaded_by_a_json_gradient()
    spared = {"dataclasses", "copy", "json", "json.decoder", "bisect", "adcli.engines.forward", "adcli.lang.separators"}
    assert not loaded & spared


def test_a_gradient_at_one_point_loads_no_numpy():
    """numpy and orjson are for batches (--points) only."""
    loaded = _modules_loaded_by_a_json_gradient()
    assert not {m for m in loaded if m.split(".")[0] in {"numpy", "orjson"}}
    assert "adcli.engines.batch" not in loaded


def test_forward_mode_on_many_variables_says_why_it_takes_a_while(monkeypatch):
    from adcli.cli import commands as cli_module

    monkeypatch.setattr(cli_module, "_SLOW_FORWARD", 5)  # x*y + y*z: 3 variables × 3 operations
    args = ["grad", "x*y + y*z", "--at", "x=1,y=2,z=3", "--json"]
    slow = CliRunner().invoke(cli, [*args, "--mode", "forward"], prog_name="adcli")
    assert slow.exit_code == 0
    assert slow.stderr.startswith("note: forward mode sweeps once per variable: 3 sweeps of 3 operations")
    assert json.loads(slow.stdout)["gradient"] == {"x": 2.0, "y": 4.0, "z": 2.0}
    for quiet in ([*args], [*args, "--mode", "forward", "--wrt", "x"]):  # one sweep back; 1 × 3
        assert CliRunner().invoke(cli, quiet, prog_name="adcli").stderr == ""
