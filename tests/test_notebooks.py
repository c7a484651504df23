"""Jupyter notebooks: code cells linted together, magics masked, findings and fixes per cell."""

from __future__ import annotations

import json
import os
from pathlib import Path

from cli_helpers import bnlint, write


def notebook(*sources: str | list[str], kinds: tuple[str, ...] = ()) -> str:
    """A notebook in nbformat's own layout (indent 1), one cell per source."""
    cells = []
    for index, source in enumerate(sources):
        kind = kinds[index] if index < len(kinds) else "code"
        cell: dict[str, object] = {"cell_type": kind, "metadata": {}, "source": source}
        if kind == "code":
            cell.update({"execution_count": None, "outputs": []})
        cells.append(cell)
    document = {"cells": cells, "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def _findings(cwd: Path, *args: str) -> list[dict]:
    result = bnlint("check", "--no-cache", "--output-format", "json", *args, cwd=cwd)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def test_code_cells_are_linted_and_magics_do_not_break_parsing(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "nb.ipynb": notebook(
                "# Evaluation\nmodel.eval\n",  # markdown: not code
                ["%matplotlib inline\n", "!pip install torch\n", "import torch\n", "files = !ls\n", "model?\n"],
                ["%%time\n", "for batch in loader:\n", "    %time step(batch)\n", "    optimizer.zero_grad\n"],
                "%%bash\nmodel.eval\n",  # a shell cell is not Python
                "??model\nmodel.eval?\nmodel.train",
                kinds=("markdown",),
            )
        },
    )
    findings = _findings(tmp_path)
    assert [(f["cell"], f["line"], f["column"], f["code"]) for f in findings] == [(3, 4, 5, "BNL203"), (5, 3, 1, "BNL203")]
    assert all(f["path"] == "nb.ipynb" for f in findings)



def test_percent_and_wildcard_help_seen_in_real_notebooks(tmp_path: Path) -> None:
    """A `% (...)` line continuing a formatted print is Python, not a magic; `torch.*Tensor?` is help."""
    cell = [
        "print('epoch %d, loss %.4f'\n",
        "      % (epoch + 1, loss))\n",
        'text = """\n',
        "%not a magic inside a string\n",
        '"""\n',
        "model.eval\n",
    ]
    write(tmp_path, {"nb.ipynb": notebook(cell, "torch.*Tensor?\n")})
    assert [(f["cell"], f["line"], f["code"]) for f in _findings(tmp_path)] == [(1, 6, "BNL203")]

def test_a_cell_that_does_not_parse_is_bnl000_for_that_cell_only(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"nb.ipynb": notebook("import torch\n", "def broken(:\n    pass\n", "model.eval\n", "x = (\n"), "b.py": "model.train\n"},
    )
    result = bnlint("check", "--no-cache", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "b.py:1:1: BNL203 [*] `model.train` is looked up but never called; add `()`",
        "nb.ipynb:cell 2:1:12: BNL000 cannot parse the file: invalid syntax",
        "nb.ipynb:cell 3:1:1: BNL203 [*] `model.eval` is looked up but never called; add `()`",
        "nb.ipynb:cell 4:1:5: BNL000 cannot parse the file: '(' was never closed",
        "Found 4 findings (2 fixable with --fix).",
    ]
    findings = _findings(tmp_path, "nb.ipynb")
    assert [(f["cell"], f["line"], f["code"]) for f in findings] == [(2, 1, "BNL000"), (3, 1, "BNL203"), (4, 1, "BNL000")]
    assert list(findings[1]) == [
        "code",
        "name",
        "severity",
        "message",
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "fix",
        "cell",
    ]


def test_malformed_notebooks_are_bnl000(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "ints.ipynb": json.dumps({"cells": [{"cell_type": "code", "source": [1, 2]}]}),
            "list.ipynb": "[]\n",
            "nosource.ipynb": json.dumps({"cells": [{"cell_type": "code"}]}),
            "good.ipynb": notebook("model.eval\n"),
        },
    )
    result = bnlint("check", "--no-cache", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.splitlines()[:-1] == [
        "good.ipynb:cell 1:1:1: BNL203 [*] `model.eval` is looked up but never called; add `()`",
        "ints.ipynb:1:1: BNL000 cannot parse the file: cell 1 has a malformed `source`",
        "list.ipynb:1:1: BNL000 cannot parse the file: not a Jupyter notebook in nbformat 4 (no `cells` list)",
        "nosource.ipynb:1:1: BNL000 cannot parse the file: cell 1 has a malformed `source`",
    ]


def test_fix_changes_only_the_fixed_cells(tmp_path: Path) -> None:
    # A hand-laid-out notebook: unusual key order, 2-space indent, outputs, non-ASCII text,
    # a string source and list sources; only two cell sources may change, byte for byte.
    original = (
        "{\n"
        '  "nbformat": 4,\n'
        '  "metadata": {"language_info": {"name": "python"}, "zeta": [1, 2], "alpha": "é"},\n'
        '  "cells": [\n'
        "    {\n"
        '      "source": [\n'
        '        "import torch\\n",\n'
        '        "# café: naïve comment\\n",\n'
        '        "model.eval"\n'
        "      ],\n"
        '      "outputs": [{"output_type": "stream", "name": "stdout", "text": ["model.eval\\n"]}],\n'
        '      "cell_type": "code",\n'
        '      "metadata": {"tags": ["keep"]},\n'
        '      "execution_count": 3\n'
        "    },\n"
        '    {"cell_type": "markdown", "metadata": {}, "source": "model.eval"},\n'
        '    {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": null,\n'
        '     "source": "x = 1  # untouched\\n"},\n'
        '    {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": null,\n'
        '     "source": "for b in loader:\\n    optimizer.zero_grad\\n    loss.backward\\n"}\n'
        "  ],\n"
        '  "nbformat_minor": 5\n'
        "}"
    )
    expected = original.replace('"model.eval"\n      ],', '"model.eval()"\n      ],').replace(
        "optimizer.zero_grad\\n    loss.backward\\n", "optimizer.zero_grad()\\n    loss.backward()\\n"
    )
    assert expected != original
    write(tmp_path, {"nb.ipynb": original.encode("utf-8"), "untouched.ipynb": notebook("x = 1\n")})
    untouched_mtime = os.stat(tmp_path / "untouched.ipynb").st_mtime_ns
    result = bnlint("check", "--fix", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "Found 3 findings (3 fixed, 0 remaining).\n"
    assert (tmp_path / "nb.ipynb").read_bytes() == expected.encode("utf-8")
    assert os.stat(tmp_path / "untouched.ipynb").st_mtime_ns == untouched_mtime
    # A second run finds nothing to fix and writes nothing.
    fixed_mtime = os.stat(tmp_path / "nb.ipynb").st_mtime_ns
    again = bnlint("check", "--fix", cwd=tmp_path)
    assert (again.returncode, again.stdout) == (0, "All checks passed!\n")
    assert os.stat(tmp_path / "nb.ipynb").st_mtime_ns == fixed_mtime


def test_fix_keeps_nbformat_layout_of_list_sources(tmp_path: Path) -> None:
    original = notebook(["import torch\n", "model.eval\n", "y = 2"], ["%%time\n", "model.train\n"])
    write(tmp_path, {"nb.ipynb": original})
    result = bnlint("check", "--fix", "nb.ipynb", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert (tmp_path / "nb.ipynb").read_text(encoding="utf-8") == notebook(
        ["import torch\n", "model.eval()\n", "y = 2"], ["%%time\n", "model.train()\n"]
    )
