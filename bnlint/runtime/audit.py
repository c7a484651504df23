"""`audit()`: judge every Linear/Conv weight against the scheme its activation needs, and `Report`.

A layer may reach several activations (a layer reused twice, an output feeding two functions). Its
weight is judged against each of them, and BNR002 fires only when all agree that the weight is too
small, or all agree that it is too large: then the finding is right whichever activation one
considers. When they disagree the verdict is "ambiguous", and when any path ends in a function the
pass does not model (a matmul, a product of two tensors) it is "unknown"; neither fires.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.modules.conv import _ConvTransposeNd

from bnlint.runtime import schemes, stats
from bnlint.runtime.findings import VARIANCE_EXPLOSION, Finding, InitError
from bnlint.runtime.thresholds import Thresholds
from bnlint.runtime.trace import ROOT, TRACKED_LAYERS, Destination, LayerTrace, PassTrace, run_pass, submodule

LOW, OK, HIGH = "too small", "ok", "too large"


@dataclass(frozen=True)
class LayerReport:
    """One tracked layer in the audit table.

    `recommended_std` is the std a re-initialization draws with (None when the activation is
    unknown, or when the recommendations of several activations cannot all be met); `ratio` is the
    weight std over it. `norm` names every normalization on the paths (for the table); `norms` only
    those that belong to the layer (reached before any residual addition), which a re-initialization
    resets. `destinations` are the ends of the paths from the layer's output.
    """

    name: str
    module_type: str
    fan_in: int
    fan_out: int
    activation: str
    norm: str
    weight_std: float
    recommended_std: float | None
    ratio: float | None
    scheme: str | None
    verdict: str
    calls: int
    in_std: float | None
    out_mean: float | None
    out_std: float | None
    dead_fraction: float | None
    saturated_fraction: float | None
    norms: tuple[str, ...]
    destinations: tuple[Destination, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "layer": self.name,
            "type": self.module_type,
            "fan_in": self.fan_in,
            "fan_out": self.fan_out,
            "activation": self.activation,
            "norm": self.norm,
            "weight_std": _json_float(self.weight_std),
            "recommended_std": _json_float(self.recommended_std),
            "ratio": _json_float(self.ratio),
            "scheme": self.scheme,
            "verdict": self.verdict,
            "calls": self.calls,
            "in_std": _json_float(self.in_std),
            "out_mean": _json_float(self.out_mean),
            "out_std": _json_float(self.out_std),
            "dead_fraction": _json_float(self.dead_fraction),
            "saturated_fraction": _json_float(self.saturated_fraction),
        }


@dataclass(frozen=True)
class Report:
    """The result of one audit: a row per tracked layer and the findings (`findings` is a list)."""

    layers: tuple[LayerReport, ...]
    findings: list[Finding]
    thresholds: Thresholds
    step: int = 0

    @property
    def ok(self) -> bool:
        """True when there is no finding."""
        return not self.findings

    def layer(self, name: str) -> LayerReport:
        """The row of the layer `name`; KeyError listing the tracked layers otherwise."""
        for row in self.layers:
            if row.name == name:
                return row
        raise KeyError(f"no tracked layer {name!r}; tracked layers: {', '.join(r.name for r in self.layers)}")

    def raise_for_findings(self) -> None:
        """Raise `InitError` listing every offending layer when there is any finding."""
        if self.findings:
            raise InitError(self.findings)

    def table(self) -> str:
        """The init audit table and the forward variance profile, in execution order."""
        if not self.layers:
            return "No Linear or Conv layer to audit."
        audit_rows = [
            [r.name, r.module_type, str(r.fan_in), r.activation, r.norm, _num(r.weight_std),
             _num(r.recommended_std), "-" if r.ratio is None else f"{r.ratio:.3g}x", r.verdict]
            for r in self.layers
        ]
        profile_rows = [
            [r.name, str(r.calls), _num(r.in_std), _num(r.out_mean), _num(r.out_std), _pct(r.dead_fraction),
             _pct(r.saturated_fraction)]
            for r in self.layers
        ]
        return "\n".join(
            [
                "Init audit",
                _grid(["layer", "type", "fan_in", "activation", "norm", "weight std", "recommended",
                       "ratio", "verdict"], audit_rows),
                "",
                "Forward variance profile",
                _grid(["layer", "calls", "in std", "out mean", "out std", "dead", "saturated"], profile_rows),
            ]
        )

    def __str__(self) -> str:
        lines = [self.table(), ""]
        lines.extend(f"{f.code} [{f.severity.value}] {f.layer}: {f.message}" for f in self.findings)
        errors = sum(f.severity.value == "error" for f in self.findings)
        if self.findings:
            lines.append(
                f"Found {len(self.findings)} finding(s): {errors} error(s), {len(self.findings) - errors} warning(s)."
            )
        else:
            lines.append("No findings.")
        return "\n".join(lines)

    def to_json(self) -> dict[str, object]:
        return {
            "step": self.step,
            "layers": [row.to_json() for row in self.layers],
            "findings": [f.to_json() for f in self.findings],
            "thresholds": self.thresholds.to_json(),
        }


def audit(
    model: nn.Module,
    example_input: object,
    *,
    step: int = 0,
    seed: int = 0,
    **thresholds: float,
) -> Report:
    """Audit the initialization of `model` with one forward and backward pass on `example_input`.

    `example_input` is passed as the one argument of `model`, except a tuple (positional arguments)
    and a mapping (keyword arguments). A `torch.compile`d module is audited through its original
    module. The pass runs in the model's current train/eval mode and leaves no trace (see
    `audit_pass`). Threshold overrides are keywords of `Thresholds`.
    """
    chosen = Thresholds.from_kwargs(**thresholds)
    target = unwrap(model)
    return audit_pass(target, lambda: _call(target, example_input), step=step, seed=seed, thresholds=chosen)


def audit_pass(
    model: nn.Module,
    forward: Callable[[], object],
    *,
    step: int = 0,
    seed: int = 0,
    thresholds: Thresholds | None = None,
) -> Report:
    """Audit `model` with one pass of `forward`, a callable that runs the model and returns either the
    scalar loss to backpropagate or the model's output (then a random projection of it is used).

    The pass leaves parameters, gradients (None included), buffers (BatchNorm running statistics),
    train/eval flags and the random number generators as they were, and removes its hooks, also when
    `forward` raises (then `PassError` names the layer). `seed` seeds the private generator of the
    projection, so that the same model and batch give the same decision on every process.
    """
    chosen = thresholds if thresholds is not None else Thresholds()
    trace = run_pass(model, forward, chosen, seed=seed)
    return judge(model, trace, chosen, step)


def unwrap(model: nn.Module) -> nn.Module:
    """The original module of a `torch.compile`d one (its `_orig_mod`), or `model` itself."""
    original = getattr(model, "_orig_mod", None)
    return original if isinstance(original, nn.Module) else model


def judge(model: nn.Module, trace: PassTrace, thresholds: Thresholds, step: int = 0) -> Report:
    """Turn the facts of a pass into the table and the findings."""
    tracked = [(name or ROOT, m) for name, m in model.named_modules() if isinstance(m, TRACKED_LAYERS)]
    params = list(model.named_parameters())
    gammas = [
        (norm, weight)
        for norm in trace.norms
        if not norm.name.startswith("F.")
        and isinstance(weight := getattr(submodule(model, norm.name), "weight", None), torch.Tensor)
    ]
    summaries = stats.to_host(
        [stats.weight_summary(m.weight) for _, m in tracked]
        + [(~torch.isfinite(p.detach())).sum().reshape(1) for _, p in params]
        + [(w.detach() == 0).all().reshape(1) for _, w in gammas]
    )
    weight_facts = dict(zip((name for name, _ in tracked), summaries[: len(tracked)]))
    param_nonfinite = {
        name: int(v[0]) for (name, _), v in zip(params, summaries[len(tracked) : len(tracked) + len(params)])
    }
    # zero-initialised norm gammas (zero-init residual, as torchvision's ResNet offers) stop gradients too
    zero_multipliers: list[tuple[int, str]] = [
        (norm.order, norm.name) for (norm, _), v in zip(gammas, summaries[len(tracked) + len(params) :]) if v[0]
    ]
    traced = {layer.name: layer for layer in trace.layers}
    findings: list[tuple[tuple[float, int], Finding]] = []

    def add(order: float, code: str, layer: str, message: str, name: str | None = None) -> None:
        findings.append(((order, len(findings)), Finding.make(code, layer, message, step, name)))

    run_rows: list[LayerReport] = []
    idle_rows: list[LayerReport] = []
    for name, module in tracked:
        rms, all_equal, all_zero, nonfinite, first = weight_facts[name]
        fan_in, fan_out = schemes.fan_in_and_fan_out(module.weight)
        layer = traced.get(name)
        if layer is None:
            idle_rows.append(_idle_row(name, module, fan_in, fan_out, rms))
            continue
        residual_zero = all_zero == 1.0 and any(d.residual for d in layer.destinations)
        if all_zero == 1.0:
            zero_multipliers.append((layer.order, name))
        codes = ["BNR007"] if nonfinite else []  # reported per parameter by _gradient_findings
        symmetric = _symmetry(module, all_equal == 1.0, first, residual_zero, nonfinite > 0)
        if symmetric:
            codes.append("BNR001")
            add(layer.order, "BNR001", name, symmetric)
        scale = _scale_judgement(layer, rms, fan_in, fan_out, thresholds)
        if scale.verdict in (LOW, HIGH) and not symmetric and not residual_zero and not nonfinite:
            codes.append("BNR002")
            add(layer.order, "BNR002", name, _scale_message(module, layer, rms, fan_in, fan_out, thresholds))
        if layer.dead_fraction is not None and layer.dead_fraction > thresholds.dead_fraction:
            codes.append("BNR004")
            add(
                layer.order,
                "BNR004",
                name,
                f"{layer.dead_fraction:.0%} of its units are zero after the ReLU for every sample of the batch "
                f"(threshold {thresholds.dead_fraction:.0%})",
            )
        if layer.saturated_fraction is not None and layer.saturated_fraction > thresholds.saturated_fraction:
            codes.append("BNR005")
            add(
                layer.order,
                "BNR005",
                name,
                f"{layer.saturated_fraction:.0%} of its tanh/sigmoid outputs are saturated "
                f"(threshold {thresholds.saturated_fraction:.0%})",
            )
        if getattr(module, "bias", None) is not None and layer.destinations and all(
            d.bias_cancelled for d in layer.destinations
        ):
            codes.append("BNR009")
            norms = ", ".join(dict.fromkeys(d.norms[0] for d in layer.destinations))
            add(
                layer.order,
                "BNR009",
                name,
                f"{type(module).__name__} has a bias but feeds straight into {norms}, which subtracts the "
                "per-channel mean and cancels it; use bias=False",
            )
        if residual_zero and not codes:
            verdict = "zero-init residual"
        else:
            verdict = ", ".join(codes) if codes else scale.verdict
        run_rows.append(
            LayerReport(
                name=name,
                module_type=type(module).__name__,
                fan_in=fan_in,
                fan_out=fan_out,
                activation=_joined(d.label for d in layer.destinations),
                norm=_joined("+".join(d.norms) for d in layer.destinations if d.norms),
                weight_std=rms,
                recommended_std=scale.recommended,
                ratio=rms / scale.recommended if scale.recommended else None,
                scheme=scale.scheme,
                verdict=verdict,
                calls=layer.calls,
                in_std=layer.in_std,
                out_mean=layer.out_mean,
                out_std=layer.out_std,
                dead_fraction=layer.dead_fraction,
                saturated_fraction=layer.saturated_fraction,
                norms=tuple(dict.fromkeys(d.direct_norm for d in layer.destinations if d.direct_norm)),
                destinations=layer.destinations,
            )
        )
    run_rows.sort(key=lambda row: traced[row.name].order)
    _variance_findings(trace, traced, run_rows, zero_multipliers, thresholds, add)
    _gradient_findings(trace, param_nonfinite, zero_multipliers, add)
    for norm in trace.norms:
        if norm.function == "batch_norm" and norm.training and norm.min_batch is not None:
            if norm.min_batch < thresholds.min_batch_norm_samples:
                add(
                    norm.order,
                    "BNR008",
                    norm.name,
                    f"BatchNorm trains on a batch of {norm.min_batch} sample(s), fewer than "
                    f"{thresholds.min_batch_norm_samples}: its batch statistics are noise; GroupNorm or "
                    "LayerNorm fit small batches better",
                )
    ordered = [finding for _, finding in sorted(findings, key=lambda item: item[0])]
    return Report(layers=tuple(run_rows + idle_rows), findings=ordered, thresholds=thresholds, step=step)


@dataclass(frozen=True)
class _Scale:
    verdict: str  # LOW, OK, HIGH, "normalized", "ambiguous", "unknown"
    recommended: float | None
    scheme: str | None


def _scale_judgement(layer: LayerTrace, rms: float, fan_in: int, fan_out: int, th: Thresholds) -> _Scale:
    """The BNR002 verdict over all destinations (see the module docstring) and the std to draw with."""
    dests = layer.destinations
    if not dests or any(d.kind == "unknown" for d in dests):
        return _Scale("unknown", None, None)
    targets = []  # (recommended weight std for this path, its scheme)
    statuses = set()
    for d in dests:
        assert d.activation is not None
        wanted = _wanted_std(d, fan_in, fan_out)
        targets.append((wanted, d.activation.scheme.value))
        if d.norms:
            statuses.add(OK)
        elif not math.isfinite(rms) or wanted == 0:
            statuses.add("unknown")
        else:
            ratio = rms / wanted
            statuses.add(LOW if ratio < th.scale_low else HIGH if ratio > th.scale_high else OK)
    low, high = min(t for t, _ in targets), max(t for t, _ in targets)
    # one std that lies inside every path's band, when the bands overlap
    recommended = math.sqrt(low * high) if low > 0 and high / low <= th.scale_high / th.scale_low else None
    scheme_names = {s for _, s in targets}
    scheme = scheme_names.pop() if len(scheme_names) == 1 else "mixed"
    if "unknown" in statuses:
        return _Scale("unknown", recommended, scheme)
    if len(statuses) > 1:
        return _Scale("ambiguous", recommended, scheme)
    verdict = statuses.pop()
    if verdict == OK and all(d.norms for d in dests):
        verdict = "normalized"
    return _Scale(verdict, recommended, scheme)


def _wanted_std(d: Destination, fan_in: int, fan_out: int) -> float:
    """The weight std a path wants: its activation's, divided by the scale applied on the way (0 for a zero scale)."""
    assert d.activation is not None
    return schemes.recommended_std(d.activation, fan_in, fan_out) / (d.scale or math.inf)


def _scale_message(module: nn.Module, layer: LayerTrace, rms: float, fan_in: int, fan_out: int, th: Thresholds) -> str:
    """The BNR002 message (only for a LOW or HIGH verdict: every path has a known activation and a scale)."""
    parts = []
    for d in layer.destinations:
        assert d.activation is not None
        wanted = _wanted_std(d, fan_in, fan_out)
        scaled = f" after scaling by {d.scale:g}" if d.scale != 1.0 else ""
        parts.append(
            f"{rms / wanted:.2f}x the {d.activation.scheme.value.capitalize()} std {wanted:.4g} for the "
            f"{d.activation.label} that follows{scaled}"
        )
    return (
        f"{type(module).__name__} (fan_in {fan_in}) has weight std {rms:.4g}, "
        + "; ".join(parts)
        + f" (band [{th.scale_low:g}, {th.scale_high:g}])"
    )


def _symmetry(module: nn.Module, all_equal: bool, first: float, residual_zero: bool, nonfinite: bool) -> str | None:
    """The BNR001 message, or None. A zero weight on a residual branch is a deliberate technique."""
    weight = module.weight
    if residual_zero or nonfinite or weight.numel() < 2:
        return None
    if all_equal:
        return (
            f"all {weight.numel()} weight elements equal {first:g}: every unit computes the same function "
            "and symmetry is never broken"
        )
    grouped_transpose = isinstance(module, _ConvTransposeNd) and module.groups > 1
    if grouped_transpose:
        return None  # its units interleave across groups; only the all-equal check applies
    unit_dim = 1 if isinstance(module, _ConvTransposeNd) else 0
    duplicates = stats.duplicate_units(weight, unit_dim)
    if duplicates:
        return f"{duplicates} of its {weight.shape[unit_dim]} units have the same weights as another unit"
    return None


def _variance_findings(
    trace: PassTrace,
    traced: Mapping[str, LayerTrace],
    rows: list[LayerReport],
    zero_multipliers: list[tuple[int, str]],
    th: Thresholds,
    add: Callable[..., None],
) -> None:
    """BNR003 over the un-normalized layers, and BNR007 for the first non-finite activation."""
    zero_layers = {name for _, name in zero_multipliers}
    chain = [
        r for r in rows
        if not any(d.norms for d in r.destinations) and r.name not in zero_layers and traced[r.name].out_nonfinite == 0
    ]
    for r in chain:
        if r.in_std:
            change = r.out_std / r.in_std
            if change > th.variance_ratio_layer or change < 1 / th.variance_ratio_layer:
                grew = change > 1
                add(
                    traced[r.name].order,
                    "BNR003",
                    r.name,
                    f"the layer makes the activation std {'grow' if grew else 'shrink'} from {r.in_std:.4g} to "
                    f"{r.out_std:.4g} ({max(change, 1 / change) if change else math.inf:.3g}x; threshold "
                    f"{th.variance_ratio_layer:g}x in one layer)",
                    VARIANCE_EXPLOSION if grew else None,
                )
    if len(chain) >= 2 and chain[0].out_std:
        first, last = chain[0], chain[-1]
        change = last.out_std / first.out_std
        if change > th.variance_ratio_total or change < 1 / th.variance_ratio_total:
            grew = change > 1
            add(
                traced[last.name].order + 0.5,
                "BNR003",
                last.name,
                f"the forward activation std {'grows' if grew else 'shrinks'} from {first.out_std:.4g} at "
                f"{first.name!r} to {last.out_std:.4g} at {last.name!r} "
                f"({max(change, 1 / change) if change else math.inf:.3g}x; threshold "
                f"{th.variance_ratio_total:g}x from the first to the last layer)",
                VARIANCE_EXPLOSION if grew else None,
            )
    nonfinite = [layer for layer in trace.layers if layer.out_nonfinite]
    if nonfinite:
        first_bad = nonfinite[0]
        later = f"; {len(nonfinite) - 1} later layer(s) too" if len(nonfinite) > 1 else ""
        add(
            first_bad.order,
            "BNR007",
            first_bad.name,
            f"its output has {first_bad.out_nonfinite} NaN or Inf value(s) in the forward pass{later}",
        )
    elif not trace.loss_finite:
        add(math.inf, "BNR007", "(loss)", "the value backpropagated is NaN or Inf")


def _gradient_findings(
    trace: PassTrace,
    param_nonfinite: Mapping[str, int],
    zero_multipliers: list[tuple[int, str]],
    add: Callable[..., None],
) -> None:
    """BNR006 for trainable parameters without a gradient, BNR007 for non-finite weights and gradients.

    An all-zero gradient upstream of a layer or norm whose weight is all zero is expected (nothing
    flows back through a zero weight: a zero-init residual branch, or a BNR001 layer): it is not
    reported.
    """
    last_zero = max(zero_multipliers, default=None)
    bad_grads = [p for p in trace.params if p.grad_nonfinite]
    for p in trace.params:
        order = p.module_order if p.module_order is not None else math.inf
        if param_nonfinite.get(p.name):
            add(order, "BNR007", p.name, f"the parameter has {param_nonfinite[p.name]} NaN or Inf value(s)")
        if not p.requires_grad:
            continue  # frozen on purpose
        if p.grad_none:
            add(
                order,
                "BNR006",
                p.name,
                "trainable parameter has no gradient after the backward: it is unused, or used through "
                ".detach() or .data, or its branch does not reach the loss",
            )
        elif p.grad_all_zero:
            if last_zero is not None and p.module_order is not None and p.module_order < last_zero[0]:
                continue  # explained by the zero weight of a later layer
            add(
                order,
                "BNR006",
                p.name,
                "trainable parameter has an all-zero gradient after the backward: no gradient flows back "
                "to it (a dead layer, or a zero multiplier after it)",
            )
    if bad_grads:
        first = bad_grads[0]
        others = f"; {len(bad_grads) - 1} other parameter(s) too" if len(bad_grads) > 1 else ""
        add(
            first.module_order if first.module_order is not None else math.inf,
            "BNR007",
            first.name,
            f"its gradient has {first.grad_nonfinite} NaN or Inf value(s){others}",
        )


def _idle_row(name: str, module: nn.Module, fan_in: int, fan_out: int, rms: float) -> LayerReport:
    return LayerReport(
        name=name, module_type=type(module).__name__, fan_in=fan_in, fan_out=fan_out, activation="-",
        norm="-", weight_std=rms, recommended_std=None, ratio=None, scheme=None, verdict="not run", calls=0,
        in_std=None, out_mean=None, out_std=None, dead_fraction=None, saturated_fraction=None, norms=(),
        destinations=(),
    )


def _call(model: nn.Module, example_input: object) -> object:
    if isinstance(example_input, tuple):
        return model(*example_input)
    if isinstance(example_input, Mapping):
        return model(**example_input)
    return model(example_input)


def _joined(labels: object) -> str:
    unique = list(dict.fromkeys(labels))  # type: ignore[call-overload]
    return "|".join(unique) if unique else "-"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _json_float(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


def _grid(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
