"""What a rule can see of the file it checks: its tree, its imports, the options, shared analyses."""

from __future__ import annotations

from typing import Any, TypeVar

import libcst as cst

from bnlint.resolve import ImportMap

AnalysisT = TypeVar("AnalysisT")


class FileContext:
    """One file (or notebook cell sequence) being checked.

    An analysis is any class whose constructor takes the context; `get` builds it on first use
    and hands the same instance to every rule, so shared work runs once per file.
    """

    def __init__(
        self,
        module: cst.Module,
        *,
        path: str,
        package: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.module = module
        self.path = path
        self.package = package
        self.options: dict[str, Any] = options or {}
        self._imports: ImportMap | None = None
        self._analyses: dict[type, object] = {}

    @property
    def imports(self) -> ImportMap:
        if self._imports is None:
            self._imports = ImportMap(self.module, self.package)
        return self._imports

    def qualified_name(self, node: cst.BaseExpression) -> str | None:
        """The canonical qualified name of a dotted expression (`nn.Conv2d`), or None."""
        return self.imports.qualified_name(node)

    def get(self, analysis: type[AnalysisT]) -> AnalysisT:
        instance = self._analyses.get(analysis)
        if instance is None:
            instance = analysis(self)  # type: ignore[call-arg]
            self._analyses[analysis] = instance
        return instance  # type: ignore[return-value]
