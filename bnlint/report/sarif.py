"""`--output-format sarif`: SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.

Each selected rule is a `reportingDescriptor` whose help is the rule's documentation; a finding
with a fix carries it as a SARIF `fix`. A notebook finding's region counts lines within its cell
(SARIF has no notion of cells), and the cell number is in the result's `properties`; its fix is
left out, since edits in cell coordinates would corrupt the notebook's JSON if a viewer applied them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import PurePath

from bnlint import __version__
from bnlint.catalog import RuleInfo
from bnlint.findings import Finding

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def _uri(path: str) -> str:
    from urllib.parse import quote  # only SARIF output needs it

    return quote(PurePath(path).as_posix())


def _region(line: int, column: int, end_line: int, end_column: int) -> dict[str, int]:
    return {"startLine": line, "startColumn": column, "endLine": end_line, "endColumn": end_column}


def _descriptor(info: RuleInfo) -> dict[str, object]:
    return {
        "id": info.code,
        "name": info.name,
        "shortDescription": {"text": info.summary},
        "fullDescription": {"text": info.summary},
        "help": {"text": info.documentation, "markdown": info.documentation},
        "defaultConfiguration": {"level": info.severity.value},
        "properties": {"fixable": info.fix is not None, "default": info.default},
    }


def _result(finding: Finding, rule_index: int) -> dict[str, object]:
    location = {
        "physicalLocation": {
            "artifactLocation": {"uri": _uri(finding.path)},
            "region": _region(finding.line, finding.column, finding.end_line, finding.end_column),
        }
    }
    result: dict[str, object] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": finding.severity.value,
        "message": {"text": finding.message},
        "locations": [location],
    }
    if finding.cell is not None:
        result["properties"] = {"cell": finding.cell}
    if finding.fix is not None and finding.cell is None:
        result["fixes"] = [
            {
                "description": {"text": finding.fix.message},
                "artifactChanges": [
                    {
                        "artifactLocation": {"uri": _uri(finding.path)},
                        "replacements": [
                            {
                                "deletedRegion": _region(e.line, e.column, e.end_line, e.end_column),
                                "insertedContent": {"text": e.content},
                            }
                            for e in finding.fix.edits
                        ],
                    }
                ],
            }
        ]
    return result


def render(findings: Sequence[Finding], rules: Sequence[RuleInfo]) -> str:
    descriptors = sorted(rules, key=lambda info: info.code)
    index = {info.code: position for position, info in enumerate(descriptors)}
    document = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "bnlint",
                        "version": __version__,
                        "rules": [_descriptor(info) for info in descriptors],
                    }
                },
                "results": [_result(f, index[f.code]) for f in findings if f.code in index],
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
