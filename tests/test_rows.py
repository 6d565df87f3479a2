"""The reader of --points files: every CSV number is read as float() reads it, whichever way
the chunk was read (orjson's JSON arrays, numpy.loadtxt, line by line), and rows the fast
ways refuse still give their value or their line number."""

from __future__ import annotations

import io
import json
import math
import random
import struct
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import same_bits

from adcli.lang.rows import BadRow, RowReader, json_rows


def _read(text: str | bytes, names: list[str], chunk_rows: int = 65536, skip_bad: bool = False, keep=()):
    data = text.encode() if isinstance(text, str) else text
    reader = RowReader(io.BytesIO(data), names, list(keep), "csv", chunk_rows, skip_bad)
    chunks = list(reader.chunks())
    lines = [int(n) for c in chunks for n in c.lines]
    columns = {n: [float(v) for c in chunks for v in c.columns[n]] for n in names}
    return lines, columns, reader


def _bits(values: list[float]) -> list[bytes]:
    return [struct.pack("<d", v) for v in values]


def _random_numbers(rnd: random.Random, count: int) -> list[str]:
    """Decimal texts of every kind float() meets: shortest reprs, long and exact expansions,
    halfway points between neighbouring doubles and just beside them, subnormals, integers."""

    def double() -> float:
        while True:
            x = struct.unpack("<d", struct.pack("<Q", rnd.getrandbits(64)))[0]
            if math.isfinite(x):
                return x

    texts: list[str] = []
    while len(texts) < count:
        kind = rnd.randrange(6)
        if kind == 0:
            texts.append(repr(double()))
        elif kind == 1:  # up to 25 random digits at any exponent, underflow and overflow included
            digits = "".join(rnd.choice("0123456789") for _ in range(rnd.randrange(1, 26)))
            texts.append(f"{rnd.choice(['', '-'])}{digits[0]}.{digits[1:] or '0'}e{rnd.randrange(-345, 312)}")
        elif kind == 2:
            x = abs(double())
            y = math.nextafter(x, math.inf)
            if math.isfinite(y):
                mid = (Decimal(x) + Decimal(y)) / 2  # exact: a tie, rounded to the even neighbour
                texts += [format(mid, "e"), format(mid.next_plus(), "e"), format(mid.next_minus(), "e")]
        elif kind == 3:
            texts.append(str(rnd.randrange(10 ** rnd.randrange(1, 30)) * rnd.choice([1, -1])))
        elif kind == 4:  # subnormal and small normal doubles, shortest and exact
            x = struct.unpack("<d", struct.pack("<Q", rnd.getrandbits(rnd.randrange(1, 60))))[0]
            texts += [repr(x), format(Decimal(x), "e")]
        else:
            texts.append(f"{double():.{rnd.randrange(0, 40)}e}")
    return texts[:count]


def test_every_number_is_read_as_float_reads_it():
    """30,000 numbers of every kind, four columns a row, in chunks of 1000 rows: bit for bit
    float(text), whether the chunk went the fast way or (overflow, say) another way."""
    from decimal import getcontext

    getcontext().prec = 800
    texts = _random_numbers(random.Random(13), 30_000)
    rows = [texts[i : i + 4] for i in range(0, len(texts), 4)]
    _, columns, _ = _read("a,b,c,d\n" + "".join(",".join(r) + "\n" for r in rows), list("abcd"), 1000)
    for k, name in enumerate("abcd"):
        expected = [float(r[k]) for r in rows]
        assert _bits(columns[name]) == _bits(expected), name
    # The JSON way alone, in pieces of 20 rows: most pass it (an overflow, a long integer do not).
    taken = 0
    for at in range(0, len(rows), 20):
        piece = rows[at : at + 20]
        values = json_rows("".join(",".join(r) + "\n" for r in piece).encode(), 4)
        if values is not None:
            taken += 1
            assert _bits(values.ravel().tolist()) == _bits([float(t) for r in piece for t in r])
    assert taken > len(rows) / 20 / 2


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), min_size=1, max_size=300), st.data())
def test_any_double_written_any_way_reads_back(values, data):
    precision = data.draw(st.integers(0, 25))
    spellings = [[repr(v), f"{v:.{precision}e}", f"{v:.{precision}f}", f"{v:g}"] for v in values]
    texts = [data.draw(st.sampled_from(s)) for s in spellings]
    _, columns, _ = _read("x\n" + "\n".join(texts) + "\n", ["x"])
    assert _bits(columns["x"]) == _bits([float(t) for t in texts])


# What float() (or adcli's rules) read that JSON does not, and what JSON reads another way:
# each must fall back, never give another number. The expected values are float()'s.
EDGES = {
    "-0": -0.0,  # orjson reads the JSON integer -0 as 0
    "-0.0": -0.0,
    "0": 0.0,
    "-0e3": -0.0,
    "1e-320": 1e-320,
    "4.9e-324": 5e-324,
    "2.4703282292062328e-324": 5e-324,
    "2.4703282292062327e-324": 0.0,
    "1e-400": 0.0,
    "2.2250738585072011e-308": 2.225073858507201e-308,
    "1.7976931348623157e308": 1.7976931348623157e308,
    "1.7976931348623159e308": math.inf,
    "1e400": math.inf,
    "-1e400": -math.inf,
    "1" + "0" * 400: math.inf,
    "9007199254740993": 9007199254740992.0,
    "18446744073709551615": 18446744073709551615.0,
    "-9223372036854775809": -9223372036854775809.0,
    ".5": 0.5,
    "5.": 5.0,
    "+1": 1.0,
    " 1 ": 1.0,
    "01": 1.0,
    "1.e5": 1e5,
    "1E5": 1e5,
    "NaN": math.nan,
    "nan": math.nan,
    "Infinity": math.inf,
    "inf": math.inf,
    "-inf": -math.inf,
    '"2.5"': 2.5,  # a quoted field, as the csv module reads it
    "pi/4": math.pi / 4,  # a constant expression, as --at reads it
}


@pytest.mark.parametrize("text", list(EDGES))
def test_edge_spellings_give_float_s_number_among_plain_rows(text):
    plain = [repr(v) for v in np.random.default_rng(1).uniform(-3, 3, 50).tolist()]
    rows = [*plain[:25], text, *plain[25:]]
    lines, columns, _ = _read("x\n" + "\n".join(rows) + "\n", ["x"])
    assert lines == list(range(2, 53))
    assert _bits(columns["x"][:25]) == _bits([float(t) for t in plain[:25]])
    assert same_bits(columns["x"][25], EDGES[text])
    # The same row between other columns, and alone in its chunk.
    _, two, _ = _read(f"x,y\n1.5,{text}\n{text},-2\n", ["x", "y"], chunk_rows=1)
    assert same_bits(two["y"][0], EDGES[text]) and same_bits(two["x"][1], EDGES[text])


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1_0", "not a number or constant expression"),  # float() reads it; a points file does not, as before
        ("0x10", "not a number or constant expression"),
        ("true", "must be a constant expression"),
        ("null", "must be a constant expression"),
        ("[1]", "not a number or constant expression"),
        ("1],[2", "fields, but the header has"),
        ("", "no value for 'y'"),
        ("1,2", "3 fields, but the header has 2"),
    ],
)
def test_what_no_reader_takes_is_a_bad_row_at_its_line(text, reason):
    body = "x,y\n" + "".join(f"{i}.5,{-i}\n" for i in range(10)) + f"7,{text}\n" + "1,2\n"
    with pytest.raises(BadRow) as error:
        _read(body, ["x", "y"])
    assert error.value.line == 12 and reason in error.value.reason
    lines, columns, reader = _read(body, ["x", "y"], skip_bad=True)
    assert reader.skipped == 1 and lines == [*range(2, 12), 13]
    assert columns["y"] == [-float(i) for i in range(10)] + [2.0]


@pytest.mark.parametrize("chunk_rows", [1, 7, 65536])
def test_blocks_of_lines_keep_every_row_and_line_number(chunk_rows):
    """Blocks are cut by bytes, at whole lines: rows of any length, in any number of blocks,
    come out once each with their line, and a bad row anywhere names its own line."""
    rnd = random.Random(chunk_rows)
    values = [[rnd.uniform(-1, 1) * 10.0 ** rnd.randrange(-30, 30) for _ in range(3)] for _ in range(1000)]
    texts = [",".join(f"{v:.{rnd.randrange(1, 17)}g}" for v in row) for row in values]
    texts[300] = "1,nan,2"  # read by numpy.loadtxt, not JSON
    texts[301] = ".5,1,2"
    body = "a,b,c\n" + "\n".join(texts)  # no newline at the end
    lines, columns, _ = _read(body, ["a", "b", "c"], chunk_rows)
    assert lines == list(range(2, 1002))
    assert _bits(columns["c"]) == _bits([float(t.split(",")[2]) for t in texts])
    texts[700] = "1,2"
    with pytest.raises(BadRow) as error:
        _read("a,b,c\n" + "\n".join(texts) + "\n", ["a", "b", "c"], chunk_rows)
    assert error.value.line == 702 and "2 fields, but the header has 3" in error.value.reason


def test_crlf_no_final_newline_bom_and_blank_lines_as_before():
    lines, columns, _ = _read(b"\xef\xbb\xbfx,y\r\n1,2\r\n-0,3.25\r\n\r\n4,5", ["x", "y"])
    assert lines == [2, 3, 5]
    assert _bits(columns["x"]) == _bits([1.0, -0.0, 4.0]) and columns["y"] == [2.0, 3.25, 5.0]
    lines, columns, _ = _read("x\n\n\n7\n", ["x"])
    assert lines == [4] and columns["x"] == [7.0]


def test_columns_come_in_the_order_of_the_names_whatever_the_header_s():
    _, columns, _ = _read("y,x\n1,2\n3,4\n", ["x", "y"])
    assert columns == {"x": [2.0, 4.0], "y": [1.0, 3.0]}
    _, columns, _ = _read("id,y,x\nA,1,2\nB,3,4\n", ["x", "y"], keep=["id"])
    assert columns == {"x": [2.0, 4.0], "y": [1.0, 3.0]}


def test_the_json_way_refuses_what_it_would_read_otherwise():
    """json_rows itself: None for anything but lines of `width` JSON numbers, never a number float() would not give."""
    assert json_rows(b"1,2\n3e2,-0.5\n", 2).tolist() == [[1.0, 2.0], [300.0, -0.5]]
    assert json_rows(b"1,2\r\n3,4", 2).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    refused = [
        b"-0,1\n",  # the integer -0
        b"1,-0\n",
        b"true,1\n",
        b"1,false\n",
        b"null,1\n",
        b'"1",2\n',
        b"[1],2\n",
        b"1],[2\n",  # would regroup into two rows of one
        b"1\n2\n",  # rows of one where two are wanted
        b"1,2,3\n",
        b"1,2\n\n",
        b"1,,2\n",
        b"NaN,1\n",
        b"1e400,1\n",
        b".5,1\n",
        b"{},1\n",
    ]
    for block in refused:
        assert json_rows(block, 2) is None, block
    assert json_rows(b"18446744073709551615,-1\n", 2).tolist() == [[float(2**64 - 1), -1.0]]
    # Blocks of several pieces (128 KiB each): every line is a row, and a bad one anywhere is seen.
    many = b"".join(f"{i}.5,{-i}\n".encode() for i in range(150_000))
    rows = json_rows(many, 2)
    assert rows.shape == (150_000, 2) and rows[:, 0].flags.c_contiguous
    assert rows[-1].tolist() == [149_999.5, -149_999.0] and rows[70_000].tolist() == [70_000.5, -70_000.0]
    assert json_rows(many + b"-0,2\n", 2) is None
    cut = many.find(b"\n", 700_000) + 1
    assert json_rows(many[:cut] + b"1,2,3\n" + many[cut:], 2) is None


def test_integers_are_read_as_float_rounds_them():
    rnd = random.Random(5)
    texts = [str(rnd.randrange(-(2**64), 2**64)) for _ in range(2000)] + ["18446744073709551615", "9007199254740993"]
    for batch in (texts, [t for t in texts if not t.startswith("-")]):
        _, columns, _ = _read("x\n" + "\n".join(batch) + "\n", ["x"])
        assert _bits(columns["x"]) == _bits([float(t) for t in batch])


@pytest.mark.parametrize("wrt", [None, [], ["x", "y"]])
def test_json_lines_without_kept_columns_give_every_number_back(wrt):
    """The writer's one-template way (no kept column): every row, across pieces of rows, reads
    back as the same doubles, non-finite ones as the strings of --json; the kept way agrees."""
    from adcli.render.rows import JsonLinesWriter

    rng = np.random.default_rng(2)
    rows = 2500
    value = rng.standard_normal(rows) * 10.0 ** rng.integers(-300, 300, rows)
    value[[3, 1500, 2400]] = [math.nan, math.inf, -0.0]
    gradient = {name: rng.standard_normal(rows) for name in wrt or ()}
    if gradient:
        gradient["y"][1024] = -math.inf
    plain, kept = io.BytesIO(), io.BytesIO()
    for writer, extra in (
        (JsonLinesWriter(plain, [], wrt), {}),
        (JsonLinesWriter(kept, ["id"], wrt), {"id": list(range(rows))}),
    ):
        for at in (0, 700, 1900):  # chunks of 700 and 1200 rows and a rest: pieces of every size
            end = {0: 700, 700: 1900, 1900: rows}[at]
            writer.write(
                value[at:end], {n: g[at:end] for n, g in gradient.items()}, {k: v[at:end] for k, v in extra.items()}
            )
        writer.close()
    words = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
    lines = plain.getvalue().decode().splitlines()
    assert len(lines) == rows
    for r, line in enumerate(lines):
        obj = json.loads(line)
        assert same_bits(words.get(obj["value"], obj["value"]), float(value[r]))
        if wrt is not None:
            assert list(obj["gradient"]) == list(gradient)
            for name, g in gradient.items():
                assert same_bits(words.get(obj["gradient"][name], obj["gradient"][name]), float(g[r]))
    with_id = [json.loads(line) for line in kept.getvalue().decode().splitlines()]
    assert [{k: v for k, v in o.items() if k != "id"} for o in with_id] == [json.loads(line) for line in lines]


def test_a_file_of_blank_lines_reads_no_rows_and_says_nothing_on_stderr(tmp_path, capfd):
    """numpy's "input contained no data" warning is not for the user: the rows are none."""
    from adcli.lang.rows import RowReader

    path = tmp_path / "blank.csv"
    path.write_bytes(b"x,y\n\n\n")
    with open(path, "rb") as stream:
        chunks = list(RowReader(stream, ["x", "y"], [], "csv", 4).chunks())
    assert sum(len(c.lines) for c in chunks) == 0
    assert capfd.readouterr().err == ""


def test_a_header_field_past_the_csv_limit_is_a_plain_error(tmp_path):
    """Python's csv module refuses a field over 128 KiB: a PointError naming the line, not a crash."""
    from adcli.lang.rows import RowReader

    path = tmp_path / "wide.csv"
    path.write_bytes(b"x," + b"a" * 200_000 + b"\n1,2\n")
    from adcli import PointError

    with open(path, "rb") as stream, pytest.raises(PointError, match="line 1: the header cannot be read"):
        list(RowReader(stream, ["x"], [], "csv", 4).chunks())
