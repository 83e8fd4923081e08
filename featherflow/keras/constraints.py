"""``keras.constraints``: projections applied to weights after each optimizer update."""

from __future__ import annotations


def get(identifier):
    """Resolve ``None``, a callable or a name to a constraint (filled in by the numerics work)."""
    if identifier is None or callable(identifier):
        return identifier
    raise ValueError(f"Unknown constraint: {identifier!r}")
