"""`--statistics`: how many findings of each rule, most frequent first."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from bnlint.findings import Finding


def counts(findings: Sequence[Finding], unsafe: bool) -> list[dict[str, object]]:
    by_code = Counter(f.code for f in findings)
    names = {f.code: f.name for f in findings}
    fixable = {f.code for f in findings if f.fix_applies(unsafe)}
    ordered = sorted(by_code.items(), key=lambda item: (-item[1], item[0]))
    return [
        {"code": code, "name": names[code], "count": count, "fixable": code in fixable} for code, count in ordered
    ]


def render_text(findings: Sequence[Finding], unsafe: bool) -> str:
    rows = counts(findings, unsafe)
    width = max((len(str(row["count"])) for row in rows), default=1)
    return "".join(
        f"{str(row['count']).rjust(width)}\t{row['code']}\t{'[*] ' if row['fixable'] else '[ ] '}{row['name']}\n"
        for row in rows
    )


def render_json(findings: Sequence[Finding], unsafe: bool) -> str:
    return json.dumps(counts(findings, unsafe), indent=2) + "\n"
