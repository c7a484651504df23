"""bnlint: weight-initialization and normalization checks for PyTorch code."""

__version__ = "0.1.0"
