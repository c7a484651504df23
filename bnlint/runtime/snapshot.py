"""Capture and restore everything the audit pass could change, so that it leaves no trace.

The pass runs a real forward and backward: BatchNorm updates its running statistics and
`num_batches_tracked`, dropout draws random numbers, backward writes `.grad`, and a model may change
its own tensors. `capture` records the parameters and buffers (object and value), the gradients
(including `None`), every module's train/eval flag and the random number generators (torch CPU,
CUDA when initialised, Python's `random`, NumPy's global generator when NumPy is loaded); `restore`
puts them back bit for bit, writing a tensor only where its value differs, so untouched tensors keep
their autograd version counter. The cost is one copy of the parameters and buffers during the pass.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class _TensorSlot:
    """One entry of a module's `_parameters` or `_buffers`: the object and a copy of its value."""

    module: nn.Module
    table: str  # "_parameters" or "_buffers"
    name: str
    tensor: torch.Tensor | None
    value: torch.Tensor | None


@dataclass(frozen=True)
class Snapshot:
    """The state of a model and of the random number generators at one moment."""

    slots: tuple[_TensorSlot, ...]
    grads: tuple[tuple[nn.Parameter, torch.Tensor | None], ...]
    modes: tuple[tuple[nn.Module, bool], ...]
    cpu_rng: torch.Tensor
    cuda_rng: tuple[torch.Tensor, ...] | None
    python_rng: object
    numpy_rng: object | None


def capture(model: nn.Module) -> Snapshot:
    """Record the state of `model` and of the random number generators."""
    slots: list[_TensorSlot] = []
    modules = list(model.modules())
    with torch.no_grad():
        for module in modules:
            for table in ("_parameters", "_buffers"):
                for name, tensor in getattr(module, table).items():
                    value = None if tensor is None else tensor.detach().clone()
                    slots.append(_TensorSlot(module, table, name, tensor, value))
    grads = tuple((p, p.grad) for p in model.parameters())
    numpy = sys.modules.get("numpy")
    return Snapshot(
        slots=tuple(slots),
        grads=grads,
        modes=tuple((module, module.training) for module in modules),
        cpu_rng=torch.get_rng_state(),
        cuda_rng=_cuda_rng_state(),
        python_rng=random.getstate(),
        numpy_rng=numpy.random.get_state() if numpy is not None else None,
    )


def clear_grads(snapshot: Snapshot) -> None:
    """Set every gradient to None, so that the pass sees only the gradients it produces."""
    for param, _ in snapshot.grads:
        param.grad = None


def restore(snapshot: Snapshot) -> None:
    """Put back everything `capture` recorded."""
    recorded = {(id(slot.module), slot.table, slot.name) for slot in snapshot.slots}
    for module, _ in snapshot.modes:
        for table_name in ("_parameters", "_buffers"):
            table = getattr(module, table_name)
            for name in [name for name in table if (id(module), table_name, name) not in recorded]:
                del table[name]  # registered during the pass
    with torch.no_grad():
        for slot in snapshot.slots:
            table = getattr(slot.module, slot.table)
            table[slot.name] = slot.tensor
            if slot.tensor is not None and slot.value is not None and not torch.equal(slot.tensor, slot.value):
                slot.tensor.copy_(slot.value)
    for param, grad in snapshot.grads:
        param.grad = grad
    for module, training in snapshot.modes:
        module.training = training
    torch.set_rng_state(snapshot.cpu_rng)
    if snapshot.cuda_rng is not None:
        torch.cuda.set_rng_state_all(list(snapshot.cuda_rng))
    random.setstate(snapshot.python_rng)  # type: ignore[arg-type]
    numpy = sys.modules.get("numpy")
    if numpy is not None and snapshot.numpy_rng is not None:
        numpy.random.set_state(snapshot.numpy_rng)


def _cuda_rng_state() -> tuple[torch.Tensor, ...] | None:
    """The CUDA generators' states, or None when CUDA is absent or not initialised (nothing to keep)."""
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        return tuple(torch.cuda.get_rng_state_all())
    return None
