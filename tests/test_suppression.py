"""`# noqa` comments through the real command line: per line, per code, per file, per cell."""

from __future__ import annotations

import json
from pathlib import Path

from cli_helpers import bnlint, write


def _findings(tmp_path: Path, *paths: str) -> list[tuple[str, int, str]]:
    result = bnlint("check", "--no-cache", "--output-format", "json", *paths, cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr
    return [(f["path"], f["line"], f["code"]) for f in json.loads(result.stdout)]


def test_line_noqa_with_codes_bare_and_other_codes(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "train.py": (
                "model.eval  # noqa: BNL203\n"
                "model.train  # noqa: BNL000, BNL203\n"
                "optimizer.step  # noqa\n"
                "loss.backward  #NOQA:bnl203\n"
                "optimizer.zero_grad  # noqa: BNL000\n"  # another code: still reported
                "scheduler.step\n"
                'text = "model.eval  # noqa"; model.eval\n'  # `# noqa` inside a string is text
            )
        },
    )
    assert _findings(tmp_path, "train.py") == [("train.py", 5, "BNL203"), ("train.py", 6, "BNL203"), ("train.py", 7, "BNL203")]


def test_noqa_on_the_reported_line_of_a_multiline_statement(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "first.py": "(model  # noqa: BNL203\n    .eval)\n",
            "last.py": "(model\n    .eval)  # noqa: BNL203\n",
        },
    )
    # The finding is reported on the statement's first line; only a noqa there suppresses it.
    assert _findings(tmp_path, "first.py", "last.py") == [("last.py", 1, "BNL203")]


def test_file_level_directives(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "skipped.py": "# bnlint: noqa\nmodel.eval\ndef broken(:\n",
            "skipped_later.py": "import torch\n\n  # bnlint: noqa  \nmodel.eval\n",
            # Directives are case-insensitive, as ruff's are.
            "skipped_upper.py": "# BNLINT: NOQA\nmodel.eval\n",
            "one_code.py": "# bnlint: noqa: BNL203\nmodel.eval\nmodel.train\n",
            "other_code.py": "# bnlint: noqa: BNL000\nmodel.eval\n",
            # The directive must be a comment of its own: in a string or after code it is not one.
            "in_string.py": 'HELP = """\n# bnlint: noqa\n"""\nmodel.eval\n',
            "after_code.py": "x = 1  # bnlint: noqa\nmodel.eval\n",
        },
    )
    assert _findings(tmp_path, ".") == [
        ("after_code.py", 2, "BNL203"),
        ("in_string.py", 4, "BNL203"),
        ("other_code.py", 2, "BNL203"),
    ]


def test_noqa_in_notebook_cells(tmp_path: Path) -> None:
    cells = [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": source}
        for source in (
            "model.eval  # noqa: BNL203\nmodel.train\n",
            "optimizer.step  # noqa\n",
            "loss.backward\n",
        )
    ]
    write(tmp_path, {"nb.ipynb": json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})})
    result = bnlint("check", "--no-cache", "--output-format", "json", "nb.ipynb", cwd=tmp_path)
    assert [(f["cell"], f["line"]) for f in json.loads(result.stdout)] == [(1, 2), (3, 1)]


def test_file_noqa_in_a_notebook_cell_skips_the_notebook(tmp_path: Path) -> None:
    cells = [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": source}
        for source in ("model.eval\n", "# bnlint: noqa\n")
    ]
    write(tmp_path, {"nb.ipynb": json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})})
    result = bnlint("check", "--no-cache", "nb.ipynb", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
