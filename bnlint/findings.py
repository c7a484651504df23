"""The vocabulary shared by every part of bnlint: severities, fixes and static findings.

Everything here is a frozen dataclass or an enum so that it can cross process boundaries
(the linter checks files in worker processes) and be cached as plain JSON.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

# The code of a file that cannot be parsed or read; the engine reports it, no visitor does.
SYNTAX_ERROR_CODE = "BNL000"


class Severity(str, enum.Enum):
    """How bad a finding is; the same two levels for the linter and the runtime auditor."""

    ERROR = "error"
    WARNING = "warning"


class Applicability(str, enum.Enum):
    """Whether a fix keeps the program's meaning (safe) or may change it (unsafe), as in ruff."""

    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True, order=True)
class Edit:
    """Replace the text between two 1-based (line, column) positions with `content`.

    Columns count characters, not bytes; the end position is exclusive.
    """

    line: int
    column: int
    end_line: int
    end_column: int
    content: str

    def to_json(self) -> dict[str, object]:
        return {
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "content": self.content,
        }


@dataclass(frozen=True)
class Fix:
    """A fix for one finding: its applicability, a short description and its edits."""

    applicability: Applicability
    message: str
    edits: tuple[Edit, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "applicability": self.applicability.value,
            "message": self.message,
            "edits": [edit.to_json() for edit in self.edits],
        }

    @classmethod
    def from_json(cls, data: dict) -> Fix:
        return cls(
            applicability=Applicability(data["applicability"]),
            message=data["message"],
            edits=tuple(Edit(**edit) for edit in data["edits"]),
        )


@dataclass(frozen=True)
class Finding:
    """One static finding in one file (and, for a notebook, one cell).

    `path` is the path as it is printed (relative to the working directory where possible).
    Lines and columns are 1-based; for a notebook they count within `cell` (1-based).
    """

    code: str
    name: str
    severity: Severity
    message: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    fix: Fix | None = None
    cell: int | None = field(default=None)

    def sort_key(self) -> tuple:
        return (self.path, self.cell or 0, self.line, self.column, self.code, self.message)

    def fix_applies(self, unsafe: bool) -> bool:
        """Whether `--fix` (with `--unsafe-fixes` when `unsafe`) applies this finding's fix."""
        return self.fix is not None and (self.fix.applicability is Applicability.SAFE or unsafe)

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.value,
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "fix": self.fix.to_json() if self.fix else None,
        }
        if self.cell is not None:
            data["cell"] = self.cell
        return data

    @classmethod
    def from_json(cls, data: dict) -> Finding:
        return cls(
            code=data["code"],
            name=data["name"],
            severity=Severity(data["severity"]),
            message=data["message"],
            path=data["path"],
            line=data["line"],
            column=data["column"],
            end_line=data["end_line"],
            end_column=data["end_column"],
            fix=Fix.from_json(data["fix"]) if data["fix"] else None,
            cell=data.get("cell"),
        )
