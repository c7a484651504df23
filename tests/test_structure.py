"""The model-structure analysis on its own: what it sees, and where it says "unknown".

Rules build on `ModelStructure`; these tests pin its answers independently of any rule, with
the flows written as `producer -> consumer` between the layers' source texts (or op names).
"""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from bnlint.context import FileContext
from bnlint.structure import Args, LayerCall, ModelStructure, Site

IMPORTS = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nfrom collections import OrderedDict\n"


def _analyse(source: str, imports: str = IMPORTS) -> tuple[FileContext, ModelStructure]:
    context = FileContext(cst.parse_module(imports + textwrap.dedent(source)), path="model.py")
    return context, context.get(ModelStructure)


def _label(context: FileContext, site: Site | None) -> str:
    if site is None:
        return "?"
    step = site.producer
    return context.module.code_for_node(step.node) if isinstance(step, LayerCall) else step.name


def flows(source: str, imports: str = IMPORTS) -> set[str]:
    """Every certain, unconditional flow `a -> b`, plus `a -> ?` for an output with an unknown consumer."""
    context, structure = _analyse(source, imports)
    found = set()
    for step in [*structure.layers, *structure.ops]:
        for site in structure.sites(step):
            for consumer, conditional in site.consumers:
                arrow = " ~> " if conditional else " -> "
                found.add(_label(context, site) + arrow + _label(context, consumer))
    return found


@pytest.mark.parametrize(
    ("imports", "conv"),
    [
        ("import torch.nn as tnn\n", "tnn.Conv2d(3, 8, 3)"),
        ("from torch import nn\n", "nn.Conv2d(3, 8, 3)"),
        ("from torch.nn import Conv2d as C\n", "C(3, 8, 3)"),
        ("import torch\n", "torch.nn.Conv2d(3, 8, 3)"),
        ("import torch.nn.modules.conv\n", "torch.nn.modules.conv.Conv2d(3, 8, 3)"),
        ("from torch.nn.modules.conv import Conv2d\n", "Conv2d(3, 8, 3)"),
    ],
)
def test_layers_are_known_by_qualified_name(imports: str, conv: str) -> None:
    _, structure = _analyse(f"layer = {conv}\n", imports)
    assert [layer.qualified_name for layer in structure.layers] == ["torch.nn.Conv2d"]


def test_a_local_class_named_like_a_layer_is_not_the_layer() -> None:
    _, structure = _analyse("class Conv2d:\n    pass\nlayer = Conv2d(3, 8, 3)\n", "from torch.nn import *\n")
    assert structure.layers == []


def test_arguments_are_bound_to_parameter_names() -> None:
    _, structure = _analyse("bn = nn.BatchNorm2d(64, 1e-3, 0.01, affine=False)\nc = nn.Conv2d(3, 8, 3, **extra)\n")
    bn, conv = structure.layers
    assert cst.Module([]).code_for_node(bn.args.get("momentum")) == "0.01"
    assert bn.args.get("track_running_stats") is None
    assert conv.args.get("bias") is Args.UNKNOWN


def test_sequential_positional_nested_and_ordered_dict() -> None:
    assert flows(
        """
        inner = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
        outer = nn.Sequential(nn.Sequential(nn.Linear(4, 4), nn.ReLU()), nn.Dropout(0.1))
        named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("bn", nn.BatchNorm1d(2))]))
        """
    ) == {
        "nn.Conv2d(3, 8, 3) -> nn.BatchNorm2d(8)",
        "nn.Linear(4, 4) -> nn.ReLU()",
        "nn.ReLU() -> nn.Dropout(0.1)",
        "nn.Linear(2, 2) -> nn.BatchNorm1d(2)",
    }


def test_sequential_from_a_list_built_in_the_same_function() -> None:
    assert flows(
        """
        def make(c):
            layers = [nn.Conv2d(3, c, 3)]
            layers.append(nn.BatchNorm2d(c))
            layers += [nn.ReLU()]
            layers.extend([nn.MaxPool2d(2)])
            return nn.Sequential(*layers)
        """
    ) == {
        "nn.Conv2d(3, c, 3) -> nn.BatchNorm2d(c)",
        "nn.BatchNorm2d(c) -> nn.ReLU()",
        "nn.ReLU() -> nn.MaxPool2d(2)",
    }


def test_list_items_in_a_loop_keep_their_order_only_within_one_statement() -> None:
    assert flows(
        """
        def make(widths):
            layers = []
            for c_in, c_out in widths:
                layers += [nn.Conv2d(c_in, c_out, 3), nn.BatchNorm2d(c_out)]
                layers.append(nn.ReLU())
            return nn.Sequential(*layers)
        """
    ) == {"nn.Conv2d(c_in, c_out, 3) -> nn.BatchNorm2d(c_out)", "nn.BatchNorm2d(c_out) -> nn.ReLU()"}


def test_a_list_that_is_not_unpacked_into_sequential_has_no_order() -> None:
    assert flows(
        """
        def make():
            layers = [nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8)]
            return nn.ModuleList(layers)
        """
    ) == set()


def test_helpers_setattr_add_module_and_forward_flow() -> None:
    assert flows(
        """
        def conv_bn(c_in, c_out):
            return nn.Sequential(nn.Conv2d(c_in, c_out, 3), nn.BatchNorm2d(c_out))

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.stem = conv_bn(3, 16)
                setattr(self, "head", nn.Linear(16, 10))
                self.add_module("drop", nn.Dropout(0.2))

            def forward(self, x):
                x = self.stem(x)
                x = torch.flatten(F.relu(x), 1)
                return self.head(self.drop(x))
        """
    ) == {
        "nn.Conv2d(c_in, c_out, 3) -> nn.BatchNorm2d(c_out)",
        "nn.BatchNorm2d(c_out) -> torch.nn.functional.relu",
        "torch.nn.functional.relu -> torch.flatten",
        "torch.flatten -> nn.Dropout(0.2)",
        "nn.Dropout(0.2) -> nn.Linear(16, 10)",
        "nn.Linear(16, 10) -> ?",
    }


def test_sequential_subclass() -> None:
    assert flows(
        """
        class ConvBNReLU(nn.Sequential):
            def __init__(self, c_in, c_out):
                super().__init__(nn.Conv2d(c_in, c_out, 3), nn.BatchNorm2d(c_out), nn.ReLU())

        block = nn.Sequential(ConvBNReLU(3, 8), nn.Dropout(0.1))
        """
    ) == {
        "nn.Conv2d(c_in, c_out, 3) -> nn.BatchNorm2d(c_out)",
        "nn.BatchNorm2d(c_out) -> nn.ReLU()",
        "nn.ReLU() -> nn.Dropout(0.1)",
    }


def test_what_breaks_adjacency() -> None:
    found = flows(
        """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Conv2d(8, 8, 3)
                self.b = nn.Conv2d(8, 8, 3, padding=1)
                self.bn = nn.BatchNorm2d(8)
                self.flag = True

            def forward(self, x):
                y = self.a(x)
                z = torch.cat([y, x], dim=1)
                w = self.b(x) + x
                if self.flag:
                    w = self.bn(w)
                return z, w
        """
    )
    assert found == {
        "nn.Conv2d(8, 8, 3) -> torch.cat",
        "torch.cat -> ?",
        "nn.Conv2d(8, 8, 3, padding=1) -> Add",
        # After the `if`, `w` is the sum or its normalization: each reaches the return conditionally.
        "Add ~> nn.BatchNorm2d(8)",
        "nn.BatchNorm2d(8) ~> ?",
        "Add ~> ?",
    }


@pytest.mark.parametrize(
    "source",
    [
        # Built from a configuration.
        "class N(nn.Module):\n    def __init__(self, cfg):\n        super().__init__()\n        self.norm = getattr(nn, cfg.norm)(8)\n",
        # Another object's attribute.
        "class N(nn.Module):\n    def __init__(self, other):\n        super().__init__()\n        self.conv = other.conv\n        self.bn = nn.BatchNorm2d(8)\n    def forward(self, x):\n        return self.bn(self.conv(x))\n",
        # Assigned twice.
        "class N(nn.Module):\n    def __init__(self, big):\n        super().__init__()\n        self.conv = nn.Conv2d(3, 8, 3)\n        if big:\n            self.conv = nn.Conv2d(3, 8, 5)\n        self.bn = nn.BatchNorm2d(8)\n    def forward(self, x):\n        return self.bn(self.conv(x))\n",
        # A different variable reaches the normalization.
        "class N(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.conv = nn.Conv2d(3, 8, 3)\n        self.bn = nn.BatchNorm2d(8)\n    def forward(self, x):\n        y = self.conv(x)\n        return self.bn(x), y\n",
    ],
)
def test_unknown_flows_give_no_certain_edge_into_the_norm(source: str) -> None:
    assert not any(arrow.endswith("-> nn.BatchNorm2d(8)") for arrow in flows(source))


def test_a_module_used_as_a_value_has_an_unknown_output() -> None:
    found = flows(
        """
        class N(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)
                self.parts = [self.conv]

            def forward(self, x):
                return self.bn(self.conv(x))
        """
    )
    assert "nn.Conv2d(3, 8, 3) -> nn.BatchNorm2d(8)" in found
    assert "nn.Conv2d(3, 8, 3) -> ?" in found


def test_files_without_torch_imports_have_no_layers() -> None:
    context = FileContext(cst.parse_module("import nn\nlayer = nn.Conv2d(3, 8, 3)\n"), path="m.py")
    assert context.get(ModelStructure).layers == []
