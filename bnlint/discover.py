"""Which files to check: explicit paths, and `.py`/`.ipynb` files found below folders.

Folders are walked without following symbolic links to folders (so a link loop cannot trap the
walk), honouring every `.gitignore` from the repository root down, the default excludes and the
configured `exclude` / `extend-exclude` globs. Paths named explicitly are checked even when
excluded, unless `force_exclude` is set (what pre-commit needs, since it passes every file).

The walk works on strings rather than `pathlib` objects: it runs on every invocation, cached
ones included, and `pathlib` made it the largest cost of a run answered from the cache.
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

    path: str  # absolute
    display: str

    @property
    def is_notebook(self) -> bool:
        return self.path.endswith(".ipynb")


@dataclass
class Discovery:
    files: list[SourcePath] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def display_path(path: Path | str, cwd: Path | str) -> str:
    """`path` relative to `cwd` (with `..` when it lies elsewhere), as bnlint prints it."""
    below = relative_to(str(path), str(cwd))
    if below is not None:
        return below if os.sep == "/" else below.replace("/", os.sep)
    try:
        return os.path.relpath(path, cwd)
    except ValueError:  # another drive on Windows
        return str(path)


def relative_to(path: str, base: str) -> str | None:
    """`path` relative to `base`, slash-separated, or None when it is not below `base`."""
    prefix = base if base.endswith(os.sep) else base + os.sep
    if not path.startswith(prefix):
        return None
    relative = path[len(prefix) :]
    return relative if os.sep == "/" else relative.replace(os.sep, "/")


def _git_root(start: str) -> str | None:
    folder = start
    while True:
        if os.path.exists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _read_lines(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read().splitlines()
    except OSError:
        return []


class _Ignores:
    """The ignore rules of one run: exclude globs plus the `.gitignore` of each folder.

    Exclude globs are matched relative to the project root, or to the walked path when it lies
    outside the project.
    """

    def __init__(self, excludes: Sequence[str], project_root: str) -> None:
        self.excludes = IgnoreSpec(list(excludes))
        self.project_root = project_root
        self._gitignores: dict[str, IgnoreSpec | None] = {}

    def gitignore_of(self, folder: str) -> IgnoreSpec | None:
        """The patterns of `folder/.gitignore` (after `.git/info/exclude` in a repository root)."""
        if folder not in self._gitignores:
            lines: list[str] = []
            for candidate in (os.path.join(folder, ".git", "info", "exclude"), os.path.join(folder, ".gitignore")):
                if os.path.isfile(candidate):
                    lines.extend(_read_lines(candidate))
            spec = IgnoreSpec(lines)
            self._gitignores[folder] = spec if spec else None
        return self._gitignores[folder]

    def specs_of(self, folders: Sequence[str]) -> list[tuple[str, IgnoreSpec]]:
        """The non-empty `.gitignore` specs of `folders`, innermost first."""
        return [(folder, spec) for folder in reversed(folders) if (spec := self.gitignore_of(folder)) is not None]

    def is_ignored(self, path: str, is_dir: bool, specs: Sequence[tuple[str, IgnoreSpec]], walk_root: str) -> bool:
        """Whether `path` is excluded by a glob, or ignored by the innermost `.gitignore` that decides."""
        base = self.project_root
        relative = relative_to(path, base)
        if relative is None:
            base = walk_root
            relative = relative_to(path, base)
        if relative is not None and self.excludes.match(relative, is_dir):
            return True
        for folder, spec in specs:
            relative = relative_to(path, folder)
            if relative is None:
                continue
            verdict = spec.match(relative, is_dir)
            if verdict is not None:
                return verdict
        return False


def _folders_between(top: str, folder: str) -> list[str]:
    """`top`, then each folder down to `folder` (just `folder` when it is not below `top`)."""
    if folder == top:
        return [top]
    relative = relative_to(folder, top)
    if relative is None:
        return [folder]
    chain = [top]
    for part in relative.split("/"):
        chain.append(os.path.join(chain[-1], part))
    return chain


def _excluded_with_parents(path: str, ignores: _Ignores, folders: list[str]) -> bool:
    """Whether `path` or one of the folders it lies in (below the repository root) is ignored.

    `folders` runs from the repository root down to the folder holding `path`.
    """
    candidates = [*folders[1:], path] if folders and folders[-1] != path else [*folders[1:]]
    for depth, candidate in enumerate(candidates):
        is_dir = candidate != path or os.path.isdir(path)
        if ignores.is_ignored(candidate, is_dir, ignores.specs_of(folders[: depth + 1]), folders[0]):
            return True
    return False


def is_excluded(path: Path, project_root: Path, exclude: Sequence[str], extend_exclude: Sequence[str]) -> bool:
    """Whether an explicitly named path (which need not exist) is excluded or git-ignored."""
    ignores = _Ignores([*exclude, *extend_exclude], str(project_root.resolve()))
    parent = os.path.dirname(str(path))
    top = _git_root(parent) or ignores.project_root
    return _excluded_with_parents(str(path), ignores, _folders_between(top, parent))


def discover(
    paths: Sequence[str],
    *,
    project_root: Path,
    exclude: Sequence[str] = DEFAULT_EXCLUDES,
    extend_exclude: Sequence[str] = (),
    force_exclude: bool = False,
) -> Discovery:
    """The files to check, sorted by their printed path."""
    cwd_text = str(Path.cwd())
    ignores = _Ignores([*exclude, *extend_exclude], str(project_root.resolve()))
    result = Discovery()
    seen: set[str] = set()

    def add(path: str) -> None:
        if path not in seen:
            seen.add(path)
            result.files.append(SourcePath(path, display_path(path, cwd_text)))

    for raw in paths:
        path = os.path.normpath(os.path.join(cwd_text, raw))
        if not os.path.lexists(path):
            raise PathNotFound(raw)
        is_dir = os.path.isdir(path)
        folder = path if is_dir else os.path.dirname(path)
        top = _git_root(folder) or ignores.project_root
        folders = _folders_between(top, folder)
        if force_exclude and _excluded_with_parents(path, ignores, folders):
            continue
        if is_dir:
            _walk(path, folders, ignores, result, add, cwd_text)
        else:
            add(path)
    result.files.sort(key=lambda source: source.display)
    return result


def _walk(
    root: str, folders: list[str], ignores: _Ignores, result: Discovery, add: Callable[[str], None], cwd: str
) -> None:
    stack: list[tuple[str, list[tuple[str, IgnoreSpec]]]] = [(root, ignores.specs_of(folders))]
    while stack:
        folder, specs = stack.pop()
        try:
            with os.scandir(folder) as iterator:
                entries = list(iterator)
        except OSError as error:
            result.warnings.append(f"cannot read folder {display_path(folder, cwd)}: {error.strerror or error}")
            continue
        for entry in entries:
            path = entry.path
            if entry.is_dir(follow_symlinks=False):
                if not ignores.is_ignored(path, True, specs, root):
                    own = ignores.gitignore_of(path)
                    stack.append((path, [(path, own), *specs] if own is not None else specs))
                continue
            if not entry.name.endswith(SOURCE_SUFFIXES):
                continue
            if ignores.is_ignored(path, False, specs, root):
                continue
            if entry.is_symlink() and not os.path.exists(path):
                result.warnings.append(f"skipping {display_path(path, cwd)}: broken or looping symbolic link")
                continue
            add(path)
