"""``tf.train.experimental``: ``PythonState``, Python values that save themselves into checkpoints.

>>> import os, tempfile
>>> import featherflow as tf
>>> class Counter(tf.train.experimental.PythonState):
...     def __init__(self): self.count = 0
...     def serialize(self): return str(self.count)
...     def deserialize(self, string_value): self.count = int(string_value)
>>> counter = Counter(); counter.count = 7
>>> path = tf.train.Checkpoint(counter=counter).save(os.path.join(tempfile.mkdtemp(), "c"))
>>> other = Counter(); _ = tf.train.Checkpoint(counter=other).restore(path); other.count
7
"""

from __future__ import annotations


class PythonState:
    """Subclass and implement ``serialize() -> str`` and ``deserialize(string_value)``; a ``Checkpoint`` saves
    the string and restores through ``deserialize``."""

    def serialize(self) -> str:
        raise NotImplementedError(f"{type(self).__name__} must implement serialize() -> str.")

    def deserialize(self, string_value) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement deserialize(string_value).")
