"""A hint is given only where it fits the mistake: each wrong hint once seen stays out."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import adcli
from adcli.cli import cli
from adcli.lang.point import parse_point


@pytest.mark.parametrize(
    ("text", "wrong", "right"),
    [
        # A decimal comma fails in the state "x)" fails in, but on a ',' not a ')'.
        ("1,5", "no matching '('", None),
        # A number before '=' fails where "2x" does, but on '=' not on a name.
        ("3 = x; x", "write 2*x", None),
        ("x + ; y", None, "missing its right-hand operand"),
        ("1 + (x +)", None, "missing its right-hand operand"),
        ("x ** * 2", None, "missing its right-hand operand"),
        ("x * * 2", None, "written without a space"),
    ],
)
def test_syntax_error_hints_fit_the_mistake(text, wrong, right):
    with pytest.raises(adcli.ParseError) as info:
        adcli.parse(text)
    hint = info.value.hint or ""
    if wrong:
        assert wrong not in hint
    if right:
        assert right in hint


@pytest.mark.parametrize(
    ("at", "message"),
    [
        ("x==3", "has more than one '=': write x=3"),
        ("x=3=4", "has more than one '='"),
        ("x=1 y=2", "separate name=value pairs with commas"),
        ("x=1;y=2", "separate name=value pairs with commas"),
    ],
)
def test_a_doubled_equals_sign_is_not_a_missing_comma(at, message):
    with pytest.raises(adcli.PointError) as info:
        parse_point([at])
    assert message in str(info.value)
    if "commas" not in message:
        assert "commas" not in str(info.value)


@pytest.mark.parametrize(("command", "formula"), [("eval", "-2^2"), ("grad", "-x^2")])
def test_a_formula_read_as_an_option_is_quoted_back_in_the_command_that_was_run(command, formula):
    args = [command, formula] + (["--at", "x=3"] if command == "grad" else [])
    result = CliRunner().invoke(cli, args, prog_name="adcli")
    assert result.exit_code == 2
    assert f'adcli {command} [options] -- "{formula}"' in result.output
    other = "grad" if command == "eval" else "eval"
    assert f"adcli {other} " not in result.output
