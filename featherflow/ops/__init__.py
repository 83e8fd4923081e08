"""Ops: primitive computations, each with its backward rule beside its forward code."""

from featherflow._lazy import lazy_attributes as _lazy_attributes
from featherflow.ops import (
    _higher_order_helpers,
    _operators,
    kernel_gradients,
    math_gradients,
    nn_gradients,
    variable_methods,
)
from featherflow.ops.activations import (
    elu,
    gelu,
    hard_sigmoid,
    leaky_relu,
    log_sigmoid,
    relu6,
    selu,
    silu,
    softplus,
    softsign,
    swish,
)
from featherflow.ops.clip import clip_by_global_norm, clip_by_norm, global_norm, l2_normalize, norm
from featherflow.ops.compare import (
    equal,
    greater,
    greater_equal,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    not_equal,
    where,
)
from featherflow.ops.conv import conv1d, conv2d
from featherflow.ops.conv_variants import conv2d_transpose, depthwise_conv2d
from featherflow.ops.creation import constant, eye, fill, linspace, ones, ones_like, range, zeros, zeros_like
from featherflow.ops.debug import print
from featherflow.ops.einsum import einsum
from featherflow.ops.elementwise import (
    atan,
    ceil,
    cos,
    cosh,
    erf,
    erfc,
    expm1,
    floor,
    is_finite,
    is_inf,
    is_nan,
    reciprocal,
    round,
    sin,
    sinh,
    tan,
)
from featherflow.ops.indexing import boolean_mask, gather, gather_nd, getitem, one_hot
from featherflow.ops.linalg import diag_part, matmul, matrix_transpose, tensordot, trace
from featherflow.ops.math import (
    abs,
    add,
    add_n,
    cast,
    clip_by_value,
    divide,
    divide_no_nan,
    exp,
    floordiv,
    floormod,
    identity,
    log,
    log1p,
    maximum,
    minimum,
    mod,
    multiply,
    negative,
    pow,
    rsqrt,
    scalar_mul,
    sign,
    sqrt,
    square,
    squared_difference,
    stop_gradient,
    subtract,
    truediv,
)
from featherflow.ops.nn import (
    batch_normalization,
    bias_add,
    dense,
    dropout,
    embedding_lookup,
    l2_loss,
    log_softmax,
    moments,
    relu,
    sigmoid,
    sigmoid_cross_entropy_with_logits,
    softmax,
    softmax_cross_entropy_with_logits,
    sparse_softmax_cross_entropy_with_logits,
    tanh,
)
from featherflow.ops.pad import pad
from featherflow.ops.pooling import avg_pool, avg_pool1d, avg_pool2d, max_pool, max_pool1d, max_pool2d
from featherflow.ops.reduce import (
    count_nonzero,
    cumsum,
    reduce_all,
    reduce_any,
    reduce_euclidean_norm,
    reduce_logsumexp,
    reduce_max,
    reduce_mean,
    reduce_min,
    reduce_prod,
    reduce_std,
    reduce_sum,
    reduce_variance,
)
from featherflow.ops.shape import (
    broadcast_to,
    concat,
    expand_dims,
    rank,
    repeat,
    reshape,
    reverse,
    shape,
    size,
    split,
    squeeze,
    stack,
    tile,
    transpose,
    unstack,
)
from featherflow.ops.sort import argmax, argmin, argsort, in_top_k, sort, top_k

# the ops of the less common families load on first use (featherflow/_lazy.py): `import featherflow` stays fast
_LAZY = {
    "featherflow.ops.blocks": ("batch_to_space", "extract_volume_patches", "required_space_to_batch_paddings",
                               "space_to_batch", "space_to_batch_nd"),
    "featherflow.ops.complex": ("complex",),
    "featherflow.ops.control_flow": ("case", "cond", "foldl", "foldr", "map_fn", "scan", "switch_case",
                                     "vectorized_map", "while_loop"),
    "featherflow.ops.counting": ("histogram_fixed_width", "histogram_fixed_width_bins", "searchsorted", "unique",
                                 "unique_with_counts"),
    "featherflow.ops.eager_api": ("AggregationMethod", "CriticalSection", "IndexedSlices", "VariableAggregation",
                                  "VariableSynchronization", "approx_top_k", "conv2d_backprop_filter_v2",
                                  "conv2d_backprop_input_v2", "fingerprint", "get_logger", "get_static_value",
                                  "gradients", "group", "guarantee_const", "hessians", "inside_function",
                                  "is_symbolic_tensor", "no_op", "nondifferentiable_batch_function",
                                  "ragged_fill_empty_rows", "ragged_fill_empty_rows_grad", "timestamp", "tuple"),
    "featherflow.ops.fft": ("fftnd", "ifftnd", "irfftnd", "rfftnd"),
    "featherflow.ops.linalg_decomp": ("eig", "eigvals", "matrix_square_root=sqrtm"),
    "featherflow.ops.py_function": ("numpy_function", "py_function"),
    "featherflow.ops.random_stateless": ("random_index_shuffle=index_shuffle",),
    "featherflow.ops.safe_math": ("realdiv", "truncatediv", "truncatemod"),
    "featherflow.ops.scatter": ("scatter_nd", "tensor_scatter_nd_add", "tensor_scatter_nd_max",
                                "tensor_scatter_nd_min", "tensor_scatter_nd_sub", "tensor_scatter_nd_update"),
    "featherflow.ops.shape_utils": ("bitcast", "broadcast_dynamic_shape", "broadcast_static_shape", "ensure_shape",
                                    "identity_n", "meshgrid", "parallel_stack", "sequence_mask", "shape_n",
                                    "unravel_index"),
    "featherflow.ops.slicing": ("dynamic_partition", "dynamic_stitch", "reverse_sequence", "roll", "slice",
                                "strided_slice"),
    "featherflow.ops.tensor_array": ("TensorArray",),
    "featherflow.ops.trig": ("acos", "acosh", "asin", "asinh", "atan2", "atanh"),
}

__getattr__, __dir__ = _lazy_attributes(__name__, globals(), _LAZY)

_operators.install()
_higher_order_helpers.install()
variable_methods.install()

__all__ = [name for name, value in dict(globals()).items()
           if not name.startswith("_") and not isinstance(value, type(_operators))]
