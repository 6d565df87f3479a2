"""Shell completion, tested through the shells themselves.

Each test starts a real bash, zsh or fish on a pseudo-terminal, installs adcli's
completion script the way the README says, types a command line and a TAB, and reads
back what the shell's completion machinery produced: the candidates (bash's COMPREPLY
from the registered function, zsh's matches as compadd receives them, fish's
``complete -C``) and the command line after the TAB. The ``adcli`` the shells run is
a wrapper around ``python -m adcli`` for the Python running the tests, so the code
under test is the code that completes.
"""

from __future__ import annotations

import os
import pty
import select
import shutil
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest

import adcli
from adcli.cli import cli
from adcli.cli.completion import FILES, SHELLS, main, script

ROOT = Path(__file__).resolve().parent.parent
COMPLETIONS = ROOT / "completions"
EXPR = '"(x+y)*(x-y)"'


def need(shell: str) -> str:
    """The shell's path. CI (which installs all three, see .ci/run) fails without it; a
    developer's machine without, say, fish skips, because a missing shell there is not a bug."""
    path = shutil.which(shell)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{shell} is not installed; the completion tests need bash, zsh and fish")
        pytest.skip(f"{shell} is not installed (install it, or set CI=1 to make this a failure)")
    return path


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory) -> Path:
    """A directory with an ``adcli`` wrapper for this Python and this adcli, and shell homes."""
    base = tmp_path_factory.mktemp("shells")
    (base / "bin").mkdir()
    wrapper = base / "bin" / "adcli"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m adcli "$@"\n')
    wrapper.chmod(0o755)
    (base / "zsh").mkdir()
    (base / "fish").mkdir()
    shutil.copy(COMPLETIONS / FILES["zsh"], base / "zsh" / "_adcli")
    shutil.copy(COMPLETIONS / FILES["fish"], base / "fish" / "adcli.fish")
    (base / "formula.txt").write_text("alpha * sin(beta)\n")
    return base


def shell_env(sandbox: Path) -> dict[str, str]:
    package_parent = str(Path(adcli.__file__).resolve().parent.parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("_ADCLI")}
    env.update(
        PATH=f"{sandbox / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        PYTHONPATH=package_parent + os.pathsep + os.environ.get("PYTHONPATH", ""),
        TERM="xterm",
        HISTFILE=os.devnull,
        XDG_CONFIG_HOME=str(sandbox / "config"),
        XDG_DATA_HOME=str(sandbox / "data"),
        ZDOTDIR=str(sandbox / "zdot"),
    )
    return env


# What each shell runs at start: install adcli's completion as the README says, then
# record candidates ("C:" lines) and, on Ctrl-T, the command line ("L:" line).

BASH_RC = """\
PS1='$ '
eval "$(adcli completion bash)"
# Wrap the function `complete -p adcli` names, keeping the options it was registered with.
read -r -a spec <<< "$(complete -p adcli)"
for i in "${!spec[@]}"; do [[ ${spec[i]} == -F ]] && func=${spec[i+1]}; done
_capture() {
    "$func" "$@"
    local ret=$?
    printf 'C:%s\\n' "${COMPREPLY[@]}" >> "$OUT"
    return $ret
}
"${spec[@]/#$func/_capture}"
bind -x '"\\C-t": printf "L:%s|\\n" "$READLINE_LINE" >> "$OUT"'
echo READY >> "$OUT"
"""

ZSH_RC = """\
PS1='$ '
fpath=("$SANDBOX/zsh" $fpath)
autoload -Uz compinit && compinit -u -D
# Record every match the completion function hands to compadd (as zsh-capture-completion does).
compadd() {
    if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then
        builtin compadd "$@"
        return $?
    fi
    local -a hits
    builtin compadd -A hits "$@"
    local ret=$?
    (( $#hits )) && print -rl -- ${hits/#/C:} >> "$OUT"
    builtin compadd "$@"
    return $ret
}
_dump_line() { print -r -- "L:$BUFFER|" >> "$OUT" }
zle -N _dump_line
bindkey '^T' _dump_line
echo READY >> "$OUT"
"""

FISH_RC = """\
set -p fish_complete_path $SANDBOX/fish
function _dump_line; printf 'L:%s|\\n' (commandline) >> $OUT; end
bind \\ct _dump_line
echo READY >> $OUT
"""


def _argv(shell: str, sandbox: Path) -> list[str]:
    if shell == "bash":
        rc = sandbox / "bashrc"
        rc.write_text(BASH_RC)
        return [need("bash"), "--noprofile", "--rcfile", str(rc), "-i"]
    if shell == "zsh":
        (sandbox / "zdot").mkdir(exist_ok=True)
        (sandbox / "zdot" / ".zshrc").write_text(ZSH_RC)
        return [need("zsh"), "-i"]
    rc = sandbox / "fishrc"
    rc.write_text(FISH_RC)
    return [need("fish"), "--no-config", "-i", "-C", f"source {rc}"]


class Typed:
    """What the shell did with a line and a TAB."""

    def __init__(self, record: str, screen: str):
        self.candidates = {line[2:] for line in record.splitlines() if line.startswith("C:") and line != "C:"}
        self.line = next(line[2:-1] for line in record.splitlines() if line.startswith("L:"))
        self.screen = screen


def tab(shell: str, sandbox: Path, line: str, timeout: float = 30.0, listing: str | None = None) -> Typed:
    """Start SHELL on a pseudo-terminal, type LINE and TAB, and report what happened
    (with ``listing``, wait until the screen shows that text too)."""
    out = sandbox / f"{shell}.out"
    out.write_text("")
    env = {**shell_env(sandbox), "OUT": str(out), "SANDBOX": str(sandbox)}
    argv = _argv(shell, sandbox)
    pid, fd = pty.fork()
    if pid == 0:  # the child: become the shell
        try:
            os.chdir(sandbox)
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    import fcntl
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    screen = bytearray()

    def pump_until(marker: str) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = out.read_text()
            if marker in text:
                return text
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    screen.extend(os.read(fd, 65536))
                except OSError:  # the shell exited
                    break
        raise AssertionError(
            f"{shell} did not answer {line!r} with {marker!r}; terminal:\n{screen.decode(errors='replace')}"
        )

    try:
        pump_until("READY")
        os.write(fd, (line + "\t\x14").encode())
        record = pump_until("L:")
        deadline = time.monotonic() + timeout
        while listing is not None and listing not in screen.decode(errors="replace") and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.05)[0]:
                screen.extend(os.read(fd, 65536))
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)
    return Typed(record, screen.decode(errors="replace"))


def fish_candidates(sandbox: Path, line: str) -> set[str]:
    """Fish's own answer to ``complete -C LINE``: the candidates after fish's filtering."""
    env = {**shell_env(sandbox), "LINE": line}
    proc = subprocess.run(
        [need("fish"), "--no-config", "-c", f"set -p fish_complete_path {sandbox / 'fish'}; complete -C $LINE"],
        capture_output=True,
        text=True,
        env=env,
        cwd=sandbox,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return {row.split("\t")[0] for row in proc.stdout.splitlines()}


def candidates(shell: str, sandbox: Path, line: str) -> set[str]:
    if shell == "fish":
        return fish_candidates(sandbox, line)
    typed = tab(shell, sandbox, line)
    assert "Traceback" not in typed.screen
    return typed.candidates


ALL = ["bash", "zsh", "fish"]


# Candidates: the same set from every shell.


@pytest.mark.parametrize("shell", ALL)
def test_subcommands(shell, sandbox):
    assert (
        candidates(shell, sandbox, "adcli ")
        == set(cli.list_commands(click.Context(cli)))
        >= {"grad", "eval", "functions", "completion"}
    )


@pytest.mark.parametrize("shell", ALL)
def test_options(shell, sandbox):
    assert candidates(shell, sandbox, "adcli grad x --") >= {"--at", "--mode", "--wrt", "--json", "--trace", "--help"}


@pytest.mark.parametrize("shell", ALL)
def test_mode_values(shell, sandbox):
    assert candidates(shell, sandbox, "adcli grad x --mode ") == {"forward", "reverse"}


@pytest.mark.parametrize("shell", ALL)
@pytest.mark.parametrize("command", ["grad", "eval", "graph"])
def test_format_values(shell, sandbox, command):
    option = next(p for p in cli.get_command(click.Context(cli), command).params if "--format" in p.opts)
    assert len(option.type.choices) >= 2
    assert candidates(shell, sandbox, f"adcli {command} x --format ") == set(option.type.choices)


@pytest.mark.parametrize("shell", ALL)
def test_shell_names(shell, sandbox):
    assert candidates(shell, sandbox, "adcli completion ") == {"bash", "zsh", "fish"}


@pytest.mark.parametrize("shell", ALL)
def test_at_offers_the_formulas_variables(shell, sandbox):
    assert candidates(shell, sandbox, f"adcli grad {EXPR} --at ") == {"x=", "y="}
    assert candidates(shell, sandbox, "adcli eval 'r*cos(theta) + z' --at ") == {"r=", "theta=", "z="}


@pytest.mark.parametrize("shell", ALL)
def test_at_skips_variables_given_in_earlier_options(shell, sandbox):
    assert candidates(shell, sandbox, f"adcli grad {EXPR} --at x=1 --at ") == {"y="}


@pytest.mark.parametrize("shell", ALL)
def test_at_reads_a_formula_file(shell, sandbox):
    assert candidates(shell, sandbox, "adcli grad @formula.txt --at ") == {"alpha=", "beta="}


@pytest.mark.parametrize("shell", ALL)
@pytest.mark.parametrize("expr", ['"(x+"', '"2x"', "@no-such-file", "-", "'sin(x'"])
def test_at_offers_nothing_for_a_formula_that_does_not_parse(shell, sandbox, expr):
    assert candidates(shell, sandbox, f"adcli grad {expr} --at ") == set()


@pytest.mark.parametrize("shell", ALL)
def test_wrt_offers_variables(shell, sandbox):
    assert candidates(shell, sandbox, f"adcli grad {EXPR} --wrt ") == {"x", "y"}


@pytest.mark.parametrize("shell", ALL)
def test_function_names_in_the_formula(shell, sandbox):
    found = candidates(shell, sandbox, 'adcli grad "(x+y)*si')
    assert found == {"(x+y)*sin(", "(x+y)*sinh(", "(x+y)*sign(", "(x+y)*sigmoid("}


# The command line after the TAB: inserted text, and no space where typing goes on.


@pytest.mark.parametrize("shell", ALL)
@pytest.mark.parametrize(
    ("typed", "completed"),
    [
        ("adcli fu", "adcli functions "),
        ("adcli grad x --mode f", "adcli grad x --mode forward "),
        ("adcli grad x --mode=f", "adcli grad x --mode=forward "),
        (f"adcli grad {EXPR} --at x=3,", f"adcli grad {EXPR} --at x=3,y="),
        (f"adcli grad {EXPR} --at x=3,y", f"adcli grad {EXPR} --at x=3,y="),
        (f"adcli grad {EXPR} --at x=1 --at ", f"adcli grad {EXPR} --at x=1 --at y="),
        (f"adcli grad {EXPR} --at=x", f"adcli grad {EXPR} --at=x="),
        (f"adcli grad {EXPR} --wrt x,", f"adcli grad {EXPR} --wrt x,y "),
        ("adcli grad 'alpha+beta' --at alpha=1,b", "adcli grad 'alpha+beta' --at alpha=1,beta="),
    ],
)
def test_completed_line(shell, sandbox, typed, completed):
    result = tab(shell, sandbox, typed)
    assert result.line == completed
    assert "Traceback" not in result.screen


@pytest.mark.parametrize(
    ("shell", "completed"),
    [
        ("zsh", 'adcli eval "hypot(3, 4) + sqrt('),
        # Bash's readline closes an open quote after a unique match, and fish also adds a
        # space unless the match ends in one of /=@:.,- ; a completion cannot turn either off.
        ("bash", 'adcli eval "hypot(3, 4) + sqrt("'),
        ("fish", 'adcli eval "hypot(3, 4) + sqrt(" '),
    ],
)
def test_function_name_is_inserted(shell, completed, sandbox):
    assert tab(shell, sandbox, 'adcli eval "hypot(3, 4) + sq').line == completed


# The scripts: generated from the click app, committed, and kept in step.


@pytest.mark.parametrize("shell", ALL)
def test_committed_script_matches_the_cli(shell, adcli_run):
    committed = (COMPLETIONS / FILES[shell]).read_text(encoding="utf-8")
    printed = adcli_run("completion", shell)
    assert printed.code == 0, printed.err
    assert committed == printed.out == script(shell, cli), (
        f"completions/{FILES[shell]} is out of date: run `python -m adcli.cli.completion` at the top of the repository"
    )


@pytest.mark.parametrize("shell", ALL)
def test_script_comes_from_clicks_protocol(shell, adcli_run):
    """_ADCLI_COMPLETE=<shell>_source is click's way to ask for the script; it is the same text."""
    run = adcli_run(env={"_ADCLI_COMPLETE": f"{shell}_source"})
    assert run.code == 0, run.err
    assert run.out == script(shell, cli)
    assert "_ADCLI_COMPLETE" in run.out


def test_regenerating_is_deterministic_and_check_finds_drift(tmp_path, capsys):
    assert main(cli, [str(tmp_path)]) == 0
    first = {name: (tmp_path / name).read_bytes() for name in FILES.values()}
    assert main(cli, [str(tmp_path)]) == 0
    assert {name: (tmp_path / name).read_bytes() for name in FILES.values()} == first
    assert main(cli, ["--check", str(tmp_path)]) == 0
    assert main(cli, ["--check", str(COMPLETIONS)]) == 0

    (tmp_path / "_adcli").write_text(first["_adcli"].decode() + "# edited\n")
    capsys.readouterr()
    assert main(cli, ["--check", str(tmp_path)]) == 1
    assert "_adcli" in capsys.readouterr().err
    assert main(cli, ["--check", str(tmp_path / "missing")]) == 1


def test_every_shell_has_a_script():
    assert set(FILES) == set(SHELLS) == set(ALL)
    assert sorted(p.name for p in COMPLETIONS.iterdir()) == sorted(FILES.values())


def protocol(words: str, cword: int, adcli_run) -> list[str]:
    """The values adcli answers the zsh protocol with (no shell involved)."""
    run = adcli_run(env={"_ADCLI_COMPLETE": "zsh_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)})
    assert run.code == 0
    assert run.err == ""
    return run.out.splitlines()[1::3]


@pytest.mark.parametrize(
    ("spec", "offered"),
    [
        ("x=atan2(1,2),", ["x=atan2(1,2),y="]),  # a comma inside parentheses does not end a pair
        ("x=atan2(1,", []),  # still typing x's value
        ("x=1, ", ["x=1, y="]),
        ("y=2,x=1,", []),  # every variable has a value
        ("@point.txt", []),
        ('{"x": 1', []),
    ],
)
def test_at_pairs(spec, offered, adcli_run):
    assert protocol(f"adcli grad {EXPR} --at '{spec}", 4, adcli_run) == offered


def test_formula_words(adcli_run):
    assert protocol("adcli eval 'alpha*e", 2, adcli_run) == [
        "alpha*erf(",
        "alpha*erfc(",
        "alpha*exp(",
        "alpha*expm1(",
        "alpha*e",  # the constant
    ]
    assert protocol("adcli eval 'alpha + al", 2, adcli_run) == ["alpha + alpha"]
    assert protocol("adcli eval 'x + p", 2, adcli_run) == ["x + pow(", "x + pi"]
    assert protocol("adcli eval '2e", 2, adcli_run) == []  # a number's exponent, not a name
    assert protocol("adcli eval ''", 2, adcli_run) == []


@pytest.mark.parametrize(
    ("words", "cword"),
    [
        ('adcli grad "(x+', 2),
        ("adcli grad '' --at ", 4),
        ('adcli grad "' + "(" * 3000 + "x" + ")" * 3000 + '" --at ', 4),
        ("adcli grad @/ --at ", 4),
        ("adcli nonsense --at ", 3),
        ('adcli grad "x" --at "x=(1,', 4),
        ("adcli grad @/dev/zero --at ", 4),  # never read a device: completion would hang
        ("adcli grad @/dev/stdin --at ", 4),
    ],
)
def test_odd_input_gives_no_traceback(words, cword, adcli_run):
    run = adcli_run(env={"_ADCLI_COMPLETE": "zsh_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)})
    assert run.code == 0
    assert run.err == ""


@pytest.mark.parametrize(
    ("line", "cur", "offered"),
    [
        ('adcli grad "x*y" --at ', "", ["nospace,x=", "nospace,y="]),
        ('adcli grad "x*y" --at x=1,', "1,", ["nospace,1,y="]),  # bash's word starts after the '='
        ('adcli grad "x*y" --at=', "", ["nospace,x=", "nospace,y="]),
        ('adcli grad "x*y" --mode=f', "f", ["plain,forward"]),
        ('adcli grad "x*y', "x*y", []),
        ("adcli grad x\\", "x", []),
        ("adcli 'gr", "gr", ["plain,grad", "plain,graph"]),
    ],
)
def test_bash_protocol(line, cur, offered, adcli_run):
    """What the bash script hands over (the line up to the cursor and readline's word)."""
    run = adcli_run(env={"_ADCLI_COMPLETE": "bash_complete", "COMP_LINE": line, "COMP_CUR": cur})
    assert run.code == 0
    assert run.err == ""
    assert [row for row in run.out.splitlines() if row] == offered


def test_completion_script_help_has_install_examples(adcli_run):
    run = adcli_run("completion", "--help")
    assert run.code == 0
    assert 'eval "$(adcli completion bash)"' in run.out
    assert "~/.config/fish/completions/adcli.fish" in run.out


def test_unknown_shell_is_a_usage_error(adcli_run):
    run = adcli_run("completion", "tcsh")
    assert run.code == 2
    assert "'tcsh' is not one of" in run.err
    assert run.out == ""


# A word typed without quotes, @FILE, and the order of the candidates.


@pytest.mark.parametrize("shell", ALL)
def test_a_function_name_keeps_the_backslash_escapes_of_its_word(shell, sandbox):
    """exp\\(x\\)*sq<TAB> must stay a line the shell can run: bash dropped the backslashes."""
    line = tab(shell, sandbox, r"adcli grad exp\(x\)*sq").line
    # bash itself reads the completed line back: unescaped parentheses are a syntax error.
    words = subprocess.run(
        [need("bash"), "-c", f"set -- {line}; printf '%s\\n' \"$@\""], capture_output=True, text=True, timeout=30
    )
    assert words.returncode == 0, words.stderr
    assert words.stdout.splitlines() == ["adcli", "grad", "exp(x)*sqrt("]


@pytest.mark.parametrize("shell", ALL)
@pytest.mark.parametrize("typed", ["adcli grad @form", "adcli grad x --at @form"])
def test_at_offers_file_names(shell, sandbox, typed):
    assert tab(shell, sandbox, typed).line.rstrip() == typed + "ula.txt"
    (sandbox / "models").mkdir(exist_ok=True)
    (sandbox / "models" / "rosenbrock.txt").write_text("100*(y-x^2)^2 + (1-x)^2\n")
    assert candidates(shell, sandbox, "adcli eval @mod") == {"@models/"}
    assert candidates(shell, sandbox, "adcli eval @models/") == {"@models/rosenbrock.txt"}


def test_zsh_lists_candidates_in_the_formulas_order(sandbox):
    import re

    typed = tab("zsh", sandbox, "adcli grad 'delta + alpha*c + b' --at ", listing="b=  -- variable")
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "\n", typed.screen)
    listed = re.findall(r"\b(delta|alpha|c|b)=  -- variable", screen)
    assert listed == ["delta", "alpha", "c", "b"]  # first appearance, not reversed
