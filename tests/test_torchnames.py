"""bnlint's table of PyTorch layers against the installed torch: names exist, parameters line up.

Positional arguments are bound to parameter names with these tables (`nn.BatchNorm2d(64, 1e-3,
0.9)` passes momentum=0.9), so a wrong order would make a rule read the wrong argument.
"""

from __future__ import annotations

import inspect

import pytest
import torch

from bnlint.torchnames import ACTIVATION_FUNCTIONS, ACTIVATION_MODULES, LAYERS


def _resolve(qualified: str) -> object:
    value: object = torch
    for part in qualified.split(".")[1:]:
        value = getattr(value, part)
    return value


@pytest.mark.parametrize("qualified", sorted(LAYERS))
def test_layer_parameters_match_torch(qualified: str) -> None:
    spec = LAYERS[qualified]
    layer = _resolve(qualified)
    parameters = [name for name in inspect.signature(layer.__init__).parameters if name != "self"]
    if not spec.params:
        return  # only the class is looked up for these
    assert tuple(parameters[: len(spec.params)]) == spec.params
    for name, default in spec.defaults.items():
        assert inspect.signature(layer.__init__).parameters[name].default == default


@pytest.mark.parametrize("qualified", sorted({*ACTIVATION_MODULES, *ACTIVATION_FUNCTIONS}))
def test_activation_names_exist(qualified: str) -> None:
    assert callable(_resolve(qualified))
