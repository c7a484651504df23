"""Which files `bnlint check` lints: recursion, .gitignore, default and configured excludes,
explicit paths and `--force-exclude`, paths printed relative to the working directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import bnlint, git, write

BUGGY = "model.eval\n"  # every file below has exactly one finding, so the output lists the files found


def _checked(cwd: Path, *args: str) -> list[str]:
    result = bnlint("check", "--no-cache", "--output-format", "json", *args, cwd=cwd)
    assert result.returncode in (0, 1), result.stderr
    return [finding["path"] for finding in json.loads(result.stdout)]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with nested .gitignore files, negations, info/exclude and default excludes."""
    git("init", "-q", ".", cwd=tmp_path)
    files = [
        "a.py",
        "nb.ipynb",
        "src/b.py",
        "src/pkg/c.py",
        "src/pkg/gen/d.py",
        "src/pkg/tmp_keep.py",
        "src/tmp_y.py",
        "src/keep/e.py",
        "src/sub/keep/f.py",
        "logs/run.py",
        "logs/keep/l.py",
        "data/m.py",
        "notes/n.py",
        "other/build/o.py",
        "build/p.py",
        "dist/q.py",
        "venv/r.py",
        ".venv/s.py",
        "node_modules/t.py",
        "__pycache__/u.py",
        "sub/.ipynb_checkpoints/v.py",
        "README.md",
    ]
    notebook = json.dumps({"cells": [{"cell_type": "code", "source": BUGGY, "metadata": {}, "outputs": []}]})
    write(tmp_path, {name: notebook if name.endswith(".ipynb") else BUGGY for name in files})
    write(
        tmp_path,
        {
            ".gitignore": "logs/*\n!logs/keep/\ntmp_*.py\n",
            "src/.gitignore": "/keep/\n",
            "src/pkg/.gitignore": "gen/\n!tmp_keep.py\n",
        },
    )
    (tmp_path / ".git" / "info" / "exclude").write_text("data/\n", encoding="utf-8")
    return tmp_path


DEFAULT_EXCLUDED = {"build", "dist", "venv", ".venv", "node_modules", "__pycache__", ".ipynb_checkpoints"}


def test_recursive_discovery_agrees_with_git(repo: Path) -> None:
    untracked = git("ls-files", "--others", "--exclude-standard", cwd=repo).split()
    expected = sorted(
        path
        for path in untracked
        if path.endswith((".py", ".ipynb")) and not DEFAULT_EXCLUDED & set(path.split("/")[:-1])
    )
    assert _checked(repo) == expected
    assert expected == [
        "a.py",
        "logs/keep/l.py",
        "nb.ipynb",
        "notes/n.py",
        "src/b.py",
        "src/pkg/c.py",
        "src/pkg/tmp_keep.py",
        "src/sub/keep/f.py",
    ]


def test_paths_are_relative_to_the_working_directory(repo: Path) -> None:
    # Run from a subfolder: the repository's .gitignore still applies, paths are printed from here.
    assert _checked(repo / "src", "..", ".") == [
        "../a.py",
        "../logs/keep/l.py",
        "../nb.ipynb",
        "../notes/n.py",
        "b.py",
        "pkg/c.py",
        "pkg/tmp_keep.py",
        "sub/keep/f.py",
    ]


def test_explicit_paths_are_checked_unless_force_exclude(repo: Path) -> None:
    explicit = ["src/tmp_y.py", "src/pkg/gen/d.py", "build/p.py", "src/keep", "src/b.py"]
    assert _checked(repo, *explicit) == ["build/p.py", "src/b.py", "src/keep/e.py", "src/pkg/gen/d.py", "src/tmp_y.py"]
    assert _checked(repo, "--force-exclude", *explicit) == ["src/b.py"]
    # Everything excluded: nothing to check is not an error.
    result = bnlint("check", "--force-exclude", "build/p.py", cwd=repo)
    assert (result.returncode, result.stdout) == (0, "All checks passed!\n")


def test_exclude_and_extend_exclude_from_configuration(repo: Path) -> None:
    write(repo, {"pyproject.toml": '[tool.bnlint]\nextend-exclude = ["notes/", "src/pkg/c.py", "*.ipynb"]\n'})
    assert _checked(repo / "src", "..") == [
        "../a.py",
        "../logs/keep/l.py",
        "b.py",
        "pkg/tmp_keep.py",
        "sub/keep/f.py",
    ]
    assert _checked(repo, "--force-exclude", "notes/n.py", "src/pkg/c.py", "a.py") == ["a.py"]
    # `exclude` replaces the default excludes; .gitignore still applies.
    write(repo, {"pyproject.toml": '[tool.bnlint]\nexclude = ["notes", "src"]\n'})
    assert _checked(repo) == [
        ".venv/s.py",
        "__pycache__/u.py",
        "a.py",
        "build/p.py",
        "dist/q.py",
        "logs/keep/l.py",
        "nb.ipynb",
        "node_modules/t.py",
        "other/build/o.py",
        "sub/.ipynb_checkpoints/v.py",
        "venv/r.py",
    ]


def test_outside_a_git_repository(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": BUGGY, "build/b.py": BUGGY, ".gitignore": "a.py\n", "deep/er/c.py": BUGGY, "x.txt": BUGGY})
    # A .gitignore counts even without a repository, as in ruff.
    assert _checked(tmp_path) == ["deep/er/c.py"]


def test_output_is_sorted_by_path_line_and_column(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "b.py": "model.eval\nx = 1; model.train\nmodel.train\n",
            "a/z.py": "def f(:\n",
            "a.py": "x = 1; loss.backward\noptimizer.step\n",
        },
    )
    result = bnlint("check", "--no-cache", "--output-format", "json", cwd=tmp_path)
    order = [(f["path"], f["line"], f["column"]) for f in json.loads(result.stdout)]
    assert order == [("a.py", 1, 8), ("a.py", 2, 1), ("a/z.py", 1, 7), ("b.py", 1, 1), ("b.py", 2, 8), ("b.py", 3, 1)]


def test_symlink_loops_are_skipped_with_a_warning(tmp_path: Path) -> None:
    write(tmp_path, {"pkg/good.py": BUGGY})
    (tmp_path / "loop_a.py").symlink_to("loop_b.py")
    (tmp_path / "loop_b.py").symlink_to("loop_a.py")
    (tmp_path / "pkg" / "parent").symlink_to("..", target_is_directory=True)  # a folder loop
    result = bnlint("check", "--no-cache", "--output-format", "json", cwd=tmp_path)
    assert result.returncode == 1
    assert [f["path"] for f in json.loads(result.stdout)] == ["pkg/good.py"]
    assert result.stderr.splitlines() == [
        "bnlint: warning: skipping loop_a.py: broken or looping symbolic link",
        "bnlint: warning: skipping loop_b.py: broken or looping symbolic link",
    ]
    # Named explicitly, a looping link cannot be read: a BNL000 finding, not a crash.
    result = bnlint("check", "--no-cache", "--output-format", "json", "loop_a.py", cwd=tmp_path)
    findings = json.loads(result.stdout)
    assert [(f["path"], f["code"]) for f in findings] == [("loop_a.py", "BNL000")]
    assert "cannot read the file" in findings[0]["message"]
    assert "Traceback" not in result.stderr
