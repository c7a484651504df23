"""Bytes to text and back, keeping a Python file's encoding and byte-order mark.

A file that cannot be decoded is reported (as BNL000) at the line and column of the first bad
byte; a fixed file is written back in the encoding it was read in.
"""

from __future__ import annotations

import bisect
import codecs
import io
import re
import tokenize
from dataclasses import dataclass

_NEWLINE = re.compile(r"\r\n|\r|\n")
_BYTE_NEWLINE = re.compile(rb"\r\n|\r|\n")


class SourceError(Exception):
    """A file that cannot be read as source: bytes that are not text in the file's encoding, or
    a notebook that is not notebook JSON. Carries the 1-based position of the problem."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass(frozen=True)
class DecodedSource:
    text: str
    encoding: str
    bom: bool

    def encode(self, text: str) -> bytes:
        data = text.encode(self.encoding)
        return codecs.BOM_UTF8 + data if self.bom else data


def decode(data: bytes) -> DecodedSource:
    """Decode Python source as the interpreter would: BOM, then a coding cookie, then UTF-8."""
    bom = data.startswith(codecs.BOM_UTF8)
    body = data[len(codecs.BOM_UTF8) :] if bom else data
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        if "invalid or missing encoding declaration" not in str(error):
            raise SourceError(str(error), 1, 1) from None
        # A first or second line that is not UTF-8: decoding it below locates the bad byte.
        encoding = "utf-8"
    if encoding == "utf-8-sig":
        encoding = "utf-8"
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as error:
        line, column = position_of_byte(body, error.start)
        raise SourceError(
            f"not valid {encoding}: byte 0x{body[error.start]:02x} cannot be decoded", line, column
        ) from None
    except LookupError:
        raise SourceError(f"unknown encoding {encoding!r} in the coding declaration", 1, 1) from None
    return DecodedSource(text=text, encoding=encoding, bom=bom)


def position_of_byte(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column of a byte offset (the column counts bytes on that line).

    Lines end at \\r\\n, \\r or \\n, as in `line_offsets`.
    """
    line, line_start = 1, 0
    for match in _BYTE_NEWLINE.finditer(data, 0, offset):
        line, line_start = line + 1, match.end()
    return line, offset - line_start + 1


def line_offsets(text: str) -> list[int]:
    """Offsets at which each line starts; lines end at \\r\\n, \\r or \\n as in Python's tokenizer."""
    return [0] + [match.end() for match in _NEWLINE.finditer(text)]


def line_and_column(starts: list[int], offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset, given the text's `line_offsets`."""
    line = bisect.bisect_right(starts, offset)
    return line, offset - starts[line - 1] + 1


def lines_of(text: str) -> list[str]:
    """The lines of `text` without their line endings, split like `line_offsets`."""
    return _NEWLINE.split(text)
