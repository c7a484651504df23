"""`# noqa` comments, as in ruff.

- `# noqa: BNL101, BNL102` on the reported line suppresses those codes there; a bare `# noqa`
  suppresses every code on that line.
- `# bnlint: noqa` on a line of its own skips the whole file; `# bnlint: noqa: BNL201` on a line
  of its own suppresses that code in the whole file.

Only real comments count (the file is tokenized), so a `# noqa` inside a string does nothing.
Tokenizing is only done for files that have findings.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field

from bnlint.sourcefile import lines_of

_LINE_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_FILE_NOQA = re.compile(
    r"^#\s*bnlint\s*:\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?\s*$", re.IGNORECASE
)
_SKIP_FILE = re.compile(r"^[ \t]*#[ \t]*bnlint[ \t]*:[ \t]*noqa[ \t]*$", re.MULTILINE | re.IGNORECASE)


def _codes(text: str | None) -> frozenset[str] | None:
    if text is None:
        return None
    return frozenset(code.upper() for code in re.split(r"[\s,]+", text.strip()) if code)


def _mentions_noqa(text: str) -> bool:
    """The cheap filter before any regular expression or tokenizing (directives ignore case;
    lowering the text is several times faster than a case-insensitive search)."""
    return "noqa" in text.lower()


def skips_file(text: str) -> bool:
    """Whether a `# bnlint: noqa` comment on a line of its own tells bnlint to skip the whole file.

    Checked before parsing: the regular expression is a cheap filter, and a hit is confirmed on
    the comments, so the same text inside a string (a docstring about bnlint) does not count.
    """
    if not _mentions_noqa(text) or _SKIP_FILE.search(text) is None:
        return False
    return any(own_line and _SKIP_FILE.match(comment) for _, comment, own_line in _comments(text))


@dataclass
class Suppressions:
    """The noqa directives of one source."""

    file_codes: frozenset[str] = frozenset()
    lines: dict[int, frozenset[str] | None] = field(default_factory=dict)

    def suppresses(self, code: str, line: int) -> bool:
        if code in self.file_codes:
            return True
        if line not in self.lines:
            return False
        codes = self.lines[line]
        return codes is None or code in codes


def parse_suppressions(text: str) -> Suppressions:
    """Read every noqa comment of a source that parses."""
    result = Suppressions()
    if not _mentions_noqa(text):
        return result
    file_codes: set[str] = set()
    for line, comment, own_line in _comments(text):
        if own_line:
            directive = _FILE_NOQA.match(comment)
            if directive:
                file_codes |= _codes(directive.group("codes")) or set()
                continue
        match = _LINE_NOQA.search(comment)
        if match:
            codes = _codes(match.group("codes"))
            previous = result.lines.get(line, frozenset())
            result.lines[line] = None if codes is None or previous is None else previous | codes
    result.file_codes = frozenset(file_codes)
    return result


def _comments(text: str) -> list[tuple[int, str, bool]]:
    """(line, comment text, whether the comment stands alone on its line) for each comment."""
    found = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                own_line = token.line[: token.start[1]].strip() == ""
                found.append((token.start[0], token.string, own_line))
    except (tokenize.TokenError, SyntaxError):
        # libcst accepted the file but this Python's tokenizer does not: read comments by line.
        for number, line in enumerate(lines_of(text), start=1):
            index = line.find("#")
            if index >= 0:
                found.append((number, line[index:], line[:index].strip() == ""))
    return found
