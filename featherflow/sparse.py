"""``featherflow.sparse``: TensorFlow's ``tf.sparse`` namespace (re-exports only)."""

from featherflow.ops.sparse import (  # noqa: F401
    SparseTensor,
    concat,
    expand_dims,
    eye,
    fill_empty_rows,
    from_dense,
    map_values,
    reorder,
    reset_shape,
    reshape,
    retain,
    slice,
    split,
    to_dense,
    transpose,
)
from featherflow.ops.sparse_cross import cross, cross_hashed  # noqa: F401
from featherflow.ops.sparse_math import (  # noqa: F401
    add,
    bincount,
    mask,
    maximum,
    minimum,
    reduce_max,
    reduce_sum,
    sampled_addmm,
    segment_mean,
    segment_sqrt_n,
    segment_sum,
    softmax,
    sparse_dense_matmul,
    to_indicator,
)
