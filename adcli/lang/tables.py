"""Compile grammar/adcli.lark with Lark into the tables the fast parser runs.

Lark does the grammar analysis (LALR(1) states, rule shapes, terminal order);
this module writes its result as plain Python data to ``adcli/lang/_tables.py`` so an
adcli process can parse without importing Lark. Run ``python -m adcli.lang.tables``
after editing the grammar; a test fails while the two disagree.
"""

from __future__ import annotations

import hashlib
import pprint
import re
import sys
from pathlib import Path

GRAMMAR_FILE = "adcli.lark"


def grammar_path() -> Path:
    """The grammar shipped in the wheel, or the source tree's copy in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "grammar" / GRAMMAR_FILE, here.parent.parent / "grammar" / GRAMMAR_FILE):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"adcli's grammar {GRAMMAR_FILE} is missing from the installation")


def grammar_text() -> str:
    return grammar_path().read_text(encoding="utf-8")


def grammar_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class NewlinePostLex:
    """Lark's view of adcli.separators: the same folding, on Lark tokens."""

    always_accept = ("NL",)

    def process(self, stream):
        from lark import Token

        from .separators import fold_separators

        return fold_separators(
            stream,
            lambda token: token.type,
            lambda token: Token.new_borrow_pos("SEMICOLON", ";", token),
        )


def lark_parser(**options):
    """Lark's own LALR parser for the grammar (used to build tables and to explain errors)."""
    from lark import Lark

    return Lark(grammar_text(), parser="lalr", lexer="basic", postlex=NewlinePostLex(), **options)


def build() -> dict:
    """Ask Lark for the parse table, the rules' shapes and the lexer's terminals."""
    from lark.parsers.lalr_analysis import Reduce

    text = grammar_text()
    lark = lark_parser()
    table = lark.parser.parser._parse_table
    rules: list[tuple[str, int, tuple[int, ...], str | None]] = []  # (origin, length, kept, callback)
    rule_index = {}
    for rule in lark.rules:
        kept = tuple(
            i
            for i, symbol in enumerate(rule.expansion)
            if not symbol.is_term or not (symbol.filter_out or symbol.name.startswith("_"))
        )
        if rule.origin.name.startswith("_") or any(s.name.startswith("__") for s in rule.expansion if not s.is_term):
            raise ValueError(f"rule {rule} would be inlined by Lark; write it without EBNF or _rules")
        passthrough = rule.options.expand1 and len(kept) == 1 and rule.alias is None
        callback = None if passthrough else (rule.alias or rule.origin.name)
        rule_index[rule] = len(rules)
        rules.append((str(rule.origin.name), len(rule.expansion), kept, callback))
    # Lark numbers states in set-iteration order, which changes with PYTHONHASHSEED;
    # renumber them breadth-first from the start state so the file is reproducible.
    number = {table.start_states["start"]: 0}
    queue = [table.start_states["start"]]
    for state in queue:
        for _, (action, arg) in sorted(table.states[state].items()):
            if action is not Reduce and arg not in number:
                number[arg] = len(number)
                queue.append(arg)
    actions = {}
    for state in queue:
        actions[number[state]] = {
            symbol: -1 - rule_index[arg] if action is Reduce else number[arg]
            for symbol, (action, arg) in sorted(table.states[state].items())
        }
    terminals = [(t.name, t.pattern.to_regexp()) for t in lark.parser.lexer.lexer.terminals]
    kept_terminals = _kept_terminals(lark.rules)
    expansions = [tuple(s.name for s in rule.expansion) for rule in lark.rules]
    end_state = number[table.end_states["start"]]
    fast = fold(actions, rules, expansions, kept_terminals, end_state)
    split = "|".join(f"(?:{noncapturing(pattern)})" for _, pattern in terminals) + r"|[\s\S]"
    if re.compile(split).groups:
        raise ValueError("a terminal's pattern keeps a capturing group")
    return {
        "GRAMMAR_SHA256": grammar_digest(text),
        "START_STATE": 0,
        "END_STATE": number[table.end_states["start"]],
        "IGNORE": sorted(lark.lexer_conf.ignore),
        "TERMINALS": terminals,
        "SPLIT": split,
        "RULES": rules,
        "ACTIONS": actions,
        "KEPT_TERMINALS": sorted(kept_terminals),
        **fast,
    }


def noncapturing(pattern: str) -> str:
    """``pattern`` with each capturing group made non-capturing, so findall returns whole matches."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            out.append(ch)
            i += 1
            for special in "^]":  # a leading ^ negates; a ] right after [ or [^ is a literal
                if pattern.startswith(special, i):
                    out.append(special)
                    i += 1
            continue
        elif ch == "(" and not pattern.startswith("(?", i):
            ch = "(?:"
        out.append(ch)
        i += 1
    return "".join(out)


def _kept_terminals(lark_rules) -> set[str]:
    """The terminals whose tokens a rule's callback receives (NAME, NUMBER, SEMICOLON; not '+').

    The fast parser keeps only these on its value stack, so each terminal must be kept in
    every rule or in none.
    """
    kept: dict[str, bool] = {}
    for rule in lark_rules:
        for symbol in rule.expansion:
            if symbol.is_term:
                keep = not (symbol.filter_out or symbol.name.startswith("_"))
                if kept.setdefault(symbol.name, keep) != keep:
                    raise ValueError(f"terminal {symbol.name} is kept in some rules and dropped in others")
    return {name for name, keep in kept.items() if keep}


def fold(actions: dict, rules: list, expansions: list, kept_terminals: set[str], end_state: int) -> dict:
    """Fold Lark's table ahead of time so the fast parser takes fewer steps per token.

    Two foldings, both exact (the same strings are accepted, each error is found at the
    same token, the builder gets the same calls in the same order):

    - Pass-through chains. After a rule for A is reduced on top of state s, Lark's table
      goes to goto(s, A) and, by the next token, may reduce a chain of one-symbol
      pass-through rules (sum: product: unary: power: atom) that only move the state. A
      *pseudo-state* P(s, A) stands for "A on top of s": its row gives, for each token,
      the action at the end of that chain, so the chain costs nothing. A shift out of it
      pushes the chain's end state u, where Lark's stack would have u too.
    - Leaves. A shift into a state whose every action is the same one-symbol reduction
      (a NUMBER becoming an atom) does that reduction at once, and goes to P(s, A).

    Returns FAST_ACTIONS (state -> token -> action: k >= 0 is SHIFTS[k], k < 0 reduces
    REDUCE[-1 - k], ACCEPT ends the parse), SHIFTS (below, target, how: push ``below``,
    go to ``target``; ``how`` is None to drop the token, "" to keep it as a value, or the
    leaf rule's callback to call on it), REDUCE (states popped below the top, values
    taken, callback) and GOTO (per rule: the state below -> P(state, rule's origin)).
    Real states keep their numbers; pseudo-states are numbered after them.
    """
    n_real = len(actions)
    terminals = sorted({symbol for row in actions.values() for symbol in row if not symbol.islower()} | {"$END"})
    pseudo: dict[tuple[int, str], int] = {}
    for state, row in actions.items():
        for symbol in row:
            if symbol.islower():
                pseudo[state, symbol] = n_real + len(pseudo)
    accept = "ACCEPT"

    def passthrough(r: int) -> bool:
        _, length, _, callback = rules[r]
        return length == 1 and callback is None

    def leaf_rule(state: int) -> int | None:
        """The rule a state reduces by on every token, if it is a one-terminal rule."""
        reductions = set(actions[state].values())
        if len(reductions) != 1:
            return None
        (action,) = reductions
        if action >= 0:
            return None
        r = -1 - action
        if rules[r][1] != 1 or expansions[r][0].islower():
            return None
        return r

    shifts: list[tuple] = []
    shift_index: dict[tuple, int] = {}

    def shift(below: int, symbol: str, target: int) -> int:
        how = "" if symbol in kept_terminals else None
        r = leaf_rule(target)
        if r is not None and how is not None:
            folded = pseudo[below, rules[r][0]]
            # Only where Lark would reduce: the pseudo-state's row may not take a token
            # the leaf's own state refuses.
            if set(row_of(folded)) <= set(actions[target]):
                how = rules[r][3] if rules[r][3] is not None else how
                target = folded
        key = (below, target, how)
        if key not in shift_index:
            shift_index[key] = len(shifts)
            shifts.append(key)
        return shift_index[key]

    rows_cache: dict[int, dict] = {}

    def chain(below: int, symbol: str, token: str):
        """What happens to ``token`` once ``symbol`` is on top of ``below``: (state, action)."""
        state = actions[below][symbol]
        while True:
            if token == "$END" and state == end_state:
                return state, accept
            action = actions[state].get(token)
            if action is None or action >= 0 or not passthrough(-1 - action):
                return state, action
            state = actions[below][rules[-1 - action][0]]

    def row_of(fast_state: int) -> dict:
        """The folded row's keys and raw actions (before shifts are folded), for the leaf check."""
        if fast_state in rows_cache:
            return rows_cache[fast_state]
        (below, symbol) = next(key for key, value in pseudo.items() if value == fast_state)
        row = {}
        for token in terminals:
            state, action = chain(below, symbol, token)
            if action is not None:
                row[token] = (state, action)
        rows_cache[fast_state] = row
        return row

    fast_actions: list[dict] = []
    for state in range(n_real):
        fast_actions.append(
            {
                token: shift(state, token, action) if action >= 0 else action
                for token, action in actions[state].items()
                if not token.islower()
            }
        )
    for number in sorted(pseudo.values()):
        row = {}
        for token, (state, action) in row_of(number).items():
            row[token] = action if action == accept or action < 0 else shift(state, token, action)
        fast_actions.append(row)
    accept_code = len(shifts)
    fast_actions = [{t: accept_code if a == accept else a for t, a in row.items()} for row in fast_actions]
    reduce = []
    for r, (_, length, kept, callback) in enumerate(rules):
        if callback is None and len(kept) != 1:
            raise ValueError(f"rule {r} passes no single value through")
        reduce.append((length - 1, len(kept), callback))
    gotos = [[pseudo.get((state, origin), -1) for state in range(n_real)] for origin, *_ in rules]
    return {"FAST_ACTIONS": fast_actions, "SHIFTS": shifts, "ACCEPT": accept_code, "REDUCE": reduce, "GOTO": gotos}


def render(tables: dict) -> str:
    lines = [
        '"""LALR tables for grammar/adcli.lark, generated by `python -m adcli.lang.tables`. Do not edit."""',
        "",
        "# ACTIONS[state][symbol]: a state number to shift to (or go to, for a rule name),",
        "# or -1 - r to reduce by RULES[r] = (rule name, length, kept children, callback).",
        "",
    ]
    for name, value in tables.items():
        lines.append(f"{name} = {pprint.pformat(value, width=110, compact=True, sort_dicts=False)}")
    return "\n".join(lines) + "\n"


def main() -> None:
    target = Path(__file__).resolve().parent / "_tables.py"
    target.write_text(render(build()), encoding="utf-8")
    print(f"wrote {target}", file=sys.stderr)


if __name__ == "__main__":
    main()
