"""``featherflow.nn``: TensorFlow's ``tf.nn`` namespace (re-exports only)."""

from featherflow.ops import (  # noqa: F401
    avg_pool,
    avg_pool1d,
    avg_pool2d,
    conv1d,
    conv2d,
    conv2d_transpose,
    depthwise_conv2d,
    dropout,
    log_softmax,
    max_pool,
    max_pool1d,
    max_pool2d,
    relu,
    sigmoid,
    sigmoid_cross_entropy_with_logits,
    softmax,
    softmax_cross_entropy_with_logits,
    sparse_softmax_cross_entropy_with_logits,
    tanh,
)
