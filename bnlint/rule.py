"""The base class of every lint rule, built-in or the user's own.

A rule is one file: a `Rule` subclass carrying its code, name, severity, default, fix
applicability, its documentation (the class docstring, in ruff's sections) and its examples,
plus `visit_<Node>` / `leave_<Node>` methods that the engine calls during its single shared
traversal of the file. A rule reports with `self.report(node, ...)`; the engine turns nodes into
positions only for files that have findings.

Shared, more expensive analyses (the model-structure analysis, for instance) are computed at most
once per file through `self.context.get(AnalysisClass)`.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, NamedTuple, TypeVar

import libcst as cst

from bnlint.findings import Applicability, Severity

if TYPE_CHECKING:
    from bnlint.context import FileContext

CODE_PATTERN = re.compile(r"^[A-Z]{1,4}[0-9]{3,4}$")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
DOC_SECTIONS = ("## What it does", "## Why is this bad?", "## Example", "## Use instead", "## References")

# Prepended to an example that has no import of its own, so examples can stay one-liners.
EXAMPLE_PREAMBLE = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


class RuleDefinitionError(Exception):
    """A rule file is malformed: missing metadata, a bad code, missing doc sections..."""


@dataclass(frozen=True)
class Case:
    """One example in a rule file.

    `source` is dedented. When it contains no `import`, the engine runs it after
    `EXAMPLE_PREAMBLE` (torch, nn, F) and reports lines within `source` itself.
    For a must-fire case, `line` pins the reported line and `fixed` the source after all fixes
    of the rule (unsafe ones included). `settings` overrides configuration keys for this case,
    for instance `{"allow-zero-init": ["lora_B"]}`.
    """

    source: str
    line: int | None = None
    fixed: str | None = None
    settings: dict[str, object] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return textwrap.dedent(self.source).strip("\n") + "\n"

    @property
    def preamble(self) -> str:
        return "" if "import" in self.source else EXAMPLE_PREAMBLE


class Replace(NamedTuple):
    """One edit of a fix: put `new` where `old` is, keeping everything around it."""

    old: cst.CSTNode
    new: cst.CSTNode


@dataclass(frozen=True)
class Report:
    """What a rule reported, before the engine turns nodes into positions."""

    code: str
    node: cst.CSTNode
    message: str
    fix: tuple[Replace, ...]

    @property
    def nodes(self) -> tuple[cst.CSTNode, ...]:
        """The reported node and the nodes its fix replaces."""
        return (self.node, *(replace.old for replace in self.fix))


AnalysisT = TypeVar("AnalysisT")


class Rule:
    """Subclass this in a file of `rules/` (or of a folder named in `rule-dirs`)."""

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    default: ClassVar[bool] = True
    fix: ClassVar[Applicability | None] = None
    #: Short description of the fix, shown in JSON and SARIF output.
    fix_title: ClassVar[str | None] = None
    #: Default message of a finding.
    message: ClassVar[str]
    #: The rule only runs on files whose text contains one of these strings (None: every file).
    #: A cheap filter that lets the engine skip most of the work on unrelated files; it must
    #: be a necessary condition for the rule to fire.
    triggers: ClassVar[tuple[str, ...] | None] = None
    must_fire: ClassVar[Sequence[Case]] = ()
    must_not_fire: ClassVar[Sequence[Case]] = ()

    def __init__(self, context: FileContext) -> None:
        self.context = context
        self.reports: list[Report] = []

    def report(
        self,
        node: cst.CSTNode,
        message: str | None = None,
        *,
        fix: Replace | Sequence[Replace] | None = None,
    ) -> None:
        """Report a finding on `node`, with an optional fix made of node replacements."""
        if isinstance(fix, Replace):
            edits: tuple[Replace, ...] = (fix,)
        else:
            edits = tuple(fix or ())
        if edits and self.fix is None:
            raise RuleDefinitionError(f"{self.code} reports a fix but declares fix = None")
        self.reports.append(Report(self.code, node, message or self.message, edits))

    def get(self, analysis: type[AnalysisT]) -> AnalysisT:
        """A shared per-file analysis, computed on first use and reused by every rule."""
        return self.context.get(analysis)

    @classmethod
    def documentation(cls) -> str:
        """The rule's documentation in Markdown: the class docstring, dedented."""
        return inspect.cleandoc(cls.__doc__ or "") + "\n"

    @classmethod
    def summary(cls) -> str:
        """The first paragraph under "What it does", on one line."""
        doc = cls.documentation()
        _, _, rest = doc.partition("## What it does")
        paragraph = rest.strip().split("\n\n", 1)[0]
        return " ".join(paragraph.split())

    @classmethod
    def validate(cls) -> None:
        """Raise RuleDefinitionError unless the rule's metadata and documentation are complete."""
        where = f"{cls.__module__}.{cls.__qualname__}"
        for attribute in ("code", "name", "severity", "message"):
            if not hasattr(cls, attribute):
                raise RuleDefinitionError(f"{where} has no `{attribute}`")
        if not CODE_PATTERN.match(cls.code):
            raise RuleDefinitionError(f"{where}: code {cls.code!r} is not like BNL101")
        if not NAME_PATTERN.match(cls.name):
            raise RuleDefinitionError(f"{where}: name {cls.name!r} is not kebab-case")
        if not isinstance(cls.severity, Severity):
            raise RuleDefinitionError(f"{where}: severity must be a bnlint.findings.Severity")
        if cls.fix is not None and not isinstance(cls.fix, Applicability):
            raise RuleDefinitionError(f"{where}: fix must be None or an Applicability")
        if cls.fix is not None and not cls.fix_title:
            raise RuleDefinitionError(f"{where}: a fixable rule needs a fix_title")
        doc = cls.documentation()
        missing = [section for section in DOC_SECTIONS if section not in doc]
        if missing:
            raise RuleDefinitionError(f"{where}: documentation lacks {', '.join(missing)}")
        if not cls.must_fire or not cls.must_not_fire:
            raise RuleDefinitionError(f"{where} needs must_fire and must_not_fire examples")
