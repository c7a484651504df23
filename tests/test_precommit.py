"""The pre-commit hooks of `.pre-commit-hooks.yaml`, run by the real `pre-commit` on real commits.

pre-commit installs a hook repository from a git URL at a revision, so the project's files are
copied into a temporary repository first; building the hook's environment installs bnlint and its
dependencies from PyPI, hence the slow mark.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import clean_env, git, write

ROOT = Path(__file__).resolve().parent.parent


def _hook_repository(target: Path) -> str:
    """Copy the project's files (tracked and not ignored) into a new repository; return its commit."""
    listed = git("ls-files", "--cached", "--others", "--exclude-standard", "-z", cwd=ROOT).split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    git("init", "-q", ".", cwd=target)
    git("add", "-A", cwd=target)
    git("commit", "-q", "-m", "bnlint under test", cwd=target)
    return git("rev-parse", "HEAD", cwd=target).strip()


def _commit(project: Path, env: dict[str, str], *files: str) -> subprocess.CompletedProcess[str]:
    git("add", *files, cwd=project)
    # pre-commit's report goes to git's stderr; read both streams as one.
    return subprocess.run(
        ["git", "commit", "-m", f"add {' '.join(files)}"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        timeout=900,
    )


@pytest.mark.slow
def test_hooks_in_real_commits(tmp_path: Path) -> None:
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    revision = _hook_repository(hooks)
    project = tmp_path / "project"
    project.mkdir()
    git("init", "-q", ".", cwd=project)
    env = clean_env({"PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "PIP_DISABLE_PIP_VERSION_CHECK": "1"})

    def configure(hook_id: str) -> None:
        config = f"repos:\n  - repo: {hooks}\n    rev: {revision}\n    hooks:\n      - id: {hook_id}\n"
        write(project, {".pre-commit-config.yaml": config})
        git("add", ".pre-commit-config.yaml", cwd=project)

    configure("bnlint")
    subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=project, env=env, check=True, capture_output=True)

    # A commit with no Python file: the hooks have nothing to check and the commit goes through.
    write(project, {"README.md": "# demo\n"})
    result = _commit(project, env, "README.md", ".pre-commit-config.yaml")
    assert result.returncode == 0, result.stdout
    assert "(no files to check)Skipped" in result.stdout

    # A staged buggy file (and a notebook) fail the check hook; nothing is changed.
    notebook = {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "source": ["%time x = 1\n", "optimizer.step\n"]}]}
    write(
        project,
        {
            "train.py": "import torch\nmodel = torch.nn.Linear(2, 2)\nmodel.eval\n",
            "explore.ipynb": json.dumps(notebook, indent=1),
            "build/generated.py": "model.eval\n",  # excluded by default: --force-exclude skips it
        },
    )
    result = _commit(project, env, "train.py", "explore.ipynb", "build/generated.py")
    assert result.returncode == 1, result.stdout
    assert "train.py:3:1: BNL203 [*] `model.eval` is looked up but never called; add `()`" in result.stdout
    assert "explore.ipynb:cell 1:2:1: BNL203" in result.stdout
    assert "build/generated.py" not in result.stdout
    assert (project / "train.py").read_text().endswith("model.eval\n")

    # The fix hook repairs the files; pre-commit fails the commit because they changed, and the
    # repaired files then commit cleanly.
    configure("bnlint-fix")
    result = _commit(project, env, "train.py", "explore.ipynb", "build/generated.py")
    assert result.returncode == 1, result.stdout
    assert "files were modified by this hook" in result.stdout
    assert (project / "train.py").read_text().endswith("model.eval()\n")
    assert json.loads((project / "explore.ipynb").read_text())["cells"][0]["source"] == ["%time x = 1\n", "optimizer.step()\n"]
    assert (project / "build" / "generated.py").read_text() == "model.eval\n"
    result = _commit(project, env, "train.py", "explore.ipynb", "build/generated.py")
    assert result.returncode == 0, result.stdout
    assert git("status", "--porcelain", cwd=project) == ""
