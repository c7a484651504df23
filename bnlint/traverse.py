"""One shared, lean traversal of a libcst tree for all rules.

libcst's own `Module.visit` rebuilds every node it passes (it is written for transformers) and
costs more than the parse; a walk over the dataclass fields that skips whitespace and
punctuation nodes costs a small fraction of it. Rules get Fixit's interface all the same:
`visit_<Node>(node)` before the node's children, `leave_<Node>(node)` after them, in source order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

import libcst as cst

# Fields that hold only whitespace, comments or punctuation tokens. Rules that care about an
# operator read it from its parent (`node.operator`), so the walk never enters these.
_TOKEN_FIELDS = frozenset(
    {
        "asynchronous",
        "colon",
        "comma",
        "comment",
        "dot",
        "empty_lines",
        "equal",
        "first_colon",
        "footer",
        "header",
        "indent",
        "lbrace",
        "lbracket",
        "leading_lines",
        "lines_after_decorators",
        "lpar",
        "newline",
        "operator",
        "posonly_ind",
        "rbrace",
        "rbracket",
        "relative",
        "rpar",
        "second_colon",
        "semicolon",
        "star",
        "trailing_comma",
        "trailing_whitespace",
    }
)

_child_fields: dict[type, tuple[str, ...]] = {}
# isinstance() against libcst's abstract CSTNode goes through the ABC machinery, a large share of
# the walk's time; the answer per concrete type is cached here instead.
_is_node: dict[type, bool] = {}

Handler = Callable[[cst.CSTNode], object]


def child_fields(node_type: type) -> tuple[str, ...]:
    """The fields of a node class that can hold meaningful child nodes, in source order."""
    fields = _child_fields.get(node_type)
    if fields is None:
        fields = tuple(
            f.name
            for f in dataclasses.fields(node_type)
            if f.name not in _TOKEN_FIELDS and not f.name.startswith("whitespace")
        )
        _child_fields[node_type] = fields
    return fields


def _node_type(value_type: type) -> bool:
    known = _is_node.get(value_type)
    if known is None:
        known = _is_node[value_type] = issubclass(value_type, cst.CSTNode)
    return known


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The meaningful children of a node, in source order."""
    result: list[cst.CSTNode] = []
    append = result.append
    for name in _child_fields.get(type(node)) or child_fields(type(node)):
        value = getattr(node, name)
        value_type = type(value)
        if value_type is list or value_type is tuple:
            for item in value:
                flag = _is_node.get(type(item))
                if flag is None:
                    flag = _node_type(type(item))
                if flag:
                    append(item)
        else:
            flag = _is_node.get(value_type)
            if flag is None:
                flag = _node_type(value_type)
            if flag:
                append(value)
    return result


def dispatch_table(visitors: Iterable[object], prefix: str) -> dict[type, list[Handler]]:
    """Map node classes to the bound `visit_X` (or `leave_X`) methods of the visitors."""
    table: dict[type, list[Handler]] = {}
    for visitor in visitors:
        for attribute in dir(type(visitor)):
            if not attribute.startswith(prefix):
                continue
            node_type = getattr(cst, attribute[len(prefix) :], None)
            if isinstance(node_type, type) and issubclass(node_type, cst.CSTNode):
                table.setdefault(node_type, []).append(getattr(visitor, attribute))
    return table


def walk(module: cst.Module, visitors: Iterable[object]) -> None:
    """Call every visitor's `visit_X`/`leave_X` methods over the whole tree, in source order."""
    visitors = list(visitors)
    enter = dispatch_table(visitors, "visit_")
    leave = dispatch_table(visitors, "leave_")
    if not enter and not leave:
        return
    # The stack holds nodes to enter and, for nodes with leave handlers, markers to leave them.
    stack: list[tuple[cst.CSTNode, bool]] = [(module, False)]
    pop = stack.pop
    push = stack.append
    while stack:
        node, leaving = pop()
        node_type = type(node)
        if leaving:
            for handler in leave[node_type]:
                handler(node)
            continue
        handlers = enter.get(node_type)
        if handlers:
            for handler in handlers:
                handler(node)
        if node_type in leave:
            push((node, True))
        kids = children(node)
        for child in reversed(kids):
            push((child, False))
