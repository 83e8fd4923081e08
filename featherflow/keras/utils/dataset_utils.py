"""What ``image_dataset_from_directory`` and ``text_dataset_from_directory`` share (tf.keras's dataset_utils):
indexing a directory of class subdirectories, the validation split, labels as a dataset, and the final
shuffle/batch/prefetch.

Files are listed in alphanumeric order of their paths (subdirectories walked recursively); with
``shuffle=True`` the list is shuffled once with ``numpy.random.RandomState(seed)`` before the validation
split, so two calls with the same seed (``subset="training"`` and ``"validation"``) never overlap.

>>> import os, tempfile
>>> root = tempfile.mkdtemp()
>>> for name in ("b/2.txt", "a/1.txt", "a/0.txt"):
...     os.makedirs(os.path.join(root, os.path.dirname(name)), exist_ok=True)
...     open(os.path.join(root, name), "w").close()
>>> paths, labels, classes = index_directory(root, "inferred", (".txt",), shuffle=False, verbose=False)
>>> [os.path.relpath(p, root) for p in paths], labels.tolist(), classes
(['a/0.txt', 'a/1.txt', 'b/2.txt'], [0, 0, 1], ['a', 'b'])
"""

from __future__ import annotations

import os

import numpy as np

from featherflow.data import AUTOTUNE, Dataset
from featherflow.keras.utils.io_utils import print_msg


def check_labels_arg(labels, class_names, what: str) -> None:
    """tf.keras's errors for ``labels`` (``"inferred"``, None or a list of ints) and ``class_names``."""
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(
                "`labels` argument should be a list/tuple of integer labels, of the same size as the number of "
                f"{what} files in the target directory. If you wish to infer the labels from the subdirectory names "
                'in the target directory, pass `labels="inferred"`. If you wish to get a dataset that only contains '
                f"{'images' if what == 'image' else 'text samples'} (no labels), pass `labels=None`. "
                f"Received: labels={labels}")
        if class_names:
            raise ValueError(f'You can only pass `class_names` if `labels="inferred"`. Received: labels={labels}, '
                             f"and class_names={class_names}")


def check_label_mode(label_mode) -> None:
    if label_mode not in {"int", "categorical", "binary", None}:
        raise ValueError('`label_mode` argument must be one of "int", "categorical", "binary", or None. Received: '
                         f"label_mode={label_mode}")


def check_validation_split_arg(validation_split, subset, shuffle, seed) -> None:
    """tf.keras's checks of ``validation_split``/``subset``/``seed``."""
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1, received: {validation_split}")
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(f'`subset` must be either "training", "validation" or "both", received: {subset}')
    if validation_split and shuffle and seed is None:
        raise ValueError("If using `validation_split` and shuffling the data, you must provide a `seed` argument, to "
                         "make sure that there is no overlap between the training and validation subset.")


def _valid_files(directory: str, follow_links: bool, formats: tuple):
    for root, _, files in sorted(os.walk(directory, followlinks=follow_links), key=lambda entry: entry[0]):
        for name in sorted(files):
            if name.lower().endswith(formats):
                yield os.path.join(root, name)


def index_directory(directory, labels, formats: tuple, class_names=None, shuffle=True, seed=None,
                    follow_links=False, verbose=True):
    """``(file_paths, labels, class_names)`` of the files in ``directory`` with an extension in ``formats``.

    With ``labels="inferred"`` each subdirectory is a class (alphanumeric order unless ``class_names`` gives
    it) and its files (at any depth) are that class's; otherwise every file under ``directory`` is listed and
    ``labels`` (a list) gives their labels in path order.
    """
    if not os.path.isdir(directory):
        raise ValueError(f"Could not find directory {directory}")
    if labels != "inferred":
        groups = [(0, directory)]
    else:
        subdirs = [d for d in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")]
        if not class_names:
            class_names = subdirs
        elif set(class_names) != set(subdirs):
            raise ValueError("The `class_names` passed did not match the names of the subdirectories of the target "
                             f"directory. Expected: {subdirs}, but received: {class_names}")
        # files in the subdirectories' alphanumeric order, labelled by their class's place in class_names
        groups = [(list(class_names).index(name), os.path.join(directory, name)) for name in subdirs]
    file_paths, found_labels = [], []
    for index, path in groups:
        for file_path in _valid_files(path, follow_links, formats):
            file_paths.append(file_path)
            found_labels.append(index)
    if labels not in ("inferred", None):
        if len(labels) != len(file_paths):
            raise ValueError(f"Expected the lengths of `labels` to match the number of files in the target directory. "
                             f"len(labels) is {len(labels)} while we found {len(file_paths)} files in directory "
                             f"{directory}.")
        class_names = sorted(set(labels))
        label_array = np.asarray(labels)
    else:
        label_array = np.asarray(found_labels, dtype=np.int32)
    if verbose:
        if labels is None:
            print_msg(f"Found {len(file_paths)} files.")
        else:
            print_msg(f"Found {len(file_paths)} files belonging to {len(class_names)} classes.")
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(file_paths)
        np.random.RandomState(seed).shuffle(label_array)
    return file_paths, label_array, list(class_names or [])


def get_training_or_validation_split(samples, labels, validation_split, subset, verbose=True):
    """The training part (all but the last ``int(validation_split * n)`` samples) or the validation part."""
    if not validation_split:
        return samples, labels
    num_val_samples = int(validation_split * len(samples))
    if subset == "training":
        if verbose:
            print_msg(f"Using {len(samples) - num_val_samples} files for training.")
        return samples[:len(samples) - num_val_samples], (None if labels is None
                                                         else labels[:len(samples) - num_val_samples])
    if subset == "validation":
        if verbose:
            print_msg(f"Using {num_val_samples} files for validation.")
        return samples[len(samples) - num_val_samples:], (None if labels is None
                                                         else labels[len(samples) - num_val_samples:])
    raise ValueError(f'`subset` must be either "training" or "validation", received: {subset}')


def labels_to_dataset(labels, label_mode: str, num_classes: int) -> Dataset:
    """``int``: int32 labels; ``binary``: float32 ``(1,)``; ``categorical``: float32 one-hot rows."""
    labels = np.asarray(labels)
    if label_mode == "binary":
        values = labels.astype(np.float32).reshape(-1, 1)
    elif label_mode == "categorical":
        values = np.eye(num_classes, dtype=np.float32)[labels.astype(np.int64)]
    else:
        values = labels.astype(np.int32) if labels.dtype.kind in "iu" else labels
    return Dataset.from_tensor_slices(values)


def finish_dataset(dataset: Dataset, batch_size, shuffle: bool, seed, prefetch_first: bool = False,
                   padded: bool = False) -> Dataset:
    """tf.keras's ending: a shuffle buffer of ``8 * batch_size`` (1024 unbatched), ``batch``, ``prefetch``."""
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
                                   or batch_size <= 0):
        raise ValueError(f"`batch_size` must be a positive integer or None. Received: batch_size={batch_size!r}")
    if prefetch_first:
        dataset = dataset.prefetch(AUTOTUNE)
    if shuffle:
        dataset = dataset.shuffle(buffer_size=batch_size * 8 if batch_size is not None else 1024, seed=seed)
    if batch_size is not None:
        dataset = dataset.padded_batch(batch_size) if padded else dataset.batch(batch_size)
    return dataset if prefetch_first else dataset.prefetch(AUTOTUNE)


def from_directory(directory, labels, label_mode, class_names, batch_size, shuffle, seed, validation_split, subset,
                   follow_links, formats: tuple, what: str, make_dataset, prefetch_first=False, verbose=True,
                   padded=False):
    """The shared body of the ``*_dataset_from_directory`` functions; ``make_dataset(paths)`` turns file paths
    into a dataset of samples. Returns one dataset, or ``[train, validation]`` for ``subset="both"``."""
    check_labels_arg(labels, class_names, what)
    check_label_mode(label_mode)
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    file_paths, label_array, class_names = index_directory(directory, labels, formats, class_names, shuffle, seed,
                                                           follow_links, verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(f'When passing `label_mode="binary"`, there must be exactly 2 class_names. Received: '
                         f"class_names={class_names}")
    allowed = "Allowed formats: " + str(formats) if what == "image" else f"Allowed format: {formats[0]}"
    noun = {"image": "images", "audio": "audio files"}.get(what, "text files")
    subsets = ("training", "validation") if subset == "both" else (subset,)
    datasets = []
    for part in subsets:
        paths, part_labels = get_training_or_validation_split(file_paths, label_array, validation_split, part,
                                                              verbose)
        if not paths:
            kind = f"{part} " if subset == "both" else ""
            raise ValueError(f"No {kind}{noun} found in directory {directory}. {allowed}")
        dataset = make_dataset(paths)
        if label_mode:
            dataset = Dataset.zip((dataset, labels_to_dataset(part_labels, label_mode, len(class_names))))
        shuffled = shuffle and not (subset == "both" and part == "validation")  # tf.keras: "both" keeps val's order
        dataset = finish_dataset(dataset, batch_size, shuffled, seed, prefetch_first, padded)
        dataset.class_names = class_names
        dataset.file_paths = paths
        datasets.append(dataset)
    return datasets if subset == "both" else datasets[0]
