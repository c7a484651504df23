"""Lists of modules built in code and unpacked into `nn.Sequential(*layers)`.

The items of one list literal run in order, and so do the items that consecutive statements of
one block add; anything else (a loop boundary, a branch, a nested function) breaks the order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import libcst as cst

from bnlint.flowgraph import Chain
from bnlint.syntax import blocks, body_of, descendants, headers, mentions, references, small_and_compound, statements

if TYPE_CHECKING:
    from bnlint.structure import ModelStructure, Scope


class ListBuilder:
    """Follows the statements that build one list of modules, recording the flows inside it."""

    def __init__(self, structure: ModelStructure, scope: Scope, name: str) -> None:
        self.structure = structure
        self.scope = scope
        self.name = name

    def block(self, body: Sequence[cst.CSTNode], top: bool) -> Chain | None:
        """Walk one block; return the whole list's chain when `top` and every addition is here."""
        complete = top
        pieces: list[Chain] = []
        previous: Chain | None = None
        for statement in small_and_compound(body):
            if isinstance(statement, cst.BaseCompoundStatement):
                if mentions(statement, self.name):
                    complete, previous = False, None
                    if not isinstance(statement, (cst.FunctionDef, cst.ClassDef)):  # another scope's list
                        for nested in blocks(statement):
                            self.block(nested, top=False)
                continue
            added = list_operation(statement, self.name)
            if added is False:
                continue  # a statement that does not touch the list
            if not isinstance(added, (cst.List, cst.Tuple)):
                complete, previous = False, None  # extended with something that is not a literal
                continue
            if isinstance(statement, cst.Assign):
                pieces, previous = [], None  # a new list
            if not added.elements:
                continue
            items = [
                None if isinstance(element, cst.StarredElement) else self.structure.module_value(element.value, self.scope)
                for element in added.elements
            ]
            chain = self.structure.link(items)
            if previous is not None:
                self.structure.connect(previous.last, chain.first)
            previous = chain
            pieces.append(chain)
        if not complete or not pieces:
            return None
        return Chain(pieces[0].first, pieces[-1].last)


def list_operation(statement: cst.CSTNode, name: str) -> cst.BaseExpression | bool | None:
    """What a statement adds to list `name`: `append(v)` gives `[v]`; `extend(v)`, `+= v` and
    `= v` give `v`. False when the statement does not mention `name`, None when it uses it
    otherwise."""
    if isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Call):
        func = statement.value.func
        args = statement.value.args
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == name:
            if func.attr.value in ("append", "extend") and len(args) == 1 and not args[0].star:
                if func.attr.value == "append":
                    return cst.List([cst.Element(args[0].value)])
                return args[0].value
            return None
    if isinstance(statement, cst.AugAssign) and isinstance(statement.target, cst.Name) and statement.target.value == name:
        return statement.value if isinstance(statement.operator, cst.AddAssign) else None
    if isinstance(statement, cst.Assign) and len(statement.targets) == 1:
        target = statement.targets[0].target
        if isinstance(target, cst.Name) and target.value == name:
            return statement.value
    return False if not mentions(statement, name) else None


def only_built(function: cst.FunctionDef, name: str) -> bool:
    """Whether the function uses list `name` only to build it and unpack it into a call."""
    for statement in statements(body_of(function)):
        if isinstance(statement, cst.BaseCompoundStatement):
            if any(mentions(header, name) for header in headers(statement)):
                return False
            continue
        if list_operation(statement, name) is not None:
            continue
        if not only_unpacked(statement, name):
            return False
    return True


def only_unpacked(statement: cst.CSTNode, name: str) -> bool:
    """Whether every mention of `name` in the statement is a `*name` argument."""
    unpacked = sum(
        1
        for node in descendants(statement, into_scopes=True)
        if isinstance(node, cst.Arg) and node.star == "*" and isinstance(node.value, cst.Name) and node.value.value == name
    )
    return sum(1 for reference in references(statement) if reference.value == name) == unpacked
