"""The import boundary: `import bnlint` and `bnlint check` never load torch or lightning."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cli_helpers import clean_env, write

HEAVY = ("torch", "lightning", "pytorch_lightning", "numpy", "matplotlib")

# Run the real command line in this interpreter, then report which top-level packages it loaded.
# os._exit skips atexit handlers, so a module imported during interpreter shutdown cannot hide.
PROBE = """
import json, os, runpy, sys
sys.argv = ["bnlint", "check", *sys.argv[1:]]
try:
    runpy.run_module("bnlint", run_name="__main__")
except SystemExit as exit:
    code = exit.code
sys.stdout.flush()
print(json.dumps({"exit": code, "modules": sorted({name.split(".")[0] for name in sys.modules})}), file=sys.stderr)
os._exit(0)
"""


def _loaded(code: str, *args: str, cwd: Path) -> tuple[dict, str]:
    result = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True, env=clean_env(), timeout=300
    )
    report = json.loads(result.stderr.strip().splitlines()[-1])
    return report, result.stdout


def test_import_bnlint_is_light(tmp_path: Path) -> None:
    report, _ = _loaded(
        "import json, sys, bnlint, bnlint.cli, bnlint.engine\n"
        "print(json.dumps({'exit': 0, 'modules': sorted({n.split('.')[0] for n in sys.modules})}), file=sys.stderr)",
        cwd=tmp_path,
    )
    assert "bnlint" in report["modules"] and "libcst" in report["modules"]
    assert not set(HEAVY) & set(report["modules"])


def test_bnlint_check_is_light(tmp_path: Path) -> None:
    notebook = {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "source": "import torch\nmodel.eval\n"}]}
    write(
        tmp_path,
        {
            "train.py": "import torch\nimport lightning as L\nmodel = torch.nn.Linear(2, 2)\nmodel.eval\n",
            "nb.ipynb": json.dumps(notebook),
        },
    )
    for args in (["--no-cache", "--jobs", "1", "."], ["--fix", "."]):
        report, stdout = _loaded(PROBE, *args, cwd=tmp_path)
        assert report["exit"] == 0 if "--fix" in args else 1, stdout
        assert "libcst" in report["modules"]  # the files were really parsed, in this process
        assert not set(HEAVY) & set(report["modules"]), (args, report["modules"])
    assert (tmp_path / "train.py").read_text().endswith("model.eval()\n")
    # A run answered entirely by the cache does not even import libcst.
    report, stdout = _loaded(PROBE, ".", cwd=tmp_path)
    assert (report["exit"], stdout) == (0, "All checks passed!\n")
    assert not {"libcst", *HEAVY} & set(report["modules"])


def test_a_file_no_rule_can_fire_on_is_checked_without_libcst(tmp_path: Path) -> None:
    """Without any rule's trigger in its text, a file only needs Python's own syntax check."""
    write(tmp_path, {"first.py": "x = 1\n", "util.py": "def add(a, b):\n    return a + b\n", "broken.py": "def f(:\n"})
    _loaded(PROBE, "first.py", cwd=tmp_path)  # fills the cache with the rules' metadata
    report, stdout = _loaded(PROBE, "util.py", cwd=tmp_path)  # util.py itself is not in the cache
    assert (report["exit"], stdout) == (0, "All checks passed!\n")
    assert "libcst" not in report["modules"]
    # A file Python rejects still goes to the engine, which reports where.
    report, stdout = _loaded(PROBE, "--no-cache", "broken.py", cwd=tmp_path)
    assert report["exit"] == 1 and stdout.startswith("broken.py:1:7: BNL000"), stdout


def test_syntax_newer_than_this_python_is_left_to_libcst(tmp_path: Path) -> None:
    """PEP 695 generics parse with libcst on every supported Python, even where `ast` refuses them."""
    write(tmp_path, {"generic.py": "def first[T](items: list[T]) -> T:\n    return items[0]\n"})
    report, stdout = _loaded(PROBE, "--no-cache", "generic.py", cwd=tmp_path)
    assert (report["exit"], stdout) == (0, "All checks passed!\n")
