"""What bnlint knows about its rules without importing them.

Selecting rules, keying the cache and printing findings only need each rule's metadata. Importing
the rules means importing libcst (a third of a second), which a run answered entirely from the
cache must not pay; so the metadata is kept in the cache too, keyed by the bytes of every rule
file, and the rules are imported only when some file has to be checked.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from bnlint import __version__
from bnlint.cache import Cache
from bnlint.findings import Applicability, Severity


class RuleLoadError(Exception):
    """A rule folder or file cannot be loaded; the message names it."""


def builtin_rules_dir() -> Path:
    """The folder of the built-in rules: `rules/` in a checkout, `bnlint/rules/` in the wheel."""
    spec = importlib.util.find_spec("bnlint.rules")
    if spec is None or not spec.submodule_search_locations:
        raise RuleLoadError("the built-in rules (bnlint.rules) are not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def rule_files(directory: Path) -> list[Path]:
    """The rule files of a folder: every `*.py` not starting with `_`, sorted."""
    if not directory.is_dir():
        raise RuleLoadError(f"rule folder {directory} does not exist")
    return sorted(path for path in directory.glob("*.py") if not path.name.startswith("_"))


@dataclass(frozen=True)
class RuleInfo:
    """A rule's metadata and documentation, as plain data."""

    code: str
    name: str
    severity: Severity
    default: bool
    fix: Applicability | None
    fix_title: str | None
    summary: str
    documentation: str
    #: The rule's text triggers (see `Rule.triggers`): None when it may fire on any file.
    triggers: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["severity"] = self.severity.value
        data["fix"] = self.fix.value if self.fix else None
        data["triggers"] = list(self.triggers) if self.triggers is not None else None
        return data

    def may_fire_on(self, text: str) -> bool:
        """False when the file's text lacks every trigger: the rule cannot fire there."""
        return self.triggers is None or any(trigger in text for trigger in self.triggers)

    @classmethod
    def from_json(cls, data: dict) -> RuleInfo:
        return cls(
            **{
                **data,
                "severity": Severity(data["severity"]),
                "fix": Applicability(data["fix"]) if data["fix"] else None,
                "triggers": tuple(data["triggers"]) if data.get("triggers") is not None else None,
            }
        )


@dataclass(frozen=True)
class Catalog:
    """Every loaded rule's metadata, by code, plus a fingerprint of the rule files."""

    rules: dict[str, RuleInfo]
    fingerprint: str
    rule_dirs: tuple[Path, ...]


def load_catalog(rule_dirs: Iterable[Path] = (), cache: Cache | None = None) -> Catalog:
    """The catalog of the built-in rules and those in `rule_dirs`, from the cache when it is current."""
    dirs = tuple(rule_dirs)
    digest = hashlib.sha256(__version__.encode())
    for directory in (builtin_rules_dir(), *dirs):
        for path in rule_files(directory):
            digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    # The analyses rules share live in the package itself: in an editable install they change
    # without a new version number, and cached results must not outlive them.
    for module in sorted(Path(__file__).parent.glob("*.py")):
        stat = module.stat()
        digest.update(f"{module.name}:{stat.st_mtime_ns}:{stat.st_size}\0".encode())
    fingerprint = digest.hexdigest()
    cached = cache.get(f"catalog-{fingerprint}") if cache else None
    if cached is not None:
        try:
            rules = {code: RuleInfo.from_json(info) for code, info in cached["rules"].items()}
            return Catalog(rules, fingerprint, dirs)
        except (AttributeError, KeyError, TypeError, ValueError):
            pass  # an entry from another version or a corrupted one: rebuild it
    from bnlint.loader import load_rules

    rules = {code: info_of(rule) for code, rule in load_rules(dirs).items()}
    if cache:
        cache.put(f"catalog-{fingerprint}", {"rules": {code: info.to_json() for code, info in rules.items()}})
    return Catalog(rules, fingerprint, dirs)


def info_of(rule: type) -> RuleInfo:
    return RuleInfo(
        code=rule.code,
        name=rule.name,
        severity=rule.severity,
        default=rule.default,
        fix=rule.fix,
        fix_title=rule.fix_title,
        summary=rule.summary(),
        documentation=rule.documentation(),
        triggers=tuple(rule.triggers) if rule.triggers is not None else None,
    )
