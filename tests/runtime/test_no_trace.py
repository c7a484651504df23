"""The audit pass leaves no trace: every tensor, gradient, optimizer state, mode and RNG bit for bit."""

from __future__ import annotations

import copy
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from bnlint.runtime import PassError, audit
from runtime_models import inputs


class Net(nn.Module):
    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.bn = nn.BatchNorm2d(8)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(8 * 6 * 6, 16)
        self.frozen = nn.Linear(16, 16)
        self.frozen.requires_grad_(False)
        self.eval_bn = nn.BatchNorm1d(16)
        self.eval_bn.eval()  # a submodule deliberately left in eval mode
        self.head = nn.Linear(16 if not fail else 15, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.bn(self.conv(x)))
        h = self.drop(h.flatten(1))
        h = self.eval_bn(self.frozen(F.relu(self.fc(h))))
        return self.head(h)


def prepared(fail: bool = False) -> tuple[Net, torch.optim.Optimizer]:
    """A model one real Adam step into training, with fresh gradients, one of them None."""
    torch.manual_seed(3)
    model = Net(fail=fail)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    if not fail:
        F.cross_entropy(model(inputs(16, 3, 8, 8)), torch.arange(16) % 4).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=False)
        F.cross_entropy(model(inputs(16, 3, 8, 8, seed=1)), torch.arange(16) % 4).backward()
        model.head.bias.grad = None
    random.seed(5)
    np.random.seed(5)
    return model, optimizer


def state(model: nn.Module, optimizer: torch.optim.Optimizer) -> dict[str, object]:
    return {
        "tensors": {k: v.detach().clone() for k, v in model.state_dict(keep_vars=True).items()},
        "grads": {n: (None if p.grad is None else p.grad.clone()) for n, p in model.named_parameters()},
        "grad_objects": {n: p.grad for n, p in model.named_parameters()},
        "optimizer": copy.deepcopy(optimizer.state_dict()),
        "modes": {n: m.training for n, m in model.named_modules()},
        "hooks": {n: (len(m._forward_hooks), len(m._forward_pre_hooks)) for n, m in model.named_modules()},
        "torch_rng": torch.get_rng_state().clone(),
        "python_rng": random.getstate(),
        "numpy_rng": np.random.get_state(),
    }


def assert_same(before: dict, after: dict) -> None:  # type: ignore[type-arg]
    assert before["tensors"].keys() == after["tensors"].keys()
    for key, value in before["tensors"].items():
        assert torch.equal(value, after["tensors"][key]), key
        assert value.dtype == after["tensors"][key].dtype, key
    for name, grad in before["grads"].items():
        if grad is None:
            assert after["grads"][name] is None, name
        else:
            assert torch.equal(grad, after["grads"][name]), name
        assert before["grad_objects"][name] is after["grad_objects"][name], name
    assert before["optimizer"]["param_groups"] == after["optimizer"]["param_groups"]
    assert before["optimizer"]["state"].keys() == after["optimizer"]["state"].keys()
    for index, entry in before["optimizer"]["state"].items():
        for key, value in entry.items():
            assert torch.equal(value, after["optimizer"]["state"][index][key]), (index, key)
    assert before["modes"] == after["modes"]
    assert before["hooks"] == after["hooks"]
    assert torch.equal(before["torch_rng"], after["torch_rng"])
    assert before["python_rng"] == after["python_rng"]
    for a, b in zip(before["numpy_rng"], after["numpy_rng"]):
        assert np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
    assert torch.overrides._get_current_function_mode_stack() == []


def test_audit_leaves_no_trace() -> None:
    model, optimizer = prepared()
    before = state(model, optimizer)
    report = audit(model, inputs(16, 3, 8, 8, seed=2))
    assert report.layers  # the pass did run: BatchNorm statistics and dropout were really exercised
    assert_same(before, state(model, optimizer))
    assert model.bn.num_batches_tracked.item() == 2


def test_audit_leaves_no_trace_when_the_model_raises() -> None:
    model, optimizer = prepared(fail=True)
    before = state(model, optimizer)
    with pytest.raises(PassError, match=r"in layer 'head' \(Linear\)") as raised:
        audit(model, inputs(16, 3, 8, 8))
    assert raised.value.layer == "head"
    assert_same(before, state(model, optimizer))


def train(audit_at_start: bool) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for step in range(3):
        x = torch.randn(16, 3, 8, 8)
        if audit_at_start and step == 0:
            audit(model, x)
        optimizer.zero_grad()
        F.cross_entropy(model(x), torch.arange(16) % 4).backward()
        optimizer.step()
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_a_seeded_run_with_the_audit_ends_bit_identical_to_one_without() -> None:
    with_audit, without = train(True), train(False)
    assert all(torch.equal(with_audit[k], without[k]) for k in without)
