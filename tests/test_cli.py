"""The command line itself: commands, rule selection, stdin, usage errors with suggestions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import bnlint, write

from bnlint import __version__

EVAL = "model.eval\n"
BROKEN = "def f(:\n"


def _codes(cwd: Path, *args: str) -> list[str]:
    result = bnlint("check", "--no-cache", "--output-format", "json", *args, cwd=cwd)
    assert result.returncode in (0, 1), result.stderr
    return [f["code"] for f in json.loads(result.stdout)]


def test_version(tmp_path: Path) -> None:
    result = bnlint("--version", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, f"bnlint, version {__version__}\n")


def test_rules_lists_every_rule(tmp_path: Path) -> None:
    result = bnlint("rules", cwd=tmp_path)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["code", "name", "severity", "default", "fix"]
    assert "BNL000  syntax-error              error     on       -" in lines
    assert "BNL203  mode-call-without-parens  error     on       safe" in lines
    listed = json.loads(bnlint("rules", "--output-format", "json", cwd=tmp_path).stdout)
    by_code = {rule["code"]: rule for rule in listed}
    assert by_code["BNL203"]["fix"] == "safe" and by_code["BNL203"]["default"] is True
    assert by_code["BNL000"]["fix"] is None


def test_rule_prints_the_documentation(tmp_path: Path) -> None:
    result = bnlint("rule", "bnl203", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("# BNL203 mode-call-without-parens\n\nseverity: error; default: on; fix: safe\n")
    positions = [result.stdout.index(f"## {section}") for section in ("What it does", "Why is this bad?", "Example", "Use instead", "References")]
    assert positions == sorted(positions)
    # The same text as the generated documentation page.
    page = (Path(__file__).resolve().parent.parent / "docs" / "rules" / "BNL203.md").read_text(encoding="utf-8")
    assert result.stdout.split("\n\n", 2)[2] in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["rule", "BNL230"], "unknown rule code 'BNL230'; did you mean 'BNL203'?"),
        (["check", "--select", "BNL230"], "unknown rule selector 'BNL230'; did you mean 'BNL203'?"),
        (["check", "--ignore", "BNL9"], "unknown rule selector 'BNL9'"),
        (["check", "--extend-select", "BNX"], "unknown rule selector 'BNX'"),
        (["check", "--selct", "BNL2"], "No such option '--selct'"),
        (["check", "--selct", "BNL2"], "'--select'?"),
        (["chek"], "No such command 'chek'. Did you mean 'check'?"),
        (["check", "--output-format", "xml"], "'xml' is not one of 'text', 'json', 'sarif', 'github'"),
        (["check", "--jobs", "zero"], "'zero' is not a valid integer"),
        (["check", "-", "a.py"], "`-` (stdin) cannot be combined with other paths"),
        (["check", "nowhere.py"], "no such file or folder: nowhere.py"),
    ],
)
def test_usage_errors_exit_2_with_a_message_naming_the_culprit(tmp_path: Path, args: list[str], message: str) -> None:
    write(tmp_path, {"a.py": EVAL})
    result = bnlint(*args, cwd=tmp_path, stdin="")
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_select_ignore_extend_select_with_codes_and_prefixes(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": EVAL, "b.py": BROKEN})
    assert _codes(tmp_path) == ["BNL203", "BNL000"]
    assert _codes(tmp_path, "--select", "BNL203") == ["BNL203"]
    assert _codes(tmp_path, "--select", "BNL0") == ["BNL000"]
    assert _codes(tmp_path, "--select", "bnl2,BNL0") == ["BNL203", "BNL000"]
    assert _codes(tmp_path, "--select", "BNL2", "--select", "BNL000") == ["BNL203", "BNL000"]
    assert _codes(tmp_path, "--select", "ALL", "--ignore", "BNL2") == ["BNL000"]
    assert _codes(tmp_path, "--ignore", "BNL") == []
    assert _codes(tmp_path, "--ignore", "BNL000,BNL203") == []
    # The most specific selector wins: BNL203 beats BNL.
    assert _codes(tmp_path, "--ignore", "BNL", "--extend-select", "BNL203") == ["BNL203"]
    assert _codes(tmp_path, "--select", "BNL000", "--extend-select", "BNL2") == ["BNL203", "BNL000"]


def test_default_path_is_the_working_directory_and_exit_zero(tmp_path: Path) -> None:
    write(tmp_path, {"pkg/a.py": EVAL})
    result = bnlint("check", "--no-cache", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("pkg/a.py:1:1: BNL203")
    assert bnlint("check", "--no-cache", "--exit-zero", cwd=tmp_path).returncode == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = bnlint("check", cwd=empty)
    assert (nothing.returncode, nothing.stdout) == (0, "All checks passed!\n")


def test_stdin(tmp_path: Path) -> None:
    write(tmp_path, {"pkg/bnlint.toml": 'select = ["BNL000"]\n'})
    plain = bnlint("check", "-", cwd=tmp_path, stdin=EVAL)
    assert (plain.returncode, plain.stdout.splitlines()[0]) == (1, "-:1:1: BNL203 [*] `model.eval` is looked up but never called; add `()`")
    named = bnlint("check", "--stdin-filename", "src/train.py", "-", cwd=tmp_path, stdin=EVAL)
    assert named.stdout.splitlines()[0].startswith("src/train.py:1:1: BNL203")
    # The configuration is searched from the stdin file name.
    configured = bnlint("check", "--stdin-filename", "pkg/train.py", "-", cwd=tmp_path, stdin=EVAL + BROKEN)
    assert configured.stdout.splitlines()[0] == "pkg/train.py:2:7: BNL000 cannot parse the file: invalid syntax"
    # A notebook by its name.
    notebook = json.dumps({"cells": [{"cell_type": "code", "source": ["%time x = 1\n", "model.eval"], "metadata": {}}]})
    cells = bnlint("check", "--stdin-filename", "nb.ipynb", "-", cwd=tmp_path, stdin=notebook)
    assert cells.stdout.splitlines()[0].startswith("nb.ipynb:cell 1:2:1: BNL203")
    # As in ruff, --stdin-filename alone reads stdin; other paths are ignored with a warning.
    alone = bnlint("check", "--stdin-filename", "x.py", cwd=tmp_path, stdin=EVAL)
    assert alone.stdout.splitlines()[0].startswith("x.py:1:1: BNL203")
    write(tmp_path, {"other.py": BROKEN})
    ignored = bnlint("check", "--stdin-filename", "x.py", "other.py", cwd=tmp_path, stdin=EVAL)
    assert ignored.stderr == "bnlint: warning: ignoring other.py in favour of standard input\n"
    assert "other.py" not in ignored.stdout


def test_force_exclude_applies_to_the_stdin_filename(tmp_path: Path) -> None:
    write(tmp_path, {".gitignore": "generated/\n", "bnlint.toml": 'extend-exclude = ["legacy_*.py"]\n'})
    for name in ("generated/model.py", "legacy_train.py"):
        checked = bnlint("check", "--stdin-filename", name, "-", cwd=tmp_path, stdin=EVAL)
        assert checked.returncode == 1
        excluded = bnlint("check", "--force-exclude", "--stdin-filename", name, "-", cwd=tmp_path, stdin=EVAL)
        assert (excluded.returncode, excluded.stdout) == (0, "")
        # With --fix an excluded source is echoed unchanged, so an editor keeps its text.
        echoed = bnlint("check", "--force-exclude", "--fix", "--stdin-filename", name, "-", cwd=tmp_path, stdin=EVAL)
        assert (echoed.returncode, echoed.stdout) == (0, EVAL)
