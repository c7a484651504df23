"""BNL103: Dropout whose output goes straight into BatchNorm (variance shift)."""

from __future__ import annotations

import libcst as cst

from bnlint.findings import Severity
from bnlint.literals import number
from bnlint.rule import Case, Rule
from bnlint.structure import LayerCall, ModelStructure


def _is_disabled(step: object) -> bool:
    """`nn.Dropout(0)` and `nn.Dropout(p=0.0)` do nothing."""
    if not isinstance(step, LayerCall):
        return False
    return number(step.args.known("p")) == 0


class DropoutBeforeBatchnorm(Rule):
    """## What it does
    Checks for a `Dropout` layer (or `F.dropout` call) whose output goes straight into a
    BatchNorm layer.

    ## Why is this bad?
    In training, dropout zeroes units and scales the others by `1 / (1 - p)`, which changes the
    variance of its output; in evaluation it is the identity. The BatchNorm right after it
    accumulates running statistics of the training-time variance and applies them at evaluation
    time to inputs with another variance ("variance shift", Li et al. 2019), so evaluation
    accuracy drops for no visible reason.

    ## Example
    ```python
    head = nn.Sequential(nn.Linear(512, 256), nn.ReLU(), nn.Dropout(0.5), nn.BatchNorm1d(256))
    ```

    ## Use instead
    ```python
    head = nn.Sequential(nn.Linear(512, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.5))
    ```

    ## References
    - [Li et al., Understanding the Disharmony between Dropout and Batch Normalization by Variance Shift (CVPR 2019)](https://arxiv.org/abs/1801.05134)
    """

    code = "BNL103"
    name = "dropout-before-batchnorm"
    severity = Severity.WARNING
    message = "{dropout} feeds straight into {norm}: its running statistics are collected with dropout's variance and are wrong at evaluation time"
    triggers = ("Norm", "batch_norm")
    must_fire = [
        Case("head = nn.Sequential(nn.Linear(512, 256), nn.Dropout(0.5), nn.BatchNorm1d(256))\n", line=1),
        Case(
            """
            class Head(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.drop = nn.Dropout2d(0.2)
                    self.bn = nn.BatchNorm2d(64)

                def forward(self, x):
                    return self.bn(self.drop(x))
            """,
            line=4,
        ),
        Case(
            """
            class Head(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.bn = nn.BatchNorm1d(64)

                def forward(self, x):
                    x = F.dropout(x, 0.5, self.training)
                    return self.bn(x)
            """,
            line=7,
        ),
    ]
    must_not_fire = [
        # Dropout after the normalization is the recommended order.
        Case("head = nn.Sequential(nn.Linear(512, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.5))\n"),
        # LayerNorm uses no running statistics.
        Case("block = nn.Sequential(nn.Dropout(0.1), nn.LayerNorm(256))\n"),
        # A Linear layer in between: the BatchNorm does not see the dropout output itself.
        Case("head = nn.Sequential(nn.Dropout(0.5), nn.Linear(256, 256), nn.BatchNorm1d(256))\n"),
        # p=0 disables dropout.
        Case("head = nn.Sequential(nn.Dropout(p=0.0), nn.BatchNorm1d(256))\n"),
    ]

    def visit_Module(self, node: cst.Module) -> None:
        structure = self.get(ModelStructure)
        for step in [*structure.layers, *structure.ops]:
            if step.kind != "dropout" or _is_disabled(step):
                continue
            consumers = structure.always_feeds(step)
            if not consumers or not all(consumer.producer.kind == "batchnorm" for consumer in consumers):
                continue
            message = self.message.format(dropout=step.short_name, norm=consumers[0].producer.short_name)
            self.report(step.node, message)
