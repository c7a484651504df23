"""Data flow through the methods of a module class: which run's output each local name holds.

`x = self.bn(self.conv(x))` gives the convolution's run one consumer, the normalization's run;
`F.relu`, reshapes, additions and unknown calls become `Op`s or unknown consumers. A value used
after a branch that may have replaced it is one of several alternatives, each used conditionally.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple, Union

import libcst as cst

from bnlint.flowgraph import Chain, ModuleValue, Op, Site, Step
from bnlint.syntax import assigned_in, assigned_names, blocks, body_of, descendants, headers, self_attribute, small_and_compound
from bnlint.torchnames import (
    ACTIVATION_FUNCTIONS,
    ACTIVATION_METHODS,
    DROPOUT_FUNCTIONS,
    IDENTITY_METHODS,
    MERGE_FUNCTIONS,
    METADATA_METHODS,
    NORM_FUNCTIONS,
    POOL_FUNCTIONS,
    RESHAPE_FUNCTIONS,
    RESHAPE_METHODS,
)

if TYPE_CHECKING:
    from bnlint.structure import ClassModel, ModelStructure


class Value(NamedTuple):
    """A local value of a method: the run whose output it is, and the block it was produced in."""

    site: Site
    context: int


# What a local name holds: one value, one of several (after a branch that may have reassigned
# it; every use of it is then conditional for each), or None when unknown.
Held = Union[Value, tuple[Value, ...], None]


def either(options: Sequence[Held]) -> Held:
    """The alternatives a name may hold after a branch, or None when none is known."""
    alternatives: dict[int, Value] = {}
    for option in options:
        for value in (option,) if option is None or isinstance(option, Value) else option:
            if value is not None:
                alternatives.setdefault(id(value.site), value)
    return tuple(alternatives.values()) or None


class MethodInterpreter:
    """Follows values through one method: which run's output each local name holds."""

    def __init__(self, structure: ModelStructure, model: ClassModel, attributes: dict[str, ModuleValue | None]):
        self.structure = structure
        self.model = model
        self.attributes = attributes
        self.context = 0

    def run(self, method: cst.FunctionDef) -> None:
        self.context = self.structure.next_context()
        self._block(body_of(method), {})

    # ---------------------------------------------------------------- statements
    def _block(self, body: Sequence[cst.CSTNode], env: dict[str, Held]) -> None:
        for statement in small_and_compound(body):
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
        for name in assigned_names(target):
            env[name] = None

    def _compound(self, statement: cst.BaseCompoundStatement, env: dict[str, Held]) -> None:
        if isinstance(statement, cst.With):
            for item in statement.items:
                self._consume(self._value(item.item, env), None)
                if item.asname is not None:
                    self._assign_unknown(item.asname.name, env)
            self._block(blocks(statement)[0], env)
            return
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            self._consume_names(statement, env)  # a closure may use any value
            env[statement.name.value] = None
            return
        # if / for / while / try / match: each nested block runs in some executions only.
        for header in headers(statement):
            self._consume_names(header, env)
        assigned = assigned_in(statement)
        loop = isinstance(statement, (cst.For, cst.While))
        outer = self.context
        branches = []
        for block in blocks(statement):
            branch = dict(env)
            if loop:
                for name in assigned:
                    branch[name] = either([env.get(name)])  # or a value of the previous iteration
            self.context = self.structure.next_context()
            self._block(block, branch)
            branches.append(branch)
        self.context = outer
        for name in assigned:
            # The value from before stays possible: a branch not taken, a loop that did not run.
            env[name] = either([env.get(name), *(branch.get(name) for branch in branches)])

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
        attribute = self_attribute(func)
        if attribute is None and isinstance(func, cst.Attribute) and func.attr.value == "forward":
            attribute = self_attribute(func.value)
        if attribute is not None:
            return self._module_call(attribute, call, env)
        if isinstance(func, (cst.Name, cst.Attribute)):
            kind, family = functional_kind(self.structure.context.qualified_name(func))
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
                self.structure.escape(module)
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
        return Value(self.structure.new_site(step), self.context)

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
        for current in (node, *descendants(node, into_scopes=True)):
            if isinstance(current, cst.Name):
                self._consume(env.get(current.value), None)


def functional_kind(qualified: str | None) -> tuple[str | None, str | None]:
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
