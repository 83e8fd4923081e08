"""``keras.saving``: save and load models safely (re-exports only).

``model.save("m.keras")`` / ``load_model`` (zip archive; closed, atomic), ``save_weights`` /
``load_weights``, JSON configs, ``clone_model``, the object registry (``register_keras_serializable``)
and the ``ModelCheckpoint`` / ``BackupAndRestore`` callbacks live here. The file-handling modules
(zip, HDF5, hashing) are imported on first use, so ``import featherflow`` stays light.
"""

import importlib

from featherflow.keras.saving.errors import InvalidArchiveError, SavingError, UnsafeModelError
from featherflow.keras.saving.object_registration import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from featherflow.keras.saving.serialization_lib import (
    SafeModeScope,
    deserialize_keras_object,
    enable_unsafe_deserialization,
    serialize_keras_object,
)

_LAZY = {
    "load_model": "saving_lib", "save_model": "saving_lib", "save_weights": "saving_api",
    "load_weights": "saving_api", "model_from_json": "saving_api", "model_from_config": "saving_api",
    "clone_model": "cloning",
}


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(f"featherflow.keras.saving.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'featherflow.keras.saving' has no attribute {name!r}")


__all__ = ["InvalidArchiveError", "SavingError", "UnsafeModelError", "CustomObjectScope", "custom_object_scope",
           "get_custom_objects", "get_registered_name", "get_registered_object", "register_keras_serializable",
           "SafeModeScope", "deserialize_keras_object", "enable_unsafe_deserialization", "serialize_keras_object",
           *_LAZY]
