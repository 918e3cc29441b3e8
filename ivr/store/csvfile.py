"""The CSV files people exchange with the product: read strictly, write safely.

Reading is strict where a guess would corrupt data, and per line where one
bad line must not cost the others:

* UTF-8 only (a BOM is fine). Another encoding only when the user names it;
  otherwise the first bad byte refuses the whole file, naming its line. A
  silent cp1252 fallback once stored "JoÃ£o" for "João".
* One record per physical line. None of our columns holds a newline, so a
  quote left open is an error of its own line and cannot swallow the rows
  after it, and a field over the size limit costs its line, not the file.

Writing neutralises cells a spreadsheet would run as a formula (``=``, ``+``,
``-``, ``@``, a leading tab or carriage return) by prefixing a quote.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ivr.store.import_report import RowError
from ivr.vocab.row_errors import RowErrorCode

MAX_FILE_BYTES = 200 * 1024 * 1024
DELIMITERS = (",", ";", "\t")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_LINE_BREAK = re.compile(r"\r\n|\n|\r")


class CsvRefused(ValueError):
    """The whole file is refused: unreadable, wrong encoding, no header."""


@dataclass(frozen=True)
class Record:
    """One physical line: its values by (lower-case) column, or why it cannot be read
    (``error``, in English, and as a code with the values it quotes)."""

    line: int
    values: dict[str, str]
    error: str | None = None
    code: RowErrorCode = RowErrorCode.OTHER
    params: dict[str, str] = field(default_factory=dict)

    def row_error(self, external_ref: str = "") -> RowError:
        """The line as a rejected row of an import's report."""
        return RowError(self.line, self.error or "", external_ref, self.code, self.params)


@dataclass(frozen=True)
class Table:
    header: list[str]
    records: Iterator[Record]

    def missing(self, required: Sequence[str]) -> list[str]:
        return [c for c in required if c not in self.header]


def resolve_encoding(name: str | None) -> str:
    """The codec to decode with: UTF-8 (BOM allowed) unless a valid name is given."""
    if name is None:
        return "utf-8-sig"
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        raise CsvRefused(f"unknown encoding {name!r} (try utf-8, latin-1 or cp1252)") from None
    return "utf-8-sig" if codec == "utf-8" else codec


BLOCK_BYTES = 1 << 20  # the check pass reads this much at a time, cut at a line end


def check_file(path: Path, encoding: str | None = None) -> str:
    """Refuse the whole file before anything is imported: missing, too large,
    binary, or a byte the encoding cannot decode (naming its line). Returns the
    codec to read it with.

    Streams the file in blocks cut after a newline byte (never inside a
    character in the ASCII-compatible encodings we read), so a file of a
    million rows is checked in constant memory.
    """
    if not path.is_file():
        raise CsvRefused(f"{path}: no such file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise CsvRefused(f"{path}: larger than {MAX_FILE_BYTES // 2**20} MiB")
    codec = resolve_encoding(encoding)
    lines_before = 0
    carry = b""
    with path.open("rb") as f:
        while True:
            block = f.read(BLOCK_BYTES)
            if b"\x00" in block:  # before decoding: a binary file is "binary", not "not UTF-8"
                raise CsvRefused(f"{path}: not a CSV file (binary content)")
            data = carry + block
            cut = data.rfind(b"\n") + 1 if block else len(data)
            if cut == 0 and block:
                carry = data  # no line end yet: read on
                continue
            piece, carry = data[:cut], data[cut:]
            try:
                text = piece.decode(codec)
            except UnicodeDecodeError as exc:
                before = piece[: exc.start].decode(codec, errors="replace")
                line = lines_before + len(_LINE_BREAK.split(before))
                raise CsvRefused(
                    f"{path}: {_undecodable(line, piece[exc.start], encoding)}"
                ) from None
            lines_before += len(_LINE_BREAK.findall(text))
            if not block:
                return codec


def _undecodable(line: int, byte: int, encoding: str | None) -> str:
    if encoding is None:
        return (
            f"line {line}: byte 0x{byte:02X} is not UTF-8; nothing was imported. "
            "Save the file as UTF-8, or name its encoding with --encoding "
            "(for example --encoding latin-1)"
        )
    return f"line {line}: byte 0x{byte:02X} is not valid {encoding}; nothing was imported"


def decode(raw: bytes, encoding: str | None = None) -> str:
    """Decode a body held in memory strictly; a bad byte refuses everything and names its line."""
    codec = resolve_encoding(encoding)
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode(codec, errors="replace")
        line = len(_LINE_BREAK.split(before))
        raise CsvRefused(_undecodable(line, raw[exc.start], encoding)) from None


def read_table(path: Path, encoding: str | None = None) -> Table:
    """Open a CSV file: refused whole if unreadable, else records read lazily.

    The file is read twice, both times streaming: once to check it whole
    (:func:`check_file`), then line by line as the records are consumed.
    """
    return read_checked(path, check_file(path, encoding))


def read_checked(path: Path, codec: str) -> Table:
    """A file :func:`check_file` passed, opened with the codec it returned
    (again, e.g. by another process, without checking it twice)."""
    lines = _physical_lines(path, codec)
    try:
        return parse_lines(lines)
    except CsvRefused as exc:
        lines.close()
        raise CsvRefused(f"{path}: {exc}") from None


def _physical_lines(path: Path, codec: str) -> Generator[str, None, None]:
    """The file's lines without their ending (CRLF, LF or CR, as ``_LINE_BREAK``)."""
    with path.open(encoding=codec, newline="") as f:
        for raw in f:
            if raw.endswith("\r\n"):
                yield raw[:-2]
            elif raw.endswith(("\n", "\r")):
                yield raw[:-1]
            else:
                yield raw


def parse_lines(lines: Iterator[str]) -> Table:
    first = next(lines, "")
    if not first.strip():
        raise CsvRefused("empty file, expected a header line")
    delimiter = max(DELIMITERS, key=first.count)
    if first.count(delimiter) == 0:
        delimiter = ","
    try:
        names = _split(first, delimiter)
    except csv.Error as exc:
        raise CsvRefused(f"line 1: the header cannot be read ({_why(exc)[0]})") from None
    header = [h.strip().lower() for h in names]
    return Table(header, _records(lines, header, delimiter))


def _split(line: str, delimiter: str) -> list[str]:
    """The line's fields. Without a quote the csv module would only cut at the
    delimiter (a line holds no line break), so that is done directly: a reader
    per line cost most of the time of reading a large file."""
    if '"' not in line:
        return line.split(delimiter) if line else []
    return next(csv.reader([line], delimiter=delimiter, strict=True), [])


def _why(exc: csv.Error) -> tuple[str, RowErrorCode, dict[str, str]]:
    """Why the csv module could not read a line: the reason, its code and values."""
    text = str(exc)
    if "unexpected end of data" in text:
        return (
            "unterminated quote: a quoted field must close on its own line",
            RowErrorCode.CSV_UNTERMINATED_QUOTE,
            {},
        )
    if "field larger than field limit" in text:
        limit = str(csv.field_size_limit())
        return (
            f"a field is longer than {limit} characters",
            RowErrorCode.CSV_FIELD_TOO_LONG,
            {"limit": limit},
        )
    if "expected after" in text:
        return "text after a closing quote", RowErrorCode.CSV_TEXT_AFTER_QUOTE, {}
    return text, RowErrorCode.CSV_UNREADABLE, {"detail": text}


def _records(lines: Iterator[str], header: list[str], delimiter: str) -> Iterator[Record]:
    width = len(header)
    for line, text in enumerate(lines, start=2):
        if not text.strip():
            continue
        try:
            fields = _split(text, delimiter)
        except csv.Error as exc:
            why, code, params = _why(exc)
            yield Record(line, {}, why, code, params)
            continue
        if len(fields) > width:
            if any(f.strip() for f in fields[width:]):
                counts = {"fields": str(len(fields)), "width": str(width)}
                why = f"{len(fields)} fields, the header has {width}"
                yield Record(line, {}, why, RowErrorCode.TOO_MANY_FIELDS, counts)
                continue
            fields = fields[:width]
        fields += [""] * (width - len(fields))
        yield Record(line, dict(zip(header, fields, strict=True)))


def safe_cell(value: Any) -> Any:
    """A cell a spreadsheet shows as text, never runs: formula starters get a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return "" if value is None else value


def write_csv(out: TextIO, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """The one way the product writes CSV (every cell through :func:`safe_cell`)."""
    writer = csv.writer(out)
    writer.writerow([safe_cell(h) for h in header])
    writer.writerows([safe_cell(c) for c in row] for row in rows)
