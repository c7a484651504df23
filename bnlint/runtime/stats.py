"""Per-tensor statistics that stay on the tensor's device until `to_host` fetches them all at once.

Every function here returns a tensor and never calls `.item()`, so that a caller can compute the
statistics of many layers and pay for one host-device synchronisation (`to_host`). Values are
computed in float32, or in the tensor's own dtype when that is wider (float64), whatever the model's
dtype (bfloat16 included).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def stat_dtype(dtype: torch.dtype) -> torch.dtype:
    """float32, or the tensor's dtype when it is a wider floating type."""
    return torch.promote_types(dtype, torch.float32) if dtype.is_floating_point else torch.float32


def moments(t: torch.Tensor) -> torch.Tensor:
    """`[sum, sum of squares, non-finite count]` of the finite elements of `t`, as one 1-D tensor.

    The count of elements is `t.numel()`; non-finite elements are left out of the sums and counted.
    """
    x = t.detach().to(stat_dtype(t.dtype))
    finite = torch.isfinite(x)
    x = torch.where(finite, x, torch.zeros((), dtype=x.dtype, device=x.device))
    return torch.stack([x.sum(), x.square().sum(), (~finite).sum().to(x.dtype)])


def mean_std(total: Sequence[float], count: int) -> tuple[float, float]:
    """Mean and population std from the sums of `moments` (summed over calls) and the element count."""
    if count == 0:
        return 0.0, 0.0
    mean = total[0] / count
    var = max(total[1] / count - mean * mean, 0.0)
    return mean, var**0.5


def alive_units(pre_activation: torch.Tensor, axis: int) -> torch.Tensor:
    """Per unit along `axis`: True where the unit is positive for at least one sample and position.

    A unit that is never positive gives exactly zero after ReLU for the whole batch: it is dead.
    """
    positive = pre_activation.detach() > 0
    return positive.movedim(axis, 0).reshape(positive.shape[axis], -1).any(dim=1)


def saturated_count(post_activation: torch.Tensor, kind: str, threshold: float) -> torch.Tensor:
    """How many outputs of a tanh (`|y| > threshold`) or sigmoid (`y > threshold or y < 1 - threshold`)
    are saturated, as a 0-dim tensor."""
    y = post_activation.detach().to(stat_dtype(post_activation.dtype))
    if kind == "tanh":
        saturated = y.abs() > threshold
    elif kind == "sigmoid":
        saturated = (y > threshold) | (y < 1.0 - threshold)
    else:
        raise ValueError(f"kind must be 'tanh' or 'sigmoid', got {kind!r}")
    return saturated.sum().to(y.dtype)


def weight_summary(weight: torch.Tensor) -> torch.Tensor:
    """`[rms, all elements equal, all elements zero, non-finite count, first element]` of a weight.

    The rms (root mean square about zero) is the std of the zero-mean distributions every init scheme
    draws from, and counts a weight with a non-zero mean at its full scale.
    """
    w = weight.detach().to(stat_dtype(weight.dtype))
    return torch.stack(
        [
            w.square().mean().sqrt(),
            (w.amax() == w.amin()).to(w.dtype),
            (w == 0).all().to(w.dtype),
            (~torch.isfinite(w)).sum().to(w.dtype),
            w.reshape(-1)[0],
        ]
    )


def duplicate_units(weight: torch.Tensor, unit_dim: int) -> int:
    """How many units (slices along `unit_dim`) of a weight repeat an earlier one bit for bit.

    Synchronises with the device: `torch.unique` has a data-dependent size.
    """
    w = weight.detach().movedim(unit_dim, 0)
    rows = w.reshape(w.shape[0], -1).to(stat_dtype(weight.dtype))
    return rows.shape[0] - torch.unique(rows, dim=0).shape[0]


def to_host(tensors: Sequence[torch.Tensor]) -> list[list[float]]:
    """Fetch many small 1-D statistic tensors with one synchronisation per device."""
    result: list[list[float]] = [[] for _ in tensors]
    by_device: dict[torch.device, list[int]] = {}
    for index, tensor in enumerate(tensors):
        by_device.setdefault(tensor.device, []).append(index)
    for indices in by_device.values():
        flat = torch.cat([tensors[i].reshape(-1).to(torch.float64) for i in indices]).tolist()
        start = 0
        for i in indices:
            size = tensors[i].numel()
            result[i] = flat[start : start + size]
            start += size
    return result
