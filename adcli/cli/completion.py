"""Shell completion for adcli: click's completion protocol, adcli's candidates.

The shell scripts in ``completions/`` are generated from the click app by
``click.shell_completion``: at every TAB the shell runs ``adcli`` with
``_ADCLI_COMPLETE=<shell>_complete`` and click walks the command line to the
parameter being completed. adcli adds three things on top:

* candidates that know the formula: after ``--at`` the variables that have no value
  yet (``x=``, ``y=``), after ``--wrt`` the variables, inside EXPR function names
  (``si`` → ``sin(``); all read from the parsed formula and the one table in ``ops``;
* a ``nospace`` candidate type, so the shell does not put a space after ``x=`` or ``sin(``;
* whole-word handling: bash splits words at ``=`` (``COMP_WORDBREAKS``) and zsh
  replaces the whole word, so click's bare candidates would break
  ``--at x=3,<TAB>`` and ``--mode=f<TAB>``. The scripts below are click's own, changed
  only for these points (and to quote candidates, which click's bash and fish
  scripts glob-expand or cut at commas).

Regenerate the committed scripts with ``python -m adcli.cli.completion`` (``--check``
only compares). This module is imported only when completing or generating, so it
costs a plain ``adcli grad`` nothing.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click
from click.shell_completion import (
    BashComplete,
    CompletionItem,
    FishComplete,
    ShellComplete,
    ZshComplete,
    add_completion_class,
    split_arg_string,
)

PROG_NAME = "adcli"
COMPLETE_VAR = "_ADCLI_COMPLETE"
NOSPACE = "nospace"  # a candidate the user goes on typing after: no space is added
FILES = {"bash": "adcli.bash", "zsh": "_adcli", "fish": "adcli.fish"}
"""Shell -> name of its generated script in completions/."""

_MAX_FILE = 1 << 20  # an @FILE formula larger than this is not read while completing
_SENTINEL = "\x1f"  # appended to the command line to see whether its last word is finished
_NAME_AT_END = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# Candidates.


def complete_point(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """``--at`` values: ``name=`` for each variable of EXPR that has no value yet."""
    if incomplete.startswith("@"):
        return _files(incomplete)
    variables = formula_variables(ctx)
    if not variables or incomplete.lstrip().startswith(("@", "{")):
        return []
    head, piece = _last_piece(incomplete)
    if "=" in piece:  # a value is being typed; there is nothing to offer for it
        return []
    given = set(_point_names([head, *_earlier_values(ctx, param)]))
    return [
        CompletionItem(f"{head}{name}=", type=NOSPACE, help="variable")
        for name in variables
        if name not in given and name.startswith(piece)
    ]


def complete_names(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """``--wrt`` values: the variables of EXPR not yet listed (here or in an earlier --wrt), comma-separated."""
    head, piece = _last_piece(incomplete)
    given = {name.strip() for text in [head, *_earlier_values(ctx, param)] for name in text.split(",")}
    return [
        CompletionItem(head + name, help="variable")
        for name in formula_variables(ctx)
        if name not in given and name.startswith(piece)
    ]


def _file_columns(path: object) -> list[str]:
    """The column names in the first line of a CSV or JSON Lines file; none for stdin or no file."""
    if not isinstance(path, str) or path == "-" or not Path(path).is_file():
        return []
    try:
        with open(path, encoding="utf-8-sig") as handle:
            header = handle.readline(_MAX_FILE)
    except (OSError, UnicodeDecodeError):
        return []
    if header.lstrip().startswith("{"):
        return list(dict.fromkeys(re.findall(r'"([A-Za-z_][A-Za-z0-9_]*)"\s*:', header)))
    return [name.strip() for name in header.split(",")]


def complete_columns(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """``--keep`` values: the columns of the --points CSV file's header that are not variables of EXPR."""
    head, piece = _last_piece(incomplete)
    names = _file_columns(ctx.params.get("points"))
    given = {name.strip() for name in head.split(",")}
    variables = set(formula_variables(ctx))
    return [
        CompletionItem(head + name, help="column")
        for name in names
        if name and name not in variables and name not in given and name.startswith(piece)
    ]


def complete_data_columns(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """``fit --target`` values: the columns of the --data file's header that are not variables of MODEL."""
    names = _file_columns(ctx.params.get("data"))
    expr = _argument(ctx, "model")
    variables: tuple[str, ...] = ()
    if isinstance(expr, str) and expr.strip() and not expr.startswith(("@", "-")):
        try:
            from ..lang.parser import parse

            variables = parse(expr).variables
        except Exception:  # a partial formula: offer every column
            variables = ()
    return [
        CompletionItem(name, help="column")
        for name in names
        if name and name not in variables and name.startswith(incomplete)
    ]


def complete_monomial(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """``deriv --mixed`` values: after the last ``*``, the variables of EXPR (``x^2*`` → ``x^2*y``)."""
    cut = incomplete.rfind("*") + 1
    head, piece = incomplete[:cut], incomplete[cut:]
    if not re.fullmatch(r"[A-Za-z0-9_]*", piece):
        return []
    return [
        CompletionItem(head + name, type=NOSPACE, help="variable")
        for name in formula_variables(ctx)
        if name.startswith(piece)
    ]


def complete_formula(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """EXPR: complete the name at the end of the partial formula to a function (``sin(``),
    a constant or a name already used in it. Nothing for an empty word, ``-`` or ``@FILE``."""
    if incomplete.startswith("@"):
        return _files(incomplete)
    match = _NAME_AT_END.search(incomplete)
    if match is None:
        return []
    head, word = incomplete[: match.start()], match.group()
    if head[-1:].isdigit() or head.endswith("."):  # the exponent of a number such as 2e5
        return []
    from ..core.ops import CONSTANTS, FUNCTIONS

    items = [
        CompletionItem(f"{head}{name}(", type=NOSPACE, help=_summary(name))
        for name in sorted(FUNCTIONS)
        if name.startswith(word)
    ]
    items += [CompletionItem(head + name, type=NOSPACE, help="constant") for name in CONSTANTS if name.startswith(word)]
    used = dict.fromkeys(m.group() for m in _NAME.finditer(head) if m.group() not in FUNCTIONS)
    items += [
        CompletionItem(head + name, type=NOSPACE, help="variable")
        for name in used
        if name.startswith(word) and name not in CONSTANTS
    ]
    return items


def _files(incomplete: str) -> list[CompletionItem]:
    """``@PATH``: the files and directories that start with PATH, as ``@PATH...`` (a directory
    with a '/' and no space after it). Listed here, not by the shell, so every shell offers them."""
    typed = incomplete[1:]
    folder, partial = os.path.split(typed)
    try:
        entries = sorted(os.scandir(os.path.expanduser(folder) or "."), key=lambda entry: entry.name)
    except OSError:
        return []
    items = []
    for entry in entries:
        if not entry.name.startswith(partial) or (entry.name.startswith(".") and not partial.startswith(".")):
            continue
        value = "@" + os.path.join(folder, entry.name)
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        items.append(CompletionItem(value + "/", type=NOSPACE) if is_dir else CompletionItem(value))
    return items


def formula_variables(ctx: click.Context) -> tuple[str, ...]:
    """The variables of the EXPR already on the command line, in order of appearance;
    empty when there is none yet, it is '-' (standard input) or it does not parse."""
    expr = _argument(ctx, "expr")
    if not isinstance(expr, str) or not expr.strip() or expr == "-":
        return ()
    try:
        if expr.startswith("@"):
            path = Path(expr[1:])
            if not path.is_file() or path.stat().st_size > _MAX_FILE:  # never block on a pipe or device
                return ()
            expr = path.read_text(encoding="utf-8")
        from ..lang.parser import parse

        return parse(expr).variables
    except Exception:  # any failure means "no candidates": completion must never show a traceback
        return ()


def _argument(ctx: click.Context, name: str) -> object:
    """A positional argument's value. While an option waits for the value being completed,
    click stops before assigning positionals (ctx.params has None), but they are in ctx.args."""
    value = ctx.params.get(name)
    if value is None:
        names = [p.name for p in ctx.command.params if isinstance(p, click.Argument)]
        if name in names and names.index(name) < len(ctx.args):
            value = ctx.args[names.index(name)]
    return value


def _summary(name: str) -> str:
    from ..core.ops import FUNCTIONS

    return "; ".join(op.summary for op in FUNCTIONS[name].values())


def _last_piece(text: str) -> tuple[str, str]:
    """Split a comma-separated list at its last comma outside parentheses: (head with the
    comma and any blanks after it, the piece being typed)."""
    depth, cut = 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            cut = i + 1
    piece = text[cut:]
    blank = len(piece) - len(piece.lstrip())
    return text[: cut + blank], piece[blank:]


def _point_names(specs: Iterable[str]) -> Iterable[str]:
    """The names given values in --at specs (loosely: the text before each '=')."""
    for spec in specs:
        if spec.lstrip().startswith(("@", "{")):
            continue
        for piece in re.split(r"[,\n]", spec):
            name, sep, _ = piece.partition("=")
            if sep:
                yield name.strip()


def _earlier_values(ctx: click.Context, param: click.Parameter) -> tuple[str, ...]:
    values = ctx.params.get(param.name or "")
    return tuple(values) if isinstance(values, (tuple, list)) else ()


# The shells.


def _option_head(incomplete: str) -> str:
    """The '--opt=' that click strips from '--opt=value' before completing the value."""
    if incomplete.startswith("-") and "=" in incomplete:
        return incomplete[: incomplete.index("=") + 1]
    return ""


class _WholeWord(ShellComplete):
    """Candidates for the whole word being completed, '--opt=' included."""

    def get_completions(self, args: list[str], incomplete: str) -> list[CompletionItem]:
        head = _option_head(incomplete)
        items = super().get_completions(args, incomplete)
        if not head:
            return items
        return [CompletionItem(head + item.value, type=item.type, help=item.help) for item in items]


# Click's bash script, but: the command line is read from COMP_LINE (bash splits
# COMP_WORDS at '=' and ':'), candidates are quoted (click's `COMPREPLY+=($value)`
# glob-expands `*`), and a nospace candidate turns off the trailing space.
_SOURCE_BASH = """\
# bash completion for %(prog_name)s, generated by `%(prog_name)s completion bash` from click's
# shell completion. Load it with: eval "$(%(prog_name)s completion bash)"
%(complete_func)s() {
    local response type value
    response=$(env COMP_LINE="${COMP_LINE:0:COMP_POINT}" COMP_CUR="$2" \\
%(complete_var)s=bash_complete "$1" 2>/dev/null)
    COMPREPLY=()
    while IFS=',' read -r type value; do
        case $type in
            plain) COMPREPLY+=("$value") ;;
            nospace) COMPREPLY+=("$value"); compopt -o nospace ;;
            dir) COMPREPLY=(); compopt -o dirnames ;;
            file) COMPREPLY=(); compopt -o default ;;
        esac
    done <<< "$response"
    return 0
}

complete -o nosort -F %(complete_func)s %(prog_name)s
"""


_BACKSLASHED = re.compile(r"\\(.)", re.DOTALL)
_BASH_SPECIAL = re.compile(r"""([\s\\'"`$&|;()<>*?\[\]{}!#~^])""")


def _in_quotes(line: str) -> bool:
    """Whether the end of a bash command line lies inside an open ' or " quote."""
    quote, i = "", 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and quote != "'":  # an escaped character, outside quotes or in "..."
            i += 2
            continue
        if not quote and ch in "'\"":
            quote = ch
        elif ch == quote:
            quote = ""
        i += 1
    return bool(quote)


def _bash_escaped(text: str, unquoted: bool) -> str:
    """A candidate as it must be typed in a word without quotes: exp(x)*sqrt( as exp\\(x\\)\\*sqrt\\(."""
    return _BASH_SPECIAL.sub(r"\\\1", text) if unquoted else text


class AdcliBashComplete(_WholeWord, BashComplete):
    """Bash: the words come from COMP_LINE, candidates are cut to the part of the word
    readline replaces (the text after the last '=' or ':', or after an open quote)."""

    source_template = _SOURCE_BASH

    def source(self) -> str:
        # click's BashComplete.source() also runs bash to check its version; generation stays pure.
        return self.source_template % self.source_vars()

    def get_completion_args(self) -> tuple[list[str], str]:
        words = split_arg_string(os.environ.get("COMP_LINE", "") + _SENTINEL)
        last = words.pop() if words else _SENTINEL
        incomplete = "" if last == _SENTINEL else last.removesuffix(_SENTINEL)
        return words[1:], incomplete

    def get_completions(self, args: list[str], incomplete: str) -> list[CompletionItem]:
        items = super().get_completions(args, incomplete)
        cur = os.environ.get("COMP_CUR", incomplete)
        # Readline puts a candidate in place of its word as it stands: in a word typed without
        # quotes, backslash escapes (exp\(x\)) must be written back into the candidate.
        unquoted = not _in_quotes(os.environ.get("COMP_LINE", ""))
        plain = _BACKSLASHED.sub(r"\1", cur) if unquoted else cur
        if not incomplete.endswith(plain):
            return items
        base = incomplete[: len(incomplete) - len(plain)]  # what readline keeps in front of its word
        return [
            CompletionItem(_bash_escaped(item.value[len(base) :], unquoted), type=item.type, help=item.help)
            for item in items
            if item.value.startswith(base)
        ]

    def format_completion(self, item: CompletionItem[Any]) -> str:
        return f"{item.type},{item.value}"


# Click's zsh script plus nospace candidates (compadd -S ''), with compadd -d in place of
# _describe, which reverses the order of matches that share a description.
_SOURCE_ZSH = """\
#compdef %(prog_name)s
# zsh completion for %(prog_name)s, generated by `%(prog_name)s completion zsh` from click's
# shell completion. Put it in a directory on $fpath as _%(prog_name)s, or: eval "$(%(prog_name)s completion zsh)"

%(complete_func)s() {
    local -a response plain plain_keys plain_shown nospace nospace_keys nospace_shown
    local type key descr
    (( ! $+commands[%(prog_name)s] )) && return 1

    response=("${(@f)$(env COMP_WORDS="${words[*]}" COMP_CWORD=$((CURRENT-1)) \\
%(complete_var)s=zsh_complete %(prog_name)s 2>/dev/null)}")

    for type key descr in ${response}; do
        case $type in
            plain)
                if [[ "$descr" == "_" ]]; then plain+=("$key")
                else plain_keys+=("$key"); plain_shown+=("$key  -- $descr"); fi ;;
            nospace)
                if [[ "$descr" == "_" ]]; then nospace+=("$key")
                else nospace_keys+=("$key"); nospace_shown+=("$key  -- $descr"); fi ;;
            dir) _path_files -/ ;;
            file) _path_files -f ;;
        esac
    done

    # compadd -V keeps adcli's order (_describe lists the matches of one description in reverse).
    (( $#plain_keys )) && compadd -U -V unsorted -l -d plain_shown -a plain_keys
    (( $#plain )) && compadd -U -V unsorted -a plain
    (( $#nospace_keys )) && compadd -U -S '' -V unsorted -l -d nospace_shown -a nospace_keys
    (( $#nospace )) && compadd -U -S '' -V unsorted -a nospace
    return 0
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    # autoload from fpath, call function directly
    %(complete_func)s "$@"
else
    # eval/source/. command, register function for later
    compdef %(complete_func)s %(prog_name)s
fi
"""


class AdcliZshComplete(_WholeWord, ZshComplete):
    """Zsh: click's word handling; nospace candidates; '--opt=' kept in the candidate."""

    source_template = _SOURCE_ZSH

    def format_completion(self, item: CompletionItem[Any]) -> str:
        return f"{item.type}\n{item.value}\n{item.help or '_'}"


# Click's fish script, but: values are split from their type at the first comma only
# (click's cuts `x=3,y=` short) and printed with printf, not echo.
_SOURCE_FISH = """\
# fish completion for %(prog_name)s, generated by `%(prog_name)s completion fish` from click's
# shell completion. Save it as ~/.config/fish/completions/%(prog_name)s.fish
function %(complete_func)s
    set -l response (env %(complete_var)s=fish_complete COMP_WORDS=(commandline -cp | string collect) \\
COMP_CWORD=(commandline -t) %(prog_name)s 2>/dev/null)

    for completion in $response
        set -l metadata (string split -m 1 "," -- $completion)

        switch $metadata[1]
            case dir
                __fish_complete_directories $metadata[2]
            case file
                __fish_complete_path $metadata[2]
            case plain nospace
                printf '%%s\\n' $metadata[2]
        end
    end
end

complete --no-files --command %(prog_name)s --arguments "(%(complete_func)s)"
"""


class AdcliFishComplete(_WholeWord, FishComplete):
    """Fish: click's word handling; fish itself adds no space after '=' or '('."""

    source_template = _SOURCE_FISH

    def format_completion(self, item: CompletionItem[Any]) -> str:
        if item.help:
            help_ = item.help.replace("\n", "\\n").replace("\t", " ")
            return f"{item.type},{item.value}\t{help_}"
        return f"{item.type},{item.value}"


SHELLS: dict[str, type[ShellComplete]] = {
    "bash": AdcliBashComplete,
    "zsh": AdcliZshComplete,
    "fish": AdcliFishComplete,
}


def register() -> None:
    """Make click's completion protocol (_ADCLI_COMPLETE=...) use adcli's shell classes."""
    for name, cls in SHELLS.items():
        add_completion_class(cls, name)


def script(shell: str, command: click.Command) -> str:
    """The completion script for one shell and the root ``command``, as ``adcli completion SHELL`` prints it.

    The command is given, not imported: adcli.cli.commands imports this module, never the reverse.
    """
    comp = SHELLS[shell](command, {}, PROG_NAME, COMPLETE_VAR)
    return comp.source()


def main(command: click.Command, argv: list[str] | None = None) -> int:
    """python -m adcli.cli.completion [--check] [DIR]: (re)write or compare completions/*."""
    args = sys.argv[1:] if argv is None else argv
    check = "--check" in args
    rest = [a for a in args if a != "--check"]
    if len(rest) > 1 or any(a.startswith("-") for a in rest):
        print("usage: python -m adcli.cli.completion [--check] [DIR]  (DIR defaults to ./completions)", file=sys.stderr)
        return 2
    directory = Path(rest[0] if rest else "completions")
    stale = []
    for shell, filename in FILES.items():
        path = directory / filename
        text = script(shell, command)
        if check:
            try:
                current = path.read_text(encoding="utf-8")
            except OSError:
                current = None
            if current != text:
                stale.append(str(path))
        else:
            directory.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
            print(f"wrote {path}")
    if stale:
        print(f"out of date: {', '.join(stale)}; run python -m adcli.cli.completion", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    from adcli.cli.commands import cli

    sys.exit(main(cli))
