"""BNL102: a normalization layer sized or shaped for another input than the layer before it produces."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from bnlint.findings import Severity
from bnlint.literals import integer, same_code
from bnlint.rule import Case, Rule
from bnlint.structure import LayerCall, ModelStructure, Site

# Steps that keep the channel count and the number of dimensions.
SHAPE_PRESERVING = frozenset({"activation", "dropout", "pool", "identity"})
PRODUCED = {"conv": "out_channels", "conv_transpose": "out_channels", "linear": "out_features", "bilinear": "out_features"}
# Which argument of a normalization layer counts the features it normalizes, after which producers.
EXPECTED = {
    "batchnorm": ("num_features", frozenset(PRODUCED)),
    "instancenorm": ("num_features", frozenset(PRODUCED)),
    "groupnorm": ("num_channels", frozenset(PRODUCED)),
    # LayerNorm and RMSNorm normalize the last dimension: the features only after a Linear.
    "layernorm": ("normalized_shape", frozenset({"linear", "bilinear"})),
    "rmsnorm": ("normalized_shape", frozenset({"linear", "bilinear"})),
}
DIMENSIONED = frozenset({"batchnorm", "instancenorm"})


def _reached_norms(site: Site) -> Iterator[Site]:
    """Normalization runs that always receive this output, through shape-preserving steps only."""
    stack = [site]
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        for consumer, conditional in current.consumers:
            if consumer is None or conditional:
                continue
            if consumer.producer.kind in EXPECTED:
                yield consumer
            elif consumer.producer.kind in SHAPE_PRESERVING:
                stack.append(consumer)


def mismatch(layer: LayerCall, norm: LayerCall) -> str | None:
    """Why `norm` cannot normalize what `layer` produces, or None when the code shows no conflict."""
    if norm.kind in DIMENSIONED and norm.spec.dims is not None:
        if layer.kind in ("conv", "conv_transpose") and layer.spec.dims != norm.spec.dims:
            return (
                f"{norm.short_name} follows {layer.short_name}, whose output has {layer.spec.dims + 2} dimensions; "
                f"{norm.short_name} expects {norm.spec.dims + 2}"
            )
        if layer.kind in ("linear", "bilinear") and norm.spec.dims > 1:
            return f"{norm.short_name} follows {layer.short_name}, whose output has 2 dimensions; {norm.short_name} expects {norm.spec.dims + 2}"
    argument, producers = EXPECTED[norm.kind]
    if layer.kind not in producers:
        return None
    produced = layer.args.known(PRODUCED[layer.kind])
    expected = norm.args.known(argument)
    if produced is None or expected is None or same_code(produced, expected):
        return None
    produced_value, expected_value = integer(produced), integer(expected)
    if produced_value is None or expected_value is None or produced_value == expected_value:
        return None  # only literals are compared: two different names may hold the same number
    return f"{norm.short_name} expects {expected_value} features but {layer.short_name} produces {produced_value}"


class NormFeaturesMismatch(Rule):
    """## What it does
    Checks for a normalization layer that expects another number of features than the layer
    before it produces (`nn.Conv2d(3, 64, 3)` then `nn.BatchNorm2d(32)`), or another number of
    dimensions (`nn.Conv2d` then `nn.BatchNorm1d`, `nn.Linear` then `nn.BatchNorm2d`). Only
    literal numbers are compared, through activations, dropout and pooling, which keep the shape.

    ## Why is this bad?
    BatchNorm, GroupNorm and affine InstanceNorm raise a shape error at the first forward pass,
    which for a model built inside a training script may be after minutes of data loading. A
    non-affine InstanceNorm only warns and normalizes what it is given, hiding the mistake.

    ## Example
    ```python
    features = nn.Sequential(nn.Conv2d(3, 64, 3), nn.BatchNorm2d(32), nn.ReLU())
    ```

    ## Use instead
    ```python
    features = nn.Sequential(nn.Conv2d(3, 64, 3), nn.BatchNorm2d(64), nn.ReLU())
    ```

    ## Known problems
    Arguments that are names or expressions are compared only for being spelled the same; two
    different names are assumed to possibly hold the same value, so nothing is reported.

    ## References
    - [`torch.nn.BatchNorm2d`](https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm2d.html)
    - [`torch.nn.GroupNorm`](https://pytorch.org/docs/stable/generated/torch.nn.GroupNorm.html)
    """

    code = "BNL102"
    name = "norm-features-mismatch"
    severity = Severity.ERROR
    message = "{reason}"
    triggers = ("Norm",)
    must_fire = [
        Case("features = nn.Sequential(nn.Conv2d(3, 64, 3), nn.BatchNorm2d(32))\n", line=1),
        Case("features = nn.Sequential(nn.Conv2d(3, 64, 3), nn.ReLU(), nn.BatchNorm1d(64))\n"),
        Case("head = nn.Sequential(nn.Linear(512, 256), nn.BatchNorm2d(256))\n"),
        Case("head = nn.Sequential(nn.Linear(512, 256), nn.LayerNorm(128))\n"),
        Case(
            """
            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.conv = nn.Conv2d(3, 16, 3)
                    self.norm = nn.GroupNorm(4, 32)

                def forward(self, x):
                    x = self.conv(x)
                    x = F.max_pool2d(F.relu(x), 2)
                    return self.norm(x)
            """,
            line=5,
        ),
    ]
    must_not_fire = [
        Case("features = nn.Sequential(nn.Conv2d(3, 64, 3), nn.BatchNorm2d(64))\n"),
        # Flatten changes the shape: BatchNorm1d then sees the flattened features.
        Case("head = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.BatchNorm1d(8 * 30 * 30))\n"),
        Case("head = nn.Sequential(nn.Linear(64, 8 * 4 * 4), nn.Unflatten(1, (8, 4, 4)), nn.BatchNorm2d(8))\n"),
        # The same name on both sides, or names the code does not resolve.
        Case("def block(c):\n    return nn.Sequential(nn.Conv2d(3, c, 3), nn.BatchNorm2d(c))\n"),
        Case("def block(c_out, c):\n    return nn.Sequential(nn.Conv2d(3, c_out, 3), nn.BatchNorm2d(c))\n"),
        # GroupNorm's first argument counts groups, not channels.
        Case("block = nn.Sequential(nn.Conv2d(3, 64, 3), nn.GroupNorm(32, 64))\n"),
        # LayerNorm after a convolution normalizes the last spatial dimension: not comparable.
        Case("block = nn.Sequential(nn.Conv1d(3, 64, 3), nn.LayerNorm(100))\n"),
        Case(
            """
            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.conv = nn.Conv2d(3, 16, 3)
                    self.bn = nn.BatchNorm1d(16 * 30 * 30)

                def forward(self, x):
                    # view() reshapes: the BatchNorm1d sees a flat vector.
                    return self.bn(self.conv(x).view(x.size(0), -1))
            """
        ),
    ]

    def visit_Module(self, node: cst.Module) -> None:
        structure = self.get(ModelStructure)
        reported: set[int] = set()
        for layer in structure.layers:
            if layer.kind not in PRODUCED:
                continue
            for site in structure.sites(layer):
                for norm_site in _reached_norms(site):
                    norm = norm_site.producer
                    if not isinstance(norm, LayerCall) or id(norm) in reported:
                        continue
                    reason = mismatch(layer, norm)
                    if reason is not None:
                        reported.add(id(norm))
                        self.report(norm.node, self.message.format(reason=reason))
