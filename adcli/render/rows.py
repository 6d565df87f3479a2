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

from ..lang.rows import json_text

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
            kept_texts = [list(map(json_text, kept[name][s : s + _SUB])) for name in self.keep]
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
    return _csv_field(json_text(value).decode())


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


def _npy_header(shape: tuple[int, ...]) -> bytes:
    """A .npy version 1 header for float64 of ``shape``, padded to a fixed length to be rewritten."""
    text = f"{{'descr': '<f8', 'fortran_order': False, 'shape': {tuple(shape)!r}, }}"
    padded = text.ljust(_NPY_HEADER - 10 - 1) + "\n"
    return b"\x93NUMPY\x01\x00" + len(padded).to_bytes(2, "little") + padded.encode("latin-1")


class NpyWriter:
    """A .npy file of float64, one row per point: value, then ∂/∂(each variable). The header,
    written first with room to spare, gets the row count when the last row is in."""

    def __init__(self, out: BinaryIO, keep: Sequence[str], wrt: Sequence[str] | None):
        self.out = out
        self.width = 1 + len(wrt or ())
        self.rows = 0
        out.write(self._header())

    def _header(self) -> bytes:
        return _npy_header((self.rows, self.width))

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


# Jacobians, J·v, Hessians and H·v: several numbers per block, laid out as the one-point --json.
# A list block (a Jacobian, a Hessian) is one orjson call for the whole chunk, cut into rows:
# one piece per row rather than one per number, which for a Hessian's n² numbers is the job.


class Block:
    """One key of an output row: a number (shape ()), a list (k,), a list of lists (m, n), or with
    ``names`` an object {name: number}; ``csv`` names its CSV columns, in row-major order."""

    def __init__(self, key: str, shape: tuple[int, ...], csv: Sequence[str], names: Sequence[str] | None = None):
        self.key = key
        self.shape = shape
        self.csv = list(csv)
        self.names = None if names is None else list(names)
        self.size = int(np.prod(shape, dtype=np.int64)) if shape else 1

    @property
    def whole(self) -> bool:
        """Written as one text per row (a list), not number by number (a number, an object)."""
        return self.names is None and bool(self.shape)

    def json_parts(self) -> list[bytes | None]:
        """The block's text with None for each slot: each number, or the whole list."""
        if self.whole:
            return [None]
        if self.names is None:
            return [None]
        parts: list[bytes | None] = [b"{"]
        for i, name in enumerate(self.names):
            parts += [(b"," if i else b"") + orjson.dumps(name) + b":", None]
        return [*parts, b"}"]


def _merge(parts: list[bytes | None]) -> list[bytes]:
    """The fixed pieces between the slots (None): one more piece than slots."""
    pieces, here = [], b""
    for part in parts:
        if part is None:
            pieces.append(here)
            here = b""
        else:
            here += part
    return [*pieces, here]


def _patched(texts: list[bytes], array: np.ndarray, words: dict[str, bytes]) -> list[bytes]:
    """Each row's text with orjson's null for a non-finite number replaced by its word, in order."""
    flat = array.reshape(len(array), -1)
    for r in np.flatnonzero(~np.isfinite(flat).all(axis=1)).tolist():
        bad = flat[r][~np.isfinite(flat[r])].tolist()
        pieces = texts[r].split(b"null")
        spelled = [words["nan" if x != x else ("inf" if x > 0 else "-inf")] for x in bad]
        texts[r] = b"".join(p for pair in zip(pieces, [*spelled, b""], strict=True) for p in pair)
    return texts


def _row_lists(array: np.ndarray, words: dict[str, bytes]) -> list[bytes]:
    """Each row of ``array`` (rows, *shape) as the JSON text of its nested lists."""
    rows, depth = len(array), array.ndim - 1
    if array.size == 0:  # a Jacobian of no variables: [[], []]; a Hessian of none: []
        inner = b",".join([b"[]"] * array.shape[1]) if depth == 2 and array.shape[2] == 0 else b""
        return [b"[" + inner + b"]"] * rows
    dumped = orjson.dumps(np.ascontiguousarray(array), option=_NUMPY)
    open_, close = b"[" * depth, b"]" * depth
    texts = [open_ + t + close for t in dumped[1 + depth : -1 - depth].split(close + b"," + open_)]
    return _patched(texts, array, words)


def _block_slots(blocks: Sequence[Block], part: np.ndarray, words: dict[str, bytes]) -> list[list[bytes]]:
    """The texts of each slot of the blocks, a list over the rows per slot."""
    slots, at = [], 0
    for block in blocks:
        numbers = part[:, at : at + block.size]
        at += block.size
        if block.whole:
            slots.append(_row_lists(numbers.reshape(len(part), *block.shape), words))
        elif block.size:
            slots += _texts(numbers, words)
    return slots


class BlocksJsonLines:
    """One object per row: the kept columns, then each block under its key."""

    def __init__(self, out: BinaryIO, keep: Sequence[str], blocks: Sequence[Block]):
        self.out = out
        self.keep = list(keep)
        self.blocks = list(blocks)
        parts: list[bytes | None] = []
        keys = [(orjson.dumps(name), None) for name in self.keep] + [(orjson.dumps(b.key), b) for b in blocks]
        for i, (key, block) in enumerate(keys):
            parts += [(b"," if i else b"{") + key + b":"]
            parts += [None] if block is None else block.json_parts()
        self.pieces = _merge([*parts, b"}\n"])

    def write(self, numbers: np.ndarray, kept: dict[str, list[Any]]) -> None:
        for s in range(0, len(numbers), _SUB):
            part = numbers[s : s + _SUB]
            kept_texts = [list(map(json_text, kept[name][s : s + _SUB])) for name in self.keep]
            slots = _block_slots(self.blocks, part, _JSON_WORDS)
            self.out.write(_interleave(self.pieces, kept_texts + slots, len(part)))

    def close(self) -> None:
        self.out.flush()


class BlocksCsv:
    """A header (the kept columns, then each block's columns), then one line per row: the numbers
    of a row are one orjson list, its brackets cut off."""

    def __init__(self, out: BinaryIO, keep: Sequence[str], blocks: Sequence[Block]):
        self.out = out
        self.keep = list(keep)
        names = [*self.keep, *(name for b in blocks for name in b.csv)]
        out.write(b",".join(_csv_field(name) for name in names) + b"\n")
        self.pieces = [b""] + [b","] * len(self.keep) + [b"\n"]  # every row has a value: a number at least

    def write(self, numbers: np.ndarray, kept: dict[str, list[Any]]) -> None:
        for s in range(0, len(numbers), _SUB):
            part = numbers[s : s + _SUB]
            kept_texts = [list(map(_csv_kept, kept[name][s : s + _SUB])) for name in self.keep]
            rows = [t[1:-1] for t in _row_lists(part, _CSV_WORDS)]
            self.out.write(_interleave(self.pieces, [*kept_texts, rows], len(part)))

    def close(self) -> None:
        self.out.flush()


class BlocksNpy:
    """A .npy file of float64 of shape (rows, *shape): row r is ``numbers[r, index]`` reshaped;
    the header, written first with room to spare, gets the row count when the last row is in."""

    def __init__(self, out: BinaryIO, shape: tuple[int, ...], index: np.ndarray):
        self.out = out
        self.shape = shape
        self.index = index
        self.rows = 0
        out.write(_npy_header((self.rows, *self.shape)))

    def write(self, numbers: np.ndarray, kept: dict[str, list[Any]]) -> None:
        self.out.write(np.ascontiguousarray(numbers[:, self.index], dtype="<f8").tobytes())
        self.rows += len(numbers)

    def close(self) -> None:
        self.out.seek(0)
        self.out.write(_npy_header((self.rows, *self.shape)))
        self.out.flush()
