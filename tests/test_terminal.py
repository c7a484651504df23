"""Terminal manners: colour only on a TTY (a real pseudo-terminal here), NO_COLOR, --quiet."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import bnlint, clean_env, write

ESC = "\x1b["


def _on_a_tty(cwd: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run bnlint with stdout and stderr on a pseudo-terminal; return its exit code and what it printed."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "bnlint", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env=clean_env({"TERM": "xterm-256color", **(env or {})}),
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the terminal's other side is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return process.wait(timeout=300), b"".join(chunks).decode().replace("\r\n", "\n")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path, {"a.py": "model.eval\n", "b.py": "def f(:\n"})
    return tmp_path


def test_colour_on_a_terminal(project: Path) -> None:
    status, output = _on_a_tty(project, "check", "--no-cache")
    assert status == 1
    assert ESC in output
    lines = output.splitlines()
    assert ESC in lines[0] and "BNL203" in lines[0]
    assert output.count("\n") == 3


def test_no_colour_with_no_color_or_without_a_terminal(project: Path) -> None:
    status, output = _on_a_tty(project, "check", "--no-cache", env={"NO_COLOR": "1"})
    assert status == 1
    assert ESC not in output
    assert output.splitlines()[0] == "a.py:1:1: BNL203 [*] `model.eval` is looked up but never called; add `()`"
    piped = bnlint("check", "--no-cache", cwd=project)
    assert ESC not in piped.stdout + piped.stderr
    assert piped.stdout == output


def test_machine_formats_are_never_coloured(project: Path) -> None:
    status, output = _on_a_tty(project, "check", "--no-cache", "--output-format", "json")
    assert status == 1
    assert ESC not in output
    assert [f["code"] for f in json.loads(output)] == ["BNL203", "BNL000"]


def test_quiet_prints_only_findings(project: Path) -> None:
    result = bnlint("check", "--no-cache", "--quiet", cwd=project)
    assert (result.returncode, result.stderr) == (1, "")
    assert result.stdout.splitlines() == [
        "a.py:1:1: BNL203 [*] `model.eval` is looked up but never called; add `()`",
        "b.py:1:7: BNL000 cannot parse the file: invalid syntax",
    ]
    clean = bnlint("check", "--no-cache", "-q", "--select", "BNL000", "a.py", cwd=project)
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, "", "")
    fixed = bnlint("check", "--quiet", "--fix", "a.py", cwd=project)
    assert (fixed.returncode, fixed.stdout, fixed.stderr) == (0, "", "")
    assert (project / "a.py").read_text() == "model.eval()\n"
