"""The deprecation notice of ``keras.preprocessing``'s text and sequence helpers: each name warns once per
process, naming what replaces it (tf.keras 2 deprecates them in its documentation: they do not operate on
tensors)."""

from __future__ import annotations

import warnings

_warned: set = set()


def warn_deprecated(name: str, replacement: str) -> None:
    """A ``DeprecationWarning`` for ``keras.preprocessing.<name>`` (once per process)."""
    if name in _warned:
        return
    _warned.add(name)
    warnings.warn(f"`keras.preprocessing.{name}` is deprecated: it does not operate on tensors. Use {replacement} "
                  "instead.", DeprecationWarning, stacklevel=3)
