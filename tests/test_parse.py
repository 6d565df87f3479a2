"""The language: precedence, statements, sharing, and parse errors."""

import math
import re

import pytest
from formulas import formulas
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lark.exceptions import UnexpectedInput, UnexpectedToken
from reference import lark_diagnosis, lark_hint, reference_parse, same_graph

import adcli
from adcli.lang import _tables, parser, tables
from adcli.lang.parser import _expected
from adcli.lang.separators import fold_separators


def value(text: str, **point: float) -> float:
    return adcli.parse(text).evaluate(point)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2^3^2", 512.0),  # right-associative
        ("2**3**2", 512.0),
        ("-2^2", -4.0),  # ^ binds tighter than unary minus
        ("2^-1", 0.5),  # signed exponent
        ("2^-1^2", 0.5),  # 2^(-(1^2))
        ("10-4-3", 3.0),  # left-associative
        ("64/4/2", 8.0),
        ("2+3*4", 14.0),
        ("(2+3)*4", 20.0),
        ("--3", 3.0),
        ("+-+3", -3.0),
        ("2*-3", -6.0),
        (".5 + 2. + 1e-3 + 1E+2", 102.501),
        ("pi", math.pi),
        ("e", math.e),
        ("log(8, 2)", 3.0),
        ("ln(e)", 1.0),
        ("pow(2, 10)", 1024.0),
        ("min(3, 1, 2)", 1.0),
        ("max(3, 1, 2, 5)", 5.0),
        ("atan2(1, 1)", math.pi / 4),
        ("hypot(3, 4)", 5.0),
    ],
)
def test_constant_expressions(text, expected):
    assert value(text) == pytest.approx(expected, rel=1e-15)


def test_minus_x_squared_is_minus_of_square():
    graph = adcli.parse("-x^2")
    assert graph.evaluate({"x": 3}) == -9.0
    assert graph.gradient({"x": 3}) == {"x": -6.0}


def test_x_to_minus_one():
    assert adcli.parse("x^-1").gradient({"x": 2}) == {"x": -0.25}


def test_variables_in_order_of_first_appearance():
    assert adcli.parse("z*a + b - a*z + y").variables == ("z", "a", "b", "y")


def test_identifiers():
    graph = adcli.parse("x + x1 + x_2 + alpha + _t")
    assert graph.variables == ("x", "x1", "x_2", "alpha", "_t")


def test_identical_subexpressions_share_a_node():
    shared = adcli.parse("sin(x+y) * sin(x+y)")
    assert shared.operation_count == 3  # add, sin, mul
    assert adcli.parse("(x+y)*(x+y) + (x+y)").operation_count == 3


def test_statements_name_nodes():
    graph = adcli.parse("a = x + y; b = x - y; a * b")
    assert graph.evaluate({"x": 3, "y": 2}) == 5.0
    assert sorted(graph.labels.values()) == ["a", "b"]
    assert graph.expression() == "a * b"


def test_newlines_comments_and_continuations():
    program = """
    # a textbook example
    a = x + y    # first
    b = x -
        y        # an operator at the end of a line continues it
    c = (a
         * b)    # so does an open parenthesis
    c + 0
    """
    graph = adcli.parse(program)
    assert graph.evaluate({"x": 3, "y": 2}) == 5.0
    assert set(graph.labels.values()) == {"a", "b", "c"}


def test_separators_collapse():
    assert value(";;x=2;;\n\n;x*3;\n") == 6.0


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("(x+y", "unexpected end of the formula", 5),
        ("x+y)", "unexpected ')'", 4),
        ("x + * y", "unexpected '*'", 5),
        ("2x", "unexpected name 'x'", 2),
        ("x × y", "unexpected character '×'", 3),
        ("sinn(x)", "unknown function 'sinn'", 1),
        ("sin(x, y)", "sin() takes 1 argument(s), not 2", 1),
        ("log(x, y, z)", "log() takes 1 or 2 argument(s), not 3", 1),
        ("sin + 1", "'sin' is a function", 1),
        ("pi = 3; pi", "'pi' is a constant and cannot be assigned", 1),
        ("a = 1; a = 2; a", "'a' is already defined", 8),
        ("x + 1; x = 2; x", "'x' is used as an input before this assignment", 8),
    ],
)
def test_parse_errors_point_at_the_column(text, message, column):
    with pytest.raises(adcli.ParseError) as info:
        adcli.parse(text)
    error = info.value
    assert error.message.startswith(message)
    assert error.column == column
    lines = str(error).splitlines()
    caret_line = lines[2]
    assert caret_line.strip() == "^"
    # The caret sits under the offending character of the quoted text.
    assert caret_line.index("^") == lines[1].index(text[0]) + column - 1


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("sinn(x)", "did you mean sin?"),
        ("2x", "write 2*x"),
        ("x × y", "use '*'"),
        ("x − y", "use '-'"),
        ("x²", "use '^2'"),
        ("(x + y", "never closed"),
        ("x +", "missing its right-hand operand"),
        # The same mistakes nested deeper than any example: the parser state matches.
        ("2*(3", "never closed"),
        ("sin(x*(y + 2)", "never closed"),
        ("1 + (x +)", "missing its right-hand operand"),
        ("exp(2*(x y))", "two operands need an operator"),
        ("y*max(x,,y)", "an argument is missing after ','"),
        ("a = 1\nb = (3x)", "write 2*x"),
    ],
)
def test_parse_error_hints(text, hint):
    with pytest.raises(adcli.ParseError) as info:
        adcli.parse(text)
    assert hint in (info.value.hint or "")


def test_unexpected_token_lists_what_was_expected():
    with pytest.raises(adcli.ParseError) as info:
        adcli.parse("x + )")
    assert "a name" in info.value.expected and "a number" in info.value.expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The parser stops after reducing 1 to a sum; '*' '/' '^' could still have come.
        ("(x+1", "one of: ')', '*', '+', '-', '/', '^'"),
        # The state after a number also serves inside brackets; here ')' and ',' cannot come.
        ("x = 2 3", "one of: '*', '+', '-', '/', ';' or a new line, '^', the end of the formula"),
        ("max(x, y", "one of: '(', ')', '*', '+', ',', '-', '/', '^'"),
    ],
)
def test_expected_tokens_are_what_could_have_come_there(text, expected):
    with pytest.raises(adcli.ParseError) as info:
        adcli.parse(text)
    assert info.value.expected == expected


def test_empty_formula():
    for text in ["", "   ", "\n\n", "# only a comment"]:
        with pytest.raises(adcli.ParseError):
            adcli.parse(text)


def test_error_in_a_long_line_shows_a_window():
    text = "x + " * 10_000 + ")"
    with pytest.raises(adcli.ParseError) as info:
        adcli.parse(text)
    quoted, caret = str(info.value).splitlines()[1:3]
    assert len(quoted) < 120
    assert quoted[caret.index("^")] == ")"


def test_committed_tables_match_the_grammar():
    """_tables.py is what Lark makes of the grammar today (regenerate: python -m adcli.lang.tables)."""
    assert tables.grammar_digest(tables.grammar_text()) == _tables.GRAMMAR_SHA256
    fresh = tables.build()
    assert fresh == {name: getattr(_tables, name) for name in fresh}


ALPHABET = st.sampled_from([*"xy12.e+-*/^(),;= \n", "sin", "**", "pi", "max", "#", "\t"])


@settings(max_examples=300, deadline=None)
@given(st.lists(ALPHABET, max_size=14).map("".join))
@example("+;#")  # a comment at the end, after a separator folding dropped
@example("x +;\n# c")
def test_fast_parser_accepts_exactly_what_lark_accepts(text):
    """The table-driven parser and Lark's own parser agree on every string, and on its errors:
    where, which tokens could have come there, and the hint."""
    lark_error = fast_error = None
    try:
        tables.lark_parser().parse(text)
    except UnexpectedInput as error:
        lark_error = error
    try:
        adcli.parse(text)
    except adcli.ParseError as error:
        fast_error = error
    if lark_error is None and fast_error is not None:
        # Only the builder may refuse what the grammar accepts (a name, an arity, an assignment).
        builder_words = ("takes", "function", "assign", "defined", "input before", "empty", "constant", "not used")
        assert any(word in fast_error.message for word in builder_words), fast_error.message
    if lark_error is not None:
        assert fast_error is not None, text
    if isinstance(lark_error, UnexpectedToken) and fast_error.message.startswith("unexpected"):
        at_end = lark_error.token.type == "$END"
        assert fast_error.pos == (len(text.rstrip()) if at_end else lark_error.pos_in_stream), text
        pos = len(text) if at_end else lark_error.pos_in_stream
        expected, state, token = lark_diagnosis(text, pos)
        assert fast_error.expected == _expected(expected), text
        assert fast_error.hint == lark_hint(state, token), text
        # Each token listed is one the grammar takes there, and each it takes is listed
        # (but for a separator, which folding may drop where the grammar has none). Not
        # checked after a separator that only the end of the text folded away: any token
        # there would bring it back.
        prefix = re.sub(r"#[^\n]*$", "", text[:pos])  # a comment at the end would swallow what follows
        if _separators(prefix + " x") > _separators(prefix):
            return
        for terminal in [*_SAMPLES, "$END"]:
            if terminal in expected:
                assert _takes(prefix, terminal), (text, terminal)
            elif terminal != "SEMICOLON":
                assert not _takes(prefix, terminal), (text, terminal)


# A token of each kind, to try after a prefix.
_SAMPLES = {"NAME": "x", "NUMBER": "1", "LPAR": "(", "RPAR": ")", "PLUS": "+", "MINUS": "-", "STAR": "*"}
_SAMPLES |= {"SLASH": "/", "_POW": "^", "COMMA": ",", "EQUAL": "=", "SEMICOLON": ";"}


def _takes(prefix: str, terminal: str) -> bool:
    """Does Lark's plain parse get past ``terminal`` right after ``prefix`` (which ends in no
    comment)? (The end: does the prefix parse?) An independent check of the expected tokens,
    which the oracle gets from Lark's interactive parser."""
    if terminal == "$END":
        return _error_at(prefix) is None
    return _error_at(f"{prefix} {_SAMPLES[terminal]} x") != len(prefix) + 1


def _separators(text: str) -> int:
    """How many statement separators the parser sees in ``text``, after folding."""
    folded = fold_separators(parser._tokens(text), parser._kind, parser._as_semicolon)
    return sum(kind == "SEMICOLON" for kind, _, _ in folded)


def _error_at(text: str) -> int | None:
    try:
        tables.lark_parser().parse(text)
    except UnexpectedToken as error:
        return len(text) if error.token.type == "$END" else error.token.start_pos
    except UnexpectedInput as error:
        return error.pos_in_stream
    return None


@settings(max_examples=300, deadline=None)
@given(formulas)
def test_printed_expression_parses_back_to_the_same_graph(text):
    """Graph.expression writes text that adcli reads back as the same computation."""
    graph = adcli.parse(text)
    again = adcli.parse(graph.expression(limit=10**9, use_labels=False))
    assert [op.name for op in again.ops] == [op.name for op in graph.ops]
    assert again.args == graph.args
    assert again.const_values == graph.const_values


def test_unnamed_statements_are_the_outputs_in_order():
    graph = adcli.parse("a = x*y; sin(x); a + 1; cos(x)")
    assert [graph.expression(o, use_labels=False) for o in graph.outputs] == ["sin(x)", "x * y + 1", "cos(x)"]
    assert adcli.parse("a = x + y").outputs == (2,)  # named statements only: the last is the output


def test_a_gradient_needs_one_output_and_says_where_the_second_starts():
    with pytest.raises(adcli.ParseError, match="one output, and this one has 2") as info:
        adcli.parse("sin(x); cos(x)").gradient({"x": 1.0})
    assert info.value.pos == 6 and "jacobian" in info.value.hint
    with pytest.raises(adcli.ParseError, match="one output") as info:
        adcli.parse("100*(y-x^2)^2\n+ (1-x)^2").gradient({"x": 1.0, "y": 1.0})
    assert info.value.line == 1
    assert "end the line with an operator" in info.value.hint
    # Written so that the line goes on, it is one formula.
    assert adcli.parse("100*(y-x^2)^2 +\n(1-x)^2").evaluate({"x": 0.5, "y": 0.5}) == 6.5


def test_long_chains_print_their_head_and_tail_within_the_limit():
    """A long sum shows where it starts and where it ends, whichever node of it is asked for."""
    graph = adcli.parse("a + " + "x + " * 100_000 + "b")
    text = graph.expression(limit=40)
    assert len(text) <= 40
    assert text.startswith("a + x + x") and text.endswith("x + x + b")
    assert text.count("…") == 1 and " + … + " in text
    below = graph.args[graph.output][0]  # a + x + … + x, one term shorter
    assert graph.expression(below, limit=40).startswith("a + x") and graph.expression(below, 40).endswith("+ x")
    # A power chain nests the other way (x^x^…^x is x^(x^(…))); a text shorter than the limit is whole.
    power = adcli.parse("a^" + "x^" * 20_000 + "b").expression(limit=30)
    assert len(power) <= 30 and power.startswith("a^x^x") and power.endswith("^x^x^b")
    assert adcli.parse("x1 + x2 + x3").expression(limit=12) == "x1 + x2 + x3"
    assert adcli.parse("x1 + x2 + x3 + x4").expression(limit=12) == "x1 + … + x4"
    assert adcli.parse("log(x, 2)").expression() == "log(x, 2)"


PROGRAMS = st.lists(
    st.tuples(st.sampled_from(["", "a = ", "b = ", "c = "]), formulas, st.sampled_from(["; ", "\n", ";\n  # note\n"])),
    min_size=1,
    max_size=4,
).map(lambda parts: "".join(f"{name}{formula}{end}" for name, formula, end in parts))


def _graph_or_error(parse, text):
    try:
        return parse(text), None
    except adcli.ParseError as error:
        return None, error


@settings(max_examples=300, deadline=None)
@given(st.one_of(formulas, PROGRAMS, st.lists(ALPHABET, max_size=14).map("".join)))
def test_the_fast_parser_builds_the_graph_lark_and_the_reference_builder_build(text):
    """Node for node: the folded tables, the windowed tokens and the tuned builder make the
    graph that Lark's parser and the plain builder make, and refuse the same texts."""
    fast, fast_error = _graph_or_error(adcli.parse, text)
    slow, slow_error = _graph_or_error(reference_parse, text)
    assert (fast is None) == (slow is None), (text, fast_error, slow_error)
    if fast is not None:
        assert same_graph(fast, slow), text
    elif slow_error.message != "syntax error":  # the builder's own error: the same message, at the same place
        assert (fast_error.message, fast_error.pos, fast_error.hint) == (
            slow_error.message,
            slow_error.pos,
            slow_error.hint,
        )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(ALPHABET | st.sampled_from(["1e+", "1e5", "x12", "# c\n", "   ", "§"]), max_size=30).map("".join),
    st.integers(5, 12),
)
def test_tokens_cut_into_windows_are_the_tokens_of_the_whole_text(text, window):
    """Windows as small as a few characters cut no token short and lose none."""
    try:
        whole = list(fold_separators(parser._tokens(text), parser._kind, parser._as_semicolon))
    except parser._Invalid as invalid:
        whole = invalid.pos
    old = parser._WINDOW, parser._MARGIN
    parser._WINDOW, parser._MARGIN = window, 4
    try:
        windowed = list(parser._stream(text))
    finally:
        parser._WINDOW, parser._MARGIN = old
    if isinstance(whole, int):  # a character no token matches: the stream has it, kind None
        assert next(pos for kind, _, pos in windowed if kind is None) == whole
    else:
        assert windowed == whole


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        ("1,5", "no matching '('"),  # a decimal comma fails where "x)" does, on another token
        ("3 = x; x", "write 2*x"),  # a number before '=' fails where "2x" does
        ("x = 1,5", "no matching"),
        ("f(x) = 2", "2x"),
    ],
)
def test_a_hint_that_does_not_fit_the_mistake_stays_out(text, wrong):
    with pytest.raises(adcli.ParseError) as info:
        adcli.parse(text)
    assert wrong not in (info.value.hint or "")
