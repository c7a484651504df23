"""`--output-format github`: GitHub Actions workflow commands, one annotation per finding."""

from __future__ import annotations

from collections.abc import Sequence

from bnlint.findings import Finding


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(findings: Sequence[Finding]) -> str:
    lines = []
    for finding in findings:
        message = finding.message
        if finding.cell is not None:
            message = f"cell {finding.cell}:{finding.line}:{finding.column}: {message}"
        properties = ",".join(
            f"{key}={_escape_property(str(value))}"
            for key, value in (
                ("file", finding.path),
                ("line", finding.line),
                ("col", finding.column),
                ("endLine", finding.end_line),
                ("endColumn", finding.end_column),
                ("title", finding.code),
            )
        )
        lines.append(f"::error {properties}::{_escape_data(message)}\n")
    return "".join(lines)
