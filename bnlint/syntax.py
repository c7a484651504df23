"""Statement-level helpers over libcst trees: blocks, bindings, references, walks.

Shared by the import resolver and the structure analysis so that both read Python's scoping
rules the same way.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import libcst as cst

from bnlint.traverse import children


def body_of(node: cst.CSTNode) -> Sequence[cst.CSTNode]:
    """The statements of a module, class or function body."""
    if isinstance(node, cst.Module):
        return node.body
    body = getattr(node, "body", None)
    if isinstance(body, cst.IndentedBlock):
        return body.body
    if isinstance(body, cst.SimpleStatementSuite):
        return [cst.SimpleStatementLine(body=body.body)]
    return ()


def small_and_compound(body: Sequence[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    """The statements of one block, small statements unpacked from their lines."""
    for item in body:
        if isinstance(item, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            yield from item.body
        else:
            yield item


def statements(body: Sequence[cst.CSTNode], into_definitions: bool = False) -> Iterator[cst.CSTNode]:
    """Every statement of a block and of the blocks nested in it; the bodies of nested functions
    and classes only with `into_definitions`."""
    for statement in small_and_compound(body):
        yield statement
        if not isinstance(statement, cst.BaseCompoundStatement):
            continue
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            if into_definitions:
                yield from statements(body_of(statement), into_definitions)
            continue
        for block in blocks(statement):
            yield from statements(block, into_definitions)


def blocks(statement: cst.BaseCompoundStatement) -> list[Sequence[cst.CSTNode]]:
    """The statement lists directly inside a compound statement, elif and else included."""
    found: list[Sequence[cst.CSTNode]] = []

    def add(holder: object) -> None:
        body = body_of(holder) if holder is not None else ()
        if body:
            found.append(body)

    add(statement)
    orelse = getattr(statement, "orelse", None)
    while orelse is not None:
        add(orelse)
        orelse = orelse.orelse if isinstance(orelse, cst.If) else None
    for handler in getattr(statement, "handlers", ()):
        add(handler)
    add(getattr(statement, "finalbody", None))
    for case in getattr(statement, "cases", ()):
        add(case)
    return found


def headers(statement: cst.BaseCompoundStatement) -> list[cst.CSTNode]:
    """The expressions a compound statement evaluates besides its blocks (tests, iterables)."""
    if isinstance(statement, cst.If):
        tests: list[cst.CSTNode] = [statement.test]
        orelse = statement.orelse
        while isinstance(orelse, cst.If):
            tests.append(orelse.test)
            orelse = orelse.orelse
        return tests
    if isinstance(statement, cst.While):
        return [statement.test]
    if isinstance(statement, cst.For):
        return [statement.iter, statement.target]
    if isinstance(statement, cst.Match):
        return [statement.subject]
    if isinstance(statement, cst.Try):
        return [handler.type for handler in statement.handlers if handler.type is not None]
    return []


def assigned_in(statement: cst.BaseCompoundStatement) -> set[str]:
    """Every name a compound statement (with its nested blocks) may bind."""
    names: set[str] = set()
    for node in statements([statement]):
        if isinstance(node, cst.Assign):
            for target in node.targets:
                names.update(assigned_names(target.target))
        elif isinstance(node, cst.AnnAssign):
            names.update(assigned_names(node.target))
        names.update(names_bound(node))  # augmented assignments, loops, with, definitions, except
    return names


def assigned_names(target: cst.BaseExpression) -> Iterator[str]:
    """The names an assignment target binds: `a`, `a, (b, *c)`."""
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from assigned_names(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from assigned_names(target.value)


def names_bound(statement: cst.CSTNode) -> Iterator[str]:
    """Names bound by statements other than plain assignments."""
    if isinstance(statement, cst.AugAssign):
        yield from assigned_names(statement.target)
    elif isinstance(statement, cst.For):
        yield from assigned_names(statement.target)
    elif isinstance(statement, cst.With):
        for item in statement.items:
            if item.asname is not None:
                yield from assigned_names(item.asname.name)
    elif isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
        yield statement.name.value
    elif isinstance(statement, cst.Try):
        for handler in statement.handlers:
            if handler.name is not None:
                yield from assigned_names(handler.name.name)


def parameters(function: cst.FunctionDef) -> Iterator[str]:
    """The names of a function's parameters."""
    params = function.params
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        yield param.name.value
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            yield star.name.value


def self_attribute(node: cst.CSTNode) -> str | None:
    """`attr` for `self.attr`."""
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self":
        return node.attr.value
    return None


def string_value(node: cst.BaseExpression) -> str | None:
    """The value of a plain string literal, else None."""
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def descendants(node: cst.CSTNode, into_scopes: bool = False) -> Iterator[cst.CSTNode]:
    """Every node under `node` (not entering nested functions, classes and lambdas unless asked)."""
    stack = list(reversed(children(node)))
    while stack:
        current = stack.pop()
        yield current
        if not into_scopes and isinstance(current, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        stack.extend(reversed(children(current)))


def with_parents(node: cst.CSTNode) -> Iterator[tuple[cst.CSTNode, cst.CSTNode | None, cst.CSTNode | None]]:
    """Every node under `node` (included) with its parent and grandparent."""
    stack: list[tuple[cst.CSTNode, cst.CSTNode | None, cst.CSTNode | None]] = [(node, None, None)]
    while stack:
        current, parent, grandparent = stack.pop()
        yield current, parent, grandparent
        stack.extend((child, current, parent) for child in children(current))


def references(node: cst.CSTNode) -> Iterator[cst.Name]:
    """The names in `node` that refer to variables (not `x.attr`'s attr, not `f(key=...)`'s key)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Name):
            yield current
        elif isinstance(current, cst.Attribute):
            stack.append(current.value)
        elif isinstance(current, cst.Arg):
            stack.append(current.value)
        else:
            stack.extend(children(current))


def mentions(node: cst.CSTNode, name: str) -> bool:
    """Whether `node` refers to the variable `name`."""
    return any(reference.value == name for reference in references(node))
