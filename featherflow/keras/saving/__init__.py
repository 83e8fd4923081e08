"""``keras.saving``: save and load models safely (re-exports only).

``model.save("m.keras")`` / ``load_model`` (zip archive; closed, atomic), ``save_weights`` /
``load_weights``, JSON configs, the object registry (``register_keras_serializable``) and the
``ModelCheckpoint`` / ``BackupAndRestore`` callbacks live here.
"""

from featherflow.keras.saving.cloning import clone_model
from featherflow.keras.saving.errors import InvalidArchiveError, SavingError, UnsafeModelError
from featherflow.keras.saving.object_registration import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from featherflow.keras.saving.saving_api import (
    load_weights,
    model_from_config,
    model_from_json,
    save_weights,
)
from featherflow.keras.saving.saving_lib import load_model, save_model
from featherflow.keras.saving.serialization_lib import (
    SafeModeScope,
    deserialize_keras_object,
    enable_unsafe_deserialization,
    serialize_keras_object,
)
