"""Positions and fix edits computed on one top-level statement agree with the whole module's."""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m
import pytest

from bnlint.fix import apply_fixes
from bnlint.findings import Applicability, Fix
from bnlint.locate import Scope, Scopes
from bnlint.rule import Replace

SOURCES = {
    "header, blank lines and comments": (
        "# a header comment\n\nimport torch.nn as nn\n\n\n# about the block\nblock = nn.Conv2d(3, 8, 3)\n"
    ),
    "crlf": "import torch.nn as nn\r\n\r\nx = nn.Conv2d(3, 8, 3)\r\ny = nn.Linear(2, 2)\r\n",
    "lone carriage returns": "import torch.nn as nn\r\rx = nn.Conv2d(3, 8, 3)\ry = f(1)\r",
    "no trailing newline": "import torch.nn as nn\nx = nn.Conv2d(3, 8, 3)\ny = nn.Linear(2, 2)",
    "semicolons": "a = f(1); b = g(2)\nc = h(3)\n",
    "decorated class with tabs": (
        "import torch.nn as nn\n\n@register(\n\tname='net'\n)\nclass Net(nn.Module):\n"
        "\tdef __init__(self):\n\t\tsuper().__init__()\n\t\tself.conv = nn.Conv2d(3, 8, 3)\n"
    ),
    "multi-line call, trailing comment in the footer": (
        "import torch.nn as nn\nblock = nn.Sequential(\n    nn.Conv2d(3, 8, 3),  # stem\n"
        "    nn.BatchNorm2d(8),\n)\n\n# the end\n"
    ),
    "form feed and a continuation line": "x = 1\n\x0c\ny = f(1,\\\n      2)\n",
}


@pytest.mark.parametrize("source", SOURCES.values(), ids=SOURCES.keys())
def test_every_call_is_located_and_fixed_as_in_the_whole_module(source: str) -> None:
    module = cst.parse_module(source)
    calls = m.findall(module, m.Call())
    assert calls
    whole = Scope(module, module.code, 0)
    scopes = Scopes(module, source, calls)
    for call in calls:
        assert isinstance(call, cst.Call)
        scope = scopes.holding([call])
        assert scope.position(call) == whole.position(call)
        replaces = (Replace(call, call.with_changes(func=cst.Name("replaced"))),)
        edit = scope.edit(replaces)
        expected = apply_fixes(source, [Fix(Applicability.SAFE, "", (whole.edit(replaces),))])
        assert apply_fixes(source, [Fix(Applicability.SAFE, "", (edit,))]) == expected
        assert expected[0] != source


def test_a_top_level_call_gets_its_statement_as_scope() -> None:
    source = "x = f(1)\ny = g(2)\n"
    module = cst.parse_module(source)
    second = m.findall(module, m.Call(func=m.Name("g")))[0]
    scope = Scopes(module, source, [second]).holding([second])
    assert scope.code == "y = g(2)\n"
    assert scope.lines_before == 1


def test_nodes_in_two_statements_get_the_whole_module() -> None:
    source = "x = f(1)\ny = g(2)\n"
    module = cst.parse_module(source)
    calls = m.findall(module, m.Call())
    scope = Scopes(module, source, calls).holding(calls)
    assert scope.module is module
    assert scope.lines_before == 0


def test_an_edit_of_the_whole_module_keeps_a_last_lone_carriage_return() -> None:
    # libcst's code for this source lacks the last "\r"; the edit is made against that code,
    # whose positions are the source's, and so leaves the "\r" alone.
    source = "x = f(1)\ry = g(2)\r"
    module = cst.parse_module(source)
    calls = m.findall(module, m.Call())
    scope = Scopes(module, source, calls).holding(calls)
    assert scope.module is module
    edit = scope.edit([Replace(calls[1], cst.Name("replaced"))])
    assert edit is not None
    assert apply_fixes(source, [Fix(Applicability.SAFE, "", (edit,))]) == ("x = f(1)\ry = replaced\r", 1)
