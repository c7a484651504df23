"""USR104: a test rule with an unsafe fix (like BNL104, which is not built yet)."""

from __future__ import annotations

import libcst as cst

from bnlint.findings import Applicability, Severity
from bnlint.rule import Case, Replace, Rule


class KerasMomentum(Rule):
    """## What it does
    Checks for a `momentum=` keyword of 0.5 or more.

    ## Why is this bad?
    PyTorch's momentum weighs the new batch statistic; 0.99 is the Keras convention.

    ## Example
    ```python
    nn.BatchNorm2d(8, momentum=0.99)
    ```

    ## Use instead
    ```python
    nn.BatchNorm2d(8, momentum=0.01)
    ```

    ## References
    - [BatchNorm2d](https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm2d.html)
    """

    code = "USR104"
    name = "keras-momentum"
    severity = Severity.WARNING
    fix = Applicability.UNSAFE
    fix_title = "Use `1 - momentum`"
    message = "momentum {value} follows the Keras convention"
    triggers = ("momentum",)
    must_fire = [Case("nn.BatchNorm2d(8, momentum=0.9)\n", fixed="nn.BatchNorm2d(8, momentum=0.1)\n")]
    must_not_fire = [Case("nn.BatchNorm2d(8, momentum=0.1)\n")]

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is None or node.keyword.value != "momentum" or not isinstance(node.value, cst.Float):
            return
        value = float(node.value.value)
        if value >= 0.5:
            new = cst.Float(repr(round(1 - value, 6)))
            self.report(node.value, self.message.format(value=node.value.value), fix=Replace(node.value, new))
