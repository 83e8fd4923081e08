"""``featherflow.nn``: TensorFlow's ``tf.nn`` namespace (re-exports only)."""

from featherflow.ops import (  # noqa: F401
    dropout,
    log_softmax,
    relu,
    sigmoid,
    sigmoid_cross_entropy_with_logits,
    softmax,
    softmax_cross_entropy_with_logits,
    sparse_softmax_cross_entropy_with_logits,
    tanh,
)
