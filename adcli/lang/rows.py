"""Rows of points from a file: CSV with a header of names, or JSON Lines of objects, in chunks.

A chunk is read whole at C speed and checked as a whole. CSV comes in blocks of whole
lines: a block of plain numbers goes to orjson as it is, as rows of JSON arrays (about
2.5× as fast as numpy.loadtxt, and as exact: both round as float() does); a block with
anything else (kept columns, nan, quotes, a blank line) is split into lines for
numpy.loadtxt. JSON Lines go to orjson. A chunk that fails every check is read again line
by line, by the same value rules as ``--at`` (lang/point.py), which says what is wrong on
which line. A bad row is fatal (`BadRow`) unless bad rows are skipped, and then counted.
Blank lines are no rows; line numbers count every line of the file, the header included.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, cast

import numpy as np
import orjson

from ..errors import AdcliError, PointError, counted
from .point import _SPECIAL, _json_kind, constant_value


class BadRow(AdcliError):
    """A row of the points file that cannot be read; the message names its line."""

    def __init__(self, line: int, reason: str, source: str):
        self.line = line
        self.reason = reason
        super().__init__(f"{source}, line {line}: {reason}")


@dataclass
class Chunk:
    """Consecutive rows: their line numbers, a float column per variable, the kept columns' values."""

    lines: np.ndarray
    columns: dict[str, np.ndarray]
    kept: dict[str, list[Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.lines)


_PIECE = 1 << 17  # bytes of CSV given to orjson at a time (measured best): text and floats stay in the cache
_BLOCK = 1 << 25  # bytes of CSV read at most at a time, however long the first row is
# JSON's integer -0, which orjson reads as the integer 0 where float() gives -0.0 ("-01" is no JSON).
_NEGATIVE_ZERO = re.compile(rb"-0(?![.eE])")
# Kept JSON values orjson gives back as the line spelt them; others go the careful way (json_text).
_KEPT_AS_WRITTEN = {str, int, bool, type(None)}


def json_rows(block: bytes, width: int) -> np.ndarray | None:
    """The lines of ``block`` as a (lines, width) array, read as JSON arrays by orjson; None
    unless every line is ``width`` JSON numbers separated by commas.

    A JSON number is a float() number, and orjson rounds it correctly, as float() does;
    what float() reads but JSON does not (``nan``, ``.5``, ``+1``, ``1e400``, quotes, an
    empty field, a blank line) makes orjson refuse the piece, and the caller reads it
    another way. Checked here: true/false (numpy would make them 1 and 0), brackets (they
    would regroup the rows), the integer -0 (orjson's 0), the shape and the kind of numbers.
    """
    pieces = []
    at = 0
    while at < len(block):
        end = block.find(b"\n", at + _PIECE) + 1 or len(block)  # whole lines
        body = block[at:end]
        at = end
        if b"t" in body or b"f" in body or b"]" in body:
            return None
        if body.endswith(b"\n"):  # the file's last line may have no newline
            body = body[:-1]
        try:
            values = np.array(orjson.loads(b"[[" + body.replace(b"\n", b"],[") + b"]]"))
        except ValueError:  # not JSON numbers (a JSONDecodeError is a ValueError), or rows of other widths
            return None
        if values.ndim != 2 or values.shape[1] != width or values.dtype.kind not in "fiu":
            return None  # a string, null or an object is no number
        if not values.all() and _NEGATIVE_ZERO.search(body):
            return None
        pieces.append(values)
    out = np.empty((sum(map(len, pieces)), width), order="F")  # a column of it is contiguous
    row = 0
    for values in pieces:
        out[row : row + len(values)] = values
        row += len(values)
    return out


def _split_lines(block: bytes) -> list[bytes]:
    """The lines of a block, each with its newline (the last may have none), as a file gives them."""
    lines = [line + b"\n" for line in block.split(b"\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


def detect(head: bytes) -> str:
    """'jsonl' when the first thing in the file is '{', else 'csv'."""
    return "jsonl" if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") else "csv"


class RowReader:
    """Chunks of rows from ``stream``: ``names`` are the variables the file must give, ``keep``
    the columns passed through; ``skip_bad`` counts bad rows instead of stopping at the first."""

    def __init__(
        self,
        stream: BinaryIO,
        names: list[str],
        keep: list[str],
        fmt: str | None = None,
        chunk_rows: int = 65536,
        skip_bad: bool = False,
        source: str = "the points file",
        unknown=None,
    ):
        self.stream = stream
        self.names = names
        self.keep = keep
        self.chunk_rows = chunk_rows
        self.skip_bad = skip_bad
        self.source = source
        self.unknown = unknown or (lambda name: f"names '{name}', which the formula does not use")
        self.skipped = 0
        self.first_bad: BadRow | None = None
        self.bytes_read = 0
        self.line = 0  # lines read so far
        if not hasattr(stream, "peek"):  # what the format is, seen without consuming it
            # A stream without peek (BytesIO, a raw file) has readinto, which typing's BinaryIO leaves out.
            stream = self.stream = io.BufferedReader(cast(io.RawIOBase, stream))
        head = stream.peek(64)[:64]
        self.format = fmt or detect(head)
        self.expected = set(names) | set(keep)

    # Shared.

    def _lines(self) -> list[bytes]:
        lines = list(itertools.islice(self.stream, self.chunk_rows))
        self.bytes_read += sum(map(len, lines))
        return lines

    def _bad(self, line: int, reason: str) -> None:
        error = BadRow(line, reason, self.source)
        if not self.skip_bad:
            raise error
        self.skipped += 1
        if self.first_bad is None:
            self.first_bad = error

    def _reject(self, line: int, error: Exception, numbers, values, kept) -> Iterator[Chunk]:
        """A bad row: skipped and counted (--skip-bad), or the end, after the good rows before it."""
        reason = "the line is not UTF-8 text" if isinstance(error, UnicodeDecodeError) else str(error)
        try:
            self._bad(line, reason)
        except BadRow:
            if numbers:
                yield self._finish(numbers, values, kept)
            raise

    def _check_names(self, names: list[str], where: str) -> str | None:
        """What is wrong with the names a row or header gives, or None."""
        seen = set()
        for name in names:
            if name in seen:
                return f"{where} gives '{name}' twice"
            seen.add(name)
            if name not in self.expected:
                return f"{where} {self.unknown(name)}"
        missing = [n for n in self.names if n not in seen]
        if missing:
            return f"{where} has no value for '{missing[0]}'"
        missing = [n for n in self.keep if n not in seen]
        if missing:
            return f"{where} has no column '{missing[0]}' to keep"
        return None

    def chunks(self) -> Iterator[Chunk]:
        return self._csv() if self.format == "csv" else self._jsonl()

    def _finish(self, lines: list[int], values: dict[str, list[float]], kept: dict[str, list]) -> Chunk:
        return Chunk(
            np.array(lines, dtype=np.int64),
            {n: np.array(values[n], dtype=np.float64) for n in self.names},
            kept,
        )

    # CSV.

    def _csv(self) -> Iterator[Chunk]:
        header = b""
        while not header.strip():
            header = self.stream.readline()
            self.bytes_read += len(header)
            self.line += 1
            if not header:
                raise PointError(f"{self.source} is empty: it needs a header row of names (x,y)")
        try:
            text = header.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise PointError(f"{self.source}, line {self.line}: the header is not UTF-8 text") from None
        try:
            self.columns = [name.strip() for name in next(csv.reader([text]))]
        except csv.Error as error:  # a field past the csv module's limit of 128 KiB
            raise PointError(f"{self.source}, line {self.line}: the header cannot be read: {error}") from None
        problem = self._check_names(self.columns, "the header")
        if problem:
            raise PointError(f"{self.source}, line {self.line}: {problem}")
        self.numeric = [i for i, name in enumerate(self.columns) if name in set(self.names)]
        self.kept_at = [self.columns.index(name) for name in self.keep]
        yield from self._csv_blocks()

    def _csv_blocks(self) -> Iterator[Chunk]:
        """Blocks of whole lines, about ``chunk_rows`` of them (in bytes, by the first row's
        length; 32 MiB at most): plain numbers go to orjson as the block is; anything else
        is split into lines for numpy.loadtxt, or at last line by line."""
        sample = cast(io.BufferedReader, self.stream).peek(1 << 16)  # made one with peek in __init__
        first = sample.find(b"\n") + 1 or len(sample)
        size = min(self.chunk_rows * max(first, 8), _BLOCK)
        width = len(self.columns)
        at = {name: k for k, name in enumerate(self.columns)}
        while True:
            block = self.stream.read(size)
            if not block:
                return
            if not block.endswith(b"\n"):
                block += self.stream.readline()
            self.bytes_read += len(block)
            start = self.line + 1
            data = None if self.keep else json_rows(block, width)  # without kept columns, every one is a variable's
            if data is not None:
                self.line += len(data)
                yield Chunk(np.arange(start, start + len(data)), {n: data[:, at[n]] for n in self.names})
                continue
            lines = _split_lines(block)
            self.line += len(lines)
            chunk = self._csv_fast(lines, start)
            if chunk is not None:
                yield chunk
            else:
                yield from self._csv_slow(lines, start)

    def _chunks(self, fast, slow) -> Iterator[Chunk]:
        """Chunks of lines: each read at C speed by ``fast``, or line by line by ``slow`` if it refuses."""
        while True:
            lines = self._lines()
            if not lines:
                return
            start = self.line + 1
            self.line += len(lines)
            chunk = fast(lines, start)
            if chunk is not None:
                yield chunk
            else:
                yield from slow(lines, start)

    def _csv_fast(self, lines: list[bytes], start: int) -> Chunk | None:
        """The whole chunk by numpy.loadtxt, or None if anything in it needs a closer look."""
        width = len(self.columns)
        kept: dict[str, list] = {}
        if self.keep:
            if any(b'"' in line for line in lines):
                return None
            fields = [line.rstrip(b"\r\n").split(b",") for line in lines]
            if any(len(f) != width for f in fields):
                return None
            try:
                for name, k in zip(self.keep, self.kept_at, strict=True):
                    kept[name] = [f[k].decode("utf-8").strip() for f in fields]
            except UnicodeDecodeError:
                return None
        try:
            # usecols only with kept columns, whose rows were counted above: with it, loadtxt reads
            # the first columns of a longer row and leaves the rest unseen.
            usecols = self.numeric if self.keep else None
            with warnings.catch_warnings():  # blank lines only: "input contained no data"
                warnings.simplefilter("ignore", UserWarning)
                data = np.loadtxt(lines, delimiter=",", dtype=np.float64, ndmin=2, comments=None, usecols=usecols)
        except ValueError:
            return None
        if data.shape != (len(lines), len(self.numeric) if self.keep else width):
            return None  # a blank line, or a row of another width
        columns = {self.columns[k]: np.ascontiguousarray(data[:, c]) for c, k in enumerate(self.numeric)}
        return Chunk(np.arange(start, start + len(lines)), {n: columns[n] for n in self.names}, kept)

    def _csv_slow(self, lines: list[bytes], start: int) -> Iterator[Chunk]:
        """Line by line, saying what is wrong where; the rows before a fatal one still come out."""
        numbers: list[int] = []
        values: dict[str, list[float]] = {n: [] for n in self.names}
        kept: dict[str, list] = {n: [] for n in self.keep}
        for number, raw in enumerate(lines, start):
            try:
                text = raw.decode("utf-8")
                if not text.strip():
                    continue
                fields = next(csv.reader([text]))
                if len(fields) != len(self.columns):
                    raise PointError(f"{counted(len(fields), 'field')}, but the header has {len(self.columns)}")
                row = {}
                for k in self.numeric:
                    name = self.columns[k]
                    cell = fields[k].strip()
                    if not cell:
                        raise PointError(f"no value for '{name}'")
                    row[name] = constant_value(cell, name)
            except (PointError, UnicodeDecodeError, csv.Error) as error:
                yield from self._reject(number, error, numbers, values, kept)
                continue
            numbers.append(number)
            for name in self.names:
                values[name].append(row[name])
            for name, k in zip(self.keep, self.kept_at, strict=True):
                kept[name].append(fields[k].strip())
        if numbers:
            yield self._finish(numbers, values, kept)

    # JSON Lines.

    def _jsonl(self) -> Iterator[Chunk]:
        import orjson

        self._loads = orjson.loads
        yield from self._chunks(self._jsonl_fast, self._jsonl_slow)

    def _jsonl_fast(self, lines: list[bytes], start: int) -> Chunk | None:
        if any(b"\\" in line or _NEGATIVE_ZERO.search(line) for line in lines):
            return None  # an escape (the count of quotes below would not hold), or -0 (orjson's 0)
        try:
            objects = list(map(self._loads, lines))
        except ValueError:
            return None
        expected = self.expected
        if not all(type(o) is dict and o.keys() == expected for o in objects):
            return None
        strings = 0
        columns = {}
        for name in self.names:
            column = [o[name] for o in objects]
            if not set(map(type, column)) <= {float, int}:
                return None
            columns[name] = np.array(column, dtype=np.float64)
        kept = {}
        for name in self.keep:
            kept[name] = [o[name] for o in objects]
            if not set(map(type, kept[name])) <= _KEPT_AS_WRITTEN:  # a float, an object: spelt as the line has it
                return None
            strings += sum(type(v) is str for v in kept[name])
        # A key given twice would vanish in the parse; each key and string has exactly two quotes.
        if sum(line.count(b'"') for line in lines) != 2 * (len(objects) * len(expected) + strings):
            return None
        return Chunk(np.arange(start, start + len(lines)), columns, kept)

    def _jsonl_slow(self, lines: list[bytes], start: int) -> Iterator[Chunk]:
        numbers: list[int] = []
        values: dict[str, list[float]] = {n: [] for n in self.names}
        kept: dict[str, list] = {n: [] for n in self.keep}
        for number, raw in enumerate(lines, start):
            try:
                text = raw.decode("utf-8")
                if not text.strip():
                    continue
                pairs = _json_object(text)
                problem = self._check_names([name for name, _ in pairs], "the object")
                if problem:
                    raise PointError(problem)
                obj = dict(pairs)
                row = {name: _json_number(name, obj[name]) for name in self.names}
            except (PointError, UnicodeDecodeError) as error:
                yield from self._reject(number, error, numbers, values, kept)
                continue
            numbers.append(number)
            for name in self.names:
                values[name].append(row[name])
            for name in self.keep:
                kept[name].append(obj[name])
        if numbers:
            yield self._finish(numbers, values, kept)


def _reject_constant(word: str):
    raise ValueError(f'{word} is not JSON; write it as the string "{word}"')


class _Pairs(list):
    """A JSON object's (key, value) pairs in order, told apart from a JSON array."""


class _Number(str):
    """A JSON number as the line spells it: read as float() reads it (-0 is -0.0, a long integer
    rounds once), and passed through a kept column as it was written."""


def json_text(value: Any) -> bytes:
    """A kept JSON value written back as the line had it: numbers as spelt, objects as objects."""
    if isinstance(value, _Number):
        return value.encode()
    if isinstance(value, _Pairs):
        return b"{" + b",".join(orjson.dumps(k) + b":" + json_text(v) for k, v in value) + b"}"
    if isinstance(value, list):
        return b"[" + b",".join(map(json_text, value)) + b"]"
    return orjson.dumps(value)  # a string, true, false or null


def _json_object(text: str) -> list[tuple[str, Any]]:
    try:
        obj = json.loads(
            text, object_pairs_hook=_Pairs, parse_constant=_reject_constant, parse_float=_Number, parse_int=_Number
        )
    except ValueError as error:
        raise PointError(f"not valid JSON: {error}") from None
    except RecursionError:
        raise PointError("the JSON is nested too deeply") from None
    if not isinstance(obj, _Pairs):
        raise PointError('each line must be a JSON object such as {"x": 3, "y": 2}')
    return obj


def _json_number(name: str, value: Any) -> float:
    """A JSON value by the rules of a JSON point: a number, or a string holding one ("pi/4", "NaN")."""
    if isinstance(value, _Number):
        return float(value)  # 1e400 and a long integer past the doubles are ±inf, as float() reads them
    if not isinstance(value, str):
        raise PointError(f"the value of '{name}' must be a number or a string holding one, not {_json_kind(value)}")
    return _SPECIAL[value] if value in _SPECIAL else constant_value(value, name)
