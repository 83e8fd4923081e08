"""TensorFlow's own formats (SavedModel folders, TF checkpoints): recognised, refused with what to do instead.

A SavedModel (``tf.saved_model.save``, tf.keras 2.x's ``model.save("folder")``, Keras 3's
``model.export``) holds a TensorFlow graph and a TF checkpoint (``model.save_weights("ckpt")`` in tf.keras
2.x, ``tf.train.Checkpoint``) holds TensorFlow's tensor-bundle format; neither holds a Keras config
featherflow could read. The loaders call ``check_not_tensorflow_format`` first, so such a path gets a
message saying how to convert it in TensorFlow, instead of "file not found" or "not a zip file".

>>> import os, tempfile
>>> from featherflow.keras.saving.foreign_files import check_not_tensorflow_format
>>> folder = tempfile.mkdtemp()
>>> open(os.path.join(folder, "saved_model.pb"), "wb").close()
>>> check_not_tensorflow_format(folder, "load_model")
Traceback (most recent call last):
...
ValueError: `load_model`: '...' is a TensorFlow SavedModel folder (it holds saved_model.pb), ...
"""

from __future__ import annotations

import os
import re

# A TF checkpoint's .index file is a LevelDB-style table; its footer ends with this magic number.
_TABLE_MAGIC = (0xDB4775248B80FB57).to_bytes(8, "little")
_DATA_SHARD = re.compile(r"\.data-\d{5}-of-\d{5}$")


def is_saved_model_dir(path) -> bool:
    """Whether ``path`` is a folder holding ``saved_model.pb`` / ``saved_model.pbtxt``."""
    return os.path.isdir(path) and any(
        os.path.isfile(os.path.join(path, name)) for name in ("saved_model.pb", "saved_model.pbtxt"))


def _is_tf_index(path) -> bool:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell() < 48:
                return False
            handle.seek(-8, os.SEEK_END)
            return handle.read(8) == _TABLE_MAGIC
    except OSError:
        return False


def tf_checkpoint_prefix(path) -> str | None:
    """The checkpoint prefix when ``path`` names a TF checkpoint (its prefix, ``.index`` or a data shard)."""
    path = os.fspath(path)
    candidates = [path]
    if path.endswith(".index"):
        candidates.append(path[: -len(".index")])
    match = _DATA_SHARD.search(path)
    if match:
        candidates.append(path[: match.start()])
    for prefix in candidates:
        if _is_tf_index(prefix + ".index"):
            return prefix
    if os.path.isdir(path) and os.path.isfile(os.path.join(path, "checkpoint")):
        for name in sorted(os.listdir(path)):
            if name.endswith(".index") and _is_tf_index(os.path.join(path, name)):
                return os.path.join(path, name[: -len(".index")])
    return None


def check_not_tensorflow_format(filepath, what: str) -> None:
    """Raise a ``ValueError`` saying how to convert ``filepath`` if it is a SavedModel or a TF checkpoint.

    Args:
        filepath: the path given to ``load_model`` / ``load_weights``.
        what: the calling function's name, used in the message.
    """
    filepath = os.fspath(filepath)
    if is_saved_model_dir(filepath):
        keras2 = os.path.isfile(os.path.join(filepath, "keras_metadata.pb"))
        convert = ("`model = tf.keras.models.load_model(path)` then `model.save('model.keras')` (or "
                   "'model.h5')" if keras2 else "rebuild the model in Keras, restore its weights and "
                   "`model.save('model.keras')`")
        raise ValueError(
            f"`{what}`: {filepath!r} is a TensorFlow SavedModel folder (it holds saved_model.pb), a TensorFlow "
            "graph that featherflow cannot read. Convert it once where TensorFlow is installed: "
            f"{convert}; then load that file here.")
    prefix = tf_checkpoint_prefix(filepath)
    if prefix is not None:
        raise ValueError(
            f"`{what}`: {filepath!r} is a TensorFlow checkpoint ({prefix}.index + data shards, written by "
            "`model.save_weights()` without an .h5 extension or by `tf.train.Checkpoint`), which featherflow cannot "
            "read. Convert it once where TensorFlow is installed: build the model, `model.load_weights(prefix)`, "
            "then `model.save_weights('model.weights.h5')`; load that file here.")
