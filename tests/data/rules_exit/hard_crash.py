"""USR901: a test rule that kills its process, as a segfault in the native parser would."""

from __future__ import annotations

import os

import libcst as cst

from bnlint.findings import Severity
from bnlint.rule import Case, Rule


class HardCrash(Rule):
    """## What it does
    Ends the process on a call to `die()`, without any cleanup.

    ## Why is this bad?
    It is a test of how bnlint survives a worker process that dies.

    ## Example
    ```python
    die()
    ```

    ## Use instead
    ```python
    pass
    ```

    ## References
    - none
    """

    code = "USR901"
    name = "hard-crash"
    severity = Severity.ERROR
    message = "unreachable"
    triggers = ("die()",)
    must_fire = [Case("die()\n")]
    must_not_fire = [Case("pass\n")]

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "die":
            os._exit(3)
