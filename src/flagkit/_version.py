"""The version of flagkit (one place; ``flagkit.__version__`` and the CLI read it)."""

__all__ = ["VERSION"]

VERSION = "0.1.0"
