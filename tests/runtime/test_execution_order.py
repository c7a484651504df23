"""The activation and normalization after each layer come from the pass, not from the declarations."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from bnlint.runtime import audit
from runtime_models import inputs, kaiming_


class DeclaredOutOfOrder(nn.Module):
    """Declared head first and activations in the wrong places; runs stem -> relu -> mid -> tanh -> head."""

    def __init__(self) -> None:
        super().__init__()
        self.head = nn.Linear(32, 4)
        self.act_b = nn.Tanh()
        self.mid = nn.Linear(32, 32)
        self.act_a = nn.ReLU()
        self.stem = nn.Linear(16, 32)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.act_b(self.mid(self.act_a(self.stem(x)))))


def test_execution_order_not_declaration_order() -> None:
    report = audit(DeclaredOutOfOrder(), inputs(8, 16))
    assert [row.name for row in report.layers] == ["stem", "mid", "head"]
    assert report.layer("stem").activation == "relu"
    assert report.layer("mid").activation == "tanh"
    assert report.layer("head").activation == "identity"


class Functional(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b, self.c, self.d, self.e, self.f = (nn.Linear(16, 16) for _ in range(6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.a(x))
        x = torch.tanh(self.b(x))
        x = self.c(x).sigmoid()
        x = F.gelu(self.d(x))
        x = F.leaky_relu(self.e(x), 0.2)
        return F.silu(self.f(x))


def test_functional_activations_are_seen() -> None:
    report = audit(Functional(), inputs(8, 16))
    labels = {row.name: row.activation for row in report.layers}
    assert labels == {"a": "relu", "b": "tanh", "c": "sigmoid", "d": "gelu", "e": "leaky_relu(0.2)", "f": "silu"}


def test_module_activations_with_parameters_are_seen() -> None:
    model = nn.Sequential(nn.Linear(8, 8), nn.LeakyReLU(0.1), nn.Linear(8, 8), nn.ReLU6(), nn.Linear(8, 8), nn.ELU())
    report = audit(model, inputs(4, 8))
    assert [row.activation for row in report.layers] == ["leaky_relu(0.1)", "relu6", "elu"]
    assert report.layer("0").recommended_std == pytest.approx(
        nn.init.calculate_gain("leaky_relu", 0.1) / 8**0.5
    )


class Reused(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.shared = nn.Linear(16, 16)
        self.out = nn.Linear(16, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.shared(torch.relu(self.shared(x)))))


def test_a_layer_reused_twice_is_one_row_with_two_calls() -> None:
    report = audit(kaiming_(Reused()), inputs(8, 16))
    row = report.layer("shared")
    assert (row.calls, row.activation, row.verdict) == (2, "relu", "ok")
    assert not report.findings


class TwoActivations(nn.Module):
    def __init__(self, second: str) -> None:
        super().__init__()
        self.fc = nn.Linear(64, 64)
        self.second = getattr(torch, second)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.fc(x)
        return torch.relu(h) + self.second(h)


def test_two_activations_that_agree_the_weight_is_too_small_fire() -> None:
    # PyTorch's default init: 0.41x the Kaiming std for ReLU and 0.35x the Xavier std for tanh
    report = audit(TwoActivations("tanh"), inputs(16, 64))
    assert report.layer("fc").activation == "relu|tanh"
    assert [(f.code, f.layer) for f in report.findings] == [("BNR002", "fc")]
    assert "relu" in report.findings[0].message and "tanh" in report.findings[0].message


def test_two_activations_that_disagree_are_ambiguous_and_do_not_fire() -> None:
    # default init: 0.41x the Kaiming std for ReLU (too small) but 0.58x the Xavier std for sigmoid (fine)
    report = audit(TwoActivations("sigmoid"), inputs(16, 64))
    row = report.layer("fc")
    assert (row.activation, row.verdict) == ("relu|sigmoid", "ambiguous")
    assert not report.findings


class ThroughTransparentOps(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 4 * 4, 32)
        self.res = nn.Linear(32, 32)
        self.drop = nn.Dropout(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(F.max_pool2d(self.conv(x), 2))  # pooling before the activation
        h = self.fc(h.flatten(1))
        h = torch.tanh(self.drop(h.view(h.shape[0], 2, 16)).reshape(h.shape[0], 32))  # reshape, dropout
        return F.relu(h + self.res(h))  # residual addition


def test_activation_is_followed_through_reshapes_dropout_pooling_and_residuals() -> None:
    report = audit(ThroughTransparentOps(), inputs(4, 3, 8, 8))
    assert {row.name: row.activation for row in report.layers} == {"conv": "relu", "fc": "tanh", "res": "relu"}


class NoActivation(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(16, 16)
        self.b = nn.Linear(16, 16)
        self.c = nn.Linear(16, 16)
        self.other = nn.Parameter(torch.randn(16, 16))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(self.a(x)), self.c(x) @ self.other


def test_no_activation_is_identity_and_an_unmodelled_function_is_unknown() -> None:
    model = NoActivation()
    with torch.no_grad():
        model.c.weight.mul_(100)  # would be far off any scheme, but nobody knows which one applies
    report = audit(model, inputs(8, 16))
    assert report.layer("a").activation == "identity"  # into another layer
    assert report.layer("b").activation == "identity"  # the model's output
    assert (report.layer("c").activation, report.layer("c").verdict) == ("unknown(matmul)", "unknown")
    assert report.layer("c").recommended_std is None
    assert not [f for f in report.findings if f.layer == "c" and f.code == "BNR002"]


class Scaled(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(64, 64)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.fc(x) * 4.0)


def test_scaling_by_a_python_number_is_part_of_the_judgement() -> None:
    model = Scaled()
    with torch.no_grad():
        model.fc.weight.normal_(0, (2 / 64) ** 0.5 / 4, generator=torch.Generator().manual_seed(0))
    row = audit(model, inputs(32, 64)).layer("fc")
    assert row.verdict == "ok"
    assert row.recommended_std == pytest.approx((2 / 64) ** 0.5 / 4)


class BatchNormAfterTranspose(nn.Module):
    """A Linear over (N, L, F) features, transposed to (N, F, L) for BatchNorm1d(F): bias cancelled."""

    def __init__(self, bias: bool) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 8, bias=bias)
        self.bn = nn.BatchNorm1d(8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.bn(self.fc(x).transpose(1, 2)))


def test_norm_and_channel_axis_are_followed_through_a_transpose() -> None:
    report = audit(BatchNormAfterTranspose(bias=True), inputs(16, 5, 8))
    assert (report.layer("fc").activation, report.layer("fc").norm) == ("relu", "bn")
    assert [f.code for f in report.findings if f.layer == "fc"] == ["BNR009"]


class Discarded(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.aux = nn.Linear(16, 16)
        self.main = nn.Linear(16, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.aux(x)  # computed and thrown away (or consumed where the mode cannot see)
        return self.main(x)


def test_an_output_that_is_neither_consumed_nor_returned_is_unknown_not_identity() -> None:
    report = audit(Discarded(), inputs(8, 16))
    assert report.layer("aux").activation == "unknown(untraced)"
    assert report.layer("main").activation == "identity"
    assert [(f.code, f.layer) for f in report.findings] == [("BNR006", "aux.weight"), ("BNR006", "aux.bias")]
