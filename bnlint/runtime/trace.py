"""The single instrumented forward and backward pass that learns the real execution order.

Forward hooks on every module keep a stack of the modules being run; the output of every tracked
layer (Linear, Conv*, ConvTranspose*) is tagged with a *flow*. A `TorchFunctionMode` sees every torch
function the forward calls, module or functional (`nn.ReLU` runs `F.relu`, `x.sigmoid()` is
`Tensor.sigmoid`), and moves the flows of its tagged inputs on: through the functions that carry
values (reshapes, dropout, pooling, residual additions, scaling by a Python number) to the output,
through normalizations (recorded), until an activation, another layer, a loss or an unmodelled
function ends the path. A flow nothing consumed is the model's output if `forward` returned its
tensor, and unknown otherwise (thrown away, or consumed where the mode cannot see).

Each path ends in a `Destination`; a layer reused twice, or whose output feeds two functions, has
several. Statistics (output moments, dead units, saturated outputs, gradient checks) stay on the
device until one `stats.to_host` at the end. The pass leaves no trace (`snapshot`), removes every
hook and leaves the mode also when the model raises, and then raises `PassError` naming the layer.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn.modules.batchnorm import _NormBase
from torch.nn.modules.conv import _ConvNd
from torch.overrides import TorchFunctionMode
from torch.utils.weak import WeakIdKeyDictionary

from bnlint.runtime import ops, schemes, stats
from bnlint.runtime.snapshot import capture, clear_grads, restore
from bnlint.runtime.thresholds import Thresholds

TRACKED_LAYERS: tuple[type[nn.Module], ...] = (nn.Linear, _ConvNd)
NORM_MODULES: tuple[type[nn.Module], ...] = (_NormBase, nn.GroupNorm, nn.LayerNorm, nn.RMSNorm, nn.LocalResponseNorm)
ROOT = "(root)"


class TracerError(RuntimeError):
    """bnlint's own instrumentation failed while following the forward: a bug in bnlint, not the model."""


class PassError(RuntimeError):
    """The model raised during the audit pass (raised from the original exception).

    `phase` is "forward" or "backward"; `layer` and `module_type` name the innermost module that was
    running when the forward failed (None when it failed outside every module, or in the backward);
    `reason` is the first line of the original message.
    """

    def __init__(self, phase: str, layer: str | None, module_type: str | None, cause: BaseException) -> None:
        self.phase = phase
        self.layer = layer
        self.module_type = module_type
        lines = str(cause).strip().splitlines()
        self.reason = f"{type(cause).__name__}: {lines[0] if lines else ''}".rstrip(": ")
        super().__init__(f"the {phase} pass failed{self.location}: {self.reason}")

    @property
    def location(self) -> str:
        """" in layer 'name' (Type)" when the failing layer is known, else empty."""
        return f" in layer {self.layer!r} ({self.module_type})" if self.layer is not None else ""


@dataclass(frozen=True)
class Destination:
    """Where one path from a layer's output ends.

    `kind` is "activation", "identity" (another layer, a loss, softmax or the model's output) or
    "unknown" (a function the pass does not model, such as a matmul or a product of two tensors).
    `via` names the function that ended the path (or "output"). `norms` are the normalizations on
    the way, `scale` the product of the Python numbers the values were multiplied by,
    `bias_cancelled` whether the first normalization subtracts a per-channel mean that a per-channel
    bias of the layer lives in, `residual` whether the path went through a same-shape tensor addition,
    `direct_norm` the first normalization when no such addition came before it (the norm that belongs
    to this layer, as in conv -> BatchNorm -> ReLU, rather than one shared by a residual stream).
    """

    kind: str
    activation: schemes.Activation | None
    via: str
    norms: tuple[str, ...] = ()
    scale: float = 1.0
    bias_cancelled: bool = False
    residual: bool = False
    direct_norm: str | None = None

    @property
    def label(self) -> str:
        if self.activation is not None:
            return self.activation.label
        return f"unknown({self.via})"


@dataclass(frozen=True)
class LayerTrace:
    """What the pass learned about one tracked layer (pooled over its calls)."""

    name: str
    order: int
    calls: int
    destinations: tuple[Destination, ...]
    out_mean: float
    out_std: float
    out_nonfinite: int
    in_std: float | None
    dead_fraction: float | None
    saturated_fraction: float | None


@dataclass(frozen=True)
class NormTrace:
    """One normalization call site: its module (or `F.<name>`), and for BatchNorm the smallest batch."""

    name: str
    function: str
    order: int
    training: bool
    min_batch: int | None


@dataclass(frozen=True)
class ParamTrace:
    """One parameter after the backward: its owner's first execution and its gradient checks."""

    name: str
    module_order: int | None
    requires_grad: bool
    grad_none: bool
    grad_all_zero: bool
    grad_nonfinite: int


@dataclass(frozen=True)
class PassTrace:
    """Everything one pass learned: tracked layers in execution order, norms, parameters."""

    layers: tuple[LayerTrace, ...]
    norms: tuple[NormTrace, ...]
    params: tuple[ParamTrace, ...]
    loss_finite: bool


@dataclass(eq=False)
class _Flow:
    """A layer's output values on their way through the forward (one tensor's worth)."""

    layer: _LayerState
    axis: int | None  # channel (unit) axis in the current tensor, when it can be followed
    scale: float = 1.0
    norms: tuple[str, ...] = ()
    shift_kept: bool = True  # a per-channel constant (the bias) is still a per-channel constant
    bias_cancelled: bool = False
    residual: bool = False
    direct_norm: str | None = None
    consumed: bool = False


@dataclass(eq=False)
class _LayerState:
    name: str
    module: nn.Module
    order: int
    calls: int = 0
    out_count: int = 0
    out_moments: list[torch.Tensor] = field(default_factory=list)
    in_count: int = 0
    in_moments: list[torch.Tensor] = field(default_factory=list)
    destinations: dict[Destination, None] = field(default_factory=dict)  # an ordered set
    flows: list[_Flow] = field(default_factory=list)
    alive: list[torch.Tensor] = field(default_factory=list)
    saturated: list[torch.Tensor] = field(default_factory=list)
    saturated_total: int = 0


@dataclass(eq=False)
class _NormState:
    name: str
    function: str
    order: int
    training: bool = False
    min_batch: int | None = None


class _FlowMode(TorchFunctionMode):
    """Hands every torch function call of the forward to the tracer (the mode is off meanwhile)."""

    def __init__(self, tracer: _Tracer) -> None:
        super().__init__()
        self._tracer = tracer

    def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        if self._tracer.listening:
            try:
                self._tracer.on_function(func, args, kwargs, result)
            except Exception as exc:
                raise TracerError(f"bnlint failed to follow {ops.op_name(func)}: {type(exc).__name__}: {exc}") from exc
        return result


class _Tracer:
    def __init__(self, model: nn.Module, thresholds: Thresholds) -> None:
        self.model = model
        self.thresholds = thresholds
        self.names: dict[int, str] = {id(m): (name or ROOT) for name, m in model.named_modules()}
        self.paused = False  # set once the forward is over
        self.in_hook = False  # our own hooks' tensor operations are not part of the model
        self.stack: list[nn.Module] = []
        self.order: dict[int, int] = {}  # id(module) -> index of its first execution
        self.layers: dict[int, _LayerState] = {}
        self.norms: dict[str, _NormState] = {}
        self.tags: WeakIdKeyDictionary = WeakIdKeyDictionary()  # tensor -> tuple[_Flow, ...]

    @property
    def listening(self) -> bool:
        return not self.paused and not self.in_hook

    # -- module hooks -------------------------------------------------------------------------
    def install(self) -> list[torch.utils.hooks.RemovableHandle]:
        handles = []
        for module in self.model.modules():
            handles.append(module.register_forward_pre_hook(self.pre_hook))
            handles.append(module.register_forward_hook(self.post_hook))
        return handles

    def pre_hook(self, module: nn.Module, args: tuple[object, ...]) -> None:
        if self.paused:
            return
        self.stack.append(module)
        self.order.setdefault(id(module), len(self.order))
        if isinstance(module, TRACKED_LAYERS):
            layer = self._layer(module)
            layer.calls += 1
            first = next((a for a in args if isinstance(a, torch.Tensor) and a.is_floating_point()), None)
            if first is not None:
                layer.in_moments.append(self._measure(first))
                layer.in_count += first.numel()

    def post_hook(self, module: nn.Module, args: tuple[object, ...], output: object) -> None:
        if self.paused:
            return
        if self.stack and self.stack[-1] is module:
            self.stack.pop()
        if isinstance(module, TRACKED_LAYERS) and isinstance(output, torch.Tensor):
            layer = self._layer(module)
            layer.out_moments.append(self._measure(output))
            layer.out_count += output.numel()
            flow = _Flow(layer, axis=_channel_axis(module, output))
            layer.flows.append(flow)
            self.tags[output] = (flow,)

    def _measure(self, tensor: torch.Tensor) -> torch.Tensor:
        """`stats.moments` from inside a hook, unseen by the mode."""
        self.in_hook = True
        try:
            return stats.moments(tensor)
        except Exception as exc:
            raise TracerError(f"bnlint failed to measure a {tensor.dtype} tensor: {exc}") from exc
        finally:
            self.in_hook = False

    def _layer(self, module: nn.Module) -> _LayerState:
        key = id(module)
        if key not in self.layers:
            self.layers[key] = _LayerState(self.names.get(key, type(module).__name__), module, self.order[key])
        return self.layers[key]

    # -- torch functions ----------------------------------------------------------------------
    def on_function(
        self, func: Callable[..., object], args: tuple[object, ...], kwargs: dict[str, object], result: object
    ) -> None:
        name = ops.op_name(func)
        kind = ops.classify(name)
        if kind is ops.OpKind.NORM:
            norm_name = self._record_norm(name, args, kwargs)
        inputs = [(t, self.tags[t]) for t in _tensors_in((args, kwargs)) if t in self.tags]
        if not inputs:
            return
        outputs = [t for t in _tensors_in(result) if t.is_floating_point()]
        if not outputs:
            return  # an observation (shape, comparison, argmax, item): the values go nowhere
        for _, flows in inputs:
            for flow in flows:
                flow.consumed = True
        if kind is ops.OpKind.CARRY:
            self._carry(name, args, kwargs, inputs, outputs)
            return
        in_place = [t for t in outputs if any(t is src for src, _ in inputs)]
        for t in in_place:
            self.tags.pop(t, None)  # the values were transformed in place
        if kind is ops.OpKind.NORM:
            centering = name in ops.CHANNEL_CENTERING_NORMS
            for src, flows in inputs:
                derived = tuple(
                    dataclasses.replace(
                        f,
                        norms=f.norms + (norm_name,),
                        scale=1.0,
                        shift_kept=False,
                        bias_cancelled=f.bias_cancelled
                        or (not f.norms and centering and f.shift_kept and f.axis == 1 and src is args[0]),
                        direct_norm=norm_name if not f.norms and not f.residual else f.direct_norm,
                        consumed=False,
                    )
                    for f in flows
                )
                for out in outputs:
                    self._tag(out, derived)
            return
        for src, flows in inputs:
            for flow in flows:
                self._end(flow, name, kind, src, args, kwargs, outputs[0])

    def _record_norm(self, name: str, args: tuple[object, ...], kwargs: dict[str, object]) -> str:
        module = self.stack[-1] if self.stack and isinstance(self.stack[-1], NORM_MODULES) else None
        known = module is not None and id(module) in self.names  # not a module created inside forward
        label = self.names[id(module)] if known else f"F.{name}"
        state = self.norms.get(label)
        if state is None:
            order = self.order[id(module)] if known else len(self.order)
            state = self.norms[label] = _NormState(label, name, order)
        x = args[0] if args else kwargs.get("input")
        if name == "batch_norm" and isinstance(x, torch.Tensor):
            training = bool(_argument(args, kwargs, 5, "training", False))
            state.training = state.training or training
            if training and x.dim() >= 2:
                batch = x.shape[0]
                state.min_batch = batch if state.min_batch is None else min(state.min_batch, batch)
        return label

    def _carry(
        self,
        name: str,
        args: tuple[object, ...],
        kwargs: dict[str, object],
        inputs: list[tuple[torch.Tensor, tuple[_Flow, ...]]],
        outputs: list[torch.Tensor],
    ) -> None:
        how = ops.carry_kind(name)
        new_tags: dict[int, list[_Flow]] = {id(out): [] for out in outputs}
        for src, flows in inputs:
            for flow in flows:
                for out in outputs:
                    derived = _carried(how, name, flow, src, out, args, kwargs)
                    if derived is None:
                        self._end(flow, name, ops.OpKind.UNKNOWN, src, args, kwargs, out)
                    else:
                        new_tags[id(out)].append(derived)
        for out in outputs:
            if new_tags[id(out)]:
                self._tag(out, tuple(new_tags[id(out)]))
            else:
                self.tags.pop(out, None)

    def _tag(self, tensor: torch.Tensor, flows: tuple[_Flow, ...]) -> None:
        for flow in flows:
            flow.layer.flows.append(flow)
        self.tags[tensor] = flows

    def _end(
        self,
        flow: _Flow,
        name: str,
        kind: ops.OpKind,
        src: torch.Tensor,
        args: tuple[object, ...],
        kwargs: dict[str, object],
        out: torch.Tensor,
    ) -> None:
        """Record where `flow` ends: the function `name` consumed it (`src`) and produced `out`."""
        activation = _activation(name, args, kwargs) if kind is ops.OpKind.ACTIVATION else None
        if activation is not None:
            dest_kind = "activation"
            layer = flow.layer
            if activation.zero_for_negative_input and flow.axis is not None and src is args[0]:
                layer.alive.append(stats.alive_units(src, flow.axis))
            if activation.saturation is not None:
                threshold = getattr(self.thresholds, f"{activation.saturation}_saturation")
                layer.saturated.append(stats.saturated_count(out, activation.saturation, threshold))
                layer.saturated_total += out.numel()
        elif kind in (ops.OpKind.LAYER, ops.OpKind.OUTPUT):
            dest_kind, activation = "identity", schemes.IDENTITY
        else:
            dest_kind = "unknown"
        flow.layer.destinations[_destination(flow, dest_kind, activation, name)] = None

    def finish_flows(self, result: object) -> None:
        """End the flows that no seen function consumed.

        A flow on a tensor that `forward` returned is the model's output: its layer's values reach no
        activation (identity). Any other was consumed by something the mode cannot see (a C++
        extension called directly) or thrown away: where it went is unknown.
        """
        returned = {id(flow) for t in _tensors_in(result) if t in self.tags for flow in self.tags[t]}
        for layer in self.layers.values():
            for flow in layer.flows:
                if flow.consumed:
                    continue
                if id(flow) in returned:
                    layer.destinations[_destination(flow, "identity", schemes.IDENTITY, "output")] = None
                else:
                    layer.destinations[_destination(flow, "unknown", None, "untraced")] = None

    def innermost(self) -> tuple[str, str] | None:
        """Name and type of the innermost module still running (where an exception came from)."""
        if not self.stack:
            return None
        module = self.stack[-1]
        return self.names.get(id(module), type(module).__name__), type(module).__name__


def submodule(model: nn.Module, name: str) -> nn.Module:
    """The module a report calls `name` (`ROOT` is the model itself)."""
    return model if name == ROOT else model.get_submodule(name)


def run_pass(
    model: nn.Module,
    forward: Callable[[], object],
    thresholds: Thresholds,
    seed: int = 0,
) -> PassTrace:
    """Run `forward` (which calls `model`) once with instrumentation, then backward, and restore.

    `forward` returns either the scalar to backpropagate (a real loss) or the model's output; in the
    second case the floating outputs that require grad are projected on random tensors drawn from a
    private generator seeded with `seed` (not `.sum()`, which gives a softmax output all-zero
    gradients) and that projection is backpropagated.
    """
    if torch.is_inference_mode_enabled():
        raise ValueError("cannot audit inside torch.inference_mode(): the audit's backward pass needs autograd")
    lazy = [n for n, p in model.named_parameters() if isinstance(p, nn.parameter.UninitializedParameter)]
    if lazy:
        raise ValueError(
            f"model has uninitialized lazy parameters ({', '.join(lazy)}); run one forward pass "
            "to materialize them before the audit"
        )
    tracer = _Tracer(model, thresholds)
    snapshot = capture(model)
    handles = tracer.install()
    try:
        clear_grads(snapshot)
        with torch.enable_grad():
            try:
                with _eager(), _FlowMode(tracer):
                    result = forward()
            except TracerError:
                raise
            except Exception as exc:
                layer, module_type = tracer.innermost() or (None, None)
                raise PassError("forward", layer, module_type, exc) from exc
            tracer.paused = True  # activation checkpointing re-runs forwards during backward
            tracer.finish_flows(result)
            target = _backward_target(result, seed)
            if target is not None:
                try:
                    target.backward()
                except Exception as exc:
                    raise PassError("backward", None, None, exc) from exc
        return _collect(model, tracer, target)
    finally:
        for handle in handles:
            handle.remove()
        restore(snapshot)


def _eager() -> contextlib.AbstractContextManager[object]:
    """Run `torch.compile`d code eagerly, so that hooks and the mode see the model's own operations.

    Nothing is compiled unless dynamo was imported (`torch.compile` imports it); importing it costs
    seconds, so it is left alone then.
    """
    if "torch._dynamo" not in sys.modules:
        return contextlib.nullcontext()
    set_stance = getattr(torch.compiler, "set_stance", None)  # torch >= 2.6
    if set_stance is not None:
        return set_stance("force_eager")
    return torch._dynamo.config.patch(disable=True)


def _collect(model: nn.Module, tracer: _Tracer, target: torch.Tensor | None) -> PassTrace:
    """Fetch every statistic with one synchronisation per device and freeze the facts."""
    layers = sorted(tracer.layers.values(), key=lambda layer: layer.order)
    params = list(model.named_parameters())
    pending: list[torch.Tensor] = []

    def defer(tensor: torch.Tensor) -> int:
        pending.append(tensor.reshape(-1))
        return len(pending) - 1

    layer_slots = []
    for layer in layers:
        out = defer(torch.stack(layer.out_moments).sum(0)) if layer.out_moments else None
        inp = defer(torch.stack(layer.in_moments).sum(0)) if layer.in_moments else None
        alive = _alive_union(layer.alive)
        dead = defer(1.0 - alive.float().mean()) if alive is not None else None
        sat = defer(torch.stack(layer.saturated).sum()) if layer.saturated else None
        layer_slots.append((out, inp, dead, sat))
    grad_slots = []
    for _, param in params:
        grad = param.grad
        if grad is None:
            grad_slots.append(None)
        else:
            g = grad.detach()
            grad_slots.append(defer(torch.stack([(g == 0).all().float(), (~torch.isfinite(g)).sum().float()])))
    finite_slot = defer(torch.isfinite(target.detach()).all().float()) if target is not None else None
    values = stats.to_host(pending)

    layer_traces = []
    for layer, (out, inp, dead, sat) in zip(layers, layer_slots):
        out_mean, out_std = stats.mean_std(values[out], layer.out_count) if out is not None else (0.0, 0.0)
        in_std = stats.mean_std(values[inp], layer.in_count)[1] if inp is not None else None
        layer_traces.append(
            LayerTrace(
                name=layer.name,
                order=layer.order,
                calls=layer.calls,
                destinations=tuple(layer.destinations),
                out_mean=out_mean,
                out_std=out_std,
                out_nonfinite=int(values[out][2]) if out is not None else 0,
                in_std=in_std,
                dead_fraction=values[dead][0] if dead is not None else None,
                saturated_fraction=values[sat][0] / layer.saturated_total if sat is not None else None,
            )
        )
    param_traces = []
    for (name, param), slot in zip(params, grad_slots):
        owner_module = submodule(model, name.rpartition(".")[0] or ROOT)
        param_traces.append(
            ParamTrace(
                name=name,
                module_order=tracer.order.get(id(owner_module)),
                requires_grad=param.requires_grad,
                grad_none=slot is None,
                grad_all_zero=slot is not None and values[slot][0] == 1.0,
                grad_nonfinite=int(values[slot][1]) if slot is not None else 0,
            )
        )
    norm_traces = tuple(
        NormTrace(s.name, s.function, s.order, s.training, s.min_batch)
        for s in sorted(tracer.norms.values(), key=lambda s: s.order)
    )
    return PassTrace(
        layers=tuple(layer_traces),
        norms=norm_traces,
        params=tuple(param_traces),
        loss_finite=finite_slot is None or values[finite_slot][0] == 1.0,
    )


def _alive_union(alive: list[torch.Tensor]) -> torch.Tensor | None:
    """Units alive in any call; None when the calls disagree on the number of units."""
    if not alive or any(a.shape != alive[0].shape for a in alive):
        return None
    return torch.stack(alive).any(dim=0)


def _destination(flow: _Flow, kind: str, activation: schemes.Activation | None, via: str) -> Destination:
    return Destination(
        kind=kind,
        activation=activation,
        via=via,
        norms=flow.norms,
        scale=flow.scale,
        bias_cancelled=flow.bias_cancelled,
        residual=flow.residual,
        direct_norm=flow.direct_norm,
    )


def _channel_axis(module: nn.Module, output: torch.Tensor) -> int | None:
    """The unit axis of a tracked layer's output: last for Linear, before the spatial dims for Conv."""
    if isinstance(module, _ConvNd):
        axis = output.dim() - len(module.kernel_size) - 1
        return axis if axis >= 0 else None
    return output.dim() - 1 if output.dim() >= 1 else None


def _activation(name: str, args: tuple[object, ...], kwargs: dict[str, object]) -> schemes.Activation | None:
    """The activation a call applies, with its slope; None when its parameters make it unmodelled."""
    canonical = ops.ACTIVATIONS[name]
    if canonical == "leaky_relu":
        return schemes.activation("leaky_relu", float(_argument(args, kwargs, 1, "negative_slope", 0.01)))
    if canonical == "rrelu":
        lower = float(_argument(args, kwargs, 1, "lower", 1.0 / 8))
        upper = float(_argument(args, kwargs, 2, "upper", 1.0 / 3))
        return schemes.activation("rrelu", (lower + upper) / 2)
    if canonical == "prelu":
        weight = _argument(args, kwargs, 1, "weight", None)
        if not isinstance(weight, torch.Tensor):
            return None
        return schemes.activation("prelu", float(weight.detach().float().mean()))
    if canonical == "hardtanh":
        low = _argument(args, kwargs, 1, "min_val", -1.0)
        high = _argument(args, kwargs, 2, "max_val", 1.0)
        return schemes.activation("relu6") if (low, high) == (0.0, 6.0) else None
    return schemes.activation(canonical)


def _carried(
    how: ops.Carry,
    name: str,
    flow: _Flow,
    src: torch.Tensor,
    out: torch.Tensor,
    args: tuple[object, ...],
    kwargs: dict[str, object],
) -> _Flow | None:
    """The flow on `out` after a carrying function; None when this use of it is not modelled."""
    same_rank_axis = flow.axis if out.dim() == src.dim() else None
    if how in (ops.Carry.ELEMENTWISE, ops.Carry.POOL, ops.Carry.SLICE):
        axis, shift_kept = same_rank_axis, flow.shift_kept
    elif how in (ops.Carry.SHIFT_BREAKING, ops.Carry.RESIZE):
        axis, shift_kept = same_rank_axis, False
    elif how is ops.Carry.RESHAPE:
        axis = _reshaped_axis(src.shape, out.shape, flow.axis)
        shift_kept = flow.shift_kept and axis is not None
    elif how is ops.Carry.PERMUTE:
        axis = _permuted_axis(name, args, kwargs, src.dim(), flow.axis)
        shift_kept = flow.shift_kept and axis is not None
    elif how is ops.Carry.CONCAT:
        axis = flow.axis
        if name == "stack" and axis is not None:
            dim = int(_argument(args, kwargs, 1, "dim", 0)) % out.dim()
            axis = axis + 1 if dim <= axis else axis
        shift_kept = flow.shift_kept
    elif how is ops.Carry.ADD:
        return _added(name, flow, src, out, args, kwargs, same_rank_axis)
    else:  # SCALE
        factor = _scalar_factor(name, src, args)
        if factor is None:
            return None
        return dataclasses.replace(flow, axis=same_rank_axis, scale=flow.scale * factor, consumed=False)
    return dataclasses.replace(flow, axis=axis, shift_kept=shift_kept, consumed=False)


def _added(
    name: str,
    flow: _Flow,
    src: torch.Tensor,
    out: torch.Tensor,
    args: tuple[object, ...],
    kwargs: dict[str, object],
    axis: int | None,
) -> _Flow | None:
    """An addition or subtraction: a shift, a bias, or (same shape) a residual connection."""
    alpha = kwargs.get("alpha", 1)
    if alpha != 1 and len(args) > 1 and args[1] is src:
        return None  # `add(x, y, alpha=a)` scales y by a tensor-valued or unusual factor: not modelled
    others = [a for a in args if a is not src]
    residual = any(isinstance(o, torch.Tensor) and o.shape == out.shape for o in others)
    return dataclasses.replace(flow, axis=axis, residual=flow.residual or residual, consumed=False)


def _scalar_factor(name: str, src: torch.Tensor, args: tuple[object, ...]) -> float | None:
    """|c| for `x * c`, `c * x` or `x / c` with a Python number c; None for anything else."""
    if len(args) != 2:
        return None
    other = args[1] if args[0] is src else args[0]
    if isinstance(other, bool) or not isinstance(other, (int, float)):
        return None
    if name.startswith("div") or name == "__truediv__" or name == "__itruediv__":
        if args[0] is not src or other == 0:
            return None
        return 1.0 / abs(other)
    return abs(float(other))


def _reshaped_axis(before: torch.Size, after: torch.Size, axis: int | None) -> int | None:
    """Where the unit axis lands after a reshape: the dim of the same size with the same number of
    elements after it (then every element keeps its unit); None when the units are mixed."""
    if axis is None:
        return None
    size, inner = before[axis], math.prod(before[axis + 1 :])
    for candidate in range(len(after)):
        if after[candidate] == size and math.prod(after[candidate + 1 :]) == inner:
            return candidate
    return None


def _permuted_axis(
    name: str, args: tuple[object, ...], kwargs: dict[str, object], ndim: int, axis: int | None
) -> int | None:
    """Where the unit axis lands after transpose, permute, movedim, `.t()`, `.T` or `.mT`."""
    if axis is None:
        return None
    if name in ("T", "t"):
        order = list(reversed(range(ndim)))
    elif name == "mT":
        order = list(range(ndim - 2)) + [ndim - 1, ndim - 2]
    elif name == "permute":
        dims = args[1:] if len(args) > 2 else _argument(args, kwargs, 1, "dims", None)
        if not isinstance(dims, (tuple, list)):
            return None
        order = [int(d) % ndim for d in dims]
    elif name == "movedim":
        source = _argument(args, kwargs, 1, "source", None)
        destination = _argument(args, kwargs, 2, "destination", None)
        if not isinstance(source, int) or not isinstance(destination, int):
            return None
        rest = [d for d in range(ndim) if d != source % ndim]
        rest.insert(destination % ndim, source % ndim)
        order = rest
    else:  # transpose, swapaxes, swapdims
        d0 = int(_argument(args, kwargs, 1, "dim0", 0)) % ndim
        d1 = int(_argument(args, kwargs, 2, "dim1", 1)) % ndim
        order = list(range(ndim))
        order[d0], order[d1] = order[d1], order[d0]
    return order.index(axis)


def _argument(args: tuple[object, ...], kwargs: Mapping[str, object], index: int, name: str, default: object) -> object:
    if len(args) > index:
        return args[index]
    return kwargs.get(name, default)


def _tensors_in(obj: object) -> Iterator[torch.Tensor]:
    """The tensors in a (nested) tuple, list, dict or dataclass."""
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, (tuple, list)):
        for item in obj:
            yield from _tensors_in(item)
    elif isinstance(obj, Mapping):
        for item in obj.values():
            yield from _tensors_in(item)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for item in dataclasses.fields(obj):
            yield from _tensors_in(getattr(obj, item.name))


def _backward_target(result: object, seed: int) -> torch.Tensor | None:
    """The scalar to backpropagate: `result` itself when it is a scalar loss, else a random projection
    of the floating outputs that require grad (None when nothing requires grad)."""
    if isinstance(result, torch.Tensor) and result.dim() == 0 and result.is_floating_point() and result.requires_grad:
        return result
    outputs = [t for t in _tensors_in(result) if t.is_floating_point() and t.requires_grad]
    if not outputs:
        return None
    generators: dict[torch.device, torch.Generator] = {}
    total: torch.Tensor | None = None
    for out in outputs:
        generator = generators.get(out.device)
        if generator is None:
            generator = generators[out.device] = torch.Generator(device=out.device).manual_seed(seed)
        dtype = stats.stat_dtype(out.dtype)
        direction = torch.randn(out.shape, generator=generator, device=out.device, dtype=dtype)
        term = (out.to(dtype) * direction).sum()
        total = term if total is None else total + term
    return total
