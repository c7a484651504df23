"""`--fix`, `--unsafe-fixes` and `--diff`: what is written, what is not, and what is said."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cli_helpers import bnlint, user_rules, write

TRAIN = "for batch in loader:\n    optimizer.zero_grad\n    loss.backward\n    optimizer.step\n"
TRAIN_FIXED = "for batch in loader:\n    optimizer.zero_grad()\n    loss.backward()\n    optimizer.step()\n"
MOMENTUM = "import torch.nn as nn\nbn = nn.BatchNorm2d(8, momentum=0.9)\nmodel.eval\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with the unsafe-fix test rule (USR104) in its rule-dirs."""
    user_rules("rules_unsafe", tmp_path)
    # The built-in BNL104 knows the same mistake; it is ignored so that the user rule's fix is the one tested.
    write(tmp_path, {"bnlint.toml": 'rule-dirs = ["my_rules"]\nignore = ["BNL104"]\n'})
    return tmp_path


def _stamp(path: Path) -> tuple[int, int, int]:
    info = os.stat(path)
    return info.st_mtime_ns, info.st_ino, stat.S_IMODE(info.st_mode)


def test_fix_applies_safe_fixes_and_reports_what_remains(project: Path) -> None:
    write(project, {"train.py": TRAIN, "bn.py": MOMENTUM, "broken.py": "def f(:\n", "clean.py": "x = 1\n"})
    before = {name: _stamp(project / name) for name in ("broken.py", "clean.py")}
    result = bnlint("check", "--fix", cwd=project)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "bn.py:2:33: USR104 momentum 0.9 follows the Keras convention",
        "broken.py:1:7: BNL000 cannot parse the file: invalid syntax",
        "Found 6 findings (4 fixed, 2 remaining).",
    ]
    assert (project / "train.py").read_text() == TRAIN_FIXED
    assert (project / "bn.py").read_text() == MOMENTUM.replace("model.eval", "model.eval()")
    # Files without an applicable fix are never written.
    assert {name: _stamp(project / name) for name in before} == before


def test_unsafe_fixes(project: Path) -> None:
    write(project, {"bn.py": MOMENTUM})
    listed = bnlint("check", "bn.py", cwd=project)
    assert listed.stdout.splitlines()[-1] == "Found 2 findings (1 fixable with --fix; 1 more with --fix --unsafe-fixes)."
    shown = bnlint("check", "--unsafe-fixes", "bn.py", cwd=project)
    assert shown.stdout.splitlines()[0] == "bn.py:2:33: USR104 [*] momentum 0.9 follows the Keras convention"
    result = bnlint("check", "--fix", "--unsafe-fixes", "bn.py", cwd=project)
    assert (result.returncode, result.stdout) == (0, "Found 2 findings (2 fixed, 0 remaining).\n")
    assert (project / "bn.py").read_text() == MOMENTUM.replace("0.9", "0.1").replace("model.eval", "model.eval()")


def test_a_second_fix_changes_nothing(project: Path) -> None:
    write(project, {"train.py": TRAIN})
    assert bnlint("check", "--fix", cwd=project).returncode == 0
    stamp = _stamp(project / "train.py")
    again = bnlint("check", "--fix", "--unsafe-fixes", cwd=project)
    assert (again.returncode, again.stdout) == (0, "All checks passed!\n")
    assert _stamp(project / "train.py") == stamp


def test_writes_are_atomic_and_keep_the_mode_and_encoding(tmp_path: Path) -> None:
    original = b'\xef\xbb\xbf# -*- coding: utf-8 -*-\r\n#!caf\xc3\xa9\r\nmodel.eval\r\n'
    write(tmp_path, {"tool.py": original, "latin.py": b'# coding: latin-1\nname = "caf\xe9"\nmodel.train\n'})
    (tmp_path / "tool.py").chmod(0o751)
    mtime, inode, _ = _stamp(tmp_path / "tool.py")
    assert bnlint("check", "--fix", cwd=tmp_path).returncode == 0
    new_mtime, new_inode, mode = _stamp(tmp_path / "tool.py")
    # Replaced by a new file (a rename over the old one), with the old permissions.
    assert new_inode != inode
    assert mode == 0o751
    assert (tmp_path / "tool.py").read_bytes() == original.replace(b"model.eval", b"model.eval()")
    assert (tmp_path / "latin.py").read_bytes() == b'# coding: latin-1\nname = "caf\xe9"\nmodel.train()\n'
    assert sorted(path.name for path in tmp_path.iterdir()) == [".bnlint_cache", "latin.py", "tool.py"]


def test_a_fix_keeps_lone_carriage_returns(tmp_path: Path) -> None:
    # libcst's code for such a file lacks its last line ending; the fix must not drop it.
    write(tmp_path, {"old_mac.py": b"import torch\rmodel.eval\rmodel.train\r"})
    result = bnlint("check", "--fix", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "Found 2 findings (2 fixed, 0 remaining).\n")
    assert (tmp_path / "old_mac.py").read_bytes() == b"import torch\rmodel.eval()\rmodel.train()\r"


def test_diff_prints_a_unified_diff_and_writes_nothing(project: Path) -> None:
    write(project, {"train.py": TRAIN, "bn.py": MOMENTUM, "latin.py": b'# coding: latin-1\n# caf\xe9\nmodel.eval\n'})
    stamps = {name: _stamp(project / name) for name in ("train.py", "bn.py", "latin.py")}
    result = bnlint("check", "--diff", cwd=project)
    assert result.returncode == 1
    assert result.stdout == (
        "--- bn.py\n+++ bn.py\n@@ -1,3 +1,3 @@\n import torch.nn as nn\n"
        " bn = nn.BatchNorm2d(8, momentum=0.9)\n-model.eval\n+model.eval()\n"
        "--- latin.py\n+++ latin.py\n@@ -1,3 +1,3 @@\n # coding: latin-1\n # café\n-model.eval\n+model.eval()\n"
        "--- train.py\n+++ train.py\n@@ -1,4 +1,4 @@\n for batch in loader:\n"
        "-    optimizer.zero_grad\n-    loss.backward\n-    optimizer.step\n"
        "+    optimizer.zero_grad()\n+    loss.backward()\n+    optimizer.step()\n"
    )
    assert result.stderr == "Would fix 5 findings in 3 files.\n"
    assert {name: _stamp(project / name) for name in stamps} == stamps
    unsafe = bnlint("check", "--diff", "--unsafe-fixes", "bn.py", cwd=project)
    assert "-bn = nn.BatchNorm2d(8, momentum=0.9)\n" in unsafe.stdout
    assert "+bn = nn.BatchNorm2d(8, momentum=0.1)\n" in unsafe.stdout
    quiet = bnlint("check", "--diff", "--quiet", "bn.py", cwd=project)
    assert (quiet.returncode, quiet.stderr) == (1, "")


def test_diff_without_anything_to_fix_exits_0(tmp_path: Path) -> None:
    write(tmp_path, {"broken.py": "def f(:\n", "clean.py": "model.eval()\n"})
    result = bnlint("check", "--diff", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_fix_and_diff_from_stdin(tmp_path: Path) -> None:
    fixed = bnlint("check", "--fix", "--stdin-filename", "train.py", "-", cwd=tmp_path, stdin=TRAIN)
    assert fixed.returncode == 0
    assert fixed.stdout == TRAIN_FIXED  # the fixed source, and nothing else, on stdout
    assert fixed.stderr == "Found 3 findings (3 fixed, 0 remaining).\n"
    assert not (tmp_path / "train.py").exists()
    diff = bnlint("check", "--diff", "--stdin-filename", "train.py", "-", cwd=tmp_path, stdin=TRAIN)
    assert diff.returncode == 1
    assert diff.stdout.startswith("--- train.py\n+++ train.py\n@@ -1,4 +1,4 @@\n")
    # With --fix, stdin that needs no fix is echoed as it came.
    echoed = bnlint("check", "--fix", "-", cwd=tmp_path, stdin="x = 1\n")
    assert (echoed.returncode, echoed.stdout) == (0, "x = 1\n")


@contextmanager
def _read_only(folder: Path) -> Iterator[None]:
    """Make `folder` refuse new files: by its mode, or for root (who ignores modes) with chattr +i."""
    folder.chmod(0o555)
    immutable = False
    try:
        probe = folder / ".probe"
        try:
            probe.touch()
        except PermissionError:
            pass
        else:
            probe.unlink()
            chattr = shutil.which("chattr")
            if chattr is None or subprocess.run([chattr, "+i", str(folder)], capture_output=True).returncode != 0:
                pytest.skip("no way to make a folder read-only for this user")
            immutable = True
        yield
    finally:
        if immutable:
            subprocess.run([shutil.which("chattr") or "chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


def test_a_file_that_cannot_be_written_is_an_error_not_a_crash(tmp_path: Path) -> None:
    write(tmp_path, {"locked/a.py": "model.eval\n", "open/b.py": "model.train\n"})
    with _read_only(tmp_path / "locked"):
        result = bnlint("check", "--fix", "--no-cache", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("bnlint: error: cannot write locked/a.py: ")
    assert result.stderr.endswith("; its fixes were not applied\n")
    assert result.stdout == "Found 2 findings (1 fixed, 1 remaining).\n"
    assert (tmp_path / "locked" / "a.py").read_text() == "model.eval\n"
    assert (tmp_path / "open" / "b.py").read_text() == "model.train()\n"
