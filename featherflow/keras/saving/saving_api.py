"""Weights-only files and JSON configs: ``save_weights`` / ``load_weights``, ``to_json`` / ``model_from_json``.

``save_weights`` writes Keras 3's layout for ``*.weights.h5`` paths (object paths, the optimizer's state
included), tf.keras 2.x's legacy layout (``layer_names``, weights only) for other ``.h5`` paths, both
with h5py (without it the keys go into an ``.npz`` container), and ``.npz`` otherwise; the format is
detected from the bytes when loading, so any path (``"./checkpoints/my_checkpoint"``) round-trips. Files
from Keras 3 and tf.keras 2.x load in both layouts; the optimizer's state is restored when the loading
model has an optimizer. A TensorFlow checkpoint or SavedModel gets an error saying how to convert it.

>>> import os, tempfile
>>> import numpy as np
>>> from featherflow import keras
>>> model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
>>> path = os.path.join(tempfile.mkdtemp(), "w.weights.npz")
>>> model.save_weights(path)
>>> other = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
>>> _ = other.load_weights(path)
>>> all(np.array_equal(a, b) for a, b in zip(model.get_weights(), other.get_weights()))
True
"""

from __future__ import annotations

import json
import os
import warnings

from featherflow.keras.saving import archive as archive_lib
from featherflow.keras.saving import atomic, saving_lib, serialization_lib, weights_formats, weights_io
from featherflow.keras.saving.errors import InvalidArchiveError

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_ZIP_MAGIC = b"PK\x03\x04"
_warned_no_h5 = [False]


def _check_built(model) -> None:
    if not getattr(model, "built", True):
        raise ValueError("Unable to load weights saved in HDF5 format into a subclassed Model which has not created "
                         "its variables yet. Call the Model first, then load the weights.")


def save_weights(model, filepath, overwrite: bool = True, save_format: str | None = None, options=None) -> None:
    """Save every variable of ``model`` (and its optimizer's state) to ``filepath``, atomically.

    Args:
        filepath: ``*.weights.h5`` (Keras 3's layout), other ``*.h5`` (tf.keras 2.x's legacy layout, no
            optimizer state) or any other path (``.npz`` container, where tf.keras writes a TensorFlow
            checkpoint; as there, the directory's ``checkpoint`` state file then names it, for
            ``tf.train.latest_checkpoint``).
        overwrite: replace an existing file.
        save_format: ``"h5"`` or ``"npz"`` to force a format (``"tf"`` is treated as ``"npz"``).
    """
    filepath = os.fspath(filepath)
    if filepath.lower().endswith(".keras"):
        raise ValueError("`save_weights()` writes weights only; a `.keras` file holds a whole model. Use "
                         f"`model.save({filepath!r})`, or a `.weights.h5` / `.npz` path. Received: filepath={filepath}")
    if not overwrite and os.path.exists(filepath) and not saving_lib._confirm_overwrite(filepath):
        return
    if save_format is None:
        save_format = "h5" if filepath.lower().endswith((".h5", ".hdf5")) else "npz"
    legacy = save_format in ("h5", "hdf5") and not filepath.lower().endswith(".weights.h5")
    if save_format in ("h5", "hdf5") and not weights_formats.h5py_available():
        if not _warned_no_h5[0]:
            warnings.warn('h5py is not installed (`pip install "featherflow[h5]"`): writing the weights as an .npz '
                          f"container to {filepath}; load_weights reads it back.", stacklevel=3)
            _warned_no_h5[0] = True
        save_format = "npz"
    if legacy and save_format in ("h5", "hdf5"):  # "w.h5": tf.keras 2.x's layer_names layout, which both Kerases read
        from featherflow.keras.saving import legacy_h5

        legacy_h5.save_weights_to_h5(model, filepath)
        return
    weights = weights_io.collect_weights(model, include_optimizer=True)
    if save_format in ("h5", "hdf5"):
        data = weights_formats.encode_h5(weights)
    elif save_format in ("npz", "tf"):
        data = weights_formats.encode_npz(weights)
    else:
        raise ValueError(f"Unknown save_format {save_format!r}; expected 'h5' or 'npz'.")
    atomic.atomic_write_bytes(filepath, data)
    if save_format in ("npz", "tf"):
        # tf.keras's TensorFlow-format weights (any path not .h5) update the directory's `checkpoint` state file,
        # so `tf.train.latest_checkpoint(directory)` returns the newest `save_weights` / ModelCheckpoint path.
        from featherflow.train import checkpoint_management

        checkpoint_management.update_checkpoint_state(os.path.dirname(os.path.abspath(filepath)), filepath)


def read_weights_file(filepath, limits=None) -> dict:
    """The ``{path: array}`` dict of a weights file in any supported format (detected from its bytes)."""
    filepath = os.fspath(filepath)
    from featherflow.keras.saving import foreign_files

    foreign_files.check_not_tensorflow_format(filepath, "load_weights")
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No weights file found at {filepath}")
    if os.path.isdir(filepath):
        with saving_lib.open_archive(filepath) as archive:
            return saving_lib.read_weights(archive, saving_lib._read_json(archive, saving_lib.METADATA_FILE, False))
    with open(filepath, "rb") as handle:
        head = handle.read(8)
    if head.startswith(_HDF5_MAGIC):
        return weights_formats.decode_h5(filepath, limits)
    if head.startswith(_ZIP_MAGIC) or head.startswith(b"PK\x05\x06"):
        with archive_lib.SafeArchive(filepath, limits, label=f"weights file {filepath!r}") as archive:
            if saving_lib.CONFIG_FILE in archive:  # a whole .keras archive: use its weights
                metadata = saving_lib._read_json(archive, saving_lib.METADATA_FILE, required=False)
                return saving_lib.read_weights(archive, metadata)
        return weights_formats.decode_npz(filepath, limits)
    raise InvalidArchiveError(f"{filepath} is not a weights file (neither HDF5 nor a zip/.npz container).")


def load_weights(model, filepath, skip_mismatch: bool = False, by_name: bool = False, options=None):
    """Load weights saved by ``save_weights`` (or a ``.keras`` archive, or legacy tf.keras ``.h5`` weights).

    Into a model not built yet (a subclassed model never called), the weights of a non-HDF5 file are
    restored when the model is built by its first call; HDF5 files need a built model, as in tf.keras.
    Returns a status (``expect_partial()``, ``assert_consumed()``) for non-HDF5 files, ``None`` for HDF5.

    Args:
        skip_mismatch: skip layers whose variables differ in number or shape (with a warning).
        by_name: legacy ``.h5`` files only: match layers by name instead of order.

    Raises:
        ValueError: the file does not match the model's structure (nothing is changed then).
        InvalidArchiveError / UnsafeModelError: the file is corrupted or hostile.
    """
    filepath = os.fspath(filepath)
    is_h5 = False
    if os.path.isfile(filepath):
        with open(filepath, "rb") as handle:
            is_h5 = handle.read(8).startswith(_HDF5_MAGIC)
    if is_h5:
        _check_built(model)
        from featherflow.keras.saving import legacy_h5

        if legacy_h5.is_legacy_weights_file(filepath):
            legacy_h5.load_legacy_weights(model, filepath, by_name=by_name, skip_mismatch=skip_mismatch)
            return None
    weights = read_weights_file(filepath)

    def assign(target):
        for note in weights_io.assign_weights(target, weights, skip_mismatch=skip_mismatch):
            warnings.warn(note, stacklevel=3)

    from featherflow.keras.layers.tracking import WeightsLoadStatus, defer_weights

    if not is_h5 and not getattr(model, "built", True):
        return defer_weights(model, assign)  # restored on the first call, as tf.keras does with its checkpoints
    assign(model)
    return None if is_h5 else WeightsLoadStatus(deferred=False)


# -- JSON ----------------------------------------------------------------------------------------------
def to_json(model, **kwargs) -> str:
    """The model's architecture (no weights) as a JSON string (``json.dumps`` ``kwargs`` apply)."""
    from featherflow.keras.saving.lambda_code import attach_lambda_code

    config = attach_lambda_code(model, serialization_lib.serialize_keras_object(model))
    config.setdefault("keras_version", saving_lib.KERAS_API_VERSION)
    config.setdefault("backend", "featherflow")
    return json.dumps(config, **kwargs)


def model_from_json(json_string: str, custom_objects: dict | None = None):
    """A new (untrained) model from ``model.to_json()`` output; closed like ``load_model``."""
    if not isinstance(json_string, (str, bytes, bytearray)):
        raise TypeError(f"model_from_json expects a JSON string. Received: {type(json_string).__name__}")
    try:
        config = json.loads(json_string)
    except (ValueError, RecursionError) as e:
        raise InvalidArchiveError(f"model_from_json: the string is not valid JSON: {e}") from e
    if not isinstance(config, dict):
        raise InvalidArchiveError("model_from_json expects a JSON object describing a model.")
    from featherflow.keras.saving.lambda_code import restore_lambda_code

    config, _ = restore_lambda_code(config, safe_mode=True)  # JSON never runs code; lambdas are refused
    return serialization_lib.deserialize_keras_object(config, custom_objects=custom_objects)


def model_from_yaml(yaml_string, custom_objects=None):
    """Removed in tf.keras 2.6+, as here: YAML loading could run arbitrary code. Use ``model_from_json``."""
    raise RuntimeError("Method `model_from_yaml()` has been removed due to security risk of arbitrary code "
                       "execution. Please use `Model.to_json()` and `model_from_json()` instead.")


def model_from_config(config: dict, custom_objects: dict | None = None):
    """A new model from a ``{"class_name", "config"}`` dict (e.g. ``json.loads(model.to_json())``)."""
    if not isinstance(config, dict):
        raise TypeError("`model_from_config` expects a dict. To load an entire model from a file use "
                        f"`load_model`. Received: config={config!r:.100}")
    return serialization_lib.deserialize_keras_object(config, custom_objects=custom_objects)
