"""Check or fix one file; runs in the worker processes (and in-process for small runs).

Everything that crosses the process boundary is plain data: a `FileTask` in, a `FileOutcome` out.
The rules are loaded once per process, from the same folders as in the parent.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bnlint.engine import CheckOptions, FixError, SyntaxProblem, check_text, fix_text, syntax_findings
from bnlint.findings import Finding
from bnlint.loader import load_rules
from bnlint.notebook import check_notebook, fix_notebook
from bnlint.rule import Rule
from bnlint.sourcefile import DecodedSource, SourceError, decode


@dataclass(frozen=True)
class WorkerSetup:
    """What is the same for every file of a run."""

    rule_dirs: tuple[Path, ...]
    rule_options: tuple[tuple[str, Any], ...]
    fix: bool
    unsafe: bool


@dataclass(frozen=True)
class FileTask:
    display: str
    data: bytes
    codes: tuple[str, ...]
    notebook: bool
    package: str | None


@dataclass
class FileOutcome:
    display: str
    findings: list[Finding] = field(default_factory=list)
    fixed: int = 0
    new_data: bytes | None = None
    error: str | None = None


_setup: WorkerSetup | None = None
_rules: dict[str, type[Rule]] = {}


def initialize(setup: WorkerSetup) -> None:
    global _setup, _rules
    _setup = setup
    _rules = load_rules(setup.rule_dirs)


def process(task: FileTask) -> FileOutcome:
    """Check (or fix) one file; never raises: an unexpected error becomes `FileOutcome.error`."""
    assert _setup is not None, "initialize() first"
    try:
        return _process(task, _setup)
    except FixError as error:
        return FileOutcome(task.display, error=str(error))
    except Exception:  # an internal error: report it with the file's name, keep checking the others
        return FileOutcome(task.display, error=traceback.format_exc(limit=-8))


def _process(task: FileTask, setup: WorkerSetup) -> FileOutcome:
    rules = tuple(_rules[code] for code in task.codes if code in _rules)
    options = CheckOptions(rules=rules, rule_options=setup.rule_options, package=task.package)
    try:
        source = _decode(task)
    except SourceError as error:
        problem = SyntaxProblem(error.message, error.line, error.column)
        return FileOutcome(task.display, syntax_findings(options, problem, task.display))
    if not setup.fix:
        check = check_notebook if task.notebook else check_text
        return FileOutcome(task.display, check(source.text, path=task.display, options=options))
    fixer = fix_notebook if task.notebook else fix_text
    new_text, findings, fixed = fixer(source.text, path=task.display, options=options, unsafe=setup.unsafe)
    new_data = source.encode(new_text) if new_text != source.text else None
    return FileOutcome(task.display, findings, fixed, new_data)


def _decode(task: FileTask) -> DecodedSource:
    if not task.notebook:
        return decode(task.data)
    try:
        text = task.data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SourceError(f"notebook is not valid UTF-8 (byte offset {error.start})", 1, 1) from None
    bom = task.data.startswith(b"\xef\xbb\xbf")
    return DecodedSource(text=text, encoding="utf-8", bom=bom)

