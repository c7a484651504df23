"""Re-initialize the offending layers of a report with the scheme their activation needs."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils import parametrize

from bnlint.runtime.audit import Report, unwrap
from bnlint.runtime.trace import ROOT, submodule

# Findings that a fresh draw of the weight (and a zero bias, a neutral norm) repairs. The others are
# about the model's structure (BNR006, BNR008, BNR009) or the whole network (BNR003).
REPAIRABLE: frozenset[str] = frozenset({"BNR001", "BNR002", "BNR004", "BNR005", "BNR007"})


@dataclass(frozen=True)
class Reinitialization:
    """What `reinitialize` changed in one layer: the weight's new std and every tensor it wrote."""

    layer: str
    scheme: str
    activation: str
    std_before: float
    std_after: float
    tensors: tuple[str, ...]

    def __str__(self) -> str:
        return (
            f"{self.layer}: {self.scheme} for {self.activation}, weight std {self.std_before:.4g} -> "
            f"{self.std_after:.4g}; wrote {', '.join(self.tensors)}"
        )


def reinitialize(model: nn.Module, report: Report, *, seed: int = 0) -> list[Reinitialization]:
    """Re-initialize, in place, every layer of `report` with a repairable finding.

    The weight is drawn from N(0, recommended std) with a private generator seeded with `seed` (the
    global random state is untouched, and every process draws the same values), the bias is set to
    zero, and the normalizations between the layer and its activation get gamma 1 and beta 0. A layer
    whose activation is unknown, or whose activations want incompatible stds, has no recommended
    std and is left alone, as is a parametrized weight. Returns what changed, in execution order.
    """
    target = unwrap(model)
    offending = {finding.layer for finding in report.findings if finding.code in REPAIRABLE}
    generators: dict[torch.device, torch.Generator] = {}
    changes: list[Reinitialization] = []
    for row in report.layers:
        if not ({row.name, _param_name(row.name, "weight")} & offending) or row.recommended_std is None:
            continue
        module = submodule(target, row.name)
        if parametrize.is_parametrized(module, "weight"):
            continue  # the stored tensors are not the weight; drawing into them would not give this std
        weight: torch.Tensor = module.weight
        generator = generators.get(weight.device)
        if generator is None:
            generator = generators[weight.device] = torch.Generator(device=weight.device).manual_seed(seed)
        written = [_param_name(row.name, "weight")]
        with torch.no_grad():
            weight.normal_(0.0, row.recommended_std, generator=generator)
            if getattr(module, "bias", None) is not None:
                module.bias.zero_()
                written.append(_param_name(row.name, "bias"))
            for norm_name in row.norms:
                written.extend(_reset_norm(target, norm_name))
        changes.append(
            Reinitialization(
                layer=row.name,
                scheme=row.scheme or "-",
                activation=row.activation,
                std_before=row.weight_std,
                std_after=row.recommended_std,
                tensors=tuple(written),
            )
        )
    return changes


def _reset_norm(model: nn.Module, name: str) -> list[str]:
    """gamma 1 and beta 0 for a normalization module; nothing for a functional one (`F.layer_norm`)."""
    if name.startswith("F."):
        return []
    module = submodule(model, name)
    written = []
    if getattr(module, "weight", None) is not None:
        module.weight.fill_(1.0)
        written.append(_param_name(name, "weight"))
    if getattr(module, "bias", None) is not None:
        module.bias.zero_()
        written.append(_param_name(name, "bias"))
    return written


def _param_name(module: str, param: str) -> str:
    return param if module == ROOT else f"{module}.{param}"

