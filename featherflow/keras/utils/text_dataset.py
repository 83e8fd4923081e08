"""``keras.utils.text_dataset_from_directory``: a ``tf.data.Dataset`` of ``.txt`` files' contents as strings.

>>> import os, tempfile
>>> root = tempfile.mkdtemp()
>>> for label, text in (("neg", "bad film"), ("pos", "great film")):
...     os.makedirs(os.path.join(root, label))
...     with open(os.path.join(root, label, "review.txt"), "w") as f:
...         _ = f.write(text)
>>> ds = text_dataset_from_directory(root, batch_size=2, shuffle=False, verbose=False)
>>> texts, labels = next(ds.as_numpy_iterator())
>>> texts.tolist(), labels.tolist(), ds.class_names
([b'bad film', b'great film'], [0, 1], ['neg', 'pos'])
"""

from __future__ import annotations

import numpy as np

from featherflow.data import AUTOTUNE, Dataset
from featherflow.keras.utils import dataset_utils


def _read_text(path: bytes, max_length) -> np.ndarray:
    with open(path, "rb") as f:
        data = f.read() if max_length is None else f.read(max_length)
    out = np.empty((), dtype=object)
    out[()] = data
    return out


def text_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None, batch_size=32,
                                max_length=None, shuffle=True, seed=None, validation_split=None, subset=None,
                                follow_links=False, verbose=True):
    """Generates a ``tf.data.Dataset`` from text files in a directory (tf.keras 2's function).

    Args:
        directory: with ``labels="inferred"``, one subdirectory of ``.txt`` files per class.
        labels: ``"inferred"``, None (texts only) or a list of integer labels in the files' alphanumeric order.
        label_mode: ``"int"``, ``"categorical"``, ``"binary"`` or None (as for ``image_dataset_from_directory``).
        class_names: the classes' order (the subdirectories' names).
        batch_size: texts per batch (None: single texts).
        max_length: keep at most this many bytes of each file.
        shuffle, seed, validation_split, subset, follow_links, verbose: as for ``image_dataset_from_directory``.

    Returns:
        A dataset of ``(texts, labels)`` (string tensors as bytes; texts alone without labels) with a
        ``class_names`` attribute; ``[train, validation]`` for ``subset="both"``.
    """
    if max_length is not None and (isinstance(max_length, bool) or not isinstance(max_length, (int, np.integer))
                                   or max_length < 0):
        raise ValueError(f"`max_length` must be a non-negative integer or None. Received: max_length={max_length!r}")

    def make_dataset(paths):
        return Dataset.from_tensor_slices(paths).map(lambda path: _read_text(path.numpy().item(), max_length),
                                                     num_parallel_calls=AUTOTUNE)

    return dataset_utils.from_directory(directory, labels, label_mode, class_names, batch_size, shuffle, seed,
                                        validation_split, subset, follow_links, (".txt",), "text", make_dataset,
                                        prefetch_first=True, verbose=verbose)
