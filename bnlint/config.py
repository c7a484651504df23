"""Configuration: `[tool.bnlint]` in pyproject.toml, a `bnlint.toml`, or `--config PATH`.

The nearest configuration is searched upwards from the first path checked: in each folder a
`bnlint.toml` wins over a `pyproject.toml`, and a `pyproject.toml` without a `[tool.bnlint]`
table does not count (as in ruff). Unknown keys are errors that name the key and suggest the
closest valid one.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bnlint.discover import DEFAULT_EXCLUDES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

KEYS = (
    "select",
    "ignore",
    "extend-select",
    "exclude",
    "extend-exclude",
    "per-file-ignores",
    "allow-zero-init",
    "rule-dirs",
)


class ConfigError(Exception):
    """A configuration file or value is invalid; the message names the file and the key."""


def closest(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """`; did you mean 'x'?` for the closest choice, or an empty string."""
    import difflib  # only on the way to an error message

    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f"; did you mean '{matches[0]}'?" if matches else ""


@dataclass(frozen=True)
class Config:
    """The configuration in force for one run."""

    path: Path | None
    root: Path
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDES
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    allow_zero_init: tuple[str, ...] = ()
    rule_dirs: tuple[Path, ...] = ()

    @property
    def source(self) -> str:
        """Where the settings come from, as error messages name it."""
        return str(self.path) if self.path else "configuration"

    def fingerprint(self) -> str:
        """What of the configuration changes findings (for the cache key)."""
        return repr(
            (self.select, self.ignore, self.extend_select, self.per_file_ignores, self.allow_zero_init)
        )


def find_config(start: Path) -> Path | None:
    """The nearest `bnlint.toml`, or `pyproject.toml` with `[tool.bnlint]`, at or above `start`."""
    start = start.resolve()
    folder = start if start.is_dir() else start.parent
    for candidate_folder in (folder, *folder.parents):
        dedicated = candidate_folder / "bnlint.toml"
        if dedicated.is_file():
            return dedicated
        pyproject = candidate_folder / "pyproject.toml"
        if pyproject.is_file() and _has_bnlint_table(pyproject):
            return pyproject
    return None


def _has_bnlint_table(pyproject: Path) -> bool:
    try:
        text = pyproject.read_text(encoding="utf-8")
    except OSError:
        return False
    if "bnlint" not in text:
        return False
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{pyproject}: invalid TOML: {error}") from None
    return isinstance(data.get("tool"), dict) and "bnlint" in data["tool"]


def load_config(path: Path | None, default_root: Path) -> Config:
    """Read and validate a configuration file; no file gives the defaults rooted at `default_root`."""
    if path is None:
        return Config(path=None, root=default_root)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read configuration {path}: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid UTF-8") from None
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        if not isinstance(tool, dict):
            raise ConfigError(f"{path}: 'tool' must be a table")
        table = tool.get("bnlint", {})
        where = f"{path} [tool.bnlint]"
    else:
        table = data
        where = str(path)
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    return _validate(table, path, where)


def _validate(table: dict[str, Any], path: Path, where: str) -> Config:
    for key in table:
        if key not in KEYS:
            raise ConfigError(f"{where}: unknown key '{key}'{closest(key, KEYS)}")
    root = path.parent.resolve()

    def strings(key: str) -> tuple[str, ...] | None:
        if key not in table:
            return None
        value = table[key]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(f"{where}: '{key}' must be a list of strings, not {value!r}")
        return tuple(value)

    per_file: list[tuple[str, tuple[str, ...]]] = []
    raw_per_file = table.get("per-file-ignores", {})
    if not isinstance(raw_per_file, dict):
        raise ConfigError(f"{where}: 'per-file-ignores' must be a table of glob = [codes]")
    for glob, codes in raw_per_file.items():
        if not isinstance(codes, list) or not all(isinstance(code, str) for code in codes):
            raise ConfigError(f"{where}: per-file-ignores '{glob}' must be a list of codes, not {codes!r}")
        per_file.append((glob, tuple(codes)))
    exclude = strings("exclude")
    return Config(
        path=path,
        root=root,
        select=strings("select"),
        ignore=strings("ignore") or (),
        extend_select=strings("extend-select") or (),
        exclude=exclude if exclude is not None else DEFAULT_EXCLUDES,
        extend_exclude=strings("extend-exclude") or (),
        per_file_ignores=tuple(per_file),
        allow_zero_init=strings("allow-zero-init") or (),
        rule_dirs=tuple((root / folder).resolve() for folder in strings("rule-dirs") or ()),
    )
