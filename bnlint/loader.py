"""Find rules: every `Rule` subclass defined in the `.py` files of a folder.

The built-in rules (the repository's `rules/`, shipped as `bnlint/rules/` in the wheel) and a
user's own folders from `rule-dirs` go through the same function, so a user's rule is a
first-class rule: documented, selectable, testable with its own examples.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Iterable
from pathlib import Path

from bnlint.catalog import RuleLoadError, builtin_rules_dir, rule_files
from bnlint.rule import Rule, RuleDefinitionError


def _module_name(directory: Path, stem: str, builtin: bool) -> str:
    if builtin:
        return f"bnlint.rules.{stem}"
    digest = hashlib.sha1(str(directory.resolve()).encode()).hexdigest()[:12]
    return f"bnlint_user_rules_{digest}_{stem}"


def load_rules_from(directory: Path, *, builtin: bool = False) -> list[type[Rule]]:
    """Import every `*.py` file of `directory` (not starting with `_`) and collect its rules."""
    found: list[type[Rule]] = []
    for path in rule_files(directory):
        name = _module_name(directory, path.stem, builtin)
        module = sys.modules.get(name)
        if module is None:
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or spec.loader is None:
                raise RuleLoadError(f"cannot load rule file {path}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            try:
                spec.loader.exec_module(module)
            except Exception as error:
                del sys.modules[name]
                raise RuleLoadError(f"cannot load rule file {path}: {type(error).__name__}: {error}") from error
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Rule) and value.__module__ == name:
                try:
                    value.validate()
                except RuleDefinitionError as error:
                    raise RuleLoadError(f"{path}: {error}") from error
                found.append(value)
    return found


def load_rules(extra_dirs: Iterable[Path] = ()) -> dict[str, type[Rule]]:
    """All rules, built-in first, keyed and sorted by code; duplicate codes are an error."""
    rules: dict[str, type[Rule]] = {}
    sources = [(builtin_rules_dir(), True)] + [(Path(d), False) for d in extra_dirs]
    for directory, builtin in sources:
        for rule in load_rules_from(directory, builtin=builtin):
            if rule.code in rules and rules[rule.code] is not rule:
                other = rules[rule.code]
                raise RuleLoadError(
                    f"rule code {rule.code} is defined twice: {other.__module__} and {rule.__module__}"
                )
            rules[rule.code] = rule
    return dict(sorted(rules.items()))
