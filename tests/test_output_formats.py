"""Output formats exactly as the SPEC fixes them: text, JSON, SARIF 2.1.0, GitHub, statistics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import bnlint, user_rules, write

from bnlint import __version__

JSON_KEYS = ["code", "name", "severity", "message", "path", "line", "column", "end_line", "end_column", "fix"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Findings of every kind: safe fix, unsafe fix (a warning), no fix, a notebook cell."""
    user_rules("rules_unsafe", tmp_path)
    notebook = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Title\n"]},
            {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": ["x = 1\n", "model.train"]},
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    write(
        tmp_path,
        {
            # A fixed selection: the outputs below list exactly these rules, whatever rules bnlint adds.
            "bnlint.toml": 'rule-dirs = ["my_rules"]\nselect = ["BNL000", "BNL203", "USR"]\n',
            "src/train.py": "import torch.nn as nn\nbn = nn.BatchNorm2d(8, momentum=0.9)\nmodel.eval\n",
            "src/broken.py": "def f(:\n",
            "nb.ipynb": json.dumps(notebook, indent=1),
        },
    )
    return tmp_path


def _run(project: Path, *args: str) -> str:
    result = bnlint("check", "--no-cache", *args, cwd=project)
    assert result.returncode == 1, result.stderr
    return result.stdout


def test_text(project: Path) -> None:
    assert _run(project) == (
        "nb.ipynb:cell 2:2:1: BNL203 [*] `model.train` is looked up but never called; add `()`\n"
        "src/broken.py:1:7: BNL000 cannot parse the file: invalid syntax\n"
        "src/train.py:2:33: USR104 momentum 0.9 follows the Keras convention\n"
        "src/train.py:3:1: BNL203 [*] `model.eval` is looked up but never called; add `()`\n"
        "Found 4 findings (2 fixable with --fix; 1 more with --fix --unsafe-fixes).\n"
    )
    assert _run(project, "--quiet").splitlines()[-1].startswith("src/train.py:3:1: BNL203")


def test_json(project: Path) -> None:
    findings = json.loads(_run(project, "--output-format", "json"))
    assert [list(f) for f in findings] == [[*JSON_KEYS, "cell"], JSON_KEYS, JSON_KEYS, JSON_KEYS]
    cell, broken, momentum, evaluate = findings
    assert cell["path"] == "nb.ipynb" and (cell["cell"], cell["line"], cell["column"]) == (2, 2, 1)
    assert broken == {
        "code": "BNL000",
        "name": "syntax-error",
        "severity": "error",
        "message": "cannot parse the file: invalid syntax",
        "path": "src/broken.py",
        "line": 1,
        "column": 7,
        "end_line": 1,
        "end_column": 7,
        "fix": None,
    }
    assert momentum["severity"] == "warning"
    assert momentum["fix"] == {
        "applicability": "unsafe",
        "message": "Use `1 - momentum`",
        "edits": [{"line": 2, "column": 35, "end_line": 2, "end_column": 36, "content": "1"}],
    }
    assert (evaluate["line"], evaluate["column"], evaluate["end_line"], evaluate["end_column"]) == (3, 1, 3, 11)
    assert evaluate["fix"] == {
        "applicability": "safe",
        "message": "Add `()`",
        "edits": [{"line": 3, "column": 11, "end_line": 3, "end_column": 11, "content": "()"}],
    }
    clean = bnlint("check", "--no-cache", "--output-format", "json", "--select", "BNL203", "src/broken.py", cwd=project)
    assert (clean.returncode, clean.stdout) == (0, "[]\n")


def test_sarif(project: Path) -> None:
    document = json.loads(_run(project, "--output-format", "sarif"))
    assert document["version"] == "2.1.0"
    assert document["$schema"].endswith("sarif-schema-2.1.0.json")
    [run] = document["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("bnlint", __version__)
    rules = driver["rules"]
    # One reportingDescriptor per selected rule, with its documentation as help.
    assert [rule["id"] for rule in rules] == ["BNL000", "BNL203", "USR104"]
    for rule in rules:
        assert set(rule) >= {"id", "name", "shortDescription", "fullDescription", "help", "defaultConfiguration"}
        assert rule["shortDescription"]["text"]
        assert "## What it does" in rule["help"]["text"] and "## Why is this bad?" in rule["help"]["markdown"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning")
    assert rules[1]["name"] == "mode-call-without-parens"
    results = run["results"]
    assert [(r["ruleId"], r["ruleIndex"], r["level"]) for r in results] == [
        ("BNL203", 1, "error"),
        ("BNL000", 0, "error"),
        ("USR104", 2, "warning"),
        ("BNL203", 1, "error"),
    ]
    for result in results:
        assert result["message"]["text"]
        [location] = result["locations"]
        physical = location["physicalLocation"]
        assert set(physical["region"]) == {"startLine", "startColumn", "endLine", "endColumn"}
        assert all(value >= 1 for value in physical["region"].values())
        assert not physical["artifactLocation"]["uri"].startswith("/")
    notebook, broken, momentum, evaluate = results
    assert notebook["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "nb.ipynb"
    assert notebook["properties"] == {"cell": 2}
    # A fix in cell coordinates would corrupt the notebook's JSON if a SARIF viewer applied it.
    assert "fixes" not in notebook
    assert "fixes" not in broken
    assert evaluate["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "src/train.py"},
        "region": {"startLine": 3, "startColumn": 1, "endLine": 3, "endColumn": 11},
    }
    assert evaluate["fixes"] == [
        {
            "description": {"text": "Add `()`"},
            "artifactChanges": [
                {
                    "artifactLocation": {"uri": "src/train.py"},
                    "replacements": [
                        {
                            "deletedRegion": {"startLine": 3, "startColumn": 11, "endLine": 3, "endColumn": 11},
                            "insertedContent": {"text": "()"},
                        }
                    ],
                }
            ],
        }
    ]
    assert momentum["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"] == {"text": "1"}


def test_github(project: Path) -> None:
    write(project, {"odd, name: 100%.py": "model.eval\n"})
    assert _run(project, "--output-format", "github", "nb.ipynb", "src/train.py", "odd, name: 100%.py") == (
        "::error file=nb.ipynb,line=2,col=1,endLine=2,endColumn=12,title=BNL203::"
        "cell 2:2:1: `model.train` is looked up but never called; add `()`\n"
        "::error file=odd%2C name%3A 100%25.py,line=1,col=1,endLine=1,endColumn=11,title=BNL203::"
        "`model.eval` is looked up but never called; add `()`\n"
        "::error file=src/train.py,line=2,col=33,endLine=2,endColumn=36,title=USR104::"
        "momentum 0.9 follows the Keras convention\n"
        "::error file=src/train.py,line=3,col=1,endLine=3,endColumn=11,title=BNL203::"
        "`model.eval` is looked up but never called; add `()`\n"
    )


def test_statistics(project: Path) -> None:
    write(project, {"more.py": "model.eval\noptimizer.step\n"})
    assert _run(project, "--statistics") == (
        "4\tBNL203\t[*] mode-call-without-parens\n1\tBNL000\t[ ] syntax-error\n1\tUSR104\t[ ] keras-momentum\n"
    )
    assert json.loads(_run(project, "--statistics", "--output-format", "json")) == [
        {"code": "BNL203", "name": "mode-call-without-parens", "count": 4, "fixable": True},
        {"code": "BNL000", "name": "syntax-error", "count": 1, "fixable": False},
        {"code": "USR104", "name": "keras-momentum", "count": 1, "fixable": False},
    ]
    unsafe = _run(project, "--statistics", "--unsafe-fixes")
    assert unsafe.splitlines()[-1] == "1\tUSR104\t[*] keras-momentum"
