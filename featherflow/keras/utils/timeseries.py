"""``keras.utils.timeseries_dataset_from_array``: sliding windows over a time series, in batches.

tf.keras returns a ``tf.data.Dataset``; featherflow has no tf.data, so this returns a
``keras.utils.Sequence`` of NumPy batches that ``model.fit``/``predict`` accept directly and that
iterates like the dataset (``for inputs, targets in ds``, ``ds.take(1)``, ``ds.as_numpy_iterator()``).

Window ``i`` starts at ``p_i = start_index + starts[i]`` and holds
``data[p_i + k * sampling_rate]`` for ``k = 0 .. sequence_length - 1``; its target is
``targets[p_i]``. ``starts`` are ``0, sequence_stride, 2 * sequence_stride, ...`` up to the last
window that fits before ``end_index``.

>>> ds = timeseries_dataset_from_array(list(range(10)), None, sequence_length=3, batch_size=2)
>>> len(ds), ds[0].tolist()
(4, [[0, 1, 2], [1, 2, 3]])
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np

from featherflow.keras.utils.sequence import Sequence


def _as_array(x) -> np.ndarray:
    if hasattr(x, "numpy"):
        x = x.numpy()
    return np.asarray(x)


class TimeseriesDataset(Sequence):
    """Batches of windows; ``ds[i]`` is batch ``i``: ``inputs`` or ``(inputs, targets)``.

    ``inputs`` has shape ``(batch, sequence_length) + data.shape[1:]`` and ``targets``
    ``(batch,) + targets.shape[1:]``. With ``batch_size=None`` items are single windows.
    With ``shuffle=True`` the window order is shuffled once at creation (seeded) and again at
    every ``on_epoch_end``.
    """

    def __init__(self, data, targets, start_positions, sequence_length, sampling_rate, batch_size, shuffle, seed):
        self.data = data
        self.targets = targets
        self.start_positions = start_positions
        self.offsets = np.arange(sequence_length) * sampling_rate
        self.batch_size = batch_size
        self.shuffle = shuffle
        self._rng = np.random.RandomState(seed) if shuffle else None
        if shuffle:
            self._rng.shuffle(self.start_positions)

    def __len__(self) -> int:
        if self.batch_size is None:
            return len(self.start_positions)
        return -(-len(self.start_positions) // self.batch_size)

    def __getitem__(self, index: int):
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index {index} out of range for a dataset of {len(self)} batches.")
        if self.batch_size is None:
            starts = self.start_positions[index : index + 1]
        else:
            starts = self.start_positions[index * self.batch_size : (index + 1) * self.batch_size]
        inputs = self.data[starts[:, None] + self.offsets]
        if self.batch_size is None:
            inputs = inputs[0]
        if self.targets is None:
            return inputs
        targets = self.targets[starts]
        return inputs, (targets[0] if self.batch_size is None else targets)

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self._rng.shuffle(self.start_positions)

    def as_numpy_iterator(self) -> Iterator:
        """Iterates over the batches (they already are NumPy arrays)."""
        return iter(self)

    def take(self, count: int) -> list:
        """The first ``count`` batches (all of them for ``count=-1``), like ``tf.data.Dataset.take``."""
        return list(self) if count < 0 else list(itertools.islice(iter(self), count))


def timeseries_dataset_from_array(
    data,
    targets,
    sequence_length: int,
    sequence_stride: int = 1,
    sampling_rate: int = 1,
    batch_size: int | None = 128,
    shuffle: bool = False,
    seed: int | None = None,
    start_index: int | None = None,
    end_index: int | None = None,
) -> TimeseriesDataset:
    """Creates a dataset of sliding windows over a timeseries provided as an array.

    Args:
        data: array-like of consecutive data points (timesteps), axis 0 is time.
        targets: target for the window starting at each timestep (``targets[i]`` goes with the
            window starting at ``data[i]``), or None for inputs only.
        sequence_length: number of timesteps in a window.
        sequence_stride: period between the starts of two successive windows.
        sampling_rate: period between two successive timesteps within a window.
        batch_size: windows per batch; None yields single windows.
        shuffle: shuffle the order of the windows.
        seed: random seed for the shuffle.
        start_index: first timestep used (inclusive).
        end_index: last timestep used (exclusive); default ``len(data)``.

    Returns:
        A ``TimeseriesDataset`` (a ``keras.utils.Sequence``) of NumPy batches.
    """
    data = _as_array(data)
    if targets is not None:
        targets = _as_array(targets)
    n = len(data)
    if start_index:
        if start_index < 0:
            raise ValueError(f"`start_index` must be 0 or greater. Received: start_index={start_index}")
        if start_index >= n:
            raise ValueError(
                "`start_index` must be lower than the length of the data. "
                f"Received: start_index={start_index}, for data of length {n}"
            )
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(
                "`end_index` must be higher than `start_index`. "
                f"Received: start_index={start_index}, and end_index={end_index} "
            )
        if end_index >= n:
            raise ValueError(
                f"`end_index` must be lower than the length of the data. Received: end_index={end_index}, "
                f"for data of length {n}"
            )
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: end_index={end_index}")
    if sampling_rate <= 0:
        raise ValueError(f"`sampling_rate` must be higher than 0. Received: sampling_rate={sampling_rate}")
    if sampling_rate >= n:
        raise ValueError(
            "`sampling_rate` must be lower than the length of the data. "
            f"Received: sampling_rate={sampling_rate}, for data of length {n}"
        )
    if sequence_stride <= 0:
        raise ValueError(f"`sequence_stride` must be higher than 0. Received: sequence_stride={sequence_stride}")
    if sequence_stride >= n:
        raise ValueError(
            "`sequence_stride` must be lower than the length of the data. "
            f"Received: sequence_stride={sequence_stride}, for data of length {n}"
        )
    if sequence_length <= 0:
        raise ValueError(f"`sequence_length` must be higher than 0. Received: sequence_length={sequence_length}")
    if batch_size is not None and batch_size <= 0:
        raise ValueError(f"`batch_size` must be a positive integer or None. Received: batch_size={batch_size}")
    start_index = start_index or 0
    end_index = end_index or n

    # Every window whose last sample index, start + (sequence_length - 1) * sampling_rate, is
    # below end_index (tf.keras >= 2.13 counting; 2.12 dropped a window when sampling_rate > 1).
    num_windows = end_index - start_index - (sequence_length - 1) * sampling_rate
    if targets is not None:
        num_windows = min(num_windows, len(targets) - start_index)
    num_windows = max(num_windows, 0)
    start_positions = np.arange(0, num_windows, sequence_stride, dtype=np.int64) + start_index
    if shuffle and seed is None:
        seed = int(np.random.randint(1_000_000))
    return TimeseriesDataset(data, targets, start_positions, sequence_length, sampling_rate, batch_size, shuffle, seed)
