"""The result cache: where it lives, what invalidates it, and that damage or concurrency never hurts.

Whether a result came from the cache is observed without timing: the test rule USR300 reports the
id of the process that checked the file, so a cached finding names an earlier process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_helpers import bnlint, clean_env, git, user_rules, write

from bnlint import __version__

PROBE = "x = 1  # which process?\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    user_rules("rules_pid", tmp_path)
    write(tmp_path, {"bnlint.toml": 'rule-dirs = ["my_rules"]\n', "src/a.py": PROBE, "src/b.py": PROBE + "model.eval\n"})
    return tmp_path


def _pids(cwd: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """Path -> the process id that checked it, from a run's JSON output."""
    result = bnlint("check", "--output-format", "json", *args, cwd=cwd, env=env)
    assert result.returncode == 1, result.stderr
    return {f["path"]: f["message"].split()[-1] for f in json.loads(result.stdout) if f["code"] == "USR300"}


def _entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("v*/*/*.json"))


def test_results_are_cached_at_the_project_root_and_ignored_by_git(project: Path) -> None:
    git("init", "-q", ".", cwd=project)
    first = _pids(project / "src")
    assert _pids(project / "src") == first
    cache = project / ".bnlint_cache"
    assert (cache / f"v{__version__}").is_dir()
    assert (cache / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    status = git("status", "--porcelain", "--untracked-files=all", cwd=project)
    assert "?? src/a.py" in status and ".bnlint_cache" not in status


def test_the_key_covers_content_configuration_and_rules(project: Path) -> None:
    first = _pids(project)
    # Content: the changed file is checked again, the other one is not.
    write(project, {"src/a.py": PROBE + "y = 2\n"})
    second = _pids(project)
    assert second["src/b.py"] == first["src/b.py"] and second["src/a.py"] != first["src/a.py"]
    # Configuration.
    write(project, {"bnlint.toml": 'rule-dirs = ["my_rules"]\nallow-zero-init = ["lora_*"]\n'})
    third = _pids(project)
    assert third["src/b.py"] != second["src/b.py"]
    # Command-line selection.
    fourth = _pids(project, "--ignore", "BNL203")
    assert fourth["src/b.py"] != third["src/b.py"]
    # The rules: editing a rule file invalidates every result.
    rule = project / "my_rules" / "process_id.py"
    rule.write_text(rule.read_text() + "\n# edited\n")
    fifth = _pids(project)
    assert set(fifth.values()).isdisjoint(third.values())


def test_no_cache_neither_reads_nor_writes(project: Path) -> None:
    _pids(project, "--no-cache")
    assert not (project / ".bnlint_cache").exists()
    cached = _pids(project)
    assert _pids(project) == cached
    assert _pids(project, "--no-cache") != cached


def test_cache_dir_environment_variable(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    elsewhere = tmp_path_factory.mktemp("cache") / "nested" / "bnlint"
    env = {"BNLINT_CACHE_DIR": str(elsewhere)}
    first = _pids(project, env=env)
    assert _pids(project, env=env) == first
    assert not (project / ".bnlint_cache").exists()
    assert _entries(elsewhere)


DAMAGES = [b"", b"{", b"\x00\xff garbage", b"[]", b'{"findings": 3}', b'{"findings": [{"code": "BNL203"}]}', b'{"rules": 1}']


def test_a_corrupted_entry_is_rebuilt(project: Path) -> None:
    expected = bnlint("check", "--no-cache", "--output-format", "json", cwd=project).stdout
    _pids(project)
    for damage in DAMAGES:
        entries = _entries(project / ".bnlint_cache")
        assert len(entries) >= 4  # the rule catalog, the stat index and one result per file
        for entry in entries:
            entry.write_bytes(damage)
        result = bnlint("check", "--output-format", "json", cwd=project)
        assert result.returncode == 1, result.stderr
        assert [f["code"] for f in json.loads(result.stdout)] == [f["code"] for f in json.loads(expected)], damage
        for entry in _entries(project / ".bnlint_cache"):
            assert isinstance(json.loads(entry.read_bytes()), dict), damage


def test_an_unusable_cache_folder_is_not_an_error(project: Path) -> None:
    blocker = project / "not_a_folder"
    blocker.write_text("")
    result = bnlint("check", cwd=project, env={"BNLINT_CACHE_DIR": str(blocker)})
    assert result.returncode == 1 and result.stderr == ""


def test_concurrent_runs_do_not_corrupt_the_cache(tmp_path: Path) -> None:
    files = {f"pkg/m{i:02}.py": "import torch\n" + "x = 1\n" * i + "model.eval\n" for i in range(40)}
    files.update({f"pkg/broken{i}.py": "def f(:\n" for i in range(5)})
    write(tmp_path, files)
    expected = bnlint("check", "--no-cache", cwd=tmp_path).stdout
    command = [sys.executable, "-m", "bnlint", "check", "--jobs", "1"]
    runs = [
        subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env())
        for _ in range(4)
    ]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [(run.returncode, out, err) for run, (out, err) in zip(runs, outputs)] == [(1, expected, "")] * 4
    for entry in _entries(tmp_path / ".bnlint_cache"):
        assert isinstance(json.loads(entry.read_bytes()), dict)
    assert bnlint("check", cwd=tmp_path).stdout == expected


def test_a_same_size_edit_within_the_timestamp_granularity_is_seen(tmp_path: Path) -> None:
    """On a file system that keeps modification times to the second, an edit that keeps the size
    can leave the stat unchanged; the cache must still see the new content."""
    source = tmp_path / "a.py"
    stamp = time.time_ns()
    source.write_text("model.eval\n")
    os.utime(source, ns=(stamp, stamp))
    assert bnlint("check", cwd=tmp_path).returncode == 1
    source.write_text("x = 1 # ok\n")
    assert len("x = 1 # ok\n") == len("model.eval\n")
    os.utime(source, ns=(stamp, stamp))
    result = bnlint("check", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "All checks passed!\n")
    # An old file is indexed as before: changing it without changing its stat goes unseen,
    # which is what makes unchanged runs cheap.
    old = stamp - 60_000_000_000
    os.utime(source, ns=(old, old))
    assert bnlint("check", cwd=tmp_path).returncode == 0
    source.write_text("model.eval\n")
    os.utime(source, ns=(old, old))
    assert bnlint("check", cwd=tmp_path).returncode == 0
