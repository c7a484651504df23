"""Runtime half of bnlint: audit a real model's initialization (needs the lightning extra: torch).

`audit(model, example_input)` runs one instrumented forward and backward pass, learns which
activation and normalization follow every Linear/Conv layer in the real execution order, and judges
each weight against Kaiming (ReLU family) or Xavier (tanh, sigmoid, identity). `reinitialize` repairs
the offending layers of a report. Nothing here imports Lightning.
"""

from bnlint.runtime.audit import LayerReport, Report, audit, audit_pass, unwrap
from bnlint.runtime.findings import RULES, Finding, InitError
from bnlint.runtime.reinit import REPAIRABLE, Reinitialization, reinitialize
from bnlint.runtime.schemes import Activation, Scheme
from bnlint.runtime.thresholds import Thresholds
from bnlint.runtime.trace import Destination, PassError

__all__ = [
    "REPAIRABLE",
    "RULES",
    "Activation",
    "Destination",
    "Finding",
    "InitError",
    "LayerReport",
    "PassError",
    "Reinitialization",
    "Report",
    "Scheme",
    "Thresholds",
    "audit",
    "audit_pass",
    "reinitialize",
    "unwrap",
]
