"""Shared helpers: run the real `bnlint` command line in a subprocess, write projects, run git."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

DATA = Path(__file__).parent / "data"  # test rule folders, copied into projects as a user's own rules


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a user's shell, minus what would change bnlint's output."""
    env = {key: value for key, value in os.environ.items() if key not in ("NO_COLOR", "BNLINT_CACHE_DIR")}
    env.update(
        {
            "GIT_AUTHOR_NAME": "bnlint tests",
            "GIT_AUTHOR_EMAIL": "tests@example.invalid",
            "GIT_COMMITTER_NAME": "bnlint tests",
            "GIT_COMMITTER_EMAIL": "tests@example.invalid",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
        }
    )
    env.update(extra or {})
    return env


def bnlint(
    *args: str, cwd: Path, stdin: str | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m bnlint ARGS` in `cwd`, as a user runs it; text output."""
    return subprocess.run(
        [sys.executable, "-m", "bnlint", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=clean_env(env),
        timeout=120,
    )


def git(*args: str, cwd: Path) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=clean_env(), check=True)
    return result.stdout


def write(root: Path, files: Mapping[str, str | bytes]) -> None:
    """Create `files` (relative path to text or bytes) below `root`."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")


def user_rules(name: str, project: Path, folder: str = "my_rules") -> None:
    """Copy the test rule folder `tests/data/<name>` into `project/<folder>`, as a user's own rules."""
    shutil.copytree(DATA / name, project / folder)
