"""Small real models shared by the runtime tests (imported by its unique module name)."""

from __future__ import annotations

import torch
from torch import nn


def relu_mlp(depth: int = 8, width: int = 64, *, bias: bool = True, init: str = "default") -> nn.Sequential:
    """`depth` Linear+ReLU blocks and a Linear head; `init` is "default" (PyTorch's) or "kaiming"."""
    layers: list[nn.Module] = []
    for _ in range(depth):
        layers += [nn.Linear(width, width, bias=bias), nn.ReLU()]
    layers.append(nn.Linear(width, 10, bias=bias))
    model = nn.Sequential(*layers)
    if init == "kaiming":
        for module in model:
            if isinstance(module, nn.Linear):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
    return model


def tanh_mlp(depth: int = 6, width: int = 64, *, init: str = "xavier") -> nn.Sequential:
    """`depth` Linear+Tanh blocks and a Linear head, Xavier-initialised (or PyTorch's default)."""
    layers: list[nn.Module] = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), nn.Tanh()]
    layers.append(nn.Linear(width, 10))
    model = nn.Sequential(*layers)
    if init == "xavier":
        for module in model:
            if isinstance(module, nn.Linear):
                nn.init.xavier_normal_(module.weight)
                nn.init.zeros_(module.bias)
    return model


def kaiming_(module: nn.Module) -> nn.Module:
    """Kaiming-normal (ReLU) weights and zero biases for every Linear/Conv in `module`."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d)):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return module


def inputs(*shape: int, seed: int = 0) -> torch.Tensor:
    """A standard-normal input drawn from a private generator (the global RNG is left alone)."""
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))
