"""The README demo: exact findings on the buggy examples, none on the clean ones."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

EXPECTED_BAD = {
    ("bad_cnn.py", None, 15, "BNL101"),
    ("bad_cnn.py", None, 16, "BNL104"),
    ("bad_cnn.py", None, 31, "BNL102"),
    ("bad_cnn.py", None, 38, "BNL103"),
    ("bad_cnn.py", None, 57, "BNL203"),
    ("bad_notebook.ipynb", 4, 2, "BNL101"),
    ("bad_notebook.ipynb", 4, 3, "BNL104"),
    ("bad_notebook.ipynb", 6, 7, "BNL203"),
}


def _check(*paths: Path) -> tuple[int, list[dict]]:
    result = subprocess.run(
        [sys.executable, "-m", "bnlint", "check", "--no-cache", "--output-format", "json", *map(str, paths)],
        cwd=EXAMPLES,
        capture_output=True,
        text=True,
    )
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def test_buggy_examples_have_exactly_the_expected_findings() -> None:
    status, findings = _check(*sorted(EXAMPLES.glob("bad_*")))
    assert status == 1
    got = {(Path(f["path"]).name, f.get("cell"), f["line"], f["code"]) for f in findings}
    assert got == EXPECTED_BAD
    assert len(findings) == len(EXPECTED_BAD)


def test_clean_examples_have_no_findings() -> None:
    clean = sorted(EXAMPLES.glob("clean_*"))
    assert len(clean) >= 2
    status, findings = _check(*clean)
    assert (status, findings) == (0, [])


def test_clean_example_trains() -> None:
    """The clean script is a real training script: it runs to the end on random data."""
    result = subprocess.run([sys.executable, str(EXAMPLES / "clean_cnn.py")], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "epoch 1: accuracy" in result.stdout
