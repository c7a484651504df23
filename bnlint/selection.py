"""Which rules run: `select`, `extend-select` and `ignore`, with ruff's semantics.

Selectors are full codes or prefixes (`BNL1`, `BNL`, or `ALL`). Settings come in layers (the
configuration file, then the command line); in each layer `select` replaces the selection,
`extend-select` adds and `ignore` removes, and when several selectors of one layer name the same
rule the most specific (longest) wins, `ignore` winning a tie.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bnlint.config import ConfigError, closest
from bnlint.discover import relative_to
from bnlint.ignore import IgnoreSpec


@dataclass(frozen=True)
class Layer:
    """One source of selection settings, named for error messages."""

    where: str
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()


def _matches(selector: str, code: str) -> bool:
    return selector == "ALL" or code.startswith(selector)


def _specificity(selector: str) -> int:
    return 0 if selector == "ALL" else len(selector)


def validate_selectors(selectors: Iterable[str], codes: Sequence[str], where: str) -> None:
    """Raise ConfigError for a selector that matches no rule, suggesting the closest code."""
    for selector in selectors:
        if selector == "ALL" or any(code.startswith(selector) for code in codes):
            continue
        raise ConfigError(f"{where}: unknown rule selector '{selector}'{closest(selector, list(codes))}")


def selected_codes(defaults: dict[str, bool], layers: Sequence[Layer]) -> frozenset[str]:
    """The codes enabled after applying each layer in turn to the rules' defaults."""
    codes = list(defaults)
    enabled = {code for code, on in defaults.items() if on}
    for layer in layers:
        for selectors in (layer.select or (), layer.extend_select, layer.ignore):
            validate_selectors(selectors, codes, layer.where)
        base = set() if layer.select is not None else enabled
        decided = set(base)
        for code in codes:
            chosen = (*(layer.select or ()), *layer.extend_select)
            votes = [(_specificity(s), True) for s in chosen if _matches(s, code)]
            votes += [(_specificity(s), False) for s in layer.ignore if _matches(s, code)]
            if not votes:
                continue
            # Most specific selector wins; on a tie `ignore` (False sorts first) wins.
            best = max(votes, key=lambda vote: (vote[0], not vote[1]))
            if best[1]:
                decided.add(code)
            else:
                decided.discard(code)
        enabled = decided
    return frozenset(enabled)


class PerFileIgnores:
    """`per-file-ignores`: gitignore-style globs, relative to the project root, to codes."""

    def __init__(
        self, entries: Sequence[tuple[str, tuple[str, ...]]], root: Path, codes: Sequence[str], where: str
    ) -> None:
        self._entries = []
        for glob, selectors in entries:
            validate_selectors(selectors, codes, f"{where} per-file-ignores '{glob}'")
            self._entries.append((IgnoreSpec([glob]), selectors))
        self._root = root

    def ignored(self, path: str, codes: Iterable[str]) -> frozenset[str]:
        """The codes of `codes` that the per-file ignores switch off for `path` (absolute)."""
        if not self._entries:
            return frozenset()
        relative = relative_to(path, str(self._root))
        if relative is None:
            relative = os.path.basename(path)
        off: set[str] = set()
        for spec, selectors in self._entries:
            if spec.match(relative, False):
                off.update(code for code in codes if any(_matches(s, code) for s in selectors))
        return frozenset(off)
