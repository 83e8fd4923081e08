"""``featherflow.linalg``: TensorFlow's ``tf.linalg`` namespace (re-exports only)."""

from featherflow.ops import (  # noqa: F401
    diag_part,
    einsum,
    eye,
    global_norm,
    l2_normalize,
    matmul,
    matrix_transpose,
    norm,
    tensordot,
    trace,
    transpose,
)

adjoint = matrix_transpose  # real tensors only: the conjugate transpose is the transpose
