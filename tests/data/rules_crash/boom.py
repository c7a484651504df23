"""USR900: a test rule whose visit method raises, to exercise bnlint's internal-error path."""

from __future__ import annotations

import libcst as cst

from bnlint.findings import Severity
from bnlint.rule import Case, Rule


class Boom(Rule):
    """## What it does
    Raises on every call to `boom()`.

    ## Why is this bad?
    It is a test of how bnlint reports a crashing rule.

    ## Example
    ```python
    boom()
    ```

    ## Use instead
    ```python
    pass
    ```

    ## References
    - none
    """

    code = "USR900"
    name = "boom"
    severity = Severity.ERROR
    message = "boom"
    must_fire = [Case("boom()\n")]
    must_not_fire = [Case("pass\n")]

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "boom":
            raise RuntimeError("the rule exploded")
