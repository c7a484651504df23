"""BNL104: a BatchNorm momentum written with the Keras convention (momentum >= 0.5)."""

from __future__ import annotations

from decimal import Decimal

import libcst as cst

from bnlint.findings import Applicability, Severity
from bnlint.literals import number
from bnlint.rule import Case, Replace, Rule
from bnlint.structure import Args
from bnlint.torchnames import layer_spec

BATCH_NORM_FUNCTION = "torch.nn.functional.batch_norm"
BATCH_NORM_PARAMS = ("input", "running_mean", "running_var", "weight", "bias", "training", "momentum", "eps")
THRESHOLD = Decimal("0.5")


def _complement(value: Decimal) -> str:
    """`1 - value` as a literal: 0.99 gives "0.01", not "0.010000000000000009"."""
    return format(Decimal(1) - value, "f")


class BnMomentumConvention(Rule):
    """## What it does
    Checks for a BatchNorm layer (or `F.batch_norm` call) whose `momentum` is a literal of 0.5 or
    more.

    ## Why is this bad?
    PyTorch's `momentum` is the weight of the *new* batch statistic in the running average
    (`running = (1 - momentum) * running + momentum * batch`, default 0.1). Keras and
    TensorFlow use the opposite convention (`momentum=0.99` keeps 99% of the old value). Ported
    as is, `momentum=0.99` makes PyTorch's running statistics follow the last batch almost
    entirely, so evaluation normalizes with the statistics of one batch.

    ## Example
    ```python
    bn = nn.BatchNorm2d(64, momentum=0.99)
    ```

    ## Use instead
    ```python
    bn = nn.BatchNorm2d(64, momentum=0.01)
    ```

    ## Fix safety
    The fix replaces the momentum by `1 - momentum`, written as a literal. It is unsafe: it
    changes how the running statistics are averaged, which is the point, but it should be what
    the author meant, and only the author knows.

    ## References
    - [`torch.nn.BatchNorm2d` (note on momentum)](https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm2d.html)
    - [Keras `BatchNormalization`](https://keras.io/api/layers/normalization_layers/batch_normalization/)
    """

    code = "BNL104"
    name = "bn-momentum-convention"
    severity = Severity.WARNING
    fix = Applicability.UNSAFE
    fix_title = "Use `1 - momentum`"
    message = "{layer} momentum={value} follows the Keras convention; PyTorch weighs the new batch with momentum (default 0.1): use momentum={fixed}"
    triggers = ("Norm", "batch_norm")
    must_fire = [
        Case("bn = nn.BatchNorm2d(64, momentum=0.99)\n", line=1, fixed="bn = nn.BatchNorm2d(64, momentum=0.01)\n"),
        Case("bn = nn.BatchNorm1d(64, 1e-3, 0.9)\n", fixed="bn = nn.BatchNorm1d(64, 1e-3, 0.1)\n"),
        Case("from torch.nn import SyncBatchNorm\nbn = SyncBatchNorm(64, momentum=0.997)\n", fixed="from torch.nn import SyncBatchNorm\nbn = SyncBatchNorm(64, momentum=0.003)\n"),
        Case("y = F.batch_norm(x, mean, var, training=True, momentum=0.9)\n"),
    ]
    must_not_fire = [
        Case("bn = nn.BatchNorm2d(64, momentum=0.1)\n"),
        # None means a cumulative moving average: no convention involved.
        Case("bn = nn.BatchNorm2d(64, momentum=None)\n"),
        # Already converted, as an expression.
        Case("bn = nn.BatchNorm2d(64, momentum=1 - 0.99)\n"),
        Case("def block(m):\n    return nn.BatchNorm2d(64, momentum=m)\n"),
        # An optimizer's momentum is another thing.
        Case("opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)\n"),
        # LazyBatchNorm's second positional argument is momentum, its first eps.
        Case("bn = nn.LazyBatchNorm2d(0.9)\n"),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.context.qualified_name(node.func)
        spec = layer_spec(qualified)
        if spec is not None and spec.kind == "batchnorm":
            args = Args(node, spec.params)
            label = qualified.rsplit(".", 1)[-1]  # type: ignore[union-attr]
        elif qualified == BATCH_NORM_FUNCTION:
            args = Args(node, BATCH_NORM_PARAMS)
            label = "F.batch_norm"
        else:
            return
        momentum = args.known("momentum")
        value = number(momentum)
        if momentum is None or value is None or value < THRESHOLD:
            return
        fixed = _complement(value)
        message = self.message.format(layer=label, value=format(value, "f"), fixed=fixed)
        fix = Replace(momentum, cst.Float(fixed) if "." in fixed else cst.Integer(fixed)) if value != THRESHOLD else None  # type: ignore[arg-type]
        self.report(node, message, fix=fix)
