"""The vocabulary of the structure analysis: steps, their runs (sites), and chains of modules.

A *step* is a `LayerCall` (a constructor call of a known `torch.nn` layer, its arguments bound
to parameter names) or an `Op` (a functional step of a forward pass). A `Site` is one run of a
step and lists who consumes its output; rules read these to know what feeds what.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Union

import libcst as cst

from bnlint.torchnames import ACTIVATION_MODULES, LayerSpec


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

    def known(self, name: str) -> cst.BaseExpression | None:
        """The expression passed for `name`; None when the call does not show one."""
        found = self.values.get(name)
        return found.value if found is not None else None

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
