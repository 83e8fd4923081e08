"""``fit``/``evaluate``/``predict`` on a ``featherflow.data.Dataset``: the dataset's batches taken as they come.

As in tf.keras: the dataset yields whole batches (``x``, ``(x, y)`` or ``(x, y, sample_weight)``); ``y`` and
``sample_weight`` arguments are refused; the number of steps per epoch is the dataset's cardinality when it
is known (the progress bar shows it), learned from the first epoch when it is not, and must be given
(``steps_per_epoch``/``validation_steps``/``steps``) for an infinite (``repeat()``-ed) dataset. A new pass
over the dataset starts every epoch unless ``steps_per_epoch`` is given and differs from the cardinality:
then one iterator continues across the epochs of the ``fit`` call. Validation and ``evaluate`` start a new
pass on each call.

The batches are read from the pipeline as NumPy arrays (no tensor wrappers in between).

>>> import numpy as np
>>> import featherflow as tf
>>> ds = tf.data.Dataset.from_tensor_slices((np.zeros((5, 2), "float32"), np.arange(5))).batch(2)
>>> handler = DatasetHandler(ds)
>>> handler.inferred_steps, [y.tolist() for _, y, _ in handler.epoch_batches(0)]
(3, [[0, 1], [2, 3], [4]])
"""

from __future__ import annotations

import sys

import numpy as np

from featherflow.keras.models.data_adapter import DataHandler

INFINITE = -1
UNKNOWN = -2


def is_dataset(value) -> bool:
    """True for a ``featherflow.data.Dataset`` (without importing ``featherflow.data`` when it is not loaded)."""
    module = sys.modules.get("featherflow.data.dataset")
    return module is not None and isinstance(value, module.Dataset)


def check_validation_split(x, validation_split) -> None:
    """tf.keras's error for ``validation_split`` with a dataset (only arrays can be split)."""
    if validation_split and is_dataset(x):
        raise ValueError("`validation_split` is only supported for Tensors or NumPy arrays, found following types in "
                         f"the input: [{type(x)}]")


def _all_finite(arr) -> bool:
    """True when a float array holds no NaN or infinity; True for None and non-float arrays. (One pass of
    ``isfinite`` over a batch costs about a third of its minimum and maximum, and calls no BLAS routine whose
    helper threads would spin inside ``fit``.)"""
    if arr is None or arr.dtype.kind != "f":
        return True
    return bool(np.isfinite(arr).all())


class DatasetHandler(DataHandler):
    """The batches of a dataset for one ``fit``/``evaluate``/``predict`` call (the ``DataHandler`` interface).

    Args:
        dataset: the ``featherflow.data.Dataset`` (of batches).
        y, sample_weight: must be None (the dataset yields them).
        steps_per_epoch: batches per epoch (needed for an infinite dataset).
        initial_epoch, epochs: the epoch range of the call.
        class_weight: ``{class: weight}`` multiplied into each batch's sample weights.
        input_dtypes: the dtypes the model casts float inputs to.
        check_values: refuse NaN/inf in the batches.
        fresh_each_call: start a new pass on every ``epoch_batches`` call (validation, ``evaluate``).
        source: the argument the dataset was passed as, named by the errors about its batches (``"x"``,
            ``"validation_data"``).
    """

    def __init__(self, dataset, y=None, sample_weight=None, steps_per_epoch=None, initial_epoch=0, epochs=1,
                 class_weight=None, input_dtypes=None, check_values=False, fresh_each_call=False, source="x"):
        if y is not None:
            raise ValueError("`y` argument is not supported when using dataset as input.")
        if sample_weight is not None:
            raise ValueError("`sample_weight` argument is not supported when using dataset as input.")
        super().__init__(dataset, steps_per_epoch=steps_per_epoch, initial_epoch=initial_epoch, epochs=epochs,
                         class_weight=class_weight, input_dtypes=input_dtypes, check_values=check_values,
                         source=source)
        steps_per_epoch = self.steps_per_epoch
        cardinality = dataset._cardinality()
        if steps_per_epoch is None and cardinality == INFINITE:
            raise ValueError("When providing an infinite dataset, you must specify the number of steps to run (if you "
                             "did not intend to create an infinite dataset, make sure to not call `repeat()` on the "
                             "dataset).")
        if cardinality == 0:
            raise ValueError("Expected input data to be non-empty: the dataset has no elements (cardinality 0).")
        self._kind = "generator"  # DataHandler's one-iterator path; epoch_batches sets the iterator
        self._cardinality = cardinality
        # A new pass each epoch unless a step count other than the cardinality is asked for (tf.keras's rule).
        self._fresh_each_epoch = fresh_each_call or steps_per_epoch is None or steps_per_epoch == cardinality
        if steps_per_epoch is not None:
            self.inferred_steps = steps_per_epoch
        else:
            self.inferred_steps = cardinality if cardinality >= 0 else None
        # One input (Sequential and one-input functional models): the common (x, y[, sample_weight]) batch of
        # arrays skips the generic structure conversion (see _convert_batch).
        if isinstance(input_dtypes, (list, tuple)) and len(input_dtypes) == 1:
            input_dtypes = input_dtypes[0]
        self._single_dtype = (np.dtype(input_dtypes) if isinstance(input_dtypes, (str, np.dtype, type))
                              and not class_weight else None)
        # arrays the dataset knows to be finite (a map's output proven finite from integer inputs, such as
        # uint8 images normalised): their NaN/inf check is skipped
        self._proven_finite = dataset._finite_proof() if check_values else None

    def _convert_batch(self, batch):
        dtype = self._single_dtype
        if dtype is not None and type(batch) is tuple and 2 <= len(batch) <= 3:
            x, y = batch[0], batch[1]
            sw = batch[2] if len(batch) == 3 else None
            if (type(x) is np.ndarray and type(y) is np.ndarray and x.ndim and y.ndim and y.shape[0] == x.shape[0]
                    and (sw is None or type(sw) is np.ndarray and sw.ndim and sw.shape[0] == x.shape[0])):
                proven = self._proven_finite
                if self._check_values and not ((proven is not None and proven(x) or _all_finite(x)) and _all_finite(y)
                                               and _all_finite(sw)):
                    self._check_finite(x, y, sw)  # names the argument and the first bad value
                if x.dtype.kind == "f" and x.dtype != dtype:
                    x = x.astype(dtype)
                return x, y, sw
        return super()._convert_batch(batch)

    def epoch_batches(self, epoch: int):
        """The batches ``(x, y, sample_weight)`` of one epoch (stops early when the dataset runs out)."""
        if self._fresh_each_epoch or self._iterator is None:
            self._iterator = self._source._elements()
        return super().epoch_batches(epoch)

    def on_epoch_end(self) -> None:
        return None
