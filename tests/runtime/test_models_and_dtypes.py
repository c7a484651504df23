"""float32, float64 and bfloat16 models, models without Linear/Conv, and torch.compile'd modules."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from bnlint.runtime import audit
from runtime_models import inputs, relu_mlp

# torch.compile imports dynamo, which imports torch.jit APIs that warn about their own deprecation
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_dtypes_give_the_same_verdicts(dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    clean = relu_mlp(depth=4, init="kaiming").to(dtype)
    assert audit(clean, inputs(64, 64).to(dtype)).findings == []
    torch.manual_seed(0)
    default = relu_mlp(depth=4).to(dtype)
    report = audit(default, inputs(64, 64).to(dtype))
    assert [f.layer for f in report.findings if f.code == "BNR002"] == ["0", "2", "4", "6", "8"]
    assert report.layer("0").ratio == pytest.approx(0.41, abs=0.03)
    assert default[0].weight.dtype == dtype


def test_a_model_without_linear_or_conv_gives_an_empty_report() -> None:
    model = nn.Sequential(nn.LayerNorm(8), nn.ReLU(), nn.Dropout(0.1))
    report = audit(model, inputs(4, 8))
    assert report.layers == () and report.findings == []
    assert "No Linear or Conv layer" in str(report)


def test_a_model_with_no_parameters_at_all() -> None:
    report = audit(nn.ReLU(), inputs(4, 8))
    assert report.layers == () and report.findings == []


def test_a_compiled_module_is_audited_through_its_original() -> None:
    torch.manual_seed(0)
    model = relu_mlp(depth=2)
    compiled = torch.compile(model)
    report = audit(compiled, inputs(16, 64))
    assert [row.name for row in report.layers] == ["0", "2", "4"]
    assert [f.code for f in report.findings if f.layer == "0"] == ["BNR002"]


class CompiledInside(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = torch.compile(nn.Sequential(nn.Linear(16, 16), nn.Tanh()))
        self.head = nn.Linear(16, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def test_a_compiled_submodule_runs_eagerly_during_the_pass() -> None:
    report = audit(CompiledInside(), inputs(8, 16))
    assert report.layer("body._orig_mod.0").activation == "tanh"


def test_the_root_module_can_itself_be_the_layer() -> None:
    torch.manual_seed(0)
    report = audit(nn.Linear(256, 16), inputs(8, 256))  # default init: 0.42x the Xavier std
    assert [(row.name, row.activation) for row in report.layers] == [("(root)", "identity")]
    assert [(f.code, f.layer) for f in report.findings] == [("BNR002", "(root)")]


def test_lazy_modules_must_be_materialized_first() -> None:
    with pytest.raises(ValueError, match=r"uninitialized lazy parameters \(0.weight, 0.bias\)"):
        audit(nn.Sequential(nn.LazyLinear(4)), inputs(2, 8))


def test_inference_mode_is_refused_rather_than_reporting_missing_gradients() -> None:
    with torch.inference_mode(), pytest.raises(ValueError, match="inference_mode"):
        audit(nn.Linear(4, 4), inputs(2, 4))


class TwoInputs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(4, 4)
        self.b = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"a": torch.tanh(self.a(x)), "b": torch.relu(self.b(y))}


def test_tuple_and_mapping_inputs_and_a_dict_output() -> None:
    model = TwoInputs()
    by_position = audit(model, (inputs(4, 4), inputs(4, 4, seed=1)))
    by_keyword = audit(model, {"x": inputs(4, 4), "y": inputs(4, 4, seed=1)})
    assert [r.activation for r in by_position.layers] == [r.activation for r in by_keyword.layers] == ["tanh", "relu"]
    assert not [f for f in by_position.findings if f.code == "BNR006"]  # both outputs were backpropagated


def test_report_json_has_every_column_and_finding_field() -> None:
    torch.manual_seed(0)
    data = audit(relu_mlp(depth=1), inputs(8, 64)).to_json()
    assert set(data) == {"step", "layers", "findings", "thresholds"}
    assert set(data["layers"][0]) >= {"layer", "type", "fan_in", "activation", "norm", "weight_std",
                                      "recommended_std", "ratio", "verdict"}
    assert set(data["findings"][0]) == {"code", "name", "severity", "layer", "message", "step"}
    assert data["thresholds"]["scale_low"] == 0.5
