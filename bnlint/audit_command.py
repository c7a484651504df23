"""`bnlint audit TARGET`: the runtime init audit from the command line.

Imports torch only inside the command, so that `bnlint check` stays light.
"""

from __future__ import annotations

import click


@click.command()
@click.argument("target")
def audit(target: str) -> None:
    """Audit the initialization of the model that TARGET builds (needs the lightning extra)."""
    raise click.UsageError("bnlint audit is not built yet")
