"""The default output: one line per finding, then a summary line (ruff's layout)."""

from __future__ import annotations

from collections.abc import Sequence

import click

from bnlint.findings import Finding


def location(finding: Finding) -> str:
    """`path:line:column`, with `cell N` after the path for a notebook."""
    cell = f":cell {finding.cell}" if finding.cell is not None else ""
    return f"{finding.path}{cell}:{finding.line}:{finding.column}"


def finding_line(finding: Finding, *, color: bool, unsafe: bool) -> str:
    marker = " [*]" if finding.fix_applies(unsafe) else ""
    where = click.style(location(finding), bold=True) if color else location(finding)
    code = click.style(finding.code, fg="red", bold=True) if color else finding.code
    if marker and color:
        marker = click.style(marker, fg="cyan")
    return f"{where}: {code}{marker} {finding.message}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary(
    findings: Sequence[Finding], *, fixed: int, fix_mode: bool, unsafe: bool, unchecked: int = 0, unwritten: int = 0
) -> str:
    """The closing line: how many findings, how many fixable or fixed, how many files failed.

    `unwritten` counts fixes made in files that could not be written: they remain.
    """
    failed = f" {_plural(unchecked, 'file')} could not be checked (internal error)." if unchecked else ""
    if not findings and not fixed and not unwritten:
        return failed.strip() if unchecked else "All checks passed!"
    if fix_mode:
        remaining = len(findings) + unwritten
        return f"Found {_plural(remaining + fixed, 'finding')} ({fixed} fixed, {remaining} remaining).{failed}"
    fixable = sum(f.fix_applies(unsafe) for f in findings)
    hidden = sum(f.fix is not None and not f.fix_applies(unsafe) for f in findings)
    notes = []
    if fixable:
        notes.append(f"{fixable} fixable with --fix")
    if hidden:
        notes.append(f"{hidden} more with --fix --unsafe-fixes")
    extra = f" ({'; '.join(notes)})" if notes else ""
    return f"Found {_plural(len(findings), 'finding')}{extra}.{failed}"


def render(findings: Sequence[Finding], *, color: bool, unsafe: bool) -> str:
    return "".join(finding_line(f, color=color, unsafe=unsafe) + "\n" for f in findings)
