"""Check one source: parse once, run every rule in one shared traversal, report findings.

The hot path is written for the linter's speed target (at most 1.5x the time of a bare
`libcst.parse_module` over the same files): no metadata providers on the way in, rules filtered by
cheap text triggers, and positions and fix edits (code generation passes) computed only for files
that have something to report, on the top-level statements that hold the findings (`locate`).
"""

from __future__ import annotations

import ast
import gc
import re
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

import libcst as cst

from bnlint.context import FileContext
from bnlint.findings import SYNTAX_ERROR_CODE, Finding, Fix
from bnlint.fix import apply_fixes
from bnlint.rule import Rule
from bnlint.suppress import parse_suppressions, skips_file
from bnlint.traverse import walk

_LIBCST_LOCATION = re.compile(r"error at (\d+):(\d+)")


@dataclass(frozen=True)
class SyntaxProblem:
    """Why a source does not parse, and where (1-based line and column)."""

    message: str
    line: int
    column: int


@dataclass(frozen=True)
class CheckOptions:
    """What the engine needs besides the source: the selected rules and their options."""

    rules: tuple[type[Rule], ...]
    rule_options: tuple[tuple[str, Any], ...] = ()
    package: str | None = None


@contextmanager
def _collection_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: a parse allocates hundreds of thousands of acyclic nodes
    and the collector's passes over them cost a fifth of the parse time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# libcst's native parser recurses once per nesting level of an expression: a few thousand levels
# take tens of seconds, about ten thousand overflow the C stack and kill the process. CPython
# refuses such files in milliseconds (RecursionError while building the AST), so a file with
# enough operators and brackets to nest that deep goes to Python's parser first.
_NESTING_TOKENS = ("+", "-", "*", "/", "|", "&", "(", "[", " and ", " or ")
_NESTING_SUSPECT = 2000


def _too_deep_for_python(text: str) -> bool:
    if sum(text.count(token) for token in _NESTING_TOKENS) < _NESTING_SUSPECT:
        return False
    try:
        ast.parse(text)
    except (RecursionError, MemoryError):
        return True
    except (SyntaxError, ValueError):
        return False  # libcst reports it, located by Python's parser
    return False


def parse(text: str) -> cst.Module | SyntaxProblem:
    """Parse with libcst; on failure, locate the error with Python's own parser when it agrees."""
    if _too_deep_for_python(text):
        return SyntaxProblem("too deeply nested: Python's own parser cannot build it (RecursionError)", 1, 1)
    try:
        with _collection_paused():
            return cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        return _locate_syntax_error(text, error.message, error.raw_line, error.raw_column + 1)
    except (RecursionError, MemoryError) as error:
        return SyntaxProblem(f"too deeply nested to parse ({type(error).__name__})", 1, 1)
    except Exception as error:  # the native parser raises other errors on binary input
        return _locate_syntax_error(text, str(error) or type(error).__name__, 1, 1)


def _locate_syntax_error(text: str, message: str, line: int, column: int) -> SyntaxProblem:
    """Python's parser gives precise positions and readable messages; libcst's only as a fallback."""
    try:
        ast.parse(text)
    except SyntaxError as error:
        return SyntaxProblem(error.msg, error.lineno or 1, error.offset or 1)
    except (ValueError, RecursionError, MemoryError) as error:
        return SyntaxProblem(str(error), line, column)
    match = _LIBCST_LOCATION.search(message)
    if match:
        line, column = int(match.group(1)), int(match.group(2)) + 1
    return SyntaxProblem(message, line, column)


def syntax_findings(options: CheckOptions, problem: SyntaxProblem, path: str) -> list[Finding]:
    """The BNL000 finding for `problem`, or none when BNL000 is not selected."""
    rule = next((rule for rule in options.rules if rule.code == SYNTAX_ERROR_CODE), None)
    if rule is None:
        return []
    finding = Finding(
        code=rule.code,
        name=rule.name,
        severity=rule.severity,
        message=f"{rule.message}: {problem.message}",
        path=path,
        line=problem.line,
        column=problem.column,
        end_line=problem.line,
        end_column=problem.column,
    )
    return [finding]


def active_rules(text: str, rules: Iterable[type[Rule]]) -> list[type[Rule]]:
    """The rules whose text triggers occur in `text` (the syntax-error rule never runs as a visitor)."""
    return [
        rule
        for rule in rules
        if rule.code != SYNTAX_ERROR_CODE
        and (rule.triggers is None or any(trigger in text for trigger in rule.triggers))
    ]


def check_module(module: cst.Module, text: str, *, path: str, options: CheckOptions) -> list[Finding]:
    """Run the selected rules over a parsed module; their findings, sorted by position."""
    try:
        return _check_module(module, text, path=path, options=options)
    except RecursionError:
        # Nesting deep enough for Python but not for libcst's recursive code generation.
        problem = SyntaxProblem("too deeply nested to analyse (RecursionError)", 1, 1)
        return syntax_findings(options, problem, path)


def _check_module(module: cst.Module, text: str, *, path: str, options: CheckOptions) -> list[Finding]:
    rules = active_rules(text, options.rules)
    if not rules:
        return []
    context = FileContext(module, path=path, package=options.package, options=dict(options.rule_options))
    instances = [rule(context) for rule in rules]
    walk(module, instances)
    reports = [(instance, report) for instance in instances for report in instance.reports]
    if not reports:
        return []
    from bnlint.locate import Scopes  # libcst.metadata, a tenth of libcst's import: only when needed

    scopes = Scopes(module, text, [node for _, report in reports for node in report.nodes])
    findings = []
    for instance, report in reports:
        scope = scopes.holding(report.nodes)
        where = scope.position(report.node)
        edit = scope.edit(report.fix) if report.fix else None
        fix = None
        if edit is not None:
            assert instance.fix is not None  # checked in Rule.report
            fix = Fix(instance.fix, instance.fix_title or "", (edit,))
        findings.append(
            Finding(
                code=instance.code,
                name=instance.name,
                severity=instance.severity,
                message=report.message,
                path=path,
                line=where.start.line,
                column=where.start.column + 1,
                end_line=where.end.line,
                end_column=where.end.column + 1,
                fix=fix,
            )
        )
    suppressions = parse_suppressions(text)
    kept = [finding for finding in findings if not suppressions.suppresses(finding.code, finding.line)]
    return sorted(kept, key=Finding.sort_key)


def check_text(text: str, *, path: str, options: CheckOptions) -> list[Finding]:
    """All findings of one Python source, sorted by position."""
    if skips_file(text):
        return []
    module = parse(text)
    if isinstance(module, SyntaxProblem):
        return syntax_findings(options, module, path)
    return check_module(module, text, path=path, options=options)


MAX_FIX_ROUNDS = 10


class FixError(Exception):
    """A rule's fix produced a source that does not parse (an internal error)."""


def fix_text(text: str, *, path: str, options: CheckOptions, unsafe: bool) -> tuple[str, list[Finding], int]:
    """Apply fixes until none applies (or MAX_FIX_ROUNDS); return new text, remaining findings, fixed count."""
    fixed = 0
    findings = check_text(text, path=path, options=options)
    for _ in range(MAX_FIX_ROUNDS):
        fixes = [finding.fix for finding in findings if finding.fix_applies(unsafe)]
        if not fixes:
            break
        new_text, count = apply_fixes(text, fixes)  # type: ignore[arg-type]
        if new_text == text or count == 0:
            break
        module = parse(new_text)
        if isinstance(module, SyntaxProblem):
            # A fix that breaks the file is a bug in a rule; keep the file as it was.
            raise FixError(f"applying fixes to {path} would make it unparsable")
        text, fixed = new_text, fixed + count
        findings = check_module(module, text, path=path, options=options)
    return text, findings, fixed
