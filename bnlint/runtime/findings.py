"""Runtime findings (BNR codes) and `InitError`, which lists every offending layer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bnlint.findings import Severity

# code -> (name, severity), from the SPEC's table of runtime finding codes. BNR003 has two names:
# the one that says which way the variance went is used in each finding.
RULES: dict[str, tuple[str, Severity]] = {
    "BNR001": ("symmetric-weights", Severity.ERROR),
    "BNR002": ("init-scale-mismatch", Severity.WARNING),
    "BNR003": ("variance-collapse", Severity.WARNING),
    "BNR004": ("dead-units", Severity.WARNING),
    "BNR005": ("saturated-units", Severity.WARNING),
    "BNR006": ("no-gradient", Severity.ERROR),
    "BNR007": ("non-finite", Severity.ERROR),
    "BNR008": ("small-batch-norm", Severity.WARNING),
    "BNR009": ("bias-before-norm", Severity.WARNING),
    "BNR010": ("update-ratio", Severity.WARNING),
}
VARIANCE_EXPLOSION = "variance-explosion"


@dataclass(frozen=True)
class Finding:
    """One runtime finding: a code, its name and severity, the layer (or parameter) and the step."""

    code: str
    name: str
    severity: Severity
    layer: str
    message: str
    step: int = 0

    @classmethod
    def make(cls, code: str, layer: str, message: str, step: int = 0, name: str | None = None) -> Finding:
        """A finding with the name and severity of `code` (or the given `name`, for BNR003)."""
        default_name, severity = RULES[code]
        return cls(code, name or default_name, severity, layer, message, step)

    def __str__(self) -> str:
        return f"{self.layer}: {self.code} {self.name}: {self.message}"

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.value,
            "layer": self.layer,
            "message": self.message,
            "step": self.step,
        }


class InitError(Exception):
    """Raised when an initialization audit has findings; lists every offending layer.

    `findings` holds them all; the message has one line per finding, grouped by layer.
    """

    def __init__(self, findings: Sequence[Finding]) -> None:
        self.findings: tuple[Finding, ...] = tuple(findings)
        layers = self.layers
        lines = [f"bnlint found {len(self.findings)} initialization problem(s) in {len(layers)} layer(s):"]
        for layer in layers:
            lines.extend(f"  {f}" for f in self.findings if f.layer == layer)
        super().__init__("\n".join(lines))

    @property
    def layers(self) -> tuple[str, ...]:
        """The offending layers, in the order of their first finding."""
        return tuple(dict.fromkeys(f.layer for f in self.findings))
