"""A per-file result cache at the project root (`.bnlint_cache/`), safe under concurrent runs.

Each entry is one small JSON file named by a SHA-256 key of everything that decides the result
(the file's bytes and path, bnlint's version, the rule files, the configuration). Entries are
written through a temporary file and an atomic rename, so two runs never see half an entry; an
entry that cannot be read or decoded is a miss and is rewritten. A cache that cannot be written
(a read-only checkout) simply stops caching: it is never an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from bnlint import __version__

CACHE_DIR_ENV = "BNLINT_CACHE_DIR"
DEFAULT_DIR_NAME = ".bnlint_cache"
# How recently a file may have changed for its stat to be trusted: some file systems keep
# modification times to the second (or two), so a same-size edit within that window is invisible.
RACY_WINDOW_NS = 2_000_000_000
_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# This folder is a cache directory created by bnlint.\n"


class Cache:
    """A folder of JSON entries; `get` and `put` never raise."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._entries = directory / f"v{__version__}"
        self._writable = True
        self._prepared = False

    @classmethod
    def at_project(cls, root: Path) -> Cache:
        """The cache of a project: `$BNLINT_CACHE_DIR` when set, else `<root>/.bnlint_cache`."""
        override = os.environ.get(CACHE_DIR_ENV)
        return cls(Path(override) if override else root / DEFAULT_DIR_NAME)

    def _path(self, key: str) -> Path:
        return self._entries / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        try:
            with open(self._path(key), "rb") as handle:
                value = json.loads(handle.read())
        except (OSError, ValueError):
            return None
        return value if isinstance(value, dict) else None

    def put(self, key: str, value: dict) -> None:
        if not self._writable:
            return
        import tempfile

        path = self._path(key)
        try:
            self._prepare()
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(value, handle, separators=(",", ":"))
            os.replace(temporary, path)
        except OSError:
            self._writable = False

    def stat_index(self, scope: str) -> StatIndex:
        """The stat index of one configuration (see `StatIndex`)."""
        digest = hashlib.sha256(scope.encode()).hexdigest()[:24]
        return StatIndex(self, f"index-{digest}")

    def _prepare(self) -> None:
        """Create the folder with a `.gitignore` that ignores it and a CACHEDIR.TAG."""
        if self._prepared:
            return
        self._entries.mkdir(parents=True, exist_ok=True)
        gitignore = self.directory / ".gitignore"
        if not gitignore.exists():
            gitignore.write_text("# Created by bnlint.\n*\n", encoding="utf-8")
        tag = self.directory / "CACHEDIR.TAG"
        if not tag.exists():
            tag.write_text(_TAG, encoding="utf-8")
        self._prepared = True


class StatIndex:
    """Findings by path, valid while the file's size and modification time are unchanged.

    A run where nothing changed then reads one index instead of reading and hashing every file:
    the result is still keyed on the content (a file whose stat changed is read and looked up
    by its bytes), the index only says which content a path had when it was last checked.
    A file modified within `RACY_WINDOW_NS` of the run is not recorded ("racily clean", as git
    calls it): it could change again without its stat changing.
    """

    def __init__(self, cache: Cache, key: str) -> None:
        self._cache = cache
        self._key = key
        self._trusted_before = time.time_ns() - RACY_WINDOW_NS
        stored = cache.get(key)
        files = stored.get("files") if stored else None
        self._files: dict[str, list] = files if isinstance(files, dict) else {}
        self._changed = False

    def lookup(self, path: str, stat: os.stat_result, identity: str) -> dict | None:
        entry = self._files.get(path)
        if not isinstance(entry, list) or len(entry) != 4:
            return None
        if entry[0] != stat.st_mtime_ns or entry[1] != stat.st_size or entry[2] != identity:
            return None
        return {"findings": entry[3]}

    def record(self, path: str, stat: os.stat_result, identity: str, findings: list) -> None:
        if stat.st_mtime_ns >= self._trusted_before:
            return
        self._files[path] = [stat.st_mtime_ns, stat.st_size, identity, findings]
        self._changed = True

    def save(self) -> None:
        if self._changed:
            self._cache.put(self._key, {"files": self._files})
