"""``featherflow.bitwise``: TensorFlow's ``tf.bitwise`` namespace (re-exports only)."""

from featherflow.ops.bitwise import bitwise_and, bitwise_or, bitwise_xor, invert, left_shift, right_shift  # noqa: F401
