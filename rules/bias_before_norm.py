"""BNL101: a biased Conv/Linear layer feeding straight into BatchNorm or InstanceNorm."""

from __future__ import annotations

import libcst as cst

from bnlint.findings import Applicability, Severity
from bnlint.literals import boolean
from bnlint.rule import Case, Replace, Rule
from bnlint.structure import Args, LayerCall, ModelStructure

BIASED = frozenset({"conv", "conv_transpose", "linear"})
CANCELLING = frozenset({"batchnorm", "instancenorm"})


def _bias_is_on(layer: LayerCall) -> bool:
    """True when the code shows the bias is on: `bias=True` or no `bias` (the default)."""
    value = layer.args.get("bias")
    if value is Args.UNKNOWN:
        return False  # **kwargs may pass bias=False
    return value is None or boolean(value) is True


def _without_bias(layer: LayerCall) -> Replace:
    """The edit that sets `bias=False`: replace the value passed for `bias` (by keyword or by
    position), or add the argument in the call's own layout."""
    call = layer.node
    existing = layer.args.arg("bias")
    if existing is not None:
        return Replace(existing.value, cst.Name("False"))
    tight = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))
    new = cst.Arg(keyword=cst.Name("bias"), value=cst.Name("False"), equal=tight)
    if not call.args:
        return Replace(call, call.with_changes(args=[new]))
    args = list(call.args)
    last = args[-1]
    comma = last.comma
    if isinstance(comma, cst.Comma) and isinstance(comma.whitespace_after, cst.ParenthesizedWhitespace):
        # One argument per line, trailing comma: a new line at the arguments' indentation; the
        # last argument keeps its comma and any comment after it.
        layout = comma.whitespace_after
        indent = _argument_indent(call) or layout.last_line
        args[-1] = last.with_changes(comma=comma.with_changes(whitespace_after=layout.with_changes(last_line=indent)))
        closing = cst.ParenthesizedWhitespace(indent=layout.indent, last_line=layout.last_line)
        new = new.with_changes(comma=cst.Comma(whitespace_after=closing))
    elif isinstance(comma, cst.Comma):
        args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        new = new.with_changes(comma=comma)
    else:
        # Whatever whitespace closed the call (a line break before `)`) now follows the new argument.
        args[-1] = last.with_changes(whitespace_after_arg=cst.SimpleWhitespace(""))
        new = new.with_changes(whitespace_after_arg=last.whitespace_after_arg)
    return Replace(call, call.with_changes(args=[*args, new]))


def _argument_indent(call: cst.Call) -> cst.SimpleWhitespace | None:
    """The indentation of the call's arguments when they sit on lines of their own."""
    candidates = [arg.comma.whitespace_after for arg in call.args[:-1] if isinstance(arg.comma, cst.Comma)]
    candidates.append(call.whitespace_before_args)
    for whitespace in reversed(candidates):
        if isinstance(whitespace, cst.ParenthesizedWhitespace):
            return whitespace.last_line
    return None


class BiasBeforeNorm(Rule):
    """## What it does
    Checks for a `Conv*`, `ConvTranspose*` or `Linear` layer with a bias (`bias=True`, or no
    `bias` argument: the default) whose output goes straight into `BatchNorm*`, `SyncBatchNorm`
    or `InstanceNorm*`, through `nn.Sequential` or the `forward` code.

    ## Why is this bad?
    The normalization subtracts the per-channel mean of its input, so a per-channel constant
    added just before it cancels out: the bias parameters get gradients of zero on average,
    are never useful, and cost memory and optimizer state. The normalization's own `beta`
    already provides the shift.

    ## Example
    ```python
    block = nn.Sequential(nn.Conv2d(3, 64, 3), nn.BatchNorm2d(64), nn.ReLU())
    ```

    ## Use instead
    ```python
    block = nn.Sequential(nn.Conv2d(3, 64, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU())
    ```

    ## Fix safety
    The fix sets `bias=False`. It keeps what the model computes (the bias was cancelled), but
    it removes the `bias` entry from the layer's `state_dict`: a checkpoint saved before the fix
    no longer loads with `strict=True`.

    ## Known problems
    A layer whose output also goes elsewhere (a residual path, a second head), reaches the
    normalization only in some branches of an `if`, or is built from a configuration is not
    reported: there the bias may matter.

    ## References
    - [Ioffe & Szegedy, Batch Normalization (2015), section 3.2](https://arxiv.org/abs/1502.03167)
    - [PyTorch performance tuning guide: disable bias for convolutions directly followed by a batch norm](https://pytorch.org/tutorials/recipes/recipes/tuning_guide.html)
    """

    code = "BNL101"
    name = "bias-before-norm"
    severity = Severity.WARNING
    fix = Applicability.SAFE
    fix_title = "Set `bias=False`"
    message = "{layer} has bias=True but is followed by {norm}; the bias is cancelled by the normalization"
    triggers = ("Norm", "batch_norm", "instance_norm")
    must_fire = [
        Case(
            "block = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))\n",
            line=1,
            fixed="block = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8))\n",
        ),
        Case(
            "head = nn.Sequential(nn.Linear(128, 64, bias=True), nn.BatchNorm1d(64))\n",
            fixed="head = nn.Sequential(nn.Linear(128, 64, bias=False), nn.BatchNorm1d(64))\n",
        ),
        # `bias` passed by position: its value is replaced, not passed a second time by keyword.
        Case(
            "block = nn.Sequential(nn.Conv2d(3, 8, 3, 1, 0, 1, 1, True), nn.BatchNorm2d(8))\n",
            fixed="block = nn.Sequential(nn.Conv2d(3, 8, 3, 1, 0, 1, 1, False), nn.BatchNorm2d(8))\n",
        ),
        # A call without arguments (it fails at run time, but the fix must not crash the linter).
        Case(
            "head = nn.Sequential(nn.LazyLinear(), nn.BatchNorm1d(64))\n",
            fixed="head = nn.Sequential(nn.LazyLinear(bias=False), nn.BatchNorm1d(64))\n",
        ),
        Case(
            """
            class Block(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.conv = nn.Conv2d(64, 64, 3, padding=1)
                    self.bn = nn.BatchNorm2d(64)

                def forward(self, x):
                    return F.relu(self.bn(self.conv(x)))
            """,
            line=4,
        ),
        Case(
            """
            class Up(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.up = nn.ConvTranspose2d(64, 32, 2, stride=2)
                    self.norm = nn.InstanceNorm2d(32)

                def forward(self, x):
                    x = self.up(x)
                    x = self.norm(x)
                    return x
            """,
            line=4,
        ),
        Case("import torch\nfrom torch.nn import Conv3d as C, SyncBatchNorm\nstem = torch.nn.Sequential(C(1, 4, 3), SyncBatchNorm(4))\n"),
    ]
    must_not_fire = [
        Case("block = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8))\n"),
        # An activation in between: the bias shifts what the ReLU clips.
        Case("block = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.BatchNorm2d(8))\n"),
        # GroupNorm and LayerNorm subtract a mean over several channels: the bias is not cancelled.
        Case("block = nn.Sequential(nn.Conv2d(3, 8, 3), nn.GroupNorm(2, 8))\n"),
        Case("head = nn.Sequential(nn.Linear(16, 16), nn.LayerNorm(16))\n"),
        # The code does not show the bias's value.
        Case("def block(use_bias):\n    return nn.Sequential(nn.Conv2d(3, 8, 3, bias=use_bias), nn.BatchNorm2d(8))\n"),
        # The normalization layer comes from a parameter: its type is unknown.
        Case("def block(norm_layer):\n    return nn.Sequential(nn.Conv2d(3, 8, 3), norm_layer(8))\n"),
        Case(
            """
            class Block(nn.Module):
                def __init__(self, use_bn):
                    super().__init__()
                    self.conv = nn.Conv2d(8, 8, 3)
                    self.bn = nn.BatchNorm2d(8)
                    self.use_bn = use_bn

                def forward(self, x):
                    y = self.conv(x)
                    # Normalized in one configuration only: the bias matters in the other.
                    if self.use_bn:
                        y = self.bn(y)
                    return y
            """
        ),
        Case(
            """
            class Block(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.conv = nn.Conv2d(8, 8, 3, padding=1)
                    self.bn = nn.BatchNorm2d(8)

                def forward(self, x):
                    y = self.conv(x)
                    # The convolution's output is used twice: once unnormalized.
                    return self.bn(y) + y
            """
        ),
    ]

    def visit_Module(self, node: cst.Module) -> None:
        structure = self.get(ModelStructure)
        for layer in structure.layers:
            if layer.kind not in BIASED or not _bias_is_on(layer):
                continue
            consumers = structure.always_feeds(layer)
            if not consumers or not all(consumer.producer.kind in CANCELLING for consumer in consumers):
                continue  # some output goes elsewhere, somewhere unknown, or in some branches only
            norm = consumers[0].producer.short_name
            message = self.message.format(layer=layer.short_name, norm=norm)
            self.report(layer.node, message, fix=_without_bias(layer))
