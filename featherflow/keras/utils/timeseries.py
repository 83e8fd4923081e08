"""``keras.utils.timeseries_dataset_from_array``: sliding windows over a time series, as a ``tf.data.Dataset``.

Window ``i`` starts at ``p_i = start_index + starts[i]`` and holds
``data[p_i + k * sampling_rate]`` for ``k = 0 .. sequence_length - 1``; its target is
``targets[p_i]``. ``starts`` are ``0, sequence_stride, 2 * sequence_stride, ...`` up to the last
window that fits before ``end_index``. With ``shuffle=True`` the window order is shuffled once with
``numpy.random.RandomState(seed)`` and again each epoch by a shuffle buffer of ``8 * batch_size`` windows,
as in tf.keras. Each batch of windows is one NumPy gather.

>>> ds = timeseries_dataset_from_array(list(range(10)), None, sequence_length=3, batch_size=2)
>>> len(ds), next(iter(ds)).numpy().tolist()
(4, [[0, 1, 2], [1, 2, 3]])
"""

from __future__ import annotations

import numpy as np

from featherflow.data import AUTOTUNE, Dataset


def _as_array(x) -> np.ndarray:
    if hasattr(x, "numpy"):
        x = x.numpy()
    return np.asarray(x)


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
) -> Dataset:
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
        A ``tf.data.Dataset`` of ``inputs`` batches ``(batch, sequence_length) + data.shape[1:]``, or of
        ``(inputs, targets)`` with ``targets`` of shape ``(batch,) + targets.shape[1:]`` (single windows
        with ``batch_size=None``).
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
    if shuffle:
        if seed is None:
            seed = int(np.random.randint(1_000_000))
        np.random.RandomState(seed).shuffle(start_positions)
    offsets = np.arange(sequence_length) * sampling_rate

    def windows(starts):
        starts = starts.numpy()
        inputs = data[starts[..., None] + offsets]
        return inputs if targets is None else (inputs, targets[starts])

    positions = Dataset.from_tensor_slices(start_positions)
    if shuffle:
        positions = positions.shuffle(buffer_size=batch_size * 8 if batch_size is not None else 1024, seed=seed)
    if batch_size is not None:
        positions = positions.batch(batch_size)
    return positions.map(windows).prefetch(AUTOTUNE)
