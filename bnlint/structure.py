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
from typing import TYPE_CHECKING, NamedTuple, Union

import libcst as cst

from bnlint.torchnames import (
    ACTIVATION_FUNCTIONS,
    ACTIVATION_METHODS,
    ACTIVATION_MODULES,
    DROPOUT_FUNCTIONS,
    IDENTITY_METHODS,
    MERGE_FUNCTIONS,
    METADATA_METHODS,
    NORM_FUNCTIONS,
    POOL_FUNCTIONS,
    RESHAPE_FUNCTIONS,
    RESHAPE_METHODS,
    LayerSpec,
    layer_spec,
)
from bnlint.traverse import children

if TYPE_CHECKING:
    from bnlint.context import FileContext

SEQUENTIAL = "torch.nn.Sequential"
ORDERED_DICT = frozenset({"collections.OrderedDict", "typing.OrderedDict"})
# Calls that may take a module as an argument without running it or keeping it.
_INSPECTING_CALLS = frozenset({"builtins.isinstance", "builtins.hasattr", "builtins.type", "builtins.id"})
_UNKNOWN = cst.Name("__unknown__")  # stands for a value the analysis cannot see


class Args:
    """The arguments of a call, bound to a layer's parameter names."""

    UNKNOWN = object()

    def __init__(self, call: cst.Call, params: Sequence[str]) -> None:
        self.call = call
        self.values: dict[str, cst.Arg] = {}
        self.star = False
        position = 0
        for arg in call.args:
            if arg.star:
                self.star = True
            elif arg.keyword is not None:
                self.values[arg.keyword.value] = arg
            elif not self.star and position < len(params):
                self.values[params[position]] = arg
                position += 1

    def arg(self, name: str) -> cst.Arg | None:
        return self.values.get(name)

    def get(self, name: str) -> cst.BaseExpression | object | None:
        """The expression passed for `name`; None when not passed; `Args.UNKNOWN` when a `*args` or
        `**kwargs` may pass it."""
        found = self.values.get(name)
        if found is not None:
            return found.value
        return Args.UNKNOWN if self.star else None


@dataclass(eq=False)
class LayerCall:
    """A constructor call of a known `torch.nn` layer."""

    qualified_name: str
    spec: LayerSpec
    node: cst.Call
    args: Args

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def family(self) -> str | None:
        """The activation family (relu, tanh, sigmoid) of an activation layer."""
        return ACTIVATION_MODULES.get(self.qualified_name)

    @property
    def short_name(self) -> str:
        return self.qualified_name.rsplit(".", 1)[-1]


@dataclass(eq=False)
class Op:
    """A functional step of a forward pass: `F.relu(x)`, `x.view(...)`, `a + b`..."""

    kind: str  # activation | dropout | reshape | pool | merge | a norm kind (batchnorm, layernorm...)
    name: str
    node: cst.CSTNode
    family: str | None = None

    @property
    def short_name(self) -> str:
        return self.name.rsplit(".", 1)[-1]


Step = Union[LayerCall, Op]


@dataclass(eq=False)
class Site:
    """One run of a step (a module called, an op applied) and who consumes its output.

    A consumer is `(site, conditional)`: the run of the step that takes this output as input,
    or None when the output goes somewhere the analysis does not follow (returned, stored,
    passed to an unknown function); `conditional` says that the consumer runs in some
    executions only (it sits in a branch or a loop that the producer is not in).
    """

    producer: Step
    consumers: list[tuple[Site | None, bool]] = field(default_factory=list)

    def sole_consumer(self) -> Site | None:
        """The one run that always consumes this output, or None when that is not certain."""
        if len(self.consumers) != 1:
            return None
        site, conditional = self.consumers[0]
        return None if conditional else site


@dataclass(eq=False)
class Chain:
    """Modules that run one after the other (a Sequential): the runs of its first and last
    module, each unknown (None) when the code does not show it."""

    first: Site | None
    last: Site | None


ModuleValue = Union[LayerCall, Chain]


class _Scope:
    """A function (or the module): local names bound exactly once, and the class it belongs to."""

    def __init__(self, node: cst.FunctionDef | cst.Module, owner: _ClassModel | None) -> None:
        self.node = node
        self.owner = owner
        self.bindings: dict[str, list[cst.BaseExpression]] = {}
        for statement in _statements(_body(node)):
            if isinstance(statement, cst.Assign):
                for target in statement.targets:
                    self._bind(target.target, statement.value)
            elif isinstance(statement, cst.AnnAssign) and statement.value is not None:
                self._bind(statement.target, statement.value)
            else:
                for name in _names_bound(statement):
                    self.bindings.setdefault(name, []).append(_UNKNOWN)
        if isinstance(node, cst.FunctionDef):
            for param in _parameters(node):
                self.bindings.setdefault(param, []).append(_UNKNOWN)

    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.bindings.setdefault(target.value, []).append(value)
        else:
            for name in _assigned_names(target):
                self.bindings.setdefault(name, []).append(_UNKNOWN)

    def single(self, name: str) -> cst.BaseExpression | None:
        values = self.bindings.get(name)
        return values[0] if values and len(values) == 1 else None


@dataclass(eq=False)
class _ClassModel:
    node: cst.ClassDef
    sequential: bool
    assignments: dict[str, list[tuple[cst.BaseExpression, _Scope]]] = field(default_factory=dict)
    methods: dict[str, cst.FunctionDef] = field(default_factory=dict)
    scopes: dict[str, _Scope] = field(default_factory=dict)
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
        self._classes: dict[cst.ClassDef, _ClassModel] = {}
        self._class_names: dict[str, _ClassModel | None] = {}  # None: several classes share the name
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
        self._visit(module, _Scope(module, None))
        for model in self._classes.values():
            self._interpret_class(model)

    def _register_class(self, node: cst.ClassDef) -> None:
        """Collect a class's methods and every `self.x = ...` binding before anything is resolved."""
        sequential = any(self.context.qualified_name(base.value) == SEQUENTIAL for base in node.bases)
        model = self._classes[node] = _ClassModel(node, sequential)
        name = node.name.value
        self._class_names[name] = None if name in self._class_names else model  # notebooks redefine classes
        for item in _body(node):
            if isinstance(item, cst.FunctionDef):
                model.methods[item.name.value] = item
                model.scopes[item.name.value] = scope = _Scope(item, model)
                for name, value in self._bindings(item):
                    model.assignments.setdefault(name, []).append((value, scope))

    def _bindings(self, function: cst.FunctionDef) -> Iterator[tuple[str, cst.BaseExpression]]:
        """`self.x = v`, `setattr(self, "x", v)`, `self.add_module("x", v)` in a method."""
        for statement in _statements(_body(function)):
            if isinstance(statement, cst.Assign):
                for target in statement.targets:
                    name = _self_attribute(target.target)
                    if name is not None:
                        yield name, statement.value
            elif isinstance(statement, (cst.AnnAssign, cst.AugAssign)):
                name = _self_attribute(statement.target)
                if name is not None:
                    value = statement.value if isinstance(statement, cst.AnnAssign) else None
                    yield name, value if value is not None else _UNKNOWN
            elif isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Call):
                yield from _registration(statement.value)

    def _visit(self, module: cst.Module, module_scope: _Scope) -> None:
        """Register every layer constructor call and evaluate every Sequential, scope by scope."""
        stack: list[tuple[cst.CSTNode, _Scope]] = [(module, module_scope)]
        while stack:
            node, scope = stack.pop()
            if isinstance(node, cst.FunctionDef):
                # A nested function shares `self` with its method; a module-level one has none.
                scope = _Scope(node, scope.owner if isinstance(scope.node, cst.FunctionDef) else None)
                stack.append((node.body, scope))
                continue
            if isinstance(node, cst.ClassDef):
                model = self._classes.get(node)
                if model is not None:
                    for item in _body(node):
                        if isinstance(item, cst.FunctionDef):
                            stack.append((item.body, model.scopes[item.name.value]))
                        else:
                            stack.append((item, scope))
                    continue
            elif isinstance(node, cst.Call):
                self._evaluate_call(node, scope)
            stack.extend((child, scope) for child in reversed(children(node)))

    def _evaluate_call(self, call: cst.Call, scope: _Scope) -> None:
        if self._super_init_of_sequential(call, scope):
            if call not in self._chains:
                self._chains[call] = self._link(self._items(call, scope, 0))
        else:
            self._module_value(call, scope)

    def _super_init_of_sequential(self, call: cst.Call, scope: _Scope) -> bool:
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

    def _module_value(self, node: cst.BaseExpression, scope: _Scope, depth: int = 0) -> ModuleValue | None:
        """What module an expression builds or names: a layer, a chain, or None when unknown."""
        if depth > 25:
            return None
        if isinstance(node, cst.Call):
            layer = self._layer_call(node)
            if layer is None:
                return self._call_value(node, scope, depth)
            if layer.kind == "sequential":
                chain = self._chains.get(node)
                if chain is None:
                    chain = self._chains[node] = self._link(self._items(node, scope, depth))
                return chain
            return None if layer.kind == "container" else layer
        if isinstance(node, cst.Name):
            value = scope.single(node.value)
            return self._module_value(value, scope, depth + 1) if value is not None else None
        attribute = _self_attribute(node)
        if attribute is not None and scope.owner is not None:
            return self._attribute_value(scope.owner, attribute, depth + 1)
        return None

    def _attribute_value(self, model: _ClassModel, name: str, depth: int) -> ModuleValue | None:
        key = (id(model), name)
        if key in self._attribute_values:
            return self._attribute_values[key]
        assignments = model.assignments.get(name, [])
        if len(assignments) != 1 or key in self._resolving:
            return None  # not bound here, bound twice, or defined in terms of itself
        self._resolving.add(key)
        value, scope = assignments[0]
        result = self._module_value(value, scope, depth)
        self._resolving.discard(key)
        self._attribute_values[key] = result
        return result

    def _call_value(self, call: cst.Call, scope: _Scope, depth: int) -> ModuleValue | None:
        """A call of a helper function or method with a single `return`, or of a Sequential subclass."""
        function: cst.FunctionDef | None = None
        owner = None
        if isinstance(call.func, cst.Name) and self.context.imports.resolve_name(call.func.value) is None:
            model = self._class_names.get(call.func.value)
            if model is not None:
                return self._sequential_class(model)
            function = self._functions.get(call.func.value)
        else:
            attribute = _self_attribute(call.func)
            if attribute is not None and scope.owner is not None:
                function = scope.owner.methods.get(attribute)
                owner = scope.owner
        if function is None:
            return None
        if function in self._function_values:
            return self._function_values[function]
        self._function_values[function] = None  # guards against recursion
        returns = [s for s in _statements(_body(function)) if isinstance(s, cst.Return)]
        result = None
        if len(returns) == 1 and returns[0].value is not None:
            function_scope = owner.scopes.get(function.name.value) if owner else None
            result = self._module_value(returns[0].value, function_scope or _Scope(function, owner), depth + 1)
        self._function_values[function] = result
        return result

    def _sequential_class(self, model: _ClassModel) -> Chain | None:
        """The chain built by the `super().__init__(...)` of a Sequential subclass, if it has one."""
        if not model.sequential or "__init__" not in model.methods:
            return None
        init = model.methods["__init__"]
        scope = model.scopes["__init__"]
        calls = [n for n in _walk(init.body) if isinstance(n, cst.Call) and self._super_init_of_sequential(n, scope)]
        if len(calls) != 1:
            return None
        chain = self._chains.get(calls[0])
        if chain is None:
            chain = self._chains[calls[0]] = self._link(self._items(calls[0], scope, 0))
        return chain

    def _items(self, call: cst.Call, scope: _Scope, depth: int) -> list[ModuleValue | None]:
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
                items.append(self._module_value(arg.value, scope, depth + 1))
        return items

    def _link(self, items: Sequence[ModuleValue | None]) -> Chain:
        """Run modules one after the other: each layer gets a run, a chain item brings its own."""
        if not items:
            return Chain(None, None)
        runs = [self._run_of(item) for item in items]
        for (_, last), (first, _) in zip(runs, runs[1:]):
            self._connect(last, first)
        return Chain(runs[0][0], runs[-1][1])

    def _run_of(self, item: ModuleValue | None) -> tuple[Site | None, Site | None]:
        if isinstance(item, Chain):
            return item.first, item.last
        if item is None:
            return None, None
        site = self._new_site(item)
        return site, site

    def _connect(self, producer: Site | None, consumer: Site | None) -> None:
        """A certain flow from one run into the next (None: into something unknown)."""
        if producer is not None:
            producer.consumers.append((consumer, False))

    def _escape(self, value: ModuleValue) -> None:
        """The module is used where the analysis cannot follow: it has a run with an unknown output."""
        last = value.last if isinstance(value, Chain) else self._new_site(value)
        self._connect(last, None)

    def _new_site(self, producer: Step) -> Site:
        site = Site(producer)
        self._sites.setdefault(id(producer), []).append(site)
        return site

    def _ordered_dict_items(self, call: cst.Call, scope: _Scope, depth: int) -> list[ModuleValue | None]:
        """`OrderedDict([("conv", nn.Conv2d(...)), ...])`: the modules, in order."""
        if len(call.args) != 1 or not isinstance(call.args[0].value, (cst.List, cst.Tuple)):
            return [None]
        items: list[ModuleValue | None] = []
        for element in call.args[0].value.elements:
            pair = element.value
            if isinstance(element, cst.StarredElement) or not isinstance(pair, cst.Tuple) or len(pair.elements) != 2:
                items.append(None)
            else:
                items.append(self._module_value(pair.elements[1].value, scope, depth + 1))
        return items

    def _starred_list(self, value: cst.BaseExpression, scope: _Scope) -> ModuleValue | None:
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
            if _only_built(scope.node, value.value):
                builder = _ListBuilder(self, scope, value.value)
                self._straight_lists[key] = builder.block(_body(scope.node), top=True)
        return self._straight_lists[key]

    # --------------------------------------------------------------- data flow
    def _interpret_class(self, model: _ClassModel) -> None:
        attributes = {name: self._attribute_value(model, name, 0) for name in model.assignments}
        if not any(attributes.values()):
            return  # no submodule this analysis knows: nothing to follow
        model.opaque = model.opaque or any(_uses_dynamic_modules(m) for m in model.methods.values())
        for method in model.methods.values():
            _Interpreter(self, model, attributes).run(method)
        for name, value in attributes.items():
            if value is not None and (model.opaque or self._attribute_escapes(model, name)):
                self._escape(value)

    def _attribute_escapes(self, model: _ClassModel, name: str) -> bool:
        """Whether `self.name` is used as a value (stored, passed on, returned), not only run or read."""
        for method in model.methods.values():
            for node, parent, grandparent in _with_parents(method.body):
                if isinstance(node, cst.Attribute) and _self_attribute(node) == name:
                    if not self._harmless_use(node, parent, grandparent):
                        return True
        return False

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


class _ListBuilder:
    """Follows the statements that build one list of modules, recording the flows inside it."""

    def __init__(self, structure: ModelStructure, scope: _Scope, name: str) -> None:
        self.structure = structure
        self.scope = scope
        self.name = name

    def block(self, body: Sequence[cst.CSTNode], top: bool) -> Chain | None:
        """Walk one block; return the whole list's chain when `top` and every addition is here."""
        complete = top
        pieces: list[Chain] = []
        previous: Chain | None = None
        for statement in _small_and_compound(body):
            if isinstance(statement, cst.BaseCompoundStatement):
                if _mentions(statement, self.name):
                    complete, previous = False, None
                    if not isinstance(statement, (cst.FunctionDef, cst.ClassDef)):  # another scope's list
                        for nested in _blocks(statement):
                            self.block(nested, top=False)
                continue
            added = _list_operation(statement, self.name)
            if added is False:
                continue  # a statement that does not touch the list
            if not isinstance(added, (cst.List, cst.Tuple)):
                complete, previous = False, None  # extended with something that is not a literal
                continue
            if isinstance(statement, cst.Assign):
                pieces, previous = [], None  # a new list
            if not added.elements:
                continue
            items = [
                None if isinstance(element, cst.StarredElement) else self.structure._module_value(element.value, self.scope)  # noqa: SLF001
                for element in added.elements
            ]
            chain = self.structure._link(items)  # noqa: SLF001
            if previous is not None:
                self.structure._connect(previous.last, chain.first)  # noqa: SLF001
            previous = chain
            pieces.append(chain)
        if not complete or not pieces:
            return None
        return Chain(pieces[0].first, pieces[-1].last)


class Value(NamedTuple):
    """A local value of a method: the run whose output it is, and the block it was produced in."""

    site: Site
    context: int


# What a local name holds: one value, one of several (after a branch that may have reassigned
# it; every use of it is then conditional for each), or None when unknown.
Held = Union[Value, tuple[Value, ...], None]


def _either(options: Sequence[Held]) -> Held:
    """The alternatives a name may hold after a branch, or None when none is known."""
    alternatives: dict[int, Value] = {}
    for option in options:
        for value in (option,) if option is None or isinstance(option, Value) else option:
            if value is not None:
                alternatives.setdefault(id(value.site), value)
    return tuple(alternatives.values()) or None


class _Interpreter:
    """Follows values through one method: which run's output each local name holds."""

    def __init__(self, structure: ModelStructure, model: _ClassModel, attributes: dict[str, ModuleValue | None]):
        self.structure = structure
        self.model = model
        self.attributes = attributes
        self.context = 0

    def run(self, method: cst.FunctionDef) -> None:
        self.context = self.structure.next_context()
        self._block(_body(method), {})

    # ---------------------------------------------------------------- statements
    def _block(self, body: Sequence[cst.CSTNode], env: dict[str, Held]) -> None:
        for statement in _small_and_compound(body):
            if isinstance(statement, cst.BaseCompoundStatement):
                self._compound(statement, env)
            else:
                self._small(statement, env)

    def _small(self, statement: cst.CSTNode, env: dict[str, Held]) -> None:
        if isinstance(statement, cst.Assign):
            value = self._value(statement.value, env)
            targets = [target.target for target in statement.targets]
            if len(targets) == 1 and isinstance(targets[0], cst.Name):
                env[targets[0].value] = value
                return
            self._consume(value, None)
            for target in targets:
                self._assign_unknown(target, env)
        elif isinstance(statement, cst.AnnAssign):
            if statement.value is not None:
                value = self._value(statement.value, env)
                if isinstance(statement.target, cst.Name):
                    env[statement.target.value] = value
                else:
                    self._consume(value, None)
                    self._assign_unknown(statement.target, env)
        elif isinstance(statement, cst.AugAssign):
            right = self._value(statement.value, env)
            if isinstance(statement.target, cst.Name):
                left = env.get(statement.target.value)
                env[statement.target.value] = self._op("merge", "augmented", statement, [left, right])
            else:
                self._consume(right, None)
                self._assign_unknown(statement.target, env)
        elif isinstance(statement, (cst.Expr, cst.Return)):
            if statement.value is not None:
                self._consume(self._value(statement.value, env), None)
        else:
            self._consume_names(statement, env)

    def _assign_unknown(self, target: cst.BaseExpression, env: dict[str, Held]) -> None:
        self._consume_names(target, env)
        for name in _assigned_names(target):
            env[name] = None

    def _compound(self, statement: cst.BaseCompoundStatement, env: dict[str, Held]) -> None:
        if isinstance(statement, cst.With):
            for item in statement.items:
                self._consume(self._value(item.item, env), None)
                if item.asname is not None:
                    self._assign_unknown(item.asname.name, env)
            self._block(_blocks(statement)[0], env)
            return
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            self._consume_names(statement, env)  # a closure may use any value
            env[statement.name.value] = None
            return
        # if / for / while / try / match: each nested block runs in some executions only.
        for header in _headers(statement):
            self._consume_names(header, env)
        assigned = _assigned_in(statement)
        loop = isinstance(statement, (cst.For, cst.While))
        outer = self.context
        branches = []
        for block in _blocks(statement):
            branch = dict(env)
            if loop:
                for name in assigned:
                    branch[name] = _either([env.get(name)])  # or a value of the previous iteration
            self.context = self.structure.next_context()
            self._block(block, branch)
            branches.append(branch)
        self.context = outer
        for name in assigned:
            # The value from before stays possible: a branch not taken, a loop that did not run.
            env[name] = _either([env.get(name), *(branch.get(name) for branch in branches)])

    # --------------------------------------------------------------- expressions
    def _value(self, node: cst.BaseExpression, env: dict[str, Held]) -> Held:
        """Evaluate an expression: the output (site) it stands for, or None when unknown."""
        if isinstance(node, cst.Name):
            return env.get(node.value)
        if isinstance(node, cst.Call):
            return self._call(node, env)
        if isinstance(node, cst.BinaryOperation):
            left = self._value(node.left, env)
            right = self._value(node.right, env)
            return self._op("merge", type(node.operator).__name__, node, [left, right])
        if isinstance(node, cst.Attribute):
            if node.attr.value in METADATA_METHODS:
                return None  # x.shape: reads metadata, not the values
            receiver = self._value(node.value, env)
            if node.attr.value in ("T", "mT"):
                return self._op("reshape", node.attr.value, node, [receiver])
            self._consume(receiver, None)
            return None
        self._consume_names(node, env)
        return None

    def _call(self, call: cst.Call, env: dict[str, Held]) -> Held:
        func = call.func
        attribute = _self_attribute(func)
        if attribute is None and isinstance(func, cst.Attribute) and func.attr.value == "forward":
            attribute = _self_attribute(func.value)
        if attribute is not None:
            return self._module_call(attribute, call, env)
        if isinstance(func, (cst.Name, cst.Attribute)):
            kind, family = _functional_kind(self.structure.context.qualified_name(func))
            if kind is not None:
                return self._function_call(kind, family, call, env)
        if isinstance(func, cst.Attribute) and not (isinstance(func.value, cst.Name) and func.value.value not in env):
            return self._method_call(func, call, env)
        self._consume_names(func, env)
        self._consume_args(call, env)
        return None

    def _module_call(self, attribute: str, call: cst.Call, env: dict[str, Held]) -> Held:
        """`self.layer(x)`: the input flows into the module's first step, the result is its last's."""
        module = None if self.model.opaque else self.attributes.get(attribute)
        positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
        if module is None or len(call.args) != 1 or len(positional) != 1:
            self._consume_args(call, env)
            if module is not None:  # a call the analysis does not follow: its output is unknown
                self.structure._escape(module)  # noqa: SLF001
            return None
        source = self._value(positional[0].value, env)
        if isinstance(module, Chain):
            self._consume(source, module.first)
            return Value(module.last, self.context) if module.last is not None else None
        run = self._output(module)
        self._consume(source, run.site)
        return run

    def _function_call(self, kind: str, family: str | None, call: cst.Call, env: dict[str, Held]) -> Held:
        """`F.relu(x)`, `torch.flatten(x, 1)`, `torch.cat([a, b])`...: an op on its first argument."""
        qualified = self.structure.context.qualified_name(call.func) or kind
        if kind == "merge":
            return self._op("merge", qualified, call, self._merge_sources(call, env))
        positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
        if not positional:
            self._consume_args(call, env)
            return None
        source = self._value(positional[0].value, env)
        for arg in call.args:
            if arg is not positional[0]:
                self._consume_names(arg.value, env)
        return self._op(kind, qualified, call, [source], family)

    def _method_call(self, func: cst.Attribute, call: cst.Call, env: dict[str, Held]) -> Held:
        """`x.view(...)`, `x.relu()`, `x.contiguous()`, `x.size(0)`..."""
        method = func.attr.value
        if method in METADATA_METHODS:
            self._consume_args(call, env)
            return None
        receiver = self._value(func.value, env)
        if method in IDENTITY_METHODS:
            self._consume_args(call, env)
            return receiver
        if method in RESHAPE_METHODS:
            self._consume_args(call, env)
            return self._op("reshape", method, call, [receiver])
        if method in ACTIVATION_METHODS and not call.args:
            return self._op("activation", method, call, [receiver], ACTIVATION_METHODS[method])
        self._consume(receiver, None)
        self._consume_args(call, env)
        return None

    def _merge_sources(self, call: cst.Call, env: dict[str, Held]) -> list[Held]:
        sources: list[Held] = []
        for arg in call.args:
            if arg.keyword is not None or arg.star:
                self._consume_names(arg.value, env)
            elif isinstance(arg.value, (cst.List, cst.Tuple)):
                sources.extend(self._value(element.value, env) for element in arg.value.elements)
            else:
                sources.append(self._value(arg.value, env))
        return sources

    def _op(
        self, kind: str, name: str, node: cst.CSTNode, sources: list[Held], family: str | None = None
    ) -> Value:
        op = Op(kind, name, node, family)
        self.structure.ops.append(op)
        run = self._output(op)
        for source in sources:
            self._consume(source, run.site)
        return run

    def _output(self, step: Step) -> Value:
        return Value(self.structure._new_site(step), self.context)  # noqa: SLF001

    def _consume(self, value: Held, consumer: Site | None) -> None:
        if isinstance(value, Value):
            value.site.consumers.append((consumer, value.context != self.context))
        elif value is not None:
            for alternative in value:
                alternative.site.consumers.append((consumer, True))

    def _consume_args(self, call: cst.Call, env: dict[str, Held]) -> None:
        for arg in call.args:
            self._consume(self._value(arg.value, env), None)

    def _consume_names(self, node: cst.CSTNode, env: dict[str, Held]) -> None:
        """Every value named inside `node` goes somewhere the analysis does not follow."""
        for current in (node, *_walk(node, into_scopes=True)):
            if isinstance(current, cst.Name):
                self._consume(env.get(current.value), None)


# ------------------------------------------------------------------ syntax helpers
def _body(node: cst.CSTNode) -> Sequence[cst.CSTNode]:
    """The statements of a module, class or function body."""
    if isinstance(node, cst.Module):
        return node.body
    body = getattr(node, "body", None)
    if isinstance(body, cst.IndentedBlock):
        return body.body
    if isinstance(body, cst.SimpleStatementSuite):
        return [cst.SimpleStatementLine(body=body.body)]
    return ()


def _small_and_compound(body: Sequence[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    """The statements of one block, small statements unpacked from their lines."""
    for item in body:
        if isinstance(item, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            yield from item.body
        else:
            yield item


def _statements(body: Sequence[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    """Every statement of a block and of the blocks nested in it, not entering nested defs."""
    for statement in _small_and_compound(body):
        yield statement
        if isinstance(statement, cst.BaseCompoundStatement) and not isinstance(
            statement, (cst.FunctionDef, cst.ClassDef)
        ):
            for block in _blocks(statement):
                yield from _statements(block)


def _blocks(statement: cst.BaseCompoundStatement) -> list[Sequence[cst.CSTNode]]:
    """The statement lists directly inside a compound statement, elif and else included."""
    blocks: list[Sequence[cst.CSTNode]] = []

    def add(holder: object) -> None:
        body = _body(holder) if holder is not None else ()
        if body:
            blocks.append(body)

    add(statement)
    orelse = getattr(statement, "orelse", None)
    while orelse is not None:
        add(orelse)
        orelse = orelse.orelse if isinstance(orelse, cst.If) else None
    for handler in getattr(statement, "handlers", ()):
        add(handler)
    add(getattr(statement, "finalbody", None))
    for case in getattr(statement, "cases", ()):
        add(case)
    return blocks


def _headers(statement: cst.BaseCompoundStatement) -> list[cst.CSTNode]:
    """The expressions a compound statement evaluates besides its blocks (tests, iterables)."""
    if isinstance(statement, cst.If):
        headers: list[cst.CSTNode] = [statement.test]
        orelse = statement.orelse
        while isinstance(orelse, cst.If):
            headers.append(orelse.test)
            orelse = orelse.orelse
        return headers
    if isinstance(statement, cst.While):
        return [statement.test]
    if isinstance(statement, cst.For):
        return [statement.iter, statement.target]
    if isinstance(statement, cst.Match):
        return [statement.subject]
    if isinstance(statement, cst.Try):
        return [handler.type for handler in statement.handlers if handler.type is not None]
    return []


def _assigned_in(statement: cst.BaseCompoundStatement) -> set[str]:
    names: set[str] = set()
    for node in _statements([statement]):
        if isinstance(node, cst.Assign):
            for target in node.targets:
                names.update(_assigned_names(target.target))
        elif isinstance(node, (cst.AugAssign, cst.AnnAssign)):
            names.update(_assigned_names(node.target))
        names.update(_names_bound(node))
    return names


def _assigned_names(target: cst.BaseExpression) -> Iterator[str]:
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _assigned_names(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from _assigned_names(target.value)


def _names_bound(statement: cst.CSTNode) -> Iterator[str]:
    """Names bound by statements other than plain assignments."""
    if isinstance(statement, cst.AugAssign):
        yield from _assigned_names(statement.target)
    elif isinstance(statement, cst.For):
        yield from _assigned_names(statement.target)
    elif isinstance(statement, cst.With):
        for item in statement.items:
            if item.asname is not None:
                yield from _assigned_names(item.asname.name)
    elif isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
        yield statement.name.value
    elif isinstance(statement, cst.Try):
        for handler in statement.handlers:
            if handler.name is not None:
                yield from _assigned_names(handler.name.name)


def _parameters(function: cst.FunctionDef) -> Iterator[str]:
    params = function.params
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        yield param.name.value
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            yield star.name.value


def _definitions(module: cst.Module) -> Iterator[cst.CSTNode]:
    """Classes at the module's top level and inside its top-level blocks (not inside functions)."""
    return (statement for statement in _statements(module.body) if isinstance(statement, cst.ClassDef))


def _self_attribute(node: cst.CSTNode) -> str | None:
    """`attr` for `self.attr`."""
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self":
        return node.attr.value
    return None


def _string_value(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _registration(call: cst.Call) -> Iterator[tuple[str, cst.BaseExpression]]:
    """`setattr(self, "x", m)`, `self.add_module("x", m)`, `self.register_module("x", m)`."""
    args = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
    func = call.func
    if isinstance(func, cst.Name) and func.value == "setattr" and len(args) == 3:
        if isinstance(args[0], cst.Name) and args[0].value == "self":
            name = _string_value(args[1])
            if name:
                yield name, args[2]
    elif isinstance(func, cst.Attribute) and func.attr.value in ("add_module", "register_module"):
        if isinstance(func.value, cst.Name) and func.value.value == "self" and len(args) == 2:
            name = _string_value(args[0])
            if name:
                yield name, args[1]


def _walk(node: cst.CSTNode, into_scopes: bool = False) -> Iterator[cst.CSTNode]:
    """Every node under `node` (not entering nested functions, classes and lambdas unless asked)."""
    stack = list(reversed(children(node)))
    while stack:
        current = stack.pop()
        yield current
        if not into_scopes and isinstance(current, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        stack.extend(reversed(children(current)))


def _with_parents(node: cst.CSTNode) -> Iterator[tuple[cst.CSTNode, cst.CSTNode | None, cst.CSTNode | None]]:
    stack: list[tuple[cst.CSTNode, cst.CSTNode | None, cst.CSTNode | None]] = [(node, None, None)]
    while stack:
        current, parent, grandparent = stack.pop()
        yield current, parent, grandparent
        stack.extend((child, current, parent) for child in children(current))


def _references(node: cst.CSTNode) -> Iterator[cst.Name]:
    """The names in `node` that refer to variables (not `x.attr`'s attr, not `f(key=...)`'s key)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Name):
            yield current
        elif isinstance(current, cst.Attribute):
            stack.append(current.value)
        elif isinstance(current, cst.Arg):
            stack.append(current.value)
        else:
            stack.extend(children(current))


def _mentions(node: cst.CSTNode, name: str) -> bool:
    return any(reference.value == name for reference in _references(node))


def _list_operation(statement: cst.CSTNode, name: str) -> cst.BaseExpression | bool | None:
    """What a statement adds to list `name`: `append(v)` gives `[v]`; `extend(v)`, `+= v` and
    `= v` give `v`. False when the statement does not mention `name`, None when it uses it
    otherwise."""
    if isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Call):
        func = statement.value.func
        args = statement.value.args
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == name:
            if func.attr.value in ("append", "extend") and len(args) == 1 and not args[0].star:
                if func.attr.value == "append":
                    return cst.List([cst.Element(args[0].value)])
                return args[0].value
            return None
    if isinstance(statement, cst.AugAssign) and isinstance(statement.target, cst.Name) and statement.target.value == name:
        return statement.value if isinstance(statement.operator, cst.AddAssign) else None
    if isinstance(statement, cst.Assign) and len(statement.targets) == 1:
        target = statement.targets[0].target
        if isinstance(target, cst.Name) and target.value == name:
            return statement.value
    return False if not _mentions(statement, name) else None


def _only_built(function: cst.FunctionDef, name: str) -> bool:
    """Whether the function uses list `name` only to build it and unpack it into a call."""
    for statement in _statements(_body(function)):
        if isinstance(statement, cst.BaseCompoundStatement):
            if any(_mentions(header, name) for header in _headers(statement)):
                return False
            continue
        if _list_operation(statement, name) is not None:
            continue
        if not _only_unpacked(statement, name):
            return False
    return True


def _only_unpacked(statement: cst.CSTNode, name: str) -> bool:
    """Whether every mention of `name` in the statement is a `*name` argument."""
    unpacked = sum(
        1
        for node in _walk(statement, into_scopes=True)
        if isinstance(node, cst.Arg) and node.star == "*" and isinstance(node.value, cst.Name) and node.value.value == name
    )
    return sum(1 for reference in _references(statement) if reference.value == name) == unpacked


_MODULE_ITERATORS = frozenset({"children", "modules", "named_children", "named_modules", "_modules", "__dict__"})


def _uses_dynamic_modules(method: cst.FunctionDef) -> bool:
    """Whether a method runs submodules it reaches by name or by iteration.

    `getattr(self, name)(x)` and `for m in self.children(): x = m(x)` run modules in an order the
    analysis cannot see; `for m in self.modules(): init(m.weight)` runs none and is fine.
    """
    called = {node.func.value for node in _walk(method.body) if isinstance(node, cst.Call) and isinstance(node.func, cst.Name)}
    for node, parent, _ in _with_parents(method.body):
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in ("getattr", "vars"):
            first = node.args[0].value if node.args else None
            if not (isinstance(first, cst.Name) and first.value == "self"):
                continue
            if isinstance(parent, cst.Call) and parent.func is node:
                return True  # getattr(self, name)(x)
            if isinstance(parent, cst.Assign) and any(
                name in called for target in parent.targets for name in _assigned_names(target.target)
            ):
                return True  # layer = getattr(self, name); layer(x)
        elif isinstance(node, cst.For) and any(
            isinstance(n, cst.Attribute) and _self_attribute(n) in _MODULE_ITERATORS for n in (node.iter, *_walk(node.iter))
        ):
            if any(name in called for name in _assigned_names(node.target)):
                return True  # for m in self.children(): x = m(x)
    return False


def _functional_kind(qualified: str | None) -> tuple[str | None, str | None]:
    if qualified is None:
        return None, None
    if qualified in ACTIVATION_FUNCTIONS:
        return "activation", ACTIVATION_FUNCTIONS[qualified]
    if qualified in DROPOUT_FUNCTIONS:
        return "dropout", None
    if qualified in NORM_FUNCTIONS:
        return NORM_FUNCTIONS[qualified], None
    if qualified in POOL_FUNCTIONS:
        return "pool", None
    if qualified in RESHAPE_FUNCTIONS:
        return "reshape", None
    if qualified in MERGE_FUNCTIONS:
        return "merge", None
    return None, None
