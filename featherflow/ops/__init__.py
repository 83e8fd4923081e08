"""Ops: primitive computations, each with its backward rule beside its forward code."""

from featherflow.ops import _operators
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
from featherflow.ops.conv import conv1d, conv2d, conv2d_transpose, depthwise_conv2d
from featherflow.ops.creation import constant, eye, fill, ones, ones_like, range, zeros, zeros_like
from featherflow.ops.linalg import matmul
from featherflow.ops.math import (
    abs,
    add,
    cast,
    clip_by_value,
    divide,
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
    sign,
    sqrt,
    square,
    stop_gradient,
    subtract,
    truediv,
)
from featherflow.ops.nn import (
    dense,
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
from featherflow.ops.pooling import avg_pool, avg_pool1d, avg_pool2d, max_pool, max_pool1d, max_pool2d
from featherflow.ops.reduce import reduce_max, reduce_mean, reduce_min, reduce_sum
from featherflow.ops.shape import concat, expand_dims, getitem, reshape, squeeze, transpose

_operators.install()

__all__ = [name for name, value in dict(globals()).items()
           if not name.startswith("_") and not isinstance(value, type(_operators))]
