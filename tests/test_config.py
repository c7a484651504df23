"""Configuration: where it is found, every key, and errors that name the key and suggest a fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import bnlint, user_rules, write

EVAL = "model.eval\n"  # one BNL203
BROKEN = "def broken(:\n"  # one BNL000


def _codes(cwd: Path, *args: str) -> list[tuple[str, str]]:
    result = bnlint("check", "--no-cache", "--output-format", "json", *args, cwd=cwd)
    assert result.returncode in (0, 1), result.stderr
    return [(f["path"], f["code"]) for f in json.loads(result.stdout)]


def test_nearest_pyproject_is_found_upwards_from_the_first_path(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": '[tool.bnlint]\nselect = ["BNL000"]\n',
            "pkg/pyproject.toml": "[project]\nname = 'pkg'\n",  # no [tool.bnlint]: does not count
            "pkg/sub/a.py": EVAL,
            "pkg/sub/b.py": BROKEN,
            "other/pyproject.toml": '[tool.bnlint]\nselect = ["BNL203"]\n',
            "other/a.py": EVAL,
            "other/b.py": BROKEN,
        },
    )
    assert _codes(tmp_path / "pkg" / "sub") == [("b.py", "BNL000")]
    assert _codes(tmp_path, "pkg/sub/a.py", "pkg/sub/b.py") == [("pkg/sub/b.py", "BNL000")]
    assert _codes(tmp_path, "other") == [("other/a.py", "BNL203")]


def test_bnlint_toml_wins_over_pyproject_in_the_same_folder(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": '[tool.bnlint]\nselect = ["BNL000"]\n',
            "bnlint.toml": 'select = ["BNL203"]\n',
            "a.py": EVAL,
            "b.py": BROKEN,
        },
    )
    assert _codes(tmp_path) == [("a.py", "BNL203")]


def test_config_option_replaces_the_search(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "bnlint.toml": 'select = ["BNL203"]\n',
            "ci/strict.toml": 'select = ["BNL000"]\n',
            "ci/pyproject.toml": '[tool.bnlint]\nignore = ["BNL000"]\n',
            "a.py": EVAL,
            "b.py": BROKEN,
        },
    )
    assert _codes(tmp_path, "--config", "ci/strict.toml") == [("b.py", "BNL000")]
    assert _codes(tmp_path, "--config", "ci/pyproject.toml") == [("a.py", "BNL203")]
    missing = bnlint("check", "--config", "nowhere.toml", cwd=tmp_path)
    assert missing.returncode == 2
    assert "nowhere.toml" in missing.stderr


def test_select_ignore_extend_select_layers(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"bnlint.toml": 'select = ["BNL0"]\nextend-select = ["BNL203"]\nignore = ["BNL2"]\n', "a.py": EVAL, "b.py": BROKEN},
    )
    # In one layer the most specific selector wins: BNL203 (extend-select) beats BNL2 (ignore).
    assert _codes(tmp_path) == [("a.py", "BNL203"), ("b.py", "BNL000")]
    # The command line is a second layer on top of the file.
    assert _codes(tmp_path, "--ignore", "BNL203") == [("b.py", "BNL000")]
    assert _codes(tmp_path, "--select", "BNL2") == [("a.py", "BNL203")]


def test_per_file_ignores(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": (
                "[tool.bnlint.per-file-ignores]\n"
                '"tests/*.py" = ["BNL203"]\n'
                '"scratch_*.py" = ["BNL"]\n'
                '"src/legacy/**" = ["BNL000"]\n'
            ),
            "tests/test_a.py": EVAL,
            "tests/test_b.py": BROKEN,
            "tests/deeper/test_c.py": EVAL,  # "tests/*.py" is anchored: not this one
            "notebooks/scratch_1.py": EVAL,
            "notebooks/scratch_2.py": BROKEN,
            "src/legacy/old/c.py": EVAL,
            "src/legacy/old/d.py": BROKEN,
        },
    )
    expected = [("src/legacy/old/c.py", "BNL203"), ("tests/deeper/test_c.py", "BNL203"), ("tests/test_b.py", "BNL000")]
    assert _codes(tmp_path) == expected
    # Globs are relative to the project root, wherever bnlint runs from.
    assert _codes(tmp_path / "src") == [("legacy/old/c.py", "BNL203")]
    # Also for a file read from stdin under its --stdin-filename.
    result = bnlint("check", "--no-cache", "--stdin-filename", "tests/test_z.py", "-", cwd=tmp_path, stdin=EVAL)
    assert (result.returncode, result.stdout) == (0, "All checks passed!\n")


def test_rule_dirs_loads_a_users_rule_like_a_builtin(tmp_path: Path) -> None:
    user_rules("rules_unsafe", tmp_path, "lint/rules")
    write(
        tmp_path,
        {
            "pyproject.toml": '[tool.bnlint]\nrule-dirs = ["lint/rules"]\n',
            "src/model.py": "import torch.nn as nn\nbn = nn.BatchNorm2d(8, momentum=0.99)\n",
        },
    )
    result = bnlint("check", "--no-cache", cwd=tmp_path / "src")
    assert result.returncode == 1, result.stderr
    # The user's rule runs beside the built-in one that knows the same mistake (BNL104).
    assert "model.py:2:33: USR104 momentum 0.99 follows the Keras convention" in result.stdout.splitlines()
    listing = bnlint("rules", cwd=tmp_path).stdout
    assert "USR104  keras-momentum            warning   on       unsafe" in listing.splitlines()
    page = bnlint("rule", "USR104", cwd=tmp_path)
    assert page.returncode == 0
    assert "## Why is this bad?" in page.stdout and "Keras convention" in page.stdout
    assert _codes(tmp_path, "--ignore", "USR") == [("src/model.py", "BNL104")]
    assert _codes(tmp_path, "--select", "USR104") == [("src/model.py", "USR104")]


def test_allow_zero_init_reaches_the_rules(tmp_path: Path) -> None:
    user_rules("rules_options", tmp_path)
    source = "def reset(self):\n    zero_init(self.lora_B)\n    zero_init(self.proj)\n"
    write(tmp_path, {"bnlint.toml": 'rule-dirs = ["my_rules"]\n', "a.py": source})
    assert _codes(tmp_path) == [("a.py", "USR001"), ("a.py", "USR001")]
    write(tmp_path, {"bnlint.toml": 'rule-dirs = ["my_rules"]\nallow-zero-init = ["lora_*"]\n'})
    result = bnlint("check", "--output-format", "json", cwd=tmp_path)  # with the cache: the option is in its key
    assert [(f["line"], f["message"]) for f in json.loads(result.stdout)] == [(3, "`proj` is zero-initialised")]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        pytest.param(
            {"pyproject.toml": '[tool.bnlint]\nselec = ["BNL"]\n'},
            "pyproject.toml [tool.bnlint]: unknown key 'selec'; did you mean 'select'?",
            id="unknown-key",
        ),
        pytest.param(
            {"bnlint.toml": 'per-file-ignore = {"a.py" = ["BNL203"]}\n'},
            "bnlint.toml: unknown key 'per-file-ignore'; did you mean 'per-file-ignores'?",
            id="unknown-key-bnlint-toml",
        ),
        pytest.param(
            {"bnlint.toml": 'select = ["BNL23"]\n'},
            "bnlint.toml: unknown rule selector 'BNL23'; did you mean 'BNL203'?",
            id="unknown-code",
        ),
        pytest.param(
            {"bnlint.toml": 'ignore = ["BNL2O3"]\n'},
            "unknown rule selector 'BNL2O3'; did you mean 'BNL203'?",
            id="unknown-ignored-code",
        ),
        pytest.param(
            {"bnlint.toml": '[per-file-ignores]\n"a.py" = ["BNL230"]\n'},
            "per-file-ignores 'a.py': unknown rule selector 'BNL230'; did you mean 'BNL203'?",
            id="unknown-per-file-code",
        ),
        pytest.param(
            {"bnlint.toml": 'select = "BNL203"\n'},
            "bnlint.toml: 'select' must be a list of strings, not 'BNL203'",
            id="wrong-type",
        ),
        pytest.param({"bnlint.toml": "select = [\n"}, "bnlint.toml: invalid TOML", id="invalid-toml"),
        pytest.param(
            {"bnlint.toml": 'rule-dirs = ["nowhere"]\n'}, "rule folder", id="missing-rule-folder"
        ),
        pytest.param(
            {"bnlint.toml": 'rule-dirs = ["r"]\n', "r/broken.py": "def (:\n"},
            "cannot load rule file",
            id="rule-file-does-not-import",
        ),
        pytest.param(
            {
                "bnlint.toml": 'rule-dirs = ["r"]\n',
                "r/nodoc.py": (
                    "from bnlint.rule import Rule\nfrom bnlint.findings import Severity\n"
                    "class NoDoc(Rule):\n    code = 'USR002'\n    name = 'no-doc'\n"
                    "    severity = Severity.ERROR\n    message = 'x'\n"
                ),
            },
            "documentation lacks",
            id="rule-without-documentation",
        ),
    ],
)
def test_bad_configuration_exits_2_with_a_message(tmp_path: Path, files: dict[str, str], message: str) -> None:
    write(tmp_path, {"a.py": "model.eval\n", **files})
    result = bnlint("check", "a.py", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("bnlint: error: ")
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr


def test_a_pyproject_given_with_config_whose_tool_is_not_a_table(tmp_path: Path) -> None:
    write(tmp_path, {"ci/pyproject.toml": "tool = 1\n", "a.py": EVAL})
    result = bnlint("check", "--config", "ci/pyproject.toml", "a.py", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.endswith("ci/pyproject.toml: 'tool' must be a table\n")
    assert "Traceback" not in result.stderr


def test_a_crashing_rule_is_an_internal_error_that_names_the_file(tmp_path: Path) -> None:
    user_rules("rules_crash", tmp_path)
    write(tmp_path, {"bnlint.toml": 'rule-dirs = ["my_rules"]\n', "a_crash.py": "boom()\n", "b.py": "model.eval\n"})
    result = bnlint("check", "--no-cache", cwd=tmp_path)
    assert result.returncode == 2
    # The other file is still checked and reported; the summary does not claim success.
    assert result.stdout.splitlines() == [
        "b.py:1:1: BNL203 [*] `model.eval` is looked up but never called; add `()`",
        "Found 1 finding (1 fixable with --fix). 1 file could not be checked (internal error).",
    ]
    assert "internal error while checking a_crash.py" in result.stderr
    assert "RuntimeError: the rule exploded" in result.stderr
    assert "please report it" in result.stderr
    alone = bnlint("check", "--no-cache", "a_crash.py", cwd=tmp_path)
    assert (alone.returncode, alone.stdout) == (2, "1 file could not be checked (internal error).\n")
