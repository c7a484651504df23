"""The plain-loop example runs, finds the default-init problem, repairs it and trains."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "runtime" / "plain_loop.py"


def test_plain_loop_example(capsys: pytest.CaptureFixture[str]) -> None:
    namespace = runpy.run_path(str(EXAMPLE))  # defines the functions; the __main__ block does not run
    losses = namespace["train"](steps=30)
    output = capsys.readouterr().out
    assert "BNR002 [warning]" in output and "BNR003 [warning]" in output
    assert "re-initialized 0: kaiming for relu" in output
    assert "findings after the repair: 0" in output
    assert losses[-1] < losses[0]
