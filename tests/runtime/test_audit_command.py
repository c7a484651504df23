"""`bnlint audit TARGET` run for real, in a subprocess, on model files written to tmp_path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from bnlint.cli import main

REPO = Path(__file__).resolve().parents[2]

MODELS = textwrap.dedent(
    """
    import torch
    from torch import nn


    def default_mlp():
        torch.manual_seed(0)
        return nn.Sequential(*[m for _ in range(6) for m in (nn.Linear(64, 64), nn.ReLU())], nn.Linear(64, 10))


    def clean_pair():
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 4))
        for layer in model:
            if isinstance(layer, nn.Linear):
                nn.init.kaiming_normal_(layer.weight)
                nn.init.zeros_(layer.bias)
        return model, torch.randn(32, 16)


    def expects_three_features():
        return nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))


    def not_a_module():
        return "a string"
    """
)

NO_TORCH = "NOT_CALLABLE = 3\n"

def run(tmp_path: Path, *args: str, block_torch: bool = False) -> subprocess.CompletedProcess[str]:
    """`bnlint audit ARGS` in a subprocess in `tmp_path`, importing this checkout's bnlint."""
    (tmp_path / "models.py").write_text(MODELS)
    (tmp_path / "plain.py").write_text(NO_TORCH)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1", "NO_COLOR": "1"}
    if block_torch:
        code = "import sys; sys.modules['torch'] = None; from bnlint.cli import main; main()"
        command = [sys.executable, "-c", code, "audit", *args]
    else:
        command = [sys.executable, "-m", "bnlint", "audit", *args]
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_findings_exit_1_with_the_table(tmp_path: Path) -> None:
    result = run(tmp_path, "models.py:default_mlp", "--input-shape", "32,64")
    assert result.returncode == 1, result.stderr
    assert "Init audit" in result.stdout and "Forward variance profile" in result.stdout
    assert "BNR002 [warning] 0: Linear (fan_in 64) has weight std" in result.stdout


def test_clean_model_from_a_module_path_exits_0_with_json(tmp_path: Path) -> None:
    result = run(tmp_path, "models:clean_pair", "--output-format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["findings"] == []
    assert [(row["layer"], row["activation"], row["verdict"]) for row in report["layers"]] == [
        ("0", "relu", "ok"),
        ("2", "identity", "ok"),
    ]


def test_forward_failure_names_the_shape_and_the_layer(tmp_path: Path) -> None:
    result = run(tmp_path, "models.py:expects_three_features", "--input-shape", "8,5")
    assert result.returncode == 2
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1
    assert "input shape (8, 5)" in message and "in layer '0' (Linear)" in message


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("models.py:not_a_module", "returned a str; expected an nn.Module or a (module, example_input) pair"),
        ("models.py:default_mlp", "returned only a module: give the example input's shape with --input-shape"),
    ],
    ids=["not-a-module", "no-input-shape"],
)
def test_usage_errors_after_the_import_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str, expected: str
) -> None:
    # the same command in-process (click's runner): torch is already loaded here, a subprocess would
    # spend seconds importing it again for a branch that the subprocess tests above already reach
    (tmp_path / "models.py").write_text(MODELS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    result = CliRunner().invoke(main, ["audit", target])
    assert result.exit_code == 2
    assert expected in result.output


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("missing.py:build", "file 'missing.py' not found"),
        ("nopackage.models:build", "cannot import 'nopackage.models'"),
        ("plain.py:build", "plain.py has no attribute 'build'"),
        ("plain.py:NOT_CALLABLE", "is a int, not a callable"),
        ("plain.py", "TARGET must be path/to/file.py:callable or package.module:callable"),
    ],
    ids=["missing-file", "missing-module", "missing-attribute", "not-callable", "no-callable"],
)
def test_bad_targets_exit_2_with_one_line(tmp_path: Path, target: str, expected: str) -> None:
    result = run(tmp_path, target)
    assert result.returncode == 2
    assert expected in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_without_the_lightning_extra_it_says_how_to_install_it(tmp_path: Path) -> None:
    result = run(tmp_path, "models.py:default_mlp", block_torch=True)
    assert result.returncode == 2
    assert 'pip install "bnlint[lightning]"' in result.stderr


def test_importing_bnlint_and_its_cli_does_not_import_torch() -> None:
    code = "import sys, bnlint, bnlint.cli; assert 'torch' not in sys.modules, 'torch imported'"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
