"""``featherflow.nest``: TensorFlow's ``tf.nest`` namespace (re-exports only)."""

from featherflow.core.nest import assert_same_structure, flatten, is_nested, map_structure, pack_sequence_as  # noqa: F401
