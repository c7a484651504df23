"""Gains, fan-in and recommended std against PyTorch's own init functions."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from bnlint.runtime import schemes


@pytest.mark.parametrize(
    ("name", "slope", "torch_name", "torch_param"),
    [
        ("relu", None, "relu", None),
        ("leaky_relu", 0.2, "leaky_relu", 0.2),
        ("tanh", None, "tanh", None),
        ("sigmoid", None, "sigmoid", None),
        ("identity", None, "linear", None),
    ],
)
def test_gain_is_calculate_gain_where_torch_knows_the_activation(
    name: str, slope: float | None, torch_name: str, torch_param: float | None
) -> None:
    act = schemes.activation(name, slope)
    assert act.gain == pytest.approx(nn.init.calculate_gain(torch_name, torch_param))


@pytest.mark.parametrize("name", ["gelu", "silu", "mish", "elu", "celu", "hardswish", "relu6"])
def test_relu_like_activations_use_the_relu_gain(name: str) -> None:
    act = schemes.activation(name)
    assert act.scheme is schemes.Scheme.KAIMING
    assert act.gain == pytest.approx(math.sqrt(2))


def test_selu_uses_lecun_gain_one() -> None:
    assert schemes.activation("selu").gain == 1.0


@pytest.mark.parametrize(
    "layer", [nn.Linear(48, 16), nn.Conv2d(6, 12, 3, groups=3), nn.ConvTranspose2d(8, 4, 5), nn.Conv1d(3, 7, 2)]
)
def test_fan_in_matches_torch(layer: nn.Module) -> None:
    assert schemes.fan_in_and_fan_out(layer.weight) == nn.init._calculate_fan_in_and_fan_out(layer.weight)


def test_recommended_std_matches_torch_init_functions() -> None:
    weight = torch.empty(512, 1024)
    fan_in, fan_out = schemes.fan_in_and_fan_out(weight)
    generator = torch.Generator().manual_seed(0)
    nn.init.kaiming_normal_(weight, nonlinearity="relu", generator=generator)
    assert weight.std().item() == pytest.approx(
        schemes.recommended_std(schemes.activation("relu"), fan_in, fan_out), rel=0.01
    )
    nn.init.xavier_normal_(weight, gain=nn.init.calculate_gain("tanh"), generator=generator)
    assert weight.std().item() == pytest.approx(
        schemes.recommended_std(schemes.activation("tanh"), fan_in, fan_out), rel=0.01
    )


def test_pytorch_default_init_is_041x_kaiming_relu() -> None:
    layer = nn.Linear(1024, 1024)
    fan_in, fan_out = schemes.fan_in_and_fan_out(layer.weight)
    ratio = layer.weight.std().item() / schemes.recommended_std(schemes.activation("relu"), fan_in, fan_out)
    assert ratio == pytest.approx(1 / math.sqrt(6), rel=0.02)


def test_unknown_activation_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="unknown activation 'swish'.*known: .*gelu"):
        schemes.activation("swish")
