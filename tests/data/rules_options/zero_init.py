"""USR001: a test rule that reads the `allow-zero-init` option, as BNL001 will."""

from __future__ import annotations

from fnmatch import fnmatchcase

import libcst as cst

from bnlint.findings import Severity
from bnlint.rule import Case, Rule


class ZeroInit(Rule):
    """## What it does
    Checks for `zero_init(self.<name>)` unless `<name>` matches `allow-zero-init`.

    ## Why is this bad?
    It is a test of how options reach rules.

    ## Example
    ```python
    zero_init(self.proj)
    ```

    ## Use instead
    ```python
    normal_init(self.proj)
    ```

    ## References
    - none
    """

    code = "USR001"
    name = "zero-init"
    severity = Severity.ERROR
    message = "`{name}` is zero-initialised"
    triggers = ("zero_init",)
    must_fire = [Case("zero_init(self.proj)\n")]
    must_not_fire = [Case("zero_init(self.lora_B)\n", settings={"allow-zero-init": ["lora_*"]})]

    def visit_Call(self, node: cst.Call) -> None:
        if not (isinstance(node.func, cst.Name) and node.func.value == "zero_init" and node.args):
            return
        target = node.args[0].value
        if not isinstance(target, cst.Attribute):
            return
        allowed = self.context.options.get("allow-zero-init", ())
        if any(fnmatchcase(target.attr.value, pattern) for pattern in allowed):
            return  # intentional, as configured
        self.report(node, self.message.format(name=target.attr.value))
