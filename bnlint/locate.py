"""Where a reported node is, and the edit of its fix, computed on the top-level statement holding it.

libcst's PositionProvider generates the code of the whole module with position tracking, and a
fix's edit needs the whole module generated again with the fix applied: with both done on the
whole module, checking a 50,000-line file with one finding took 40 s, against 14 s now. A
top-level statement starts a line of the module's code and generates the same text on its own (no
enclosing block gives it indentation), so both are computed on a module that holds only that
statement and shifted by the lines before it. That statement's text is compared with the source before it is used; when the
nodes of a report are not inside one top-level statement, or the texts differ, the whole module
is the scope.

The generated code is not always the source: libcst drops a lone carriage return that ends a
file. An edit is computed against the generated code, so it is only offered when that code is
the beginning of the source (then the edit's positions are the same in both).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import CodePosition, CodeRange, MetadataWrapper, PositionProvider

from bnlint.findings import Edit
from bnlint.fix import minimal_edit
from bnlint.rule import Replace
from bnlint.sourcefile import line_and_column, line_offsets
from bnlint.traverse import children


@dataclass
class Scope:
    """A module (the whole one, or one top-level statement of it) and the lines before it.

    `code` is the module's generated code when it is the beginning of the source from the first of
    those lines on, and None when it is not (no edit can be offered then).
    """

    module: cst.Module
    code: str | None
    lines_before: int
    _positions: Mapping[cst.CSTNode, CodeRange] | None = field(default=None, repr=False)

    def position(self, node: cst.CSTNode) -> CodeRange:
        """The node's range in the whole source (1-based lines, 0-based columns, as libcst's)."""
        if self._positions is None:
            self._positions = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider)
        where = self._positions[node]
        return CodeRange(
            CodePosition(where.start.line + self.lines_before, where.start.column),
            CodePosition(where.end.line + self.lines_before, where.end.column),
        )

    def edit(self, replaces: Sequence[Replace]) -> Edit | None:
        """The smallest text edit of the whole source that applies `replaces`."""
        if self.code is None:
            return None
        fixed = self.module
        for replace in replaces:
            fixed = fixed.deep_replace(replace.old, replace.new)  # type: ignore[assignment]
        local = minimal_edit(self.code, fixed.code)
        return dataclasses.replace(
            local, line=local.line + self.lines_before, end_line=local.end_line + self.lines_before
        )


class Scopes:
    """The scope of each report: the top-level statement that holds all its nodes, if there is one."""

    def __init__(self, module: cst.Module, text: str, wanted: Iterable[cst.CSTNode]) -> None:
        self._module = module
        self._text = text
        self._whole: Scope | None = None
        self._statement_of = _statement_indexes(module, {id(node) for node in wanted})
        self._starts = [sum(len(module.code_for_node(line)) for line in module.header)]
        self._scopes: dict[int, Scope] = {}
        self._line_starts: list[int] | None = None

    def holding(self, nodes: Iterable[cst.CSTNode]) -> Scope:
        indexes = {self._statement_of.get(id(node)) for node in nodes}
        if len(indexes) != 1 or None in indexes:
            return self._whole_module()
        (index,) = indexes
        assert index is not None
        scope = self._scopes.get(index)
        if scope is None:
            scope = self._scopes[index] = self._statement_scope(index)
        return scope

    def _statement_scope(self, index: int) -> Scope:
        statement = self._module.body[index]
        alone = self._module.with_changes(body=(statement,), header=(), footer=(), has_trailing_newline=True)
        code = alone.code
        start = self._start(index)
        if not code or not self._text.startswith(code, start):
            return self._whole_module()
        if self._line_starts is None:
            self._line_starts = line_offsets(self._text)
        line, _ = line_and_column(self._line_starts, start)
        return Scope(alone, code, line - 1)

    def _whole_module(self) -> Scope:
        if self._whole is None:
            code = self._module.code
            self._whole = Scope(self._module, code if self._text.startswith(code) else None, 0)
        return self._whole

    def _start(self, index: int) -> int:
        """Offset of the `index`-th top-level statement in the source (statements before it generated once)."""
        body = self._module.body
        while len(self._starts) <= index:
            previous = len(self._starts) - 1
            self._starts.append(self._starts[-1] + len(self._module.code_for_node(body[previous])))
        return self._starts[index]


def _statement_indexes(module: cst.Module, wanted: set[int]) -> dict[int, int]:
    """For each wanted node (by id), the index of the top-level statement that holds it."""
    found: dict[int, int] = {}
    for index, statement in enumerate(module.body):
        stack: list[cst.CSTNode] = [statement]
        while stack:
            node = stack.pop()
            if id(node) in wanted:
                found[id(node)] = index
            stack.extend(children(node))
        if len(found) == len(wanted):
            break
    return found
