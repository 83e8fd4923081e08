"""``Dataset.cache``: keep the elements of the first complete iteration, in memory or in a file.

In memory, elements of one shape per component are stacked into arrays once the first pass ends, so
later passes (and a ``shuffle``/``batch`` after the cache) gather whole batches from them. A file cache
is written to a temporary name and renamed when the pass completes (an interrupted pass leaves no cache);
an existing cache file is read instead of running the input. The files are TensorFlow's names
(``<filename>.index`` and ``<filename>.data-00000-of-00001``) but featherflow's own format: a JSON index
and ``.npy`` records (no pickles), so they are not interchangeable with TensorFlow's.

>>> import featherflow as tf
>>> calls = []
>>> ds = tf.data.Dataset.range(3).map(lambda x: (calls.append(1), x)[1]).cache()
>>> [int(v) for v in ds] == [int(v) for v in ds], len(calls) <= 3 + 2
(True, True)
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import warnings

import numpy as np

from featherflow.core.tensor_spec import STRING
from featherflow.data import structure as nest
from featherflow.data.dataset import UnaryDataset
from featherflow.data.sources import IndexSource, _slice_source

_FORMAT = "featherflow-dataset-cache"
_PARTIAL_WARNING = (
    "The calling iterator did not fully read the dataset being cached. In order to avoid unexpected truncation of "
    "the dataset, the partially cached contents of the dataset will be discarded. This can happen if you have an "
    "input pipeline similar to `dataset.cache().take(k).repeat()`. You should use `dataset.take(k).cache().repeat()` "
    "instead.")


def _freeze(elements: list):
    """The cached elements as an ``IndexSource`` over stacked arrays when every component keeps one shape and
    dtype (``elements`` is emptied as the columns are stacked, so memory peaks at one column more than the
    list), else the list itself."""
    if not elements:
        return elements
    first = elements[0]
    leaves0 = nest.flatten(first)
    if any(not isinstance(a, np.ndarray) for a in leaves0):
        return elements
    columns = [[] for _ in leaves0]
    for element in elements:
        leaves = nest.flatten(element)
        if len(leaves) != len(leaves0):
            return elements
        for column, a, a0 in zip(columns, leaves, leaves0):
            if a.shape != a0.shape or a.dtype != a0.dtype:
                return elements
            column.append(a)
    count = len(elements)
    elements.clear()  # the columns hold the arrays now: each is freed once its column is stacked
    arrays = []
    for column in columns:
        arrays.append(np.stack(column))
        column.clear()
    return _slice_source(arrays, nest.pack_as(first, arrays), count)


class CacheDataset(UnaryDataset):
    """``Dataset.cache``."""

    def __init__(self, input_dataset, filename=""):
        self._input = input_dataset
        self._filename = os.fspath(filename) if filename else ""
        self._lock = threading.Lock()
        self._cached = None

    def _index_source(self):
        cached = self._cached
        if isinstance(cached, IndexSource):
            return cached
        return None

    def _elements(self):
        if self._filename:
            return self._file_elements()
        cached = self._cached
        if isinstance(cached, IndexSource):
            return cached.rows()
        if cached is not None:
            return iter(cached)
        return self._record()

    def _record(self):
        elements = []
        completed = False
        try:
            for element in self._input._elements():
                elements.append(element)
                yield element
            completed = True
        finally:
            if completed:
                with self._lock:
                    if self._cached is None:
                        self._cached = _freeze(elements)
            elif elements:
                warnings.warn(_PARTIAL_WARNING, UserWarning, stacklevel=2)

    # -- file cache ---------------------------------------------------------------------------------------
    @property
    def _paths(self) -> tuple:
        return self._filename + ".index", self._filename + ".data-00000-of-00001"

    def _file_elements(self):
        index_path, data_path = self._paths
        if os.path.exists(index_path):
            return self._read(index_path, data_path)
        return self._write(index_path, data_path)

    def _read(self, index_path, data_path):
        with open(index_path, encoding="utf-8") as f:
            index = json.load(f)
        specs = nest.flatten(self.element_spec)
        if index.get("format") != _FORMAT or index.get("components") != len(specs):
            raise ValueError(f"The cache file {index_path!r} was not written by this pipeline (expected "
                             f"{len(specs)} components per element, found {index.get('components')}). Delete "
                             f"{index_path!r} and {data_path!r} to rebuild the cache.")
        strings = index["strings"]
        structure = self.element_spec
        with open(data_path, "rb") as f:
            for _ in range(int(index["count"])):
                leaves = []
                for is_string in strings:
                    if is_string:
                        lengths = np.load(f, allow_pickle=False)
                        data = np.load(f, allow_pickle=False).tobytes()
                        leaves.append(_decode_strings(lengths, data))
                    else:
                        leaves.append(np.load(f, allow_pickle=False))
                yield nest.pack_as(structure, leaves)

    def _write(self, index_path, data_path):
        directory = os.path.dirname(os.path.abspath(data_path))
        fd, tmp_data = tempfile.mkstemp(prefix=os.path.basename(data_path) + ".", suffix=".tmp", dir=directory)
        count = 0
        strings = None
        completed = False
        try:
            with os.fdopen(fd, "wb") as f:
                for element in self._input._elements():
                    leaves = nest.flatten(element)
                    if strings is None:
                        strings = [a.dtype == STRING for a in leaves]
                    for a, is_string in zip(leaves, strings):
                        if is_string:
                            lengths, data = _encode_strings(a)
                            np.save(f, lengths, allow_pickle=False)
                            np.save(f, data, allow_pickle=False)
                        else:
                            np.save(f, a, allow_pickle=False)
                    count += 1
                    yield element
            completed = True
        finally:
            if completed:
                specs = nest.flatten(self.element_spec)
                index = {"format": _FORMAT, "version": 1, "count": count, "components": len(specs),
                         "strings": strings if strings is not None else [s.dtype == STRING for s in specs]}
                os.replace(tmp_data, data_path)
                fd, tmp_index = tempfile.mkstemp(prefix=os.path.basename(index_path) + ".", suffix=".tmp",
                                                 dir=directory)
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(index, f)
                os.replace(tmp_index, index_path)
            else:
                os.unlink(tmp_data)
                if count:
                    warnings.warn(_PARTIAL_WARNING, UserWarning, stacklevel=2)


def _encode_strings(arr: np.ndarray) -> tuple:
    items = arr.reshape(-1).tolist()
    lengths = np.array([len(b) for b in items], dtype=np.int64).reshape(arr.shape)
    return lengths, np.frombuffer(b"".join(items), dtype=np.uint8)


def _decode_strings(lengths: np.ndarray, data: bytes) -> np.ndarray:
    out = np.empty(lengths.shape, dtype=object)
    flat = out.reshape(-1)
    position = 0
    for i, length in enumerate(lengths.reshape(-1).tolist()):
        flat[i] = data[position:position + length]
        position += length
    return out
