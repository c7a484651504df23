"""Qualified names from a module's own import statements.

Rules know PyTorch by qualified name, not by spelling: `nn.Conv2d`, `torch.nn.Conv2d` and
`from torch.nn import Conv2d as C` all resolve to `torch.nn.Conv2d`. libcst's
`QualifiedNameProvider` does this with full scope analysis, at several times the cost of the
parse itself; bnlint only needs the names a module imports, so it reads the import statements
(at any depth, they are few) and resolves dotted expressions against them.

A name bound both by an import and by something else at module level (an assignment, a def, a
second import of a different target) is ambiguous and resolves to nothing: a rule then stays
silent rather than guess.
"""

from __future__ import annotations

import builtins

import libcst as cst

from bnlint.syntax import assigned_names, small_and_compound, statements

_BUILTIN_NAMES = frozenset(dir(builtins))

# Where PyTorch defines a public name somewhere other than where users import it from.
_CANONICAL_PREFIXES: tuple[tuple[str, str], ...] = (
    ("torch.nn.modules.", "torch.nn."),
    ("torch.nn.parameter.", "torch.nn."),
    ("pytorch_lightning.", "lightning.pytorch."),
)
_CANONICAL_MODULES = {"pytorch_lightning": "lightning.pytorch"}


def canonical(name: str) -> str:
    """Map a qualified name to the spelling the rules use.

    `torch.nn.modules.conv.Conv2d` and `torch.nn.modules.Conv2d` become `torch.nn.Conv2d`.
    """
    if name in _CANONICAL_MODULES:
        return _CANONICAL_MODULES[name]
    for prefix, replacement in _CANONICAL_PREFIXES:
        if name.startswith(prefix):
            rest = name[len(prefix) :]
            if prefix == "torch.nn.modules.":
                # torch.nn.modules.<file>.<Name> or torch.nn.modules.<Name>
                rest = rest.rsplit(".", 1)[-1]
            return replacement + rest
    return name


def dotted_name(node: cst.BaseExpression) -> str | None:
    """`a.b.c` as a string, or None when the expression is not a plain dotted name."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


class ImportMap:
    """Which local name stands for which qualified name in one module."""

    def __init__(self, module: cst.Module, package: str | None = None) -> None:
        self._package = package
        bound: dict[str, str | None] = {}
        self._star_modules: list[str] = []
        defined: set[str] = set()

        def bind(local: str, target: str) -> None:
            if local in bound and bound[local] != target:
                bound[local] = None  # two different imports: ambiguous
            else:
                bound[local] = target

        for statement in statements(module.body, into_definitions=True):
            if isinstance(statement, cst.Import):
                for alias in statement.names:
                    full = dotted_name(alias.name)
                    if full is None:
                        continue
                    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                        bind(alias.asname.name.value, full)
                    else:
                        top = full.split(".", 1)[0]
                        bind(top, top)
            elif isinstance(statement, cst.ImportFrom):
                source = self._import_from_source(statement)
                if source is None:
                    continue
                if isinstance(statement.names, cst.ImportStar):
                    self._star_modules.append(canonical(source))
                    continue
                for alias in statement.names:
                    if not isinstance(alias.name, cst.Name):
                        continue
                    local = alias.name.value
                    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                        local = alias.asname.name.value
                    bind(local, f"{source}.{alias.name.value}")
        # Names the module itself binds at top level shadow imports and star imports.
        for statement in small_and_compound(module.body):
            if isinstance(statement, cst.Assign):
                for target in statement.targets:
                    defined.update(assigned_names(target.target))
            elif isinstance(statement, (cst.AnnAssign, cst.AugAssign)):
                defined.update(assigned_names(statement.target))
            elif isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                defined.add(statement.name.value)
        for name in defined:
            if name in bound:
                bound[name] = None
        self._bound = bound
        self._defined = frozenset(defined)

    def _import_from_source(self, statement: cst.ImportFrom) -> str | None:
        module = dotted_name(statement.module) if statement.module is not None else None
        level = len(statement.relative)
        if level == 0:
            return module
        if self._package is None:
            return None
        parts = self._package.split(".")
        if level - 1 > len(parts) - 1:
            return None
        base = parts[: len(parts) - (level - 1)]
        return ".".join(base + ([module] if module else []))

    def resolve_name(self, name: str) -> str | None:
        """The qualified name a bare local name stands for, or None when unknown."""
        if name in self._bound:
            target = self._bound[name]
            return canonical(target) if target is not None else None
        if name in self._defined:
            return None
        if name in _BUILTIN_NAMES:
            return f"builtins.{name}"
        if len(self._star_modules) == 1:
            return f"{self._star_modules[0]}.{name}"
        return None

    def qualified_name(self, node: cst.BaseExpression) -> str | None:
        """The canonical qualified name of a dotted expression such as `nn.Conv2d`, or None."""
        dotted = dotted_name(node)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        resolved = self.resolve_name(head)
        if resolved is None:
            return None
        if resolved.startswith("builtins.") and rest:
            return None
        return canonical(f"{resolved}.{rest}") if rest else resolved

    def imports_from(self, package: str) -> bool:
        """Whether the module imports anything from `package` (`torch` covers `torch.nn`...)."""
        prefix = package + "."
        targets = [canonical(t) for t in self._bound.values() if t is not None] + self._star_modules
        return any(t == package or t.startswith(prefix) for t in targets)
