"""BNL101 and BNL104 fixes through the real CLI, compared with the file after the run."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path


def _bnlint(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bnlint", "check", "--no-cache", *args], cwd=tmp_path, capture_output=True, text=True
    )


def _write(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "model.py"
    path.write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    return path


def test_bias_fix_adds_or_flips_bias_and_keeps_layout(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        import torch.nn as nn

        class Stem(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(
                    3,
                    32,
                    kernel_size=3,  # 3x3
                )
                self.bn = nn.BatchNorm2d(32)
                self.proj = nn.Sequential(nn.Linear(32, 16, bias=True), nn.BatchNorm1d(16))

            def forward(self, x):
                return self.bn(self.conv(x))
        """,
    )
    result = _bnlint(tmp_path, "--fix", "model.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 fixed, 0 remaining" in result.stdout
    assert path.read_text(encoding="utf-8") == textwrap.dedent(
        """\
        import torch.nn as nn

        class Stem(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(
                    3,
                    32,
                    kernel_size=3,  # 3x3
                    bias=False,
                )
                self.bn = nn.BatchNorm2d(32)
                self.proj = nn.Sequential(nn.Linear(32, 16, bias=False), nn.BatchNorm1d(16))

            def forward(self, x):
                return self.bn(self.conv(x))
        """
    )
    assert _bnlint(tmp_path, "model.py").returncode == 0


def test_momentum_fix_needs_unsafe_fixes(tmp_path: Path) -> None:
    source = "import torch.nn as nn\n\nbn = nn.BatchNorm2d(64, momentum=0.99)\nsync = nn.SyncBatchNorm(64, 1e-5, 0.9)\n"
    path = _write(tmp_path, source)
    safe_only = _bnlint(tmp_path, "--fix", "model.py")
    assert safe_only.returncode == 1
    assert path.read_text(encoding="utf-8") == source
    assert "2 more with --fix --unsafe-fixes" in _bnlint(tmp_path, "model.py").stdout
    unsafe = _bnlint(tmp_path, "--fix", "--unsafe-fixes", "model.py")
    assert unsafe.returncode == 0, unsafe.stdout
    assert path.read_text(encoding="utf-8") == (
        "import torch.nn as nn\n\nbn = nn.BatchNorm2d(64, momentum=0.01)\nsync = nn.SyncBatchNorm(64, 1e-5, 0.1)\n"
    )
