"""Runtime half of bnlint: needs the lightning extra (torch)."""
