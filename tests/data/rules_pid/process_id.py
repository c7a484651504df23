"""USR300: a test rule that reports which process checked the file, to prove `--jobs` forks workers."""

from __future__ import annotations

import os

import libcst as cst

from bnlint.findings import Severity
from bnlint.rule import Case, Rule


class ProcessId(Rule):
    """## What it does
    Reports, on each `# which process?` comment's module, the id of the process that checked it.

    ## Why is this bad?
    It is not; it is a test probe.

    ## Example
    ```python
    x = 1  # which process?
    ```

    ## Use instead
    ```python
    x = 1
    ```

    ## References
    - none
    """

    code = "USR300"
    name = "process-id"
    severity = Severity.WARNING
    message = "checked in process {pid}"
    triggers = ("# which process?",)
    must_fire = [Case("x = 1  # which process?\n")]
    must_not_fire = [Case("x = 1\n")]

    def visit_Module(self, node: cst.Module) -> None:
        self.report(node.body[0] if node.body else node, self.message.format(pid=os.getpid()))
