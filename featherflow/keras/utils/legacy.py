"""``keras.utils.legacy``: the serialization functions under their legacy names (the same functions here)."""

from featherflow.keras.saving.serialization_lib import deserialize_keras_object, serialize_keras_object

__all__ = ["deserialize_keras_object", "serialize_keras_object"]
