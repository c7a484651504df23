"""BNL203: a mode or training method looked up and never called."""

from __future__ import annotations

import libcst as cst

from bnlint.findings import Applicability, Severity
from bnlint.rule import Case, Replace, Rule

METHODS = frozenset({"eval", "train", "zero_grad", "step", "backward"})
# Receivers that by convention hold parsed options, where `args.train` is a flag, not a method.
OPTION_NAMESPACES = frozenset(
    {"args", "opt", "opts", "cfg", "config", "conf", "flags", "FLAGS", "hparams", "hp", "options", "settings"}
)


def _root_name(node: cst.BaseExpression) -> str | None:
    while isinstance(node, (cst.Attribute, cst.Subscript, cst.Call)):
        node = node.value if not isinstance(node, cst.Call) else node.func
    return node.value if isinstance(node, cst.Name) else None


class ModeCallWithoutParens(Rule):
    """## What it does
    Checks for a statement that only names a mode or training method, without calling it:
    `model.eval`, `model.train`, `optimizer.zero_grad`, `optimizer.step`, `loss.backward`,
    `scheduler.step`.

    ## Why is this bad?
    The statement looks the bound method up and throws it away. `model.eval` leaves the model in
    training mode (BatchNorm keeps using batch statistics, Dropout stays on), `loss.backward`
    computes no gradient and `optimizer.step` updates nothing, and Python raises no error.

    ## Example
    ```python
    model.eval
    with torch.no_grad():
        predictions = model(batch)
    ```

    ## Use instead
    ```python
    model.eval()
    with torch.no_grad():
        predictions = model(batch)
    ```

    ## Fix safety
    The fix adds `()`. It is safe: the statement did nothing before, and the call is what it
    was written for. Receivers that conventionally hold parsed options (`args`, `cfg`, `opt`,
    `hparams`...) are skipped, since there `args.train` is a flag, not a method.

    ## References
    - [`torch.nn.Module.eval`](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.eval)
    - [`torch.optim.Optimizer.step`](https://pytorch.org/docs/stable/generated/torch.optim.Optimizer.step.html)
    """

    code = "BNL203"
    name = "mode-call-without-parens"
    severity = Severity.ERROR
    fix = Applicability.SAFE
    fix_title = "Add `()`"
    message = "`{expr}` is looked up but never called; add `()`"
    triggers = tuple(f".{method}" for method in METHODS)
    must_fire = [
        Case("model.eval\n", line=1, fixed="model.eval()\n"),
        Case(
            "def fit(model, optimizer, loss):\n    loss.backward\n    optimizer.step\n",
            fixed="def fit(model, optimizer, loss):\n    loss.backward()\n    optimizer.step()\n",
        ),
        Case("for batch in loader:\n    optimizer.zero_grad\n", line=2),
        Case("class M(nn.Module):\n    def train_epoch(self):\n        self.train\n", line=3),
        Case("scheduler.step  # once per epoch\n", fixed="scheduler.step()  # once per epoch\n"),
    ]
    must_not_fire = [
        Case("model.eval()\n"),
        # A bound method assigned, passed, stored or chosen is not a forgotten call.
        Case("set_mode = model.eval\n"),
        Case("callbacks.append(model.train)\n"),
        Case("hooks = [model.eval, model.train]\n"),
        Case("mode = model.train if training else model.eval\n"),
        # An argparse flag named like a method.
        Case("if args.eval:\n    evaluate(model)\nargs.train\n"),
        # LBFGS takes a closure: `optimizer.step(closure)` is a call.
        Case("def closure():\n    loss = criterion(model(x), y)\n    loss.backward()\n    return loss\noptimizer.step(closure)\n"),
        # Names inside a docstring or a string.
        Case('def f():\n    """Call model.eval before predicting."""\n    text = "optimizer.step"\n'),
    ]

    def visit_Expr(self, node: cst.Expr) -> None:
        value = node.value
        if not isinstance(value, cst.Attribute) or value.attr.value not in METHODS:
            return
        if _root_name(value.value) in OPTION_NAMESPACES:
            return  # `args.train`: a parsed option, not a method
        expr = " ".join(self.context.module.code_for_node(value).split())  # one line, even for `(m\n.eval)`
        called = cst.Call(func=value)
        self.report(value, self.message.format(expr=expr), fix=Replace(value, called))
