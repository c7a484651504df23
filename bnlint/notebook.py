"""Jupyter notebooks: lint the code cells as one module, report and fix per cell.

Cells share one namespace (an import in cell 1 serves cell 5), so the code cells are joined into
one source, with IPython magics and shell escapes masked line for line (`<indent>pass`), and the
findings are mapped back to their cell. A cell that does not parse is a BNL000 for that cell
only; the other cells are still linted together.

Fixing a notebook rewrites only the JSON string (or list of strings) of the cells whose source
changed, in place in the file's text: outputs, metadata, key order and indentation stay as they
were, byte for byte.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace

from bnlint.engine import (
    MAX_FIX_ROUNDS,
    CheckOptions,
    SyntaxProblem,
    check_module,
    parse,
    syntax_findings,
)
from bnlint.findings import Finding, Fix
from bnlint.fix import apply_fixes
from bnlint.sourcefile import SourceError, lines_of
from bnlint.suppress import skips_file

# Cell magics whose body is Python; any other cell magic (%%bash, %%html...) makes a non-Python cell.
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "pypy"})
_LINE_MAGIC = re.compile(r"^\s*(?:[%!]|\?{1,2}\w)")
_ASSIGNED_MAGIC = re.compile(r"^\s*[\w.\[\], ]+=\s*[%!]")
_HELP_SUFFIX = re.compile(r"^\s*[\w.*]+\?{1,2}\s*$")  # `obj?`, `torch.*Tensor?`
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class Cell:
    """A code cell: its 1-based number among all cells, its source, and where that source is in the file."""

    number: int
    source: str
    span: tuple[int, int]
    as_list: bool


def read_cells(text: str) -> list[Cell]:
    """The code cells of a notebook's JSON text, with the span of each cell's `source` value."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise SourceError(f"not valid JSON: {error.msg}", error.lineno, error.colno) from None
    if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
        raise SourceError("not a Jupyter notebook in nbformat 4 (no `cells` list)")
    spans = _source_spans(text)
    cells = []
    for index, cell in enumerate(document["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        as_list = isinstance(source, list)
        joined = "".join(source) if as_list and all(isinstance(line, str) for line in source) else source
        if not isinstance(joined, str) or index not in spans:
            raise SourceError(f"cell {index + 1} has a malformed `source`")
        cells.append(Cell(number=index + 1, source=joined, span=spans[index], as_list=as_list))
    return cells


def _skip(text: str, index: int) -> int:
    return _WHITESPACE.match(text, index).end()  # type: ignore[union-attr]


def _source_spans(text: str) -> dict[int, tuple[int, int]]:
    """Character spans of `cells[i].source` values in the JSON text (the text is valid JSON)."""
    spans: dict[int, tuple[int, int]] = {}
    index = _skip(text, 0) + 1  # past the top-level "{"
    while True:
        index = _skip(text, index)
        if text[index] == "}":
            return spans
        key, index = json.decoder.scanstring(text, index + 1)
        index = _skip(text, _skip(text, index) + 1)  # past ":"
        if key == "cells":
            index = _skip(text, index + 1)  # past "["
            number = 0
            while text[index] != "]":
                index = _cell_source_span(text, index, number, spans)
                index = _skip(text, index)
                if text[index] == ",":
                    index = _skip(text, index + 1)
                number += 1
            index += 1
        else:
            _, index = _DECODER.raw_decode(text, index)
        index = _skip(text, index)
        if text[index] == ",":
            index += 1


def _cell_source_span(text: str, index: int, number: int, spans: dict[int, tuple[int, int]]) -> int:
    if text[index] != "{":
        _, end = _DECODER.raw_decode(text, index)
        return end
    index += 1
    while True:
        index = _skip(text, index)
        if text[index] == "}":
            return index + 1
        key, index = json.decoder.scanstring(text, index + 1)
        index = _skip(text, _skip(text, index) + 1)
        _, end = _DECODER.raw_decode(text, index)
        if key == "source":
            spans[number] = (index, end)
        index = _skip(text, end)
        if text[index] == ",":
            index += 1


def mask_magics(source: str) -> str | None:
    """The cell as plain Python, line for line; None for a cell that is not Python (%%bash...).

    A magic only starts a logical line: a `% (...)` continuing a parenthesized expression or a
    line inside a triple-quoted string is Python, not a magic.
    """
    lines = lines_of(source)
    masked: list[str] = []
    continued = False  # inside a magic that ends with a backslash
    depth, string, backslash = 0, None, False
    for number, line in enumerate(lines):
        stripped = line.lstrip()
        if number == 0 and stripped.startswith("%%"):
            name = stripped[2:].split(None, 1)[0] if stripped[2:].strip() else ""
            if name not in _PYTHON_CELL_MAGICS:
                return None
            masked.append("pass")
            continue
        starts_logical_line = depth == 0 and string is None and not backslash
        if continued or (
            starts_logical_line
            and (_LINE_MAGIC.match(line) or _ASSIGNED_MAGIC.match(line) or _HELP_SUFFIX.match(line))
        ):
            indent = line[: len(line) - len(stripped)]
            masked.append(f"{indent}pass" if not continued else "")
            continued = line.rstrip().endswith("\\")
            continue
        masked.append(line)
        depth, string, backslash = _scan(line, depth, string)
    return "\n".join(masked)


def _scan(line: str, depth: int, string: str | None) -> tuple[int, str | None, bool]:
    """Bracket depth, open triple-quoted string and trailing backslash after one line of Python."""
    index = 0
    while index < len(line):
        char = line[index]
        if string is not None:
            if char == "\\":
                index += 2
                continue
            if line.startswith(string, index):
                index += len(string)
                string = None
                continue
        elif char == "#":
            break
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
        elif char in "'\"":
            quote = line[index : index + 3]
            string = quote if quote in ('"""', "'''") else char
            index += len(string)
            continue
        index += 1
    if string in ("'", '"'):
        string = None  # a one-line string cannot go on past its line
    return depth, string, string is None and line.rstrip().endswith("\\")


@dataclass(frozen=True)
class _Joined:
    text: str
    starts: tuple[tuple[int, Cell], ...]  # (first line of the cell in `text`, cell)


def _join(cells: list[tuple[Cell, str]]) -> _Joined:
    parts: list[str] = []
    starts: list[tuple[int, Cell]] = []
    line = 1
    for cell, python in cells:
        if not python.endswith("\n"):
            python += "\n"
        starts.append((line, cell))
        parts.append(python)
        line += python.count("\n")
    return _Joined("".join(parts), tuple(starts))


def _locate(joined: _Joined, line: int) -> tuple[int, Cell]:
    found = joined.starts[0]
    for start in joined.starts:
        if start[0] > line:
            break
        found = start
    return found


def _to_cell(finding: Finding, joined: _Joined) -> Finding:
    first, cell = _locate(joined, finding.line)
    shift = first - 1
    fix = finding.fix
    if fix is not None:
        fix = Fix(
            fix.applicability,
            fix.message,
            tuple(replace(e, line=e.line - shift, end_line=e.end_line - shift) for e in fix.edits),
        )
    return replace(
        finding, line=finding.line - shift, end_line=finding.end_line - shift, fix=fix, cell=cell.number
    )


def check_notebook(text: str, *, path: str, options: CheckOptions) -> list[Finding]:
    """Findings of every code cell, with lines counted within cells and `cell` set."""
    try:
        cells = read_cells(text)
    except SourceError as error:
        return syntax_findings(options, SyntaxProblem(error.message, error.line, error.column), path)
    return _check_cells(cells, path=path, options=options)


def _check_cells(cells: list[Cell], *, path: str, options: CheckOptions) -> list[Finding]:
    python_cells = [(cell, python) for cell in cells if (python := mask_magics(cell.source)) is not None]
    if not python_cells or any(skips_file(python) for _, python in python_cells):
        return []
    findings: list[Finding] = []
    joined = _join(python_cells)
    module = parse(joined.text)
    if isinstance(module, SyntaxProblem):
        # Find the cells that do not parse on their own; lint the others together.
        good = []
        for cell, python in python_cells:
            problem = parse(python)
            if isinstance(problem, SyntaxProblem):
                findings.extend(replace(f, cell=cell.number) for f in syntax_findings(options, problem, path))
            else:
                good.append((cell, python))
        if not good:
            return sorted(findings, key=Finding.sort_key)
        joined = _join(good)
        module = parse(joined.text)
        if isinstance(module, SyntaxProblem):  # cells that parse alone but not together
            return sorted(findings, key=Finding.sort_key)
    findings.extend(_to_cell(f, joined) for f in check_module(module, joined.text, path=path, options=options))
    return sorted(findings, key=Finding.sort_key)


def fix_notebook(text: str, *, path: str, options: CheckOptions, unsafe: bool) -> tuple[str, list[Finding], int]:
    """Apply fixes cell by cell until none applies; return the new JSON text, remaining findings, count."""
    try:
        cells = {cell.number: cell for cell in read_cells(text)}
    except SourceError:
        return text, check_notebook(text, path=path, options=options), 0
    findings = _check_cells(list(cells.values()), path=path, options=options)
    sources = {number: cell.source for number, cell in cells.items()}
    fixed = 0
    for _ in range(MAX_FIX_ROUNDS):
        per_cell: dict[int, list[Fix]] = {}
        for finding in findings:
            if finding.fix_applies(unsafe) and finding.cell is not None:
                per_cell.setdefault(finding.cell, []).append(finding.fix)  # type: ignore[arg-type]
        if not per_cell:
            break
        round_count = 0
        for number, fixes in per_cell.items():
            sources[number], count = apply_fixes(sources[number], fixes)
            round_count += count
        if round_count == 0:
            break
        fixed += round_count
        current = [replace(cell, source=sources[number]) for number, cell in cells.items()]
        findings = _check_cells(current, path=path, options=options)
    if fixed == 0:
        return text, findings, 0
    return _write_sources(text, cells, sources), findings, fixed


def _write_sources(text: str, cells: dict[int, Cell], sources: dict[int, str]) -> str:
    """Replace the `source` values of the changed cells in the JSON text, in the file's own style."""
    changed = [cell for number, cell in cells.items() if sources[number] != cell.source]
    for cell in sorted(changed, key=lambda c: c.span[0], reverse=True):
        start, end = cell.span
        original = text[start:end]
        ensure_ascii = "\\u" in original or all(ord(c) < 128 for c in original)
        new_source = sources[cell.number]
        if cell.as_list:
            value = _format_list(original, _split_keep_ends(new_source), ensure_ascii)
        else:
            value = json.dumps(new_source, ensure_ascii=ensure_ascii)
        text = text[:start] + value + text[end:]
    return text


def _split_keep_ends(source: str) -> list[str]:
    return [line for line in re.split(r"(?<=\n)", source) if line]


def _format_list(original: str, lines: list[str], ensure_ascii: bool) -> str:
    """A JSON list of strings laid out like `original` (nbformat writes one item per line)."""
    items = [json.dumps(line, ensure_ascii=ensure_ascii) for line in lines]
    layout = re.match(r"\[(\s*)", original)
    closing = re.search(r"(\s*)\]$", original)
    item_break = layout.group(1) if layout else ""
    end_break = closing.group(1) if closing else ""
    if not items:
        return "[]"
    if "\n" not in item_break:
        return "[" + ", ".join(items) + "]"
    return "[" + item_break + ("," + item_break).join(items) + end_break + "]"

