"""Turn what users pass to ``fit``/``evaluate``/``predict`` into batches.

Accepted, as in tf.keras: NumPy arrays, lists, featherflow tensors (and pandas objects) — one,
a list (several inputs) or a dict keyed by input name; ``(x, y)`` / ``(x, y, sample_weight)``
tuples; Python generators and iterators; ``keras.utils.Sequence`` objects; any other
re-iterable that yields batches.

Array data is converted once per call (float64 inputs become the model's float32), shuffled
once per epoch with one permutation, and each batch is one gather (``x[indices]``); unshuffled
batches are slices (no copy).

>>> import numpy as np
>>> handler = DataHandler(np.arange(10.0).reshape(5, 2), np.arange(5), batch_size=2)
>>> [(x.shape, y.tolist()) for x, y, _ in handler.epoch_batches(0)]
[((2, 2), [0, 1]), ((2, 2), [2, 3]), ((1, 2), [4])]
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from featherflow.backend import random as backend_random
from featherflow.core import Tensor
from featherflow.keras.layers.base import flatten, map_structure
from featherflow.ops.nn import note_label_range


def unpack_x_y_sample_weight(data):
    """``(x, y, sample_weight)`` from a batch given as ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sw)``."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data[0], data[1], data[2]
    raise ValueError(f"Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, found: "
                     f"{data!r:.200}")


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The inverse of ``unpack_x_y_sample_weight``: ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``."""
    if y is None:
        if not isinstance(x, (tuple, list)):
            return x
        return (x,)
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def _to_array(value, what: str):
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, Tensor):
        return value.numpy()
    to_numpy = getattr(value, "to_numpy", None)  # pandas DataFrame / Series
    if to_numpy is not None and not isinstance(value, (list, tuple)):
        arr = np.asarray(to_numpy())
        if arr.dtype.kind == "O":  # object columns of numbers convert, as in tf.keras; text does not
            try:
                arr = arr.astype(np.float64)
            except (TypeError, ValueError):
                pass
    else:
        try:
            arr = np.asarray(value)
        except ValueError as error:
            if "inhomogeneous" not in str(error):
                raise
            raise ValueError(f"Can't convert non-rectangular Python sequence to Tensor: the rows of `{what}` have "
                             "different lengths. Pad them to one length first (`keras.utils.pad_sequences`) or pass "
                             f"a NumPy array. Received: {what}={value!r:.100}") from None
    if arr.dtype.kind in "US":
        return arr  # text (lists of strings) for models that start with TextVectorization / StringLookup
    if arr.dtype.kind in "OUS":
        raise ValueError(f"Failed to convert a NumPy array to a Tensor (unsupported object type in `{what}`): "
                         f"expected numbers, received elements of type {arr.dtype}. Received: {what}={value!r:.100}")
    return arr


def _is_array_leaf(value) -> bool:
    return isinstance(value, (np.ndarray, Tensor)) or hasattr(value, "to_numpy") or np.isscalar(value)


def _is_array_structure(value) -> bool:
    """Arrays, lists of numbers or arrays, dicts of arrays: data that can be indexed by sample."""
    if value is None:
        return True
    if isinstance(value, dict):
        return all(_is_array_structure(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return True
    return _is_array_leaf(value)


def _is_sequence(value) -> bool:
    from featherflow.keras.utils import Sequence

    return isinstance(value, Sequence)


def _is_generator(value) -> bool:
    return hasattr(value, "__next__") and hasattr(value, "__iter__")


def _convert_structure(value, what: str):
    """Lists of arrays stay lists (several inputs); a list of numbers becomes one array."""
    if value is None:
        return None
    if isinstance(value, dict):
        return {k: _convert_structure(v, f"{what}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)) and value and all(
            isinstance(v, (np.ndarray, Tensor)) or hasattr(v, "to_numpy") or isinstance(v, dict) for v in value):
        return [_convert_structure(v, what) for v in value]
    return _to_array(value, what)


_DOT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_finite(structure, what: str, source: str | None = None) -> None:
    """Raise ``ValueError`` if a float array of ``structure`` holds NaN or infinity.

    ``what`` names the data (``"x"``, ``"validation_data[1]"``); for a batch of a dataset, generator or
    ``Sequence``, ``what`` is the part of the batch (``"x"``, ``"y"``, ``"sample_weight"``) and ``source`` the
    argument that yielded it (``"validation_data"``).

    Every call scans the data (one pass: ~10 ms for MNIST's 47M float32 on the benchmark machine, ~14 ms as a
    NumPy sum): nothing is cached, so values written into the same array between two ``fit`` calls are seen.
    """
    leaves = flatten(structure)
    for i, arr in enumerate(leaves):
        if arr is None or not isinstance(arr, np.ndarray) or arr.dtype.kind not in "fc" or arr.size == 0:
            continue
        # One reduction first: a finite sum proves every element finite. For contiguous float32/float64 data the
        # sum of squares through BLAS's dot (a NaN or infinity makes it NaN or infinite; an overflow only sends
        # us to the exact check below) reads memory faster than NumPy's pairwise sum.
        with np.errstate(over="ignore", invalid="ignore"):
            if arr.dtype in _DOT_DTYPES and arr.flags.c_contiguous:
                flat = arr.reshape(-1)
                total = np.dot(flat, flat)
            else:
                total = np.add.reduce(arr, axis=None)
        if np.isfinite(total):
            continue
        bad = ~np.isfinite(arr)
        if not bad.any():
            continue  # the sum overflowed, the values are fine
        index = np.unravel_index(int(np.argmax(bad)), arr.shape)
        kind = "NaN" if np.isnan(arr[index]) else "infinite"
        label = what if len(leaves) == 1 else f"{what}[{i}]"
        where = f"`{label}`" if source is None else f"`{source}` (the {label} of its batches)"
        position = tuple(int(j) for j in index)
        raise ValueError(
            f"The data in {where} contains {int(bad.sum())} NaN or infinite value(s) (the first, {kind}, at index "
            f"{position}{'' if source is None else ' of a batch'}). They would make the loss NaN (and the weights, "
            "once trained on); remove or impute them first (e.g. `np.nan_to_num` or dropping the rows)."
        )


GATHER_BYTES = 1 << 20  # shuffled rows are gathered up to ~1 MB at a time (then sliced into batches)
GATHER_BATCHES = 8


def _gathered_batches(perm, batch_size: int, x, y, sw):
    """The shuffled batches ``(x[i], y[i], sw[i])`` for consecutive ``batch_size`` slices ``i`` of ``perm``, the rows
    of several batches gathered by one fancy index each (then yielded as slices, the same batches).

    Gathering random rows is bound by memory latency; one take of 256 rows overlaps more of it than 8 takes of
    32: MNIST-sized float32 rows, 17.3 -> 12.7 us per batch of 32 on the benchmark machine.
    """
    row_bytes = x.itemsize * (x.size // max(x.shape[0], 1)) if x.ndim else x.itemsize
    per_chunk = max(1, min(GATHER_BATCHES, GATHER_BYTES // max(batch_size * row_bytes, 1)))
    n, step = perm.shape[0], batch_size * per_chunk
    for chunk_start in range(0, n, step):
        index = perm[chunk_start:chunk_start + step]
        xc = x[index]
        yc = None if y is None else y[index]
        if yc is not None:
            note_label_range(yc)  # integer labels: the sparse losses' range check of each batch reads it
        swc = None if sw is None else sw[index]
        for a in range(0, index.shape[0], batch_size):
            b = a + batch_size
            yield xc[a:b], None if yc is None else yc[a:b], None if swc is None else swc[a:b]


def check_class_weight(class_weight) -> None:
    """Raise ``ValueError`` when a ``class_weight`` entry is not a finite number."""
    for key, weight in class_weight.items():
        try:
            number = float(weight)
        except (TypeError, ValueError):
            raise ValueError(f"`class_weight` values must be numbers; class {key!r} has {weight!r}. "
                             f"Received: class_weight={class_weight}") from None
        if not math.isfinite(number):
            raise ValueError(f"`class_weight` values must be finite; class {key!r} has weight {weight}, which would "
                             f"make the loss and the weights NaN. Received: class_weight={class_weight}")


def _num_samples(structure) -> list:
    return [int(a.shape[0]) if a.ndim else 1 for a in flatten(structure) if a is not None]


def check_data_cardinality(x, y, sample_weight) -> int:
    """Raise Keras's "Data cardinality is ambiguous" error when the arrays differ in length."""
    sizes = {"x": _num_samples(x), "y": _num_samples(y), "sample_weight": _num_samples(sample_weight)}
    everything = [n for v in sizes.values() for n in v]
    if not everything:
        raise ValueError("Expected input data to be non-empty. Received: x=None.")
    for label, value in (("x", x), ("y", y), ("sample_weight", sample_weight)):
        for a in flatten(value):
            if a is not None and a.ndim == 0:
                raise ValueError(f"Expected `{label}` to be an array with a sample axis, received a scalar: {a!r}. "
                                 "Wrap single samples in a batch: `np.expand_dims(value, 0)`.")
    if len(set(everything)) > 1:
        lines = ["Data cardinality is ambiguous:"]
        for label, values in sizes.items():
            if values:
                lines.append(f"  {label} sizes: {', '.join(str(v) for v in values)}")
        lines.append("Make sure all arrays contain the same number of samples.")
        raise ValueError("\n".join(lines))
    return everything[0]


def class_weights_to_sample_weights(y, class_weight) -> np.ndarray:
    """Per-sample weights from ``{class_index: weight}`` and integer or one-hot targets."""
    if isinstance(y, (list, dict)):
        raise ValueError("`class_weight` is only supported for Models with a single output.")
    y = np.asarray(y)
    if y.ndim > 2:
        raise ValueError("`class_weight` not supported for 3+ dimensional targets.")
    keys = sorted(int(k) for k in class_weight)
    if keys and keys != list(range(keys[-1] + 1)):
        raise ValueError(f"Expected `class_weight` to be a dict with keys from 0 to one less than the number of "
                         f"classes, found {class_weight}")
    table = np.array([float(class_weight[k]) for k in sorted(class_weight, key=int)], dtype=np.float32)
    if y.ndim == 2 and y.shape[1] > 1:
        labels = y.argmax(axis=1)
    else:
        labels = y.reshape(-1)
        if labels.dtype.kind == "f":
            labels = np.round(labels)
        labels = labels.astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= len(table)):
        bad = labels.max() if labels.max() >= len(table) else labels.min()
        raise ValueError(f"`class_weight` has no entry for class {bad}: it must have one weight for each class "
                         f"0..{len(table) - 1}. Received: class_weight={class_weight}")
    return table[labels]


def train_validation_split(arrays, validation_split: float):
    """Split ``(x, y, sample_weight)`` arrays into training and validation parts: the LAST
    ``validation_split`` fraction (before any shuffling) is the validation data, as in Keras."""
    flat = [a for a in flatten(arrays) if a is not None]
    for a in flat:
        if not isinstance(a, np.ndarray):
            raise ValueError("`validation_split` is only supported for Tensors or NumPy arrays, found following types "
                             f"in the input: {[type(a)]}")
    if not flat:
        return arrays, arrays
    batch_dim = int(flat[0].shape[0])
    split_at = int(math.floor(batch_dim * (1.0 - validation_split)))
    if split_at == 0 or split_at == batch_dim:
        raise ValueError(
            f"Training data contains {batch_dim} samples, which is not sufficient to split it into a validation and "
            f"training set as specified by `validation_split={validation_split}`. Either provide more data, or a "
            "different value for the `validation_split` argument."
        )
    train = map_structure(lambda a: None if a is None else a[:split_at], arrays)
    val = map_structure(lambda a: None if a is None else a[split_at:], arrays)
    return train, val


class DataHandler:
    """Batches for one ``fit``/``evaluate``/``predict`` call.

    Args:
        x, y, sample_weight: the data (see the module docstring).
        batch_size: samples per batch for array data (default 32).
        steps_per_epoch: batches per epoch; ``None`` means one pass over the data.
        initial_epoch, epochs: the epoch range of the call (array data is re-shuffled each epoch).
        shuffle: ``True`` (one permutation per epoch), ``"batch"`` (shuffle within batches) or ``False``.
        class_weight: ``{class: weight}`` multiplied into the sample weights.
        input_dtypes: per-input dtypes the model casts float inputs to (cast here once).
        check_values: refuse NaN/inf in the arrays (``x``, ``y``, ``sample_weight``) and in ``class_weight``.
        names: what the error messages call ``x``, ``y`` and ``sample_weight`` (``fit`` names its
            validation data ``validation_data[0]``, ...).
        source: the argument a generator, dataset or ``Sequence`` was passed as (``"x"``, ``"validation_data"``):
            the error messages about its batches name it.
        seed_generator: the NumPy generator used for shuffling (default: featherflow's global one).
    """

    def __init__(self, x, y=None, sample_weight=None, batch_size=None, steps_per_epoch=None, initial_epoch=0,
                 epochs=1, shuffle=False, class_weight=None, input_dtypes=None, check_values=False,
                 seed_generator=None, is_predict=False, strict_batch_size=True,
                 names=("x", "y", "sample_weight"), source="x"):
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
                                       or batch_size <= 0):
            raise ValueError(f"`batch_size` must be a positive integer. Received: batch_size={batch_size!r}")
        if steps_per_epoch is not None and (not isinstance(steps_per_epoch, (int, np.integer)) or steps_per_epoch <= 0):
            if steps_per_epoch != -1:
                raise ValueError(f"`steps_per_epoch` must be a positive integer or None. Received: "
                                 f"steps_per_epoch={steps_per_epoch!r}")
            steps_per_epoch = None
        self.initial_epoch = int(initial_epoch)
        self.epochs = int(epochs)
        self.steps_per_epoch = steps_per_epoch
        self.shuffle = shuffle
        self.class_weight = class_weight
        self.insufficient_data = False
        self._rng = seed_generator
        self._kind = None
        self._check_values = check_values
        self._names = tuple(names)
        self._source_name = source
        if check_values and class_weight:
            check_class_weight(class_weight)
        if _is_sequence(x) or (_is_generator(x) and not isinstance(x, (list, tuple, dict))) or (
                hasattr(x, "__iter__") and not _is_array_structure(x)):
            for label, value in (("y", y), ("sample_weight", sample_weight)):
                if value is not None:
                    kind = "a `keras.utils.Sequence`" if _is_sequence(x) else "a Python generator or dataset"
                    raise ValueError(f"`{label}` argument is not supported when using {kind} as input: the batches "
                                     f"must yield ({'x, y' if label == 'y' else 'x, y, sample_weight'}).")
            if batch_size is not None and not is_predict and strict_batch_size:
                raise ValueError(f"The `batch_size` argument must not be specified for the given input type. Received "
                                 f"input: {x!r:.80}, batch_size: {batch_size}. Generators, datasets and "
                                 "`keras.utils.Sequence` objects yield whole batches themselves.")
            self._kind = "sequence" if _is_sequence(x) else ("generator" if _is_generator(x) else "iterable")
            self._source = x
            self._iterator = None
            self.num_samples = None
            self.batch_size = None
            self.inferred_steps = steps_per_epoch if steps_per_epoch is not None else (
                len(x) if self._kind == "sequence" else None)
            self._input_dtypes = input_dtypes
            return
        self._kind = "arrays"
        self.batch_size = int(batch_size or 32)
        x = _convert_structure(x, "x")
        y = _convert_structure(y, "y")
        sample_weight = _convert_structure(sample_weight, "sample_weight")
        n = check_data_cardinality(x, y, sample_weight)
        if n == 0:
            raise ValueError("Expected input data to be non-empty. Received 0 samples in `x`.")
        if check_values:
            self._check_finite(x, y, sample_weight)
        x = self._cast_inputs(x, input_dtypes)
        if class_weight:
            cw = class_weights_to_sample_weights(y, class_weight)
            sample_weight = cw if sample_weight is None else np.asarray(sample_weight, dtype=np.float32) * (
                cw.reshape((-1,) + (1,) * (np.ndim(sample_weight) - 1)))
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.num_samples = n
        self._batches_per_pass = -(-n // self.batch_size)
        self.inferred_steps = steps_per_epoch if steps_per_epoch is not None else self._batches_per_pass
        self._stream = None

    # -- helpers -------------------------------------------------------------------------------------
    def _check_finite(self, x, y, sample_weight) -> None:
        if self._kind == "arrays":
            for value, name in zip((x, y, sample_weight), self._names):
                check_finite(value, name)
            return
        for value, name in zip((x, y, sample_weight), ("x", "y", "sample_weight")):  # the parts of a batch
            check_finite(value, name, self._source_name)

    @staticmethod
    def _cast_inputs(x, input_dtypes):
        if input_dtypes is None:
            return x
        leaves = flatten(x)
        if isinstance(input_dtypes, (list, tuple)) and len(input_dtypes) == len(leaves) and not isinstance(x, dict):
            dtypes = list(input_dtypes)
        elif isinstance(input_dtypes, dict) and isinstance(x, dict):
            dtypes = [input_dtypes.get(k) for k in sorted(x)]
        else:
            dtypes = [input_dtypes if not isinstance(input_dtypes, (list, tuple, dict)) else None] * len(leaves)
        it = iter(dtypes)

        def cast(a):
            dtype = next(it)
            if a is None or dtype is None:
                return a
            dtype = np.dtype(dtype)
            # Only float data is cast ahead (as the model's first op would do); integer ids stay exact.
            if a.dtype.kind == "f" and dtype.kind == "f" and a.dtype != dtype:
                return a.astype(dtype)
            return a

        return map_structure(cast, x)

    @property
    def rng(self) -> np.random.Generator:
        # featherflow's global generator, looked up at each draw: `set_random_seed` makes the shuffles
        # reproducible and BackupAndRestore's saved random state covers them.
        return self._rng if self._rng is not None else backend_random.generator()

    def _array_pass(self):
        """Batches of one pass over the arrays (shuffled per ``self.shuffle``)."""
        n, bs = self.num_samples, self.batch_size
        perm = None
        if self.shuffle is True or (self.shuffle and self.shuffle != "batch"):
            perm = self.rng.permutation(n)
        x, y, sw = self.x, self.y, self.sample_weight
        single_x = isinstance(x, np.ndarray)
        if perm is not None and single_x and all(a is None or isinstance(a, np.ndarray) for a in (y, sw)):
            yield from _gathered_batches(perm, bs, x, y, sw)
            return
        for start in range(0, n, bs):
            stop = min(start + bs, n)
            if perm is not None:
                index = perm[start:stop]
            elif self.shuffle == "batch":
                index = start + self.rng.permutation(stop - start)
            else:
                index = slice(start, stop)
            if single_x:
                xb = x[index]
            else:
                xb = map_structure(lambda a, i=index: None if a is None else a[i], x)
            yb = None if y is None else (y[index] if isinstance(y, np.ndarray) else
                                         map_structure(lambda a, i=index: None if a is None else a[i], y))
            swb = None if sw is None else (sw[index] if isinstance(sw, np.ndarray) else
                                           map_structure(lambda a, i=index: None if a is None else a[i], sw))
            yield xb, yb, swb

    def _array_stream(self):
        for _ in range(max(self.epochs - self.initial_epoch, 1)):
            yield from self._array_pass()

    def _convert_batch(self, batch):
        x, y, sw = unpack_x_y_sample_weight(batch)
        x = _convert_structure(x, "x")
        y = _convert_structure(y, "y")
        sw = _convert_structure(sw, "sample_weight")
        if self._check_values:
            self._check_finite(x, y, sw)
        check_data_cardinality(x, y, sw)
        x = self._cast_inputs(x, self._input_dtypes)
        if self.class_weight and y is not None:
            cw = class_weights_to_sample_weights(y, self.class_weight)
            sw = cw if sw is None else np.asarray(sw, dtype=np.float32) * cw
        return x, y, sw

    # -- epochs ----------------------------------------------------------------------------------
    def epoch_batches(self, epoch: int):
        """The batches ``(x, y, sample_weight)`` of one epoch (stops early when data runs out)."""
        if self._kind == "arrays":
            if self.steps_per_epoch is None:
                yield from self._array_pass()
                return
            if self._stream is None:
                self._stream = self._array_stream()
            yield from self._take(self._stream, self.steps_per_epoch, from_arrays=True)
            return
        if self._kind == "sequence":
            seq = self._source
            count = len(seq)
            if count == 0:
                raise ValueError("Expected input data to be non-empty: the `Sequence` has length 0.")
            order = np.arange(count)
            if self.shuffle:
                order = self.rng.permutation(count)
            steps = self.steps_per_epoch or count
            for step in range(steps):
                yield self._convert_batch(seq[int(order[step % count])])
            return
        if self._kind == "iterable" and (self._iterator is None or self.steps_per_epoch is None):
            self._iterator = iter(self._source)
        elif self._iterator is None:
            self._iterator = self._source
        if self.steps_per_epoch is None:
            produced = 0
            for batch in self._iterator:
                produced += 1
                yield self._convert_batch(batch)
            if produced == 0:
                self._report_empty(epoch)
            elif self.inferred_steps is None:
                self.inferred_steps = produced
            return
        yield from self._take(self._iterator, self.steps_per_epoch, from_arrays=False)

    def _take(self, iterator, steps, from_arrays):
        for step in range(steps):
            try:
                batch = next(iterator)
            except StopIteration:
                if step == 0 and not from_arrays and self.inferred_steps is None:
                    raise ValueError("Expected input data to be non-empty: the generator produced no batches.") \
                        from None
                self._warn_ran_out()
                return
            yield batch if from_arrays else self._convert_batch(batch)

    def _report_empty(self, epoch):
        if epoch == self.initial_epoch and self.inferred_steps is None:
            raise ValueError("Expected input data to be non-empty: the generator or dataset produced no batches.")
        self._warn_ran_out()

    def _warn_ran_out(self):
        self.insufficient_data = True
        total = (self.epochs - self.initial_epoch) * (self.inferred_steps or 0)
        warnings.warn(
            "Your input ran out of data; interrupting training. Make sure that your dataset or generator can generate "
            f"at least `steps_per_epoch * epochs` batches (in this case, {total} batches). You may need to use the "
            "repeat() function when building your dataset.", UserWarning, stacklevel=4)

    def on_epoch_end(self) -> None:
        if self._kind == "sequence":
            callback = getattr(self._source, "on_epoch_end", None)
            if callback is not None:
                callback()
