"""`--output-format json`: a list of findings with exactly the keys the SPEC fixes."""

from __future__ import annotations

import json
from collections.abc import Sequence

from bnlint.findings import Finding


def render(findings: Sequence[Finding]) -> str:
    return json.dumps([finding.to_json() for finding in findings], indent=2, ensure_ascii=False) + "\n"
