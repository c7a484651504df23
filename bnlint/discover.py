"""Which files to check: explicit paths, and `.py`/`.ipynb` files found below folders.

Folders are walked without following symbolic links to folders (so a link loop cannot trap the
walk), honouring every `.gitignore` from the repository root down, the default excludes and the
configured `exclude` / `extend-exclude` globs. Paths named explicitly are checked even when
excluded, unless `force_exclude` is set (what pre-commit needs, since it passes every file).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bnlint.ignore import IgnoreSpec

DEFAULT_EXCLUDES = (".git", ".venv", "venv", "build", "dist", "__pycache__", "node_modules", ".ipynb_checkpoints")
SOURCE_SUFFIXES = (".py", ".ipynb")


class PathNotFound(Exception):
    """A path given on the command line does not exist."""


@dataclass(frozen=True)
class SourcePath:
    """A file to check: where it is, and how it is printed (relative to the working directory)."""

    path: Path
    display: str

    @property
    def is_notebook(self) -> bool:
        return self.path.suffix == ".ipynb"


@dataclass
class Discovery:
    files: list[SourcePath] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def display_path(path: Path, cwd: Path) -> str:
    try:
        return os.path.relpath(path, cwd)
    except ValueError:  # another drive on Windows
        return str(path)


def _git_root(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


class _Ignores:
    """The ignore rules in force for one walk: excludes plus the stack of `.gitignore` files.

    Exclude globs are matched relative to the project root, or to the walked path when it lies
    outside the project.
    """

    def __init__(self, excludes: list[str], project_root: Path) -> None:
        self.excludes = excludes
        self.project_root = project_root
        self._exclude_specs: dict[Path, IgnoreSpec] = {}
        self._gitignores: dict[Path, IgnoreSpec | None] = {}

    def exclude_spec(self, base: Path) -> IgnoreSpec:
        if base not in self._exclude_specs:
            self._exclude_specs[base] = IgnoreSpec(self.excludes, base)
        return self._exclude_specs[base]

    def gitignore_of(self, folder: Path) -> IgnoreSpec | None:
        """The patterns of `folder/.gitignore` (after `.git/info/exclude` in a repository root)."""
        if folder not in self._gitignores:
            lines: list[str] = []
            for candidate in (folder / ".git" / "info" / "exclude", folder / ".gitignore"):
                if candidate.is_file():
                    lines.extend(_read_lines(candidate))
            spec = IgnoreSpec(lines, folder)
            self._gitignores[folder] = spec if spec else None
        return self._gitignores[folder]

    def is_ignored(self, path: Path, is_dir: bool, folders: Sequence[Path]) -> bool:
        """Whether `path` is excluded by a glob or ignored by a `.gitignore` in `folders` (outermost first)."""
        base = self.project_root if _relative(path, self.project_root) is not None else folders[0]
        relative = _relative(path, base)
        if relative is not None and self.exclude_spec(base).match(relative, is_dir):
            return True
        for folder in reversed(folders):
            spec = self.gitignore_of(folder)
            if spec is None:
                continue
            relative = _relative(path, folder)
            if relative is None:
                continue
            verdict = spec.match(relative, is_dir)
            if verdict is not None:
                return verdict
        return False


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def _relative(path: Path, base: Path) -> str | None:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return None


def discover(
    paths: Sequence[str],
    *,
    project_root: Path,
    exclude: Sequence[str] = DEFAULT_EXCLUDES,
    extend_exclude: Sequence[str] = (),
    force_exclude: bool = False,
    cwd: Path | None = None,
) -> Discovery:
    """The files to check, sorted by their printed path."""
    cwd = cwd or Path.cwd()
    ignores = _Ignores([*exclude, *extend_exclude], project_root.resolve())
    result = Discovery()
    seen: set[Path] = set()

    def add(path: Path) -> None:
        if path not in seen:
            seen.add(path)
            result.files.append(SourcePath(path, display_path(path, cwd)))

    for raw in paths:
        path = (cwd / raw).absolute()
        path = Path(os.path.normpath(path))
        if not path.exists() and not path.is_symlink():
            raise PathNotFound(raw)
        top = _git_root(path if path.is_dir() else path.parent) or project_root.resolve()
        ancestors = _folders_between(top, path if path.is_dir() else path.parent)
        if not path.is_dir():
            if force_exclude and _excluded_with_parents(path, ignores, ancestors):
                continue
            add(path)
            continue
        if force_exclude and _excluded_with_parents(path, ignores, ancestors[:-1]):
            continue
        _walk(path, ancestors, ignores, result, add)
    result.files.sort(key=lambda source: source.display)
    return result


def _folders_between(top: Path, folder: Path) -> list[Path]:
    """`top`, then each folder down to `folder` (just `folder` when it is not below `top`)."""
    try:
        parts = folder.relative_to(top).parts
    except ValueError:
        return [folder]
    chain = [top]
    for part in parts:
        chain.append(chain[-1] / part)
    return chain


def _excluded_with_parents(path: Path, ignores: _Ignores, folders: list[Path]) -> bool:
    """Whether `path` or one of the folders it lies in (below the repository root) is ignored."""
    candidates = [*folders[1:], path] if folders else [path]
    for depth, candidate in enumerate(candidates):
        is_dir = candidate is not path or path.is_dir()
        if ignores.is_ignored(candidate, is_dir, folders[: depth + 1]):
            return True
    return False


def _walk(
    root: Path, ancestors: list[Path], ignores: _Ignores, result: Discovery, add: Callable[[Path], None]
) -> None:
    stack: list[tuple[Path, list[Path]]] = [(root, ancestors)]
    while stack:
        folder, folders = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as error:
            result.warnings.append(f"cannot read folder {folder}: {error.strerror or error}")
            continue
        for entry in entries:
            path = folder / entry.name
            if entry.is_dir(follow_symlinks=False):
                if not ignores.is_ignored(path, True, folders):
                    stack.append((path, [*folders, path]))
                continue
            if not entry.name.endswith(SOURCE_SUFFIXES):
                continue
            if ignores.is_ignored(path, False, folders):
                continue
            if entry.is_symlink() and not path.exists():
                result.warnings.append(f"skipping {path}: broken or looping symbolic link")
                continue
            add(path)


def is_excluded(path: Path, project_root: Path, exclude: Sequence[str], extend_exclude: Sequence[str]) -> bool:
    """Whether an explicitly named path (which need not exist) is excluded or git-ignored."""
    ignores = _Ignores([*exclude, *extend_exclude], project_root.resolve())
    top = _git_root(path.parent) or project_root.resolve()
    return _excluded_with_parents(path, ignores, _folders_between(top, path.parent))
