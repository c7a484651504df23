"""Each BNR code on a small real model that fires, and a look-alike that must not."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from bnlint.findings import Severity
from bnlint.runtime import RULES, audit
from runtime_models import inputs, kaiming_, relu_mlp, tanh_mlp


def codes(report, layer: str | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    return [f.code for f in report.findings if layer is None or f.layer == layer]


def test_kaiming_relu_mlp_and_xavier_tanh_mlp_are_clean() -> None:
    torch.manual_seed(0)
    assert audit(relu_mlp(init="kaiming"), inputs(64, 64)).findings == []
    assert audit(tanh_mlp(init="xavier"), inputs(64, 64)).findings == []


def test_every_finding_carries_the_spec_name_and_severity() -> None:
    torch.manual_seed(0)
    report = audit(relu_mlp(bias=False), inputs(64, 64))
    for finding in report.findings:
        assert (finding.name, finding.severity) == RULES[finding.code] or finding.name == "variance-explosion"
    assert RULES["BNR001"][1] is Severity.ERROR and RULES["BNR002"][1] is Severity.WARNING


# BNR001 symmetric-weights -------------------------------------------------------------------------


@pytest.mark.parametrize("make_symmetric", ["constant", "rows"])
def test_bnr001_constant_or_duplicated_rows_fire_for_that_layer_only(make_symmetric: str) -> None:
    torch.manual_seed(0)
    model = relu_mlp(depth=3, init="kaiming")
    with torch.no_grad():
        if make_symmetric == "constant":
            model[2].weight.fill_(0.05)
        else:
            model[2].weight[1].copy_(model[2].weight[0])
    report = audit(model, inputs(32, 64))
    symmetric = [f for f in report.findings if f.code == "BNR001"]
    assert [f.layer for f in symmetric] == ["2"]
    assert symmetric[0].severity is Severity.ERROR
    assert codes(report, "2") == ["BNR001"]  # not also BNR002: the symmetry is the problem to report
    # (a constant layer 2 feeds layer 4 identical inputs, so half of layer 4's units may be dead: BNR004
    # there is a true consequence, not a second symmetry finding)


class ZeroInitResidual(nn.Module):
    """The last layer of a residual branch starts at zero (zero-init residual, LoRA, ControlNet)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(32, 32)
        self.fc2 = nn.Linear(32, 32)
        self.head = nn.Linear(32, 4)
        kaiming_(self)
        nn.init.zeros_(self.fc2.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(x + self.fc2(F.relu(self.fc1(x))))


def test_bnr001_does_not_fire_for_a_zero_init_residual_branch() -> None:
    report = audit(ZeroInitResidual(), inputs(16, 32))
    assert report.layer("fc2").verdict == "zero-init residual"
    assert report.findings == []  # fc1's all-zero gradient is explained by fc2's zero weight


# BNR002 init-scale-mismatch -----------------------------------------------------------------------


def test_bnr002_fires_on_pytorch_default_init_of_a_deep_relu_stack() -> None:
    torch.manual_seed(0)
    report = audit(relu_mlp(), inputs(64, 64))
    assert codes(report, "0") == ["BNR002"]
    assert report.layer("0").ratio == pytest.approx(0.41, abs=0.02)
    assert "Kaiming" in report.findings[0].message


def test_bnr002_does_not_fire_when_a_norm_follows() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 16, 3, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.Conv2d(16, 16, 3, bias=False),
                          nn.BatchNorm2d(16), nn.ReLU())
    report = audit(model, inputs(16, 3, 12, 12))
    assert [row.verdict for row in report.layers] == ["normalized", "normalized"]
    assert report.findings == []


# BNR003 variance-collapse / variance-explosion ---------------------------------------------------


def test_bnr003_fires_on_default_init_without_biases() -> None:
    torch.manual_seed(0)
    report = audit(relu_mlp(bias=False), inputs(64, 64))
    collapse = [f for f in report.findings if f.code == "BNR003"]
    assert [(f.name, f.layer) for f in collapse] == [("variance-collapse", "16")]


def test_bnr003_does_not_fire_on_default_init_with_biases() -> None:
    torch.manual_seed(0)
    assert "BNR003" not in codes(audit(relu_mlp(bias=True), inputs(64, 64)))


def test_bnr003_fires_when_one_layer_explodes_the_variance() -> None:
    torch.manual_seed(0)
    model = relu_mlp(depth=3, init="kaiming")
    with torch.no_grad():
        model[2].weight.mul_(20)
    report = audit(model, inputs(64, 64))
    explosion = [f for f in report.findings if f.code == "BNR003"]
    assert [(f.name, f.layer) for f in explosion] == [("variance-explosion", "2")]


# BNR004 dead-units --------------------------------------------------------------------------------


def dead_relu_model() -> nn.Sequential:
    torch.manual_seed(0)
    model = kaiming_(nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 4)))
    with torch.no_grad():
        model[2].bias.fill_(-100.0)  # every pre-activation of layer 2 is negative
    return model


def test_bnr004_fires_when_most_relu_units_are_dead() -> None:
    report = audit(dead_relu_model(), inputs(32, 16))
    assert "BNR004" in codes(report, "2")
    assert report.layer("2").dead_fraction == 1.0


def test_bnr004_does_not_fire_for_leaky_relu_or_a_healthy_layer() -> None:
    torch.manual_seed(0)
    leaky = kaiming_(nn.Sequential(nn.Linear(16, 32), nn.LeakyReLU(0.01), nn.Linear(32, 4)))
    with torch.no_grad():
        leaky[0].bias.fill_(-100.0)  # negative but not zero: leaky units still pass a gradient
    assert "BNR004" not in codes(audit(leaky, inputs(32, 16)))
    assert "BNR004" not in codes(audit(relu_mlp(depth=3, init="kaiming"), inputs(32, 64)))


# BNR005 saturated-units ---------------------------------------------------------------------------


def test_bnr005_fires_on_saturated_tanh_and_not_on_xavier_tanh() -> None:
    torch.manual_seed(0)
    model = tanh_mlp(depth=2)
    with torch.no_grad():
        model[0].weight.mul_(5)
    assert "BNR005" in codes(audit(model, inputs(64, 64)), "0")
    assert "BNR005" not in codes(audit(tanh_mlp(depth=2), inputs(64, 64)))


def test_bnr005_fires_on_saturated_sigmoid() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.Sigmoid(), nn.Linear(64, 1))
    nn.init.normal_(model[0].weight, std=1.0)
    assert "BNR005" in codes(audit(model, inputs(64, 64)), "0")


# BNR006 no-gradient -------------------------------------------------------------------------------


class DetachedBranch(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(16, 16)
        self.fc2 = nn.Linear(16, 4)
        kaiming_(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.relu(self.fc1(x)).detach())


class DataWeight(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(16, 16) * 0.25)
        self.out = nn.Linear(16, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(F.relu(x @ self.weight.data))


def test_bnr006_fires_for_a_detached_branch() -> None:
    report = audit(DetachedBranch(), inputs(8, 16))
    assert [(f.code, f.layer) for f in report.findings] == [("BNR006", "fc1.weight"), ("BNR006", "fc1.bias")]


def test_bnr006_fires_for_a_weight_used_through_data() -> None:
    report = audit(DataWeight(), inputs(8, 16))
    assert ("BNR006", "weight") in [(f.code, f.layer) for f in report.findings]


def test_bnr006_fires_for_a_dead_relu_layer() -> None:
    report = audit(dead_relu_model(), inputs(32, 16))
    no_gradient = [f.layer for f in report.findings if f.code == "BNR006"]
    assert "2.weight" in no_gradient and "0.weight" in no_gradient  # nothing flows back through layer 2


def test_bnr006_does_not_fire_for_frozen_parameters() -> None:
    model = DetachedBranch()
    model.fc1.requires_grad_(False)
    assert audit(model, inputs(8, 16)).findings == []


class ZeroGammaBlock(nn.Module):
    """A residual block whose last BatchNorm starts with gamma 0 (torchvision's zero_init_residual)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        kaiming_(self)
        nn.init.zeros_(self.bn2.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        out += x
        return F.relu(out)


def test_bnr006_does_not_fire_upstream_of_a_zero_init_norm_gamma() -> None:
    report = audit(ZeroGammaBlock(), inputs(16, 8, 6, 6))
    assert report.findings == []


def test_bnr006_backward_of_a_softmax_output_is_not_all_zero() -> None:
    torch.manual_seed(0)
    model = kaiming_(nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 4), nn.Softmax(dim=-1)))
    assert "BNR006" not in codes(audit(model, inputs(8, 16)))  # output.sum() would give zero gradients


# BNR007 non-finite --------------------------------------------------------------------------------


def test_bnr007_fires_for_a_nan_weight_and_a_nan_activation() -> None:
    torch.manual_seed(0)
    model = relu_mlp(depth=2, init="kaiming")
    with torch.no_grad():
        model[2].weight[0, 0] = float("nan")
    report = audit(model, inputs(8, 64))
    bnr007 = [(f.code, f.layer) for f in report.findings if f.code == "BNR007"]
    assert ("BNR007", "2.weight") in bnr007
    assert ("BNR007", "2") in bnr007  # its output
    assert "BNR007" not in codes(audit(relu_mlp(depth=2, init="kaiming"), inputs(8, 64)))


# BNR008 small-batch-norm --------------------------------------------------------------------------


def bn_net() -> nn.Sequential:
    torch.manual_seed(0)
    return kaiming_(nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(),
                                  nn.Linear(8 * 6 * 6, 4)))


def test_bnr008_fires_on_a_batch_of_four() -> None:
    report = audit(bn_net(), inputs(4, 3, 8, 8))
    assert [(f.code, f.layer) for f in report.findings] == [("BNR008", "1")]


def test_bnr008_does_not_fire_on_a_batch_of_sixteen_in_eval_mode_or_for_groupnorm() -> None:
    assert audit(bn_net(), inputs(16, 3, 8, 8)).findings == []
    assert audit(bn_net().eval(), inputs(4, 3, 8, 8)).findings == []
    group = bn_net()
    group[1] = nn.GroupNorm(2, 8)
    assert audit(group, inputs(4, 3, 8, 8)).findings == []


# BNR009 bias-before-norm --------------------------------------------------------------------------


def conv_block(bias: bool, between: nn.Module | None, norm: nn.Module) -> nn.Sequential:
    torch.manual_seed(0)
    layers = [nn.Conv2d(3, 8, 3, bias=bias)] + ([between] if between else []) + [norm, nn.ReLU()]
    return kaiming_(nn.Sequential(*layers))


def test_bnr009_fires_for_a_biased_conv_straight_into_batchnorm() -> None:
    report = audit(conv_block(True, None, nn.BatchNorm2d(8)), inputs(16, 3, 8, 8))
    assert [(f.code, f.layer) for f in report.findings] == [("BNR009", "0")]


@pytest.mark.parametrize(
    ("bias", "between", "norm"),
    [(False, None, nn.BatchNorm2d(8)), (True, nn.ReLU(), nn.BatchNorm2d(8)), (True, None, nn.GroupNorm(2, 8))],
    ids=["no-bias", "through-relu", "groupnorm"],
)
def test_bnr009_does_not_fire(bias: bool, between: nn.Module | None, norm: nn.Module) -> None:
    assert "BNR009" not in codes(audit(conv_block(bias, between, norm), inputs(16, 3, 8, 8)))


def test_bnr009_fires_for_instance_norm() -> None:
    report = audit(conv_block(True, None, nn.InstanceNorm2d(8)), inputs(16, 3, 8, 8))
    assert codes(report) == ["BNR009"]


# thresholds ----------------------------------------------------------------------------------------


def test_thresholds_are_overridable_by_keyword() -> None:
    torch.manual_seed(0)
    model = relu_mlp(depth=3, bias=True)
    assert "BNR002" in codes(audit(model, inputs(64, 64)))
    assert "BNR002" not in codes(audit(model, inputs(64, 64), scale_low=0.3))
    assert codes(audit(bn_net(), inputs(4, 3, 8, 8), min_batch_norm_samples=4)) == []


def test_unknown_threshold_is_a_type_error_that_lists_the_valid_ones() -> None:
    with pytest.raises(TypeError, match=r"unknown threshold 'scale_lo'; valid thresholds: scale_low, scale_high"):
        audit(relu_mlp(depth=1), inputs(2, 64), scale_lo=0.3)


def test_bad_threshold_value_names_the_argument_and_the_range() -> None:
    with pytest.raises(ValueError, match=r"threshold scale_high must be greater than 1, got 0.5"):
        audit(relu_mlp(depth=1), inputs(2, 64), scale_high=0.5)


class ReshapedIntoNorm(nn.Module):
    """The channel axis survives `flatten(2)` ((N, C, H, W) -> (N, C, HW)) and `permute`."""

    def __init__(self, how: str) -> None:
        super().__init__()
        self.how = how
        self.conv = nn.Conv2d(3, 8, 3)
        self.fc = nn.Linear(8, 8)
        self.bn = nn.BatchNorm1d(8)
        self.bn_flat = nn.BatchNorm1d(8 * 6 * 6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.how == "flatten-spatial":
            return torch.relu(self.bn(self.conv(x).flatten(2)))
        if self.how == "permute":
            return torch.relu(self.bn(self.fc(self.conv(x).flatten(2).permute(0, 2, 1)).permute(0, 2, 1)))
        # known miss: each of the C*H*W features has one channel's bias, so BatchNorm cancels it here
        # too, but the pass only follows a channel axis that survives whole, and stays silent
        return torch.relu(self.bn_flat(self.conv(x).flatten(1)))


@pytest.mark.parametrize(("how", "fires"), [("flatten-spatial", ["conv"]), ("permute", ["fc"]), ("flatten-all", [])])
def test_bnr009_follows_the_channel_axis(how: str, fires: list[str]) -> None:
    report = audit(ReshapedIntoNorm(how), inputs(16, 3, 8, 8))
    assert [f.layer for f in report.findings if f.code == "BNR009"] == fires
