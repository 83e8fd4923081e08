"""``featherflow.random``: seeded random tensors, TensorFlow's ``tf.random`` (re-exports only)."""

from featherflow.ops.random import categorical, normal, set_seed, shuffle, truncated_normal, uniform  # noqa: F401
