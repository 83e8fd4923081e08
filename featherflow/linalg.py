"""``featherflow.linalg``: TensorFlow's ``tf.linalg`` namespace (re-exports only)."""

from featherflow.ops import eye, matmul, transpose  # noqa: F401
