"""``keras.utils.Sequence``: a batch source indexed by batch number.

Subclass it, implement ``__len__`` (batches per epoch) and ``__getitem__(index)`` (one batch,
``(x, y)`` or ``(x, y, sample_weight)``), optionally ``on_epoch_end``; ``model.fit`` then calls
``seq[i]`` for ``i`` in ``range(len(seq))`` and ``on_epoch_end()`` after each epoch.

>>> import numpy as np
>>> class Batches(Sequence):
...     def __init__(self, x, batch_size):
...         self.x, self.batch_size = x, batch_size
...     def __len__(self):
...         return -(-len(self.x) // self.batch_size)
...     def __getitem__(self, index):
...         return self.x[index * self.batch_size:(index + 1) * self.batch_size]
>>> [batch.tolist() for batch in Batches(np.arange(5), 2)]
[[0, 1], [2, 3], [4]]
"""

from __future__ import annotations

from collections.abc import Iterator


class Sequence:
    """Base object for fitting to a sequence of data, such as a dataset (tf.keras 2.x API).

    Every ``Sequence`` must implement ``__getitem__`` and ``__len__``; ``on_epoch_end`` may
    shuffle or otherwise change the data between epochs. Indexing is by batch, so the same
    batch is never seen twice in an epoch, unlike a generator.
    """

    def __getitem__(self, index: int):
        """Gets batch at position ``index``."""
        raise NotImplementedError(f"{type(self).__name__} must implement `__getitem__(self, index)`.")

    def __len__(self) -> int:
        """Number of batches in the Sequence."""
        raise NotImplementedError(f"{type(self).__name__} must implement `__len__(self)`.")

    def on_epoch_end(self) -> None:
        """Method called at the end of every epoch (does nothing by default)."""

    def __iter__(self) -> Iterator:
        """Yields the batches ``self[0], ..., self[len(self) - 1]``."""
        for index in range(len(self)):
            yield self[index]
