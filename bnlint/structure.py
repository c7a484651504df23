"""Model-structure analysis: which layer, built with which arguments, feeds which.

The analysis reads one file and builds a small data-flow graph of *steps*: `LayerCall`s (a
constructor call of a known `torch.nn` layer, with its arguments bound to parameter names) and
`Op`s (a functional call such as `F.relu`, a reshape, an addition...). Every place where a step
produces an output is a `Site`, which lists the steps that consume that output. Flows come from

- `nn.Sequential(...)` (positional and `OrderedDict` forms, nested, subclassed with
  `super().__init__(...)`, built from a local list with `append`/`extend`/`+=` and passed as
  `nn.Sequential(*layers)`, or returned by a small helper function or method),
- the methods of a class, where `self.conv = nn.Conv2d(...)` (also `setattr`, `add_module`) binds
  layers and statements such as `x = self.bn(self.conv(x))` move values between them.

The analysis is conservative. What the code does not show is unknown, never guessed: a layer
built from a config, an attribute assigned twice, a module used in a way the analysis does not
follow (it then gets an output with an unknown consumer), a consumer reached only inside an `if`
or a loop (a *conditional* consumer). Rules fire only on what is certain.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from bnlint.dataflow import MethodInterpreter
from bnlint.flowgraph import Args, Chain, LayerCall, ModuleValue, Op, Site, Step
from bnlint.listflow import ListBuilder, only_built
from bnlint.syntax import (
    assigned_names,
    body_of,
    descendants,
    names_bound,
    parameters,
    self_attribute,
    statements,
    string_value,
    with_parents,
)
from bnlint.torchnames import layer_spec
from bnlint.traverse import children

if TYPE_CHECKING:
    from bnlint.context import FileContext

__all__ = ["Args", "Chain", "LayerCall", "ModelStructure", "Op", "Site", "Step"]

SEQUENTIAL = "torch.nn.Sequential"
ORDERED_DICT = frozenset({"collections.OrderedDict", "typing.OrderedDict"})
# Calls that may take a module as an argument without running it or keeping it.
_INSPECTING_CALLS = frozenset({"builtins.isinstance", "builtins.hasattr", "builtins.type", "builtins.id"})
_UNKNOWN = cst.Name("__unknown__")  # stands for a value the analysis cannot see


class Scope:
    """A function (or the module): local names bound exactly once, and the class it belongs to."""

    def __init__(self, node: cst.FunctionDef | cst.Module, owner: ClassModel | None) -> None:
        self.node = node
        self.owner = owner
        self.bindings: dict[str, list[cst.BaseExpression]] = {}
        for statement in statements(body_of(node)):
            if isinstance(statement, cst.Assign):
                for target in statement.targets:
                    self._bind(target.target, statement.value)
            elif isinstance(statement, cst.AnnAssign) and statement.value is not None:
                self._bind(statement.target, statement.value)
            else:
                for name in names_bound(statement):
                    self.bindings.setdefault(name, []).append(_UNKNOWN)
        if isinstance(node, cst.FunctionDef):
            for param in parameters(node):
                self.bindings.setdefault(param, []).append(_UNKNOWN)

    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.bindings.setdefault(target.value, []).append(value)
        else:
            for name in assigned_names(target):
                self.bindings.setdefault(name, []).append(_UNKNOWN)

    def single(self, name: str) -> cst.BaseExpression | None:
        values = self.bindings.get(name)
        return values[0] if values and len(values) == 1 else None


@dataclass(eq=False)
class ClassModel:
    node: cst.ClassDef
    sequential: bool
    assignments: dict[str, list[tuple[cst.BaseExpression, Scope]]] = field(default_factory=dict)
    methods: dict[str, cst.FunctionDef] = field(default_factory=dict)
    scopes: dict[str, Scope] = field(default_factory=dict)
    opaque: bool = False


class ModelStructure:
    """The layers of one file and the flows between them; build with `context.get(ModelStructure)`."""

    def __init__(self, context: FileContext) -> None:
        self.context = context
        self.layers: list[LayerCall] = []
        self.ops: list[Op] = []
        self._layer_at: dict[cst.Call, LayerCall] = {}
        self._sites: dict[int, list[Site]] = {}
        self._chains: dict[cst.CSTNode, Chain] = {}
        self._functions: dict[str, cst.FunctionDef] = {}
        self._function_values: dict[cst.FunctionDef, ModuleValue | None] = {}
        self._classes: dict[cst.ClassDef, ClassModel] = {}
        self._class_names: dict[str, ClassModel | None] = {}  # None: several classes share the name
        self._attribute_values: dict[tuple[int, str], ModuleValue | None] = {}
        self._resolving: set[tuple[int, str]] = set()
        self._straight_lists: dict[tuple[cst.FunctionDef, str], Chain | None] = {}
        self._contexts = 0
        if not context.imports.imports_from("torch"):
            return  # without torch imports, no name in this file is a PyTorch layer
        self._build(context.module)

    # ------------------------------------------------------------------ queries
    def layer_at(self, call: cst.Call) -> LayerCall | None:
        """The layer constructed by this call, if it is a known `torch.nn` layer."""
        return self._layer_at.get(call)

    def sites(self, step: Step) -> list[Site]:
        """Every known run of `step` (empty when the analysis saw none)."""
        return self._sites.get(id(step), [])

    def always_feeds(self, step: Step) -> list[Site] | None:
        """For each run of `step`, the run that takes its output, alone and unconditionally.

        None unless `step` runs at least once and every run's output has exactly one certain
        consumer: this is "the output goes straight into X" for the rules.
        """
        sites = self.sites(step)
        if not sites:
            return None
        consumers = [site.sole_consumer() for site in sites]
        if any(consumer is None for consumer in consumers):
            return None
        return consumers  # type: ignore[return-value]

    # ------------------------------------------------------------- construction
    def _build(self, module: cst.Module) -> None:
        for statement in module.body:
            if isinstance(statement, cst.FunctionDef):
                self._functions[statement.name.value] = statement
        for node in _definitions(module):
            if isinstance(node, cst.ClassDef):
                self._register_class(node)
        self._visit(module, Scope(module, None))
        for model in self._classes.values():
            self._interpret_class(model)

    def _register_class(self, node: cst.ClassDef) -> None:
        """Collect a class's methods and every `self.x = ...` binding before anything is resolved."""
        sequential = any(self.context.qualified_name(base.value) == SEQUENTIAL for base in node.bases)
        model = self._classes[node] = ClassModel(node, sequential)
        name = node.name.value
        self._class_names[name] = None if name in self._class_names else model  # notebooks redefine classes
        for item in body_of(node):
            if isinstance(item, cst.FunctionDef):
                model.methods[item.name.value] = item
                model.scopes[item.name.value] = scope = Scope(item, model)
                for name, value in self._bindings(item):
                    model.assignments.setdefault(name, []).append((value, scope))

    def _bindings(self, function: cst.FunctionDef) -> Iterator[tuple[str, cst.BaseExpression]]:
        """`self.x = v`, `setattr(self, "x", v)`, `self.add_module("x", v)` in a method."""
        for statement in statements(body_of(function)):
            if isinstance(statement, cst.Assign):
                for target in statement.targets:
                    name = self_attribute(target.target)
                    if name is not None:
                        yield name, statement.value
            elif isinstance(statement, (cst.AnnAssign, cst.AugAssign)):
                name = self_attribute(statement.target)
                if name is not None:
                    value = statement.value if isinstance(statement, cst.AnnAssign) else None
                    yield name, value if value is not None else _UNKNOWN
            elif isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Call):
                yield from _registration(statement.value)

    def _visit(self, module: cst.Module, module_scope: Scope) -> None:
        """Register every layer constructor call and evaluate every Sequential, scope by scope."""
        stack: list[tuple[cst.CSTNode, Scope]] = [(module, module_scope)]
        while stack:
            node, scope = stack.pop()
            if isinstance(node, cst.FunctionDef):
                # A nested function shares `self` with its method; a module-level one has none.
                scope = Scope(node, scope.owner if isinstance(scope.node, cst.FunctionDef) else None)
                stack.append((node.body, scope))
                continue
            if isinstance(node, cst.ClassDef):
                model = self._classes.get(node)
                if model is not None:
                    for item in body_of(node):
                        if isinstance(item, cst.FunctionDef):
                            stack.append((item.body, model.scopes[item.name.value]))
                        else:
                            stack.append((item, scope))
                    continue
            elif isinstance(node, cst.Call):
                self._evaluate_call(node, scope)
            stack.extend((child, scope) for child in reversed(children(node)))

    def _evaluate_call(self, call: cst.Call, scope: Scope) -> None:
        if self._super_init_of_sequential(call, scope):
            self._chain(call, scope, 0)
        else:
            self.module_value(call, scope)

    def _super_init_of_sequential(self, call: cst.Call, scope: Scope) -> bool:
        """`super().__init__(...)` in a subclass of `nn.Sequential`."""
        func = call.func
        return (
            scope.owner is not None
            and scope.owner.sequential
            and isinstance(func, cst.Attribute)
            and func.attr.value == "__init__"
            and isinstance(func.value, cst.Call)
            and isinstance(func.value.func, cst.Name)
            and func.value.func.value == "super"
        )

    # ----------------------------------------------------------- module values
    def _layer_call(self, call: cst.Call) -> LayerCall | None:
        found = self._layer_at.get(call)
        if found is not None:
            return found
        qualified = self.context.qualified_name(call.func)
        spec = layer_spec(qualified)
        if spec is None or qualified is None:
            return None
        layer = LayerCall(qualified, spec, call, Args(call, spec.params))
        self._layer_at[call] = layer
        self.layers.append(layer)
        return layer

    def module_value(self, node: cst.BaseExpression, scope: Scope, depth: int = 0) -> ModuleValue | None:
        """What module an expression builds or names: a layer, a chain, or None when unknown."""
        if depth > 25:
            return None
        if isinstance(node, cst.Call):
            layer = self._layer_call(node)
            if layer is None:
                return self._call_value(node, scope, depth)
            if layer.kind == "sequential":
                return self._chain(node, scope, depth)
            return None if layer.kind == "container" else layer
        if isinstance(node, cst.Name):
            value = scope.single(node.value)
            return self.module_value(value, scope, depth + 1) if value is not None else None
        attribute = self_attribute(node)
        if attribute is not None and scope.owner is not None:
            return self._attribute_value(scope.owner, attribute, depth + 1)
        return None

    def _attribute_value(self, model: ClassModel, name: str, depth: int) -> ModuleValue | None:
        key = (id(model), name)
        if key in self._attribute_values:
            return self._attribute_values[key]
        assignments = model.assignments.get(name, [])
        if len(assignments) != 1 or key in self._resolving:
            return None  # not bound here, bound twice, or defined in terms of itself
        self._resolving.add(key)
        value, scope = assignments[0]
        result = self.module_value(value, scope, depth)
        self._resolving.discard(key)
        self._attribute_values[key] = result
        return result

    def _call_value(self, call: cst.Call, scope: Scope, depth: int) -> ModuleValue | None:
        """A call of a helper function or method with a single `return`, or of a Sequential subclass."""
        function: cst.FunctionDef | None = None
        owner = None
        if isinstance(call.func, cst.Name) and self.context.imports.resolve_name(call.func.value) is None:
            model = self._class_names.get(call.func.value)
            if model is not None:
                return self._sequential_class(model)
            function = self._functions.get(call.func.value)
        else:
            attribute = self_attribute(call.func)
            if attribute is not None and scope.owner is not None:
                function = scope.owner.methods.get(attribute)
                owner = scope.owner
        if function is None:
            return None
        if function in self._function_values:
            return self._function_values[function]
        self._function_values[function] = None  # guards against recursion
        returns = [s for s in statements(body_of(function)) if isinstance(s, cst.Return)]
        result = None
        if len(returns) == 1 and returns[0].value is not None:
            function_scope = owner.scopes.get(function.name.value) if owner else None
            result = self.module_value(returns[0].value, function_scope or Scope(function, owner), depth + 1)
        self._function_values[function] = result
        return result

    def _sequential_class(self, model: ClassModel) -> Chain | None:
        """The chain built by the `super().__init__(...)` of a Sequential subclass, if it has one."""
        if not model.sequential or "__init__" not in model.methods:
            return None
        init = model.methods["__init__"]
        scope = model.scopes["__init__"]
        calls = [n for n in descendants(init.body) if isinstance(n, cst.Call) and self._super_init_of_sequential(n, scope)]
        if len(calls) != 1:
            return None
        return self._chain(calls[0], scope, 0)

    def _chain(self, call: cst.Call, scope: Scope, depth: int) -> Chain:
        """The chain a Sequential constructor (or a Sequential subclass's `super().__init__`) builds, once per call."""
        chain = self._chains.get(call)
        if chain is None:
            chain = self._chains[call] = self.link(self._items(call, scope, depth))
        return chain

    def _items(self, call: cst.Call, scope: Scope, depth: int) -> list[ModuleValue | None]:
        """The modules passed to a Sequential constructor, in order (None for unknown ones)."""
        items: list[ModuleValue | None] = []
        for arg in call.args:
            if arg.keyword is not None:
                continue
            if arg.star == "*":
                items.append(self._starred_list(arg.value, scope))
            elif arg.star:
                items.append(None)
            elif isinstance(arg.value, cst.Call) and self.context.qualified_name(arg.value.func) in ORDERED_DICT:
                items.extend(self._ordered_dict_items(arg.value, scope, depth))
            else:
                items.append(self.module_value(arg.value, scope, depth + 1))
        return items

    def link(self, items: Sequence[ModuleValue | None]) -> Chain:
        """Run modules one after the other: each layer gets a run, a chain item brings its own."""
        if not items:
            return Chain(None, None)
        runs = [self._run_of(item) for item in items]
        for (_, last), (first, _) in zip(runs, runs[1:]):
            self.connect(last, first)
        return Chain(runs[0][0], runs[-1][1])

    def _run_of(self, item: ModuleValue | None) -> tuple[Site | None, Site | None]:
        if isinstance(item, Chain):
            return item.first, item.last
        if item is None:
            return None, None
        site = self.new_site(item)
        return site, site

    def connect(self, producer: Site | None, consumer: Site | None) -> None:
        """A certain flow from one run into the next (None: into something unknown)."""
        if producer is not None:
            producer.consumers.append((consumer, False))

    def escape(self, value: ModuleValue) -> None:
        """The module is used where the analysis cannot follow: it has a run with an unknown output."""
        last = value.last if isinstance(value, Chain) else self.new_site(value)
        self.connect(last, None)

    def new_site(self, producer: Step) -> Site:
        site = Site(producer)
        self._sites.setdefault(id(producer), []).append(site)
        return site

    def _ordered_dict_items(self, call: cst.Call, scope: Scope, depth: int) -> list[ModuleValue | None]:
        """`OrderedDict([("conv", nn.Conv2d(...)), ...])`: the modules, in order."""
        if len(call.args) != 1 or not isinstance(call.args[0].value, (cst.List, cst.Tuple)):
            return [None]
        items: list[ModuleValue | None] = []
        for element in call.args[0].value.elements:
            pair = element.value
            if isinstance(element, cst.StarredElement) or not isinstance(pair, cst.Tuple) or len(pair.elements) != 2:
                items.append(None)
            else:
                items.append(self.module_value(pair.elements[1].value, scope, depth + 1))
        return items

    def _starred_list(self, value: cst.BaseExpression, scope: Scope) -> ModuleValue | None:
        """`nn.Sequential(*layers)` where the function builds the list `layers` itself.

        The items of one list literal run in order, and so do the items added by consecutive
        statements of one block: those flows are recorded. When every addition sits in the
        function's own top-level block, the whole list's order is known and so is the chain.
        """
        if not isinstance(value, cst.Name) or not isinstance(scope.node, cst.FunctionDef):
            return None
        key = (scope.node, value.value)
        if key not in self._straight_lists:
            self._straight_lists[key] = None
            if only_built(scope.node, value.value):
                builder = ListBuilder(self, scope, value.value)
                self._straight_lists[key] = builder.block(body_of(scope.node), top=True)
        return self._straight_lists[key]

    # --------------------------------------------------------------- data flow
    def _interpret_class(self, model: ClassModel) -> None:
        attributes = {name: self._attribute_value(model, name, 0) for name in model.assignments}
        if not any(attributes.values()):
            return  # no submodule this analysis knows: nothing to follow
        model.opaque = model.opaque or any(uses_dynamic_modules(m) for m in model.methods.values())
        for method in model.methods.values():
            MethodInterpreter(self, model, attributes).run(method)
        escaping = set() if model.opaque else self._escaping_attributes(model)
        for name, value in attributes.items():
            if value is not None and (model.opaque or name in escaping):
                self.escape(value)

    def _escaping_attributes(self, model: ClassModel) -> set[str]:
        """The names `x` whose `self.x` is used as a value (stored, passed on, returned), not only run
        or read: one walk over the methods for all attributes."""
        escaping: set[str] = set()
        for method in model.methods.values():
            for node, parent, grandparent in with_parents(method.body):
                if isinstance(node, cst.Attribute):
                    name = self_attribute(node)
                    if name is not None and name not in escaping and not self._harmless_use(node, parent, grandparent):
                        escaping.add(name)
        return escaping

    def _harmless_use(self, node: cst.CSTNode, parent: cst.CSTNode | None, grandparent: cst.CSTNode | None) -> bool:
        """A use of a module that neither runs it unseen nor hands it to code the analysis cannot see."""
        if isinstance(parent, cst.Call) and parent.func is node:
            return True  # self.x(...): followed by the interpreter
        if isinstance(parent, cst.Attribute) and parent.value is node:
            return True  # self.x.weight, self.x.forward(...)
        if isinstance(parent, cst.AssignTarget):
            return True  # the binding itself
        if isinstance(parent, (cst.Comparison, cst.ComparisonTarget, cst.If, cst.UnaryOperation, cst.BooleanOperation)):
            return True  # `if self.x is not None`, `if not self.x`
        if isinstance(parent, cst.Arg) and isinstance(grandparent, cst.Call):
            called = self.context.qualified_name(grandparent.func)
            return called == SEQUENTIAL or called in _INSPECTING_CALLS
        return False

    def next_context(self) -> int:
        self._contexts += 1
        return self._contexts


def _definitions(module: cst.Module) -> Iterator[cst.CSTNode]:
    """Classes at the module's top level and inside its top-level blocks (not inside functions)."""
    return (statement for statement in statements(module.body) if isinstance(statement, cst.ClassDef))


def _registration(call: cst.Call) -> Iterator[tuple[str, cst.BaseExpression]]:
    """`setattr(self, "x", m)`, `self.add_module("x", m)`, `self.register_module("x", m)`."""
    args = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
    func = call.func
    if isinstance(func, cst.Name) and func.value == "setattr" and len(args) == 3:
        if isinstance(args[0], cst.Name) and args[0].value == "self":
            name = string_value(args[1])
            if name:
                yield name, args[2]
    elif isinstance(func, cst.Attribute) and func.attr.value in ("add_module", "register_module"):
        if isinstance(func.value, cst.Name) and func.value.value == "self" and len(args) == 2:
            name = string_value(args[0])
            if name:
                yield name, args[1]


_MODULE_ITERATORS = frozenset({"children", "modules", "named_children", "named_modules", "_modules", "__dict__"})


def uses_dynamic_modules(method: cst.FunctionDef) -> bool:
    """Whether a method runs submodules it reaches by name or by iteration.

    `getattr(self, name)(x)` and `for m in self.children(): x = m(x)` run modules in an order the
    analysis cannot see; `for m in self.modules(): init(m.weight)` runs none and is fine.
    """
    called = {node.func.value for node in descendants(method.body) if isinstance(node, cst.Call) and isinstance(node.func, cst.Name)}
    for node, parent, _ in with_parents(method.body):
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in ("getattr", "vars"):
            first = node.args[0].value if node.args else None
            if not (isinstance(first, cst.Name) and first.value == "self"):
                continue
            if isinstance(parent, cst.Call) and parent.func is node:
                return True  # getattr(self, name)(x)
            if isinstance(parent, cst.Assign) and any(
                name in called for target in parent.targets for name in assigned_names(target.target)
            ):
                return True  # layer = getattr(self, name); layer(x)
        elif isinstance(node, cst.For) and any(
            isinstance(n, cst.Attribute) and self_attribute(n) in _MODULE_ITERATORS for n in (node.iter, *descendants(node.iter))
        ):
            if any(name in called for name in assigned_names(node.target)):
                return True  # for m in self.children(): x = m(x)
    return False
