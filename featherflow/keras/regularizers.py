"""``keras.regularizers``: weight penalties added to the training loss."""

from __future__ import annotations


def get(identifier):
    """Resolve ``None``, a callable or a name to a regularizer (filled in by the numerics work)."""
    if identifier is None or callable(identifier):
        return identifier
    raise ValueError(f"Unknown regularizer: {identifier!r}")
