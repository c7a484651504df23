"""The re-initializer repairs the offending layers of a report, in place, and says what it changed."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from bnlint.runtime import InitError, audit, reinitialize
from runtime_models import inputs, kaiming_, relu_mlp


def test_reinitialize_repairs_default_init_and_the_audit_comes_back_clean() -> None:
    torch.manual_seed(0)
    model = relu_mlp(bias=False)
    x = inputs(64, 64)
    report = audit(model, x)
    assert report.findings
    rng = torch.get_rng_state()
    changes = reinitialize(model, report)
    assert torch.equal(rng, torch.get_rng_state())  # a private generator
    assert [c.layer for c in changes] == ["0", "2", "4", "6", "8", "10", "12", "14", "16"]
    assert changes[0].scheme == "kaiming" and changes[-1].scheme == "xavier"
    assert changes[0].std_after == pytest.approx(2**0.5 / 8)
    assert audit(model, x).findings == []


def test_biases_go_to_zero_and_the_norm_in_between_to_gamma_one_beta_zero() -> None:
    torch.manual_seed(0)
    model = kaiming_(nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(),
                                   nn.Linear(8 * 6 * 6, 4)))
    with torch.no_grad():
        model[0].weight.fill_(0.1)  # BNR001
        model[1].weight.fill_(3.0)
        model[1].bias.fill_(-1.0)
        model[4].bias.fill_(0.5)
    report = audit(model, inputs(16, 3, 8, 8))
    assert [f.code for f in report.findings] == ["BNR001"]
    (change,) = reinitialize(model, report)
    assert change.tensors == ("0.weight", "1.weight", "1.bias")
    assert torch.equal(model[1].weight, torch.ones(8)) and torch.equal(model[1].bias, torch.zeros(8))
    assert model[4].bias[0].item() == 0.5  # not an offending layer: untouched
    assert audit(model, inputs(16, 3, 8, 8)).findings == []


def test_only_offending_layers_change_and_unknown_ones_are_left_alone() -> None:
    class Mixed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.good = kaiming_(nn.Linear(16, 16))
            self.mystery = nn.Linear(16, 16)
            self.other = nn.Parameter(torch.randn(16, 16))
            with torch.no_grad():
                self.mystery.weight.fill_(0.2)  # BNR001, but which activation follows is unknown

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.relu(self.good(x)), self.mystery(x) @ self.other

    model = Mixed()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    report = audit(model, inputs(8, 16))
    assert [f.code for f in report.findings] == ["BNR001"]
    assert reinitialize(model, report) == []
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_the_same_seed_gives_the_same_weights_on_every_process() -> None:
    torch.manual_seed(0)
    a = relu_mlp(depth=2)
    b = relu_mlp(depth=2)
    b.load_state_dict(a.state_dict())
    torch.manual_seed(123)  # another global state: it must not matter
    reinitialize(b, audit(b, inputs(8, 64)))
    torch.manual_seed(0)
    reinitialize(a, audit(a, inputs(8, 64, seed=9)))
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_init_error_lists_every_offending_layer() -> None:
    torch.manual_seed(0)
    report = audit(relu_mlp(depth=2), inputs(64, 64))
    with pytest.raises(InitError) as raised:
        report.raise_for_findings()
    assert raised.value.layers == ("0", "2", "4")
    assert all(f"  {layer}: BNR002 init-scale-mismatch" in str(raised.value) for layer in ("0", "2", "4"))
    audit(relu_mlp(depth=2, init="kaiming"), inputs(64, 64)).raise_for_findings()  # clean: no error


def test_a_norm_reached_through_a_residual_addition_is_not_reset() -> None:
    class PreNorm(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(16, 16)
            self.ln = nn.LayerNorm(16)
            self.head = kaiming_(nn.Linear(16, 4))
            with torch.no_grad():
                self.fc.weight.fill_(0.1)  # BNR001
                self.ln.weight.fill_(0.5)  # the residual stream's norm: not this layer's

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(torch.relu(self.ln(x + self.fc(x))))

    model = PreNorm()
    report = audit(model, inputs(8, 16))
    assert report.layer("fc").norm == "ln" and report.layer("fc").norms == ()
    (change,) = reinitialize(model, report)
    assert change.tensors == ("fc.weight", "fc.bias")
    assert torch.equal(model.ln.weight, torch.full((16,), 0.5))
