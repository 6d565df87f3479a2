"""Rows of results written as JSON Lines, CSV or a .npy file, chunk after chunk.

Numbers are as in ``--json``: the shortest text that reads back as the same double. orjson
formats a whole column at C speed (its digits are Python's repr's; small exponents are
written out, 0.00001 for 1e-05); the texts are then put between the fixed pieces of each
line by one bytes.join. orjson writes a non-finite number as null, so a chunk that holds
any gets those entries patched: the strings "NaN", "Infinity", "-Infinity" in JSON, and
nan, inf, -inf in CSV. See "Batches of points" in the README for the measurements.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, BinaryIO, Protocol

import numpy as np
import orjson

_SUB = 1024  # rows joined at a time: the list of pieces stays in the cache
_NUMPY = orjson.OPT_SERIALIZE_NUMPY
_JSON_WORDS = {"nan": b'"NaN"', "inf": b'"Infinity"', "-inf": b'"-Infinity"'}
_CSV_WORDS = {"nan": b"nan", "inf": b"inf", "-inf": b"-inf"}


def _texts(matrix: np.ndarray, words: dict[str, bytes]) -> list[list[bytes]]:
    """Each column of ``matrix`` (rows × k) as a list of number texts, non-finite ones as ``words``."""
    dumped = orjson.dumps(np.ascontiguousarray(matrix.T), option=_NUMPY)
    columns = [column.split(b",") for column in dumped[2:-2].split(b"],[")]
    if not np.isfinite(matrix).all():
        for c, column in enumerate(columns):
            for r in np.flatnonzero(~np.isfinite(matrix[:, c])).tolist():
                x = matrix[r, c]
                column[r] = words["nan" if x != x else ("inf" if x > 0 else "-inf")]
    return columns


def _interleave(pieces: Sequence[bytes], columns: list[list[bytes]], rows: int) -> bytes:
    """Row after row: pieces[0] column[0] pieces[1] column[1] … pieces[k]."""
    k = len(columns)
    every = [b""] * (rows * (2 * k + 1))
    step = 2 * k + 1
    for c, column in enumerate(columns):
        every[2 * c :: step] = [pieces[c]] * rows
        every[2 * c + 1 :: step] = column
    every[2 * k :: step] = [pieces[k]] * rows
    return b"".join(every)


class JsonLinesWriter:
    """One object per row: the kept columns, "value" and, for a gradient, "gradient"."""

    def __init__(self, out: BinaryIO, keep: Sequence[str], wrt: Sequence[str] | None):
        self.out = out
        self.keep = list(keep)
        keys = [orjson.dumps(name) + b":" for name in self.keep] + [b'"value":']
        self.pieces = [(b"{" if i == 0 else b",") + key for i, key in enumerate(keys)]
        names = [orjson.dumps(name) + b":" for name in wrt or ()]
        self.pieces += [(b',"gradient":{' if i == 0 else b",") + key for i, key in enumerate(names)]
        if wrt is None:
            self.pieces.append(b"}\n")
        else:
            self.pieces.append(b"}}\n" if names else b',"gradient":{}}\n')
        self.line = b"%s".join(p.replace(b"%", b"%%") for p in self.pieces)  # %s for each number
        self.template = self.line * _SUB

    def write(self, value: np.ndarray, gradient: dict[str, np.ndarray], kept: dict[str, list[Any]]) -> None:
        matrix = np.column_stack([value, *gradient.values()]) if gradient else value[:, None]
        for s in range(0, len(value), _SUB):
            part = matrix[s : s + _SUB]
            if not self.keep:
                self.out.write(self._numbers_only(part))
                continue
            kept_texts = [list(map(orjson.dumps, kept[name][s : s + _SUB])) for name in self.keep]
            self.out.write(_interleave(self.pieces, kept_texts + _texts(part, _JSON_WORDS), len(part)))

    def _numbers_only(self, part: np.ndarray) -> bytes:
        """Rows with no kept column: one dump of all the numbers, row after row, put into the
        lines' template by one ``%`` (a quarter faster than interleaving lists of texts)."""
        flat = part.ravel()  # C order: row after row
        texts = orjson.dumps(flat, option=_NUMPY)[1:-1].split(b",")
        finite = np.isfinite(flat)
        if not finite.all():
            for i in np.flatnonzero(~finite).tolist():
                x = flat[i]
                texts[i] = _JSON_WORDS["nan" if x != x else ("inf" if x > 0 else "-inf")]
        template = self.template if len(part) == _SUB else self.line * len(part)
        return template % tuple(texts)

    def close(self) -> None:
        self.out.flush()


def _csv_field(text: str) -> bytes:
    if any(ch in text for ch in ',"\r\n') or text != text.strip():
        return b'"' + text.replace('"', '""').encode() + b'"'
    return text.encode()


def _csv_kept(value: Any) -> bytes:
    if isinstance(value, str):
        return _csv_field(value)
    return _csv_field(orjson.dumps(value).decode())


class CsvWriter:
    """A header (the kept columns, value, d/dx, …), then one line per row."""

    def __init__(self, out: BinaryIO, keep: Sequence[str], wrt: Sequence[str] | None):
        self.out = out
        self.keep = list(keep)
        names = [*self.keep, "value", *(f"d/d{name}" for name in wrt or ())]
        out.write(b",".join(_csv_field(name) for name in names) + b"\n")
        width = len(names)
        self.pieces = [b""] + [b","] * (width - 1) + [b"\n"]

    def write(self, value: np.ndarray, gradient: dict[str, np.ndarray], kept: dict[str, list[Any]]) -> None:
        matrix = np.column_stack([value, *gradient.values()]) if gradient else value[:, None]
        for s in range(0, len(value), _SUB):
            part = matrix[s : s + _SUB]
            if not self.keep and np.isfinite(part).all():  # one dump of the rows, brackets made line breaks
                self.out.write(orjson.dumps(part, option=_NUMPY)[2:-2].replace(b"],[", b"\n") + b"\n")
                continue
            kept_texts = [list(map(_csv_kept, kept[name][s : s + _SUB])) for name in self.keep]
            self.out.write(_interleave(self.pieces, kept_texts + _texts(part, _CSV_WORDS), len(part)))

    def close(self) -> None:
        self.out.flush()


_NPY_HEADER = 128  # bytes: magic, version, length and a header padded to room for any row count


class NpyWriter:
    """A .npy file of float64, one row per point: value, then ∂/∂(each variable). The header,
    written first with room to spare, gets the row count when the last row is in."""

    def __init__(self, out: BinaryIO, keep: Sequence[str], wrt: Sequence[str] | None):
        self.out = out
        self.width = 1 + len(wrt or ())
        self.rows = 0
        out.write(self._header())

    def _header(self) -> bytes:
        text = f"{{'descr': '<f8', 'fortran_order': False, 'shape': ({self.rows}, {self.width}), }}"
        padded = text.ljust(_NPY_HEADER - 10 - 1) + "\n"
        return b"\x93NUMPY\x01\x00" + len(padded).to_bytes(2, "little") + padded.encode("latin-1")

    def write(self, value: np.ndarray, gradient: dict[str, np.ndarray], kept: dict[str, list[Any]]) -> None:
        matrix = np.column_stack([value, *gradient.values()]) if gradient else value[:, None]
        self.out.write(np.ascontiguousarray(matrix, dtype="<f8").tobytes())
        self.rows += len(value)

    def close(self) -> None:
        self.out.seek(0)
        self.out.write(self._header())
        self.out.flush()


class RowWriter(Protocol):
    """What every writer does: take a chunk's results, then finish the file."""

    def write(self, value: np.ndarray, gradient: dict[str, np.ndarray], kept: dict[str, list[Any]]) -> None: ...

    def close(self) -> None: ...


WRITERS: dict[str, Callable[[BinaryIO, Sequence[str], Sequence[str] | None], RowWriter]] = {
    "jsonl": JsonLinesWriter,
    "csv": CsvWriter,
    "npy": NpyWriter,
}
