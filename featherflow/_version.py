"""The single place where featherflow's version is written (pyproject reads it)."""

__version__ = "0.1.0"
