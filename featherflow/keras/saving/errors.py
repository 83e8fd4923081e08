"""Errors raised while saving and loading: every refusal is a ``ValueError`` subclass.

``InvalidArchiveError`` means the file is not a well-formed featherflow/Keras archive (truncated,
random bytes, a zip bomb, an array whose declared shape exceeds its stored bytes, bad JSON, ...).
``UnsafeModelError`` means the file is well formed but asks for something a closed loader never
does: build a class nobody registered, name a module such as ``os`` or ``subprocess``, run a
``Lambda``'s Python code in safe mode, follow an HDF5 external link, ...

>>> from featherflow.keras.saving import InvalidArchiveError, UnsafeModelError
>>> issubclass(UnsafeModelError, ValueError), issubclass(InvalidArchiveError, ValueError)
(True, True)
"""

from __future__ import annotations


class SavingError(ValueError):
    """Base class of featherflow's saving and loading errors."""


class InvalidArchiveError(SavingError):
    """The file is not a valid, intact model/weights file (or it exceeds the loader's safety limits)."""


class UnsafeModelError(SavingError):
    """The file asks the loader to run code or build an object that is not allowed."""


class UnsupportedConfigError(SavingError):
    """A file (from a newer Keras, usually) sets an option featherflow does not implement.

    The message names the config key, its value, the layer and the Keras version that wrote the file.
    """
