"""Input and output at the edges: endless sources, repeated options, full disks, closed pipes, Ctrl-C.

Most tests call the command line in process; the few that need a real process (a full
disk, a pipe closed early, a signal) run ``python -m adcli`` and say why.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from adcli.cli import cli, commands, common
from adcli.errors import AdcliError
from adcli.lang.parser import MAX_FORMULA_CHARS


def invoke(*args: str, stdin: str | None = None):
    return CliRunner().invoke(cli, list(args), input=stdin, prog_name="adcli")


# 8. The size limit holds for every source, read in bounded pieces.


class Endless(io.TextIOBase):
    """A text stream that never ends (as /dev/zero or `yes` on a pipe), recording each read's size."""

    def __init__(self):
        self.sizes: list[int] = []

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        if size is None or size < 0:
            raise MemoryError("read to the end of an endless stream")
        self.sizes.append(size)
        return "x" * size


def test_an_endless_standard_input_is_refused_at_the_limit(monkeypatch):
    stream = Endless()
    monkeypatch.setattr(sys, "stdin", stream)
    with pytest.raises(AdcliError, match=f"longer than {MAX_FORMULA_CHARS:,} characters") as caught:
        common.read_formula("-")
    assert caught.value.exit_code == 2
    assert max(stream.sizes) <= 1 << 20  # bounded pieces
    assert sum(stream.sizes) == MAX_FORMULA_CHARS + 1  # one character past the limit, and not one more


def test_a_formula_at_the_limit_is_read_whole(monkeypatch, tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("x" * 3_000_001)  # several pieces
    assert common.read_formula(f"@{path}") == "x" * 3_000_001
    monkeypatch.setattr(sys, "stdin", io.StringIO("x+1"))
    assert common.read_formula("-") == "x+1"


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize(
    ("args", "what"),
    [
        (["grad", "@/dev/zero", "--at", "x=3"], "the formula file '/dev/zero'"),
        (["grad", "x", "--at", "@/dev/zero"], "the point file '/dev/zero'"),
        (["grad", "-", "--at", "x=3"], "the formula on standard input"),
    ],
)
def test_dev_zero_is_refused_with_exit_2_in_bounded_memory(args, what):
    """A real process under a 1 GiB address-space limit: an unbounded read ran out of memory (exit 1)."""
    import resource

    def limit_memory():
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    with open("/dev/zero", "rb") as zero:
        proc = subprocess.run(
            [sys.executable, "-m", "adcli", *args],
            stdin=zero,
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=limit_memory,
        )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == f"error: {what} is longer than {MAX_FORMULA_CHARS:,} characters, the most adcli reads\n"


# 9. --wrt repeats add up, as --at does.


def test_repeated_wrt_adds_up():
    run = invoke("grad", "x*y*z", "--at", "x=1,y=2,z=3", "--wrt", "x", "--wrt", "z", "--json")
    assert run.exit_code == 0, run.output
    # ∂(xyz)/∂x = yz = 6, ∂/∂z = xy = 2; y is held fixed.
    assert json.loads(run.stdout)["gradient"] == {"x": 6.0, "z": 2.0}
    run = invoke("grad", "x*y*z", "--at", "x=1,y=2,z=3", "--wrt", "x,y", "--wrt", "z", "--json")
    assert json.loads(run.stdout)["gradient"] == {"x": 6.0, "y": 3.0, "z": 2.0}


def test_a_name_in_two_wrt_options_is_named():
    run = invoke("grad", "x*y", "--at", "x=1,y=2", "--wrt", "x", "--wrt", "x")
    assert run.exit_code == 2
    assert "wrt names 'x' twice" in run.output


# 10. A full disk, a reader that leaves, Ctrl-C: every command ends the same documented way.

COMMANDS = [
    ["grad", "x*y", "--at", "x=1,y=2"],
    ["grad", "x*y", "--at", "x=1,y=2", "--json"],
    ["grad", "x*y", "--at", "x=1,y=2", "--trace"],
    ["eval", "x*y", "--at", "x=1,y=2"],
    ["graph", "x*y"],
    ["functions"],
    ["functions", "--json"],
    ["completion", "bash"],
    ["--help"],
    ["grad", "--help"],
    ["--version"],
]


def _adcli(args, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "adcli", *args], stderr=subprocess.PIPE, text=True, **kwargs)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk_says_the_output_could_not_be_written():
    """Real processes: /dev/full refuses every write with ENOSPC."""
    for args in COMMANDS:
        with open("/dev/full", "w") as full:
            proc = _adcli(args, stdout=full)
            _, err = proc.communicate(timeout=60)
        assert proc.returncode == 1, (args, err)
        assert err == "error: could not write the output: No space left on device\n", args


def test_a_reader_gone_before_the_first_write_exits_141_quietly():
    """Real processes writing into a pipe whose reader has already closed it."""
    for args in COMMANDS:
        read, write = os.pipe()
        os.close(read)
        proc = _adcli(args, stdout=write)
        os.close(write)
        _, err = proc.communicate(timeout=60)
        assert (proc.returncode, err) == (commands.READER_GONE, ""), args


@pytest.mark.parametrize("args", [["graph", "@{big}"], ["grad", "@{big}", "--at", "@{point}", "--trace", "--full"]])
def test_a_reader_that_leaves_mid_output_exits_141_quietly(tmp_path, args):
    """One large write into a pipe whose reader leaves after a byte: Python's own buffered
    writer returned a short count here and dropped the rest, so adcli exited 0."""
    big = tmp_path / "big.txt"
    big.write_text(" + ".join(f"sin(x{i})" for i in range(3000)))
    point = tmp_path / "point.txt"
    point.write_text(",".join(f"x{i}=1" for i in range(3000)))
    proc = _adcli([a.format(big=big, point=point) for a in args], stdout=subprocess.PIPE)
    assert proc.stdout.read(1)
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert (proc.returncode, err) == (commands.READER_GONE, "")


_INTERRUPT_AT_IMPORT = """
import os, signal, sys

module = sys.argv[1]

class InterruptAt:
    def find_spec(self, name, path=None, target=None):
        if name == module:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while this module is being imported
        return None

sys.meta_path.insert(0, InterruptAt())
sys.argv = ["adcli", "grad", "x*y", "--at", "x=1,y=2", "--trace"]
from adcli.cli import main
main()
"""


@pytest.mark.parametrize(
    "module",
    ["adcli.cli.commands", "click", "adcli.lang.parser", "adcli.lang._tables", "adcli.engines.reverse", "rich"],
)
def test_ctrl_c_during_start_up_exits_130_without_a_traceback(module):
    """A real process that sends itself SIGINT while it imports ``module`` (as the adcli script would)."""
    proc = subprocess.run(
        [sys.executable, "-c", _INTERRUPT_AT_IMPORT, module], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == commands.INTERRUPTED, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_ctrl_c_while_reading_exits_130_without_a_traceback():
    """A real process waiting on standard input gets SIGINT (click would say 'Aborted!' and exit 1)."""
    proc = _adcli(["grad", "-", "--at", "x=1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == commands.INTERRUPTED
    assert out == ""
    assert err.strip() == ""


# 13. Tables that fit, LaTeX names, --svg -.


def test_at_80_columns_no_product_is_split_across_lines():
    """The README's Baydin example at default digits, piped (80 columns): each g·p on one line."""
    run = invoke("grad", "ln(x1) + x1*x2 - sin(x2)", "--at", "x1=2,x2=5", "--trace")
    lines = run.stdout.splitlines()
    adjoint = lines[lines.index("adjoint trace (reverse mode)") :]
    updates = [line for line in adjoint if "+=" in line]
    assert len(updates) == 8
    # By hand: v̄₀ += v̄₄·∂v₄/∂v₀ multiplies -1 by cos(5) = 0.28366218546322625.
    assert any("-1·0.28366218546322625" in line for line in updates)
    body = adjoint[4 : adjoint.index("", 4)]  # below the header's rule, up to the value and gradient
    assert len(body) == 11  # the seed, 8 updates, 2 gradient rows: none wrapped onto a second line
    for line in body:
        assert len(line) <= 80 and "=" in line, f"a continuation line: {line!r}"


def test_latex_names_are_indexed_and_barred_whole():
    from adcli.render.trace import BAR, DOT, latex_name

    assert latex_name("x1", BAR) == r"\bar{x}_{1}"  # the adjoint of x₁: the bar on x, the index after
    assert latex_name("x_1") == "x_{1}"
    assert latex_name("out", BAR) == r"\overline{\mathit{out}}"
    assert latex_name("alpha2", DOT) == r"\dot{\mathit{alpha}}_{2}"
    run = invoke("grad", "x_1*x2", "--at", "x_1=2,x2=3", "--format", "latex")
    assert run.exit_code == 0, run.output
    assert r"\bar{x}_{1}" in run.stdout and r"\bar{x}_{2}" in run.stdout
    assert r"x\_1" not in run.stdout.split("\n", 1)[1].replace(r"\texttt{x\_1", "")  # only source text is literal


def test_svg_dash_writes_the_svg_to_standard_output(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = invoke("grad", "x*y", "--at", "x=3,y=2", "--svg", "-")
    assert run.exit_code == 0, run.output
    assert run.stdout.startswith("<svg") and run.stdout.rstrip().endswith("</svg>")
    assert not (tmp_path / "-").exists()
    refused = invoke("grad", "x*y", "--at", "x=3,y=2", "--svg", "-", "--format", "latex")
    assert refused.exit_code == 2
    assert "--svg - writes the SVG to standard output" in refused.output
