"""Initialization schemes: activation families as data, their gains and recommended weight std.

Kaiming (He et al., 2015) for the ReLU family, `std = gain / sqrt(fan_in)`; Xavier (Glorot and
Bengio, 2010) for tanh, sigmoid and identity, `std = gain * sqrt(2 / (fan_in + fan_out))`. Gains
come from `torch.nn.init.calculate_gain` where it knows the activation.

`calculate_gain` does not know GELU, SiLU, Mish, ELU, CELU, Hardswish or ReLU6. bnlint uses the
ReLU gain sqrt(2) for them: it is what users can pass to `kaiming_*_` (nonlinearity="relu"), and the
gain that exactly preserves the second moment of a unit-variance input, 1 / sqrt(E[f(z)^2]) for
z ~ N(0, 1), is 1.53 (GELU), 1.68 (SiLU), 1.49 (Mish), 1.25 (ELU) and 1.74 (Hardswish): within
0.88x to 1.23x of sqrt(2), far inside the [1/2, 2] band of BNR002. SELU uses LeCun's scheme
(Kaiming with gain 1), as PyTorch's documentation recommends for self-normalizing networks.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import torch


class Scheme(str, enum.Enum):
    """Which formula turns a gain into a recommended std."""

    KAIMING = "kaiming"
    XAVIER = "xavier"


@dataclass(frozen=True)
class Activation:
    """An activation as the pass saw it: canonical name, scheme, gain and parameter (a slope)."""

    name: str
    scheme: Scheme
    gain: float
    param: float | None = None

    @property
    def label(self) -> str:
        """Name with its parameter, as the table prints it: `leaky_relu(0.2)`."""
        if self.param is None:
            return self.name
        return f"{self.name}({self.param:g})"

    @property
    def zero_for_negative_input(self) -> bool:
        """True for activations whose output is exactly zero for every negative input (dead units)."""
        return self.name in _ZERO_BELOW

    @property
    def saturation(self) -> str | None:
        """`tanh` or `sigmoid` for the saturating activations, else None."""
        return self.name if self.name in ("tanh", "sigmoid") else None


_SQRT2 = math.sqrt(2.0)

# Family data: canonical name -> (scheme, gain). Leaky and randomized ReLU take their gain from the slope.
_FIXED: dict[str, tuple[Scheme, float]] = {
    "relu": (Scheme.KAIMING, _SQRT2),
    "relu6": (Scheme.KAIMING, _SQRT2),
    "gelu": (Scheme.KAIMING, _SQRT2),
    "silu": (Scheme.KAIMING, _SQRT2),
    "mish": (Scheme.KAIMING, _SQRT2),
    "elu": (Scheme.KAIMING, _SQRT2),
    "celu": (Scheme.KAIMING, _SQRT2),
    "hardswish": (Scheme.KAIMING, _SQRT2),
    "selu": (Scheme.KAIMING, 1.0),
    "tanh": (Scheme.XAVIER, 5.0 / 3.0),
    "sigmoid": (Scheme.XAVIER, 1.0),
    "identity": (Scheme.XAVIER, 1.0),
}

_ZERO_BELOW = frozenset({"relu", "relu6"})

IDENTITY = Activation("identity", Scheme.XAVIER, 1.0)

ACTIVATION_NAMES: frozenset[str] = frozenset(_FIXED) | {"leaky_relu", "rrelu", "prelu"}


def activation(name: str, slope: float | None = None) -> Activation:
    """The activation `name` (one of `ACTIVATION_NAMES`); `slope` for leaky_relu, rrelu and prelu."""
    if name in ("leaky_relu", "rrelu", "prelu"):
        if slope is None:
            raise ValueError(f"activation {name!r} needs a slope, got None")
        gain = math.sqrt(2.0 / (1.0 + slope**2))
        return Activation("leaky_relu" if name == "leaky_relu" else name, Scheme.KAIMING, gain, slope)
    if name not in _FIXED:
        raise ValueError(f"unknown activation {name!r}; known: {', '.join(sorted(ACTIVATION_NAMES))}")
    scheme, gain = _FIXED[name]
    return Activation(name, scheme, gain)


def fan_in_and_fan_out(weight: torch.Tensor) -> tuple[int, int]:
    """Fan-in and fan-out with the semantics of `torch.nn.init._calculate_fan_in_and_fan_out`.

    `size(1) * receptive field` and `size(0) * receptive field`, so that a weight initialised with
    `kaiming_normal_(w, mode="fan_in")` matches the recommendation exactly (for ConvTranspose this is
    PyTorch's convention, which reads the weight's second dimension).
    """
    if weight.dim() < 2:
        raise ValueError(f"fan-in needs a weight of two or more dimensions, got shape {tuple(weight.shape)}")
    receptive = math.prod(weight.shape[2:])
    return weight.shape[1] * receptive, weight.shape[0] * receptive


def recommended_std(act: Activation, fan_in: int, fan_out: int) -> float:
    """The weight std that the scheme of `act` recommends for a layer of this fan-in and fan-out."""
    if act.scheme is Scheme.KAIMING:
        return act.gain / math.sqrt(fan_in)
    return act.gain * math.sqrt(2.0 / (fan_in + fan_out))
