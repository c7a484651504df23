"""The `bnlint` command line (click)."""

from __future__ import annotations

import click

from bnlint import __version__
from bnlint.audit_command import audit


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="bnlint")
def main() -> None:
    """Catch broken initialization and mis-wired normalization in PyTorch code."""


main.add_command(audit)
