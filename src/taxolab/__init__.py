"""taxolab: teach a language model from a taxonomy of examples (LAB method)."""

__version__ = "0.1.0"
