"""Output formats of `bnlint check`, one module each."""
