"""The command line's contracts: inputs, exit codes, one clear message, no traceback."""

import json

import pytest


def test_formula_from_stdin(adcli_run):
    run = adcli_run("grad", "-", "--at", "x=2", "--json", stdin="a = x^3\n a + 1\n")
    assert run.code == 0, run.err
    assert json.loads(run.out)["gradient"] == {"x": 12.0}


def test_formula_from_file(adcli_run, tmp_path):
    path = tmp_path / "f.adcli"
    path.write_text("# the textbook example\nln(x1) + x1*x2 - sin(x2)\n")
    run = adcli_run("grad", f"@{path}", "--at", "x1=2,x2=5", "--json")
    obj = json.loads(run.out)
    # By hand: ∂/∂x1 = 1/x1 + x2 = 5.5; ∂/∂x2 = x1 - cos(x2).
    assert obj["gradient"]["x1"] == 5.5
    assert obj["gradient"]["x2"] == pytest.approx(2 - 0.28366218546322625, rel=1e-15)


@pytest.mark.parametrize(
    ("args", "code", "first_line"),
    [
        (["grad", "(x+y", "--at", "x=1,y=2"], 2, "error: unexpected end of the formula (column 5)"),
        (["grad", "x+", "--at", "x=1"], 2, "error: unexpected end of the formula (column 3)"),
        (["grad", "x*y", "--at", "x=1"], 2, "error: no value given for variable 'y': add y=..."),
        (["grad", "x", "--at", "x=1", "--mode", "sideways"], 2, "Usage: adcli grad"),
        (["grad", "@/no/such/file", "--at", "x=1"], 2, "error: cannot read the formula file '/no/such/file'"),
        (["grad", "x", "--at", "x=1", "--wrt", ","], 2, "error: --wrt needs at least one variable name"),
        (["eval", "__import__('os')"], 2, "error: unexpected character"),
    ],
)
def test_errors(adcli_run, args, code, first_line):
    run = adcli_run(*args)
    assert run.code == code
    assert run.out == ""
    assert run.err.splitlines()[0].startswith(first_line)
    assert "Traceback" not in run.err


def test_parse_error_shows_caret(adcli_run):
    run = adcli_run("grad", "x + * y", "--at", "x=1,y=2")
    lines = run.err.splitlines()
    assert lines[1] == "  x + * y"
    assert lines[2] == "      ^"


def test_no_ansi_when_piped_even_with_trace(adcli_run):
    run = adcli_run("grad", "sin(x)*y", "--at", "x=1,y=2", "--trace")
    assert run.code == 0
    assert "\x1b[" not in run.out


def test_broken_pipe_is_quiet(tmp_path):
    import subprocess
    import sys

    formula = " + ".join(f"x{i}" for i in range(20000))
    path = tmp_path / "f.txt"
    path.write_text(formula)
    point = tmp_path / "p.txt"
    point.write_text(",".join(f"x{i}=1" for i in range(20000)))
    cmd = f"{sys.executable} -m adcli grad @{path} --at @{point} | head -c 10"
    proc = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr


def test_formula_with_a_leading_minus(adcli_run):
    """As the README says: after --, or with a leading space."""
    for args in (["grad", "--at", "x=3", "--json", "--", "-x^2"], ["grad", " -x^2", "--at", "x=3", "--json"]):
        run = adcli_run(*args)
        assert run.code == 0, run.err
        assert json.loads(run.out)["gradient"] == {"x": -6.0}


def test_a_leading_minus_read_as_an_option_says_how_to_pass_the_formula(adcli_run):
    run = adcli_run("grad", "-x^2", "--at", "x=3")
    assert run.code == 2
    assert "A formula that starts with '-' goes after '--'" in run.err
