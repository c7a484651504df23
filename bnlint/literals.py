"""The value of literal expressions, and whether two expressions are the same code.

Rules compare arguments only when the code shows their values: `64`, `-1`, `0.99`, `True`.
Anything else (a name, an expression, an f-string) has no literal value here.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import libcst as cst


def number(node: object) -> Decimal | None:
    """The exact value of an int or float literal (with an optional sign), else None."""
    sign = 1
    while isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.Minus, cst.Plus)):
        if isinstance(node.operator, cst.Minus):
            sign = -sign
        node = node.expression
    if isinstance(node, (cst.Integer, cst.Float)):
        try:
            return sign * Decimal(node.value.replace("_", ""))
        except InvalidOperation:  # hexadecimal and other int spellings
            try:
                return sign * Decimal(int(node.value, 0))
            except ValueError:
                return None
    return None


def integer(node: object) -> int | None:
    """The value of an int literal (with an optional sign), else None."""
    if not isinstance(_unsigned(node), cst.Integer):
        return None
    value = number(node)
    return int(value) if value is not None else None


def _unsigned(node: object) -> object:
    while isinstance(node, cst.UnaryOperation):
        node = node.expression
    return node


def boolean(node: object) -> bool | None:
    """True or False for the literal names, else None."""
    if isinstance(node, cst.Name) and node.value in ("True", "False"):
        return node.value == "True"
    return None


def same_code(a: cst.CSTNode, b: cst.CSTNode) -> bool:
    """Whether two expressions are spelled the same (whitespace and comments aside)."""
    return _normalized(a) == _normalized(b)


def _normalized(node: cst.CSTNode) -> str:
    return "".join(cst.Module(body=[]).code_for_node(node).split())
