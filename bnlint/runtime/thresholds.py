"""Every threshold of the runtime findings, with the SPEC's defaults, overridable by keyword."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class Thresholds:
    """Thresholds of the BNR findings. Pass any of them as a keyword to `audit` (or the callback).

    Attributes:
        scale_low: BNR002 fires below this multiple of the recommended std.
        scale_high: BNR002 fires above this multiple of the recommended std.
        variance_ratio_total: BNR003 fires when the output std of the last tracked layer is this many
            times smaller or larger than the first's.
        variance_ratio_layer: BNR003 fires when one layer makes the std this many times smaller or
            larger than its input's.
        dead_fraction: BNR004 fires when more than this fraction of a ReLU layer's units are dead.
        saturated_fraction: BNR005 fires when more than this fraction of tanh/sigmoid outputs saturate.
        tanh_saturation: a tanh output is saturated when `|y|` exceeds this.
        sigmoid_saturation: a sigmoid output is saturated when `y` exceeds this or is below `1 - this`.
        min_batch_norm_samples: BNR008 fires when a training BatchNorm sees fewer samples than this.
        update_ratio_low: BNR010 (checked by the variance tracker): lowest healthy log10 update ratio.
        update_ratio_high: BNR010: highest healthy log10 update-to-data ratio.
    """

    scale_low: float = 0.5
    scale_high: float = 2.0
    variance_ratio_total: float = 100.0
    variance_ratio_layer: float = 10.0
    dead_fraction: float = 0.5
    saturated_fraction: float = 0.25
    tanh_saturation: float = 0.97
    sigmoid_saturation: float = 0.97
    min_batch_norm_samples: int = 8
    update_ratio_low: float = -4.0
    update_ratio_high: float = -2.0

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"threshold {item.name} must be a finite number, got {value!r}")
        _check(self.scale_low, "scale_low", 0 < self.scale_low < 1, "between 0 and 1 (exclusive)")
        _check(self.scale_high, "scale_high", self.scale_high > 1, "greater than 1")
        for name in ("variance_ratio_total", "variance_ratio_layer"):
            _check(getattr(self, name), name, getattr(self, name) > 1, "greater than 1")
        for name in ("dead_fraction", "saturated_fraction"):
            _check(getattr(self, name), name, 0 <= getattr(self, name) < 1, "in [0, 1)")
        _check(self.tanh_saturation, "tanh_saturation", 0 < self.tanh_saturation < 1, "in (0, 1)")
        _check(self.sigmoid_saturation, "sigmoid_saturation", 0.5 < self.sigmoid_saturation < 1, "in (0.5, 1)")
        _check(
            self.min_batch_norm_samples,
            "min_batch_norm_samples",
            isinstance(self.min_batch_norm_samples, int) and self.min_batch_norm_samples >= 1,
            "an integer of at least 1",
        )
        _check(
            self.update_ratio_low,
            "update_ratio_low",
            self.update_ratio_low < self.update_ratio_high,
            f"below update_ratio_high ({self.update_ratio_high})",
        )

    @classmethod
    def from_kwargs(cls, **overrides: float) -> Thresholds:
        """Defaults with `overrides`; an unknown name raises TypeError naming it and the valid ones."""
        valid = [item.name for item in fields(cls)]
        unknown = [name for name in overrides if name not in valid]
        if unknown:
            raise TypeError(
                f"unknown threshold {unknown[0]!r}; valid thresholds: {', '.join(valid)}"
            )
        return cls(**overrides)  # type: ignore[arg-type]

    def to_json(self) -> dict[str, float]:
        return asdict(self)


def _check(value: float, name: str, ok: bool, expected: str) -> None:
    if not ok:
        raise ValueError(f"threshold {name} must be {expected}, got {value!r}")
