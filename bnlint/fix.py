"""Apply text edits to a source and write files atomically.

Edits are applied from a list of fixes in order; a fix whose edits overlap an edit already taken
is left for the next round (the engine re-checks and tries again), as ruff does.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from bnlint.findings import Edit, Fix
from bnlint.sourcefile import line_and_column, line_offsets


def _offset(starts: list[int], text_length: int, line: int, column: int) -> int:
    if line - 1 >= len(starts):
        return text_length
    return min(starts[line - 1] + column - 1, text_length)


def apply_fixes(text: str, fixes: Iterable[Fix]) -> tuple[str, int]:
    """Apply every fix that does not overlap one applied before it; return the text and the count."""
    starts = line_offsets(text)
    taken: list[tuple[int, int, str]] = []
    applied = 0
    for fix in fixes:
        spans = [
            (
                _offset(starts, len(text), e.line, e.column),
                _offset(starts, len(text), e.end_line, e.end_column),
                e.content,
            )
            for e in fix.edits
        ]
        if any(_overlaps(span, other) for span in spans for other in taken):
            continue
        taken.extend(spans)
        applied += 1
    for start, end, content in sorted(taken, key=lambda span: (span[0], span[1]), reverse=True):
        text = text[:start] + content + text[end:]
    return text, applied


def _overlaps(a: tuple[int, int, str], b: tuple[int, int, str]) -> bool:
    # Two insertions at the same point conflict too: their order would be arbitrary.
    if a[0] == a[1] == b[0] == b[1]:
        return True
    return a[0] < b[1] and b[0] < a[1]


def minimal_edit(before: str, after: str) -> Edit:
    """The single smallest edit that turns `before` into `after` (common prefix and suffix kept)."""
    limit = min(len(before), len(after))
    prefix = 0
    while prefix < limit and before[prefix] == after[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and before[len(before) - 1 - suffix] == after[len(after) - 1 - suffix]:
        suffix += 1
    starts = line_offsets(before)
    start = line_and_column(starts, prefix)
    end = line_and_column(starts, len(before) - suffix)
    return Edit(start[0], start[1], end[0], end[1], after[prefix : len(after) - suffix])


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` through a temporary file in the same folder, keeping its mode."""
    mode = stat.S_IMODE(path.stat().st_mode)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".bnlint-tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
