"""The differentiable gradient rules of ``ops/nn.py``'s ops (activations, softmax, cross-entropies, dense,
dropout, bias_add), used for higher-order gradients (``core/gradients.py``). They sit beside ``nn.py``, whose
raw-array rules serve first-order gradients, to keep both files short.

>>> from featherflow.core.gradients import has_gradient_rule
>>> has_gradient_rule("dense") and has_gradient_rule("sparse_softmax_cross_entropy_with_logits")
True
"""

from __future__ import annotations

from featherflow.backend.arrays import array_module
from featherflow.core.gradients import register_gradient
from featherflow.core.tensor import Tensor
from featherflow.ops._dual import locally_constant
from featherflow.ops.nn import log_softmax, sigmoid, softmax


def _constant(array, like):
    return Tensor(array_module(array).asarray(array, dtype=like.value.dtype))


@register_gradient("relu")
def _relu_rule(op, g):
    return (g * locally_constant(op.output.value > 0, op.inputs[0], g.value.dtype),)


@register_gradient("sigmoid")
def _sigmoid_rule(op, g):
    y = op.output
    return (g * y * (1 - y),)


@register_gradient("tanh")
def _tanh_rule(op, g):
    y = op.output
    return (g * (1 - y * y),)


@register_gradient("softmax")
def _softmax_rule(op, g):
    from featherflow.ops.reduce import reduce_sum

    y, axis = op.output, op.captured["axis"]
    return (y * (g - reduce_sum(g * y, axis=axis, keepdims=True)),)


@register_gradient("log_softmax")
def _log_softmax_rule(op, g):
    from featherflow.ops.math import exp
    from featherflow.ops.reduce import reduce_sum

    axis = op.captured["axis"]
    return (g - exp(op.output) * reduce_sum(g, axis=axis, keepdims=True),)


@register_gradient("softmax_cross_entropy_with_logits")
def _softmax_xent_rule(op, g):
    from featherflow.ops.reduce import reduce_sum
    from featherflow.ops.shape import expand_dims

    labels, logits = op.inputs
    axis = op.captured["axis"]
    ge = expand_dims(g, axis)
    glabels = -ge * log_softmax(logits, axis) if op.needs[0] else None
    glogits = None
    if op.needs[1]:
        glogits = ge * (softmax(logits, axis) * reduce_sum(labels, axis=axis, keepdims=True) - labels)
    return glabels, glogits


def _softmax_minus_one_hot(logits, labels_flat):
    from featherflow.ops.indexing import one_hot
    from featherflow.ops.shape import reshape

    classes = logits.value.shape[-1]
    hot = one_hot(labels_flat, classes, dtype=logits.value.dtype)
    return softmax(logits) - reshape(hot, logits.value.shape)


@register_gradient("sparse_softmax_cross_entropy_with_logits")
def _sparse_xent_rule(op, g):
    from featherflow.ops.shape import expand_dims

    return (_softmax_minus_one_hot(op.inputs[0], op.captured["idx"]) * expand_dims(g, -1),)


@register_gradient("sparse_xent_mean")
def _sparse_xent_mean_rule(op, g):
    c = op.captured
    return (_softmax_minus_one_hot(op.inputs[0], c["labels"]) * (g * c["scale"]),)


@register_gradient("sigmoid_cross_entropy_with_logits")
def _sigmoid_xent_rule(op, g):
    labels, logits = op.inputs
    return (-g * logits if op.needs[0] else None, g * (sigmoid(logits) - labels) if op.needs[1] else None)


@register_gradient("dense")
def _dense_rule(op, g):
    from featherflow.ops.linalg import matmul
    from featherflow.ops.reduce import reduce_sum
    from featherflow.ops.shape import reshape

    x, kernel = op.inputs[0], op.inputs[1]
    activation = op.captured["activation"]
    units = kernel.value.shape[1]
    out2 = reshape(op.output, (-1, units))
    dz = reshape(g, (-1, units))
    if activation == "relu":
        dz = dz * locally_constant(out2.value > 0, x, dz.value.dtype)
    elif activation == "sigmoid":
        dz = dz * out2 * (1 - out2)
    elif activation == "tanh":
        dz = dz * (1 - out2 * out2)
    x2 = reshape(x, (-1, kernel.value.shape[0]))
    gx = reshape(matmul(dz, kernel, transpose_b=True), x.value.shape) if op.needs[0] else None
    gw = matmul(x2, dz, transpose_a=True) if op.needs[1] else None
    if len(op.inputs) == 3:
        return gx, gw, (reduce_sum(dz, axis=0) if op.needs[2] else None)
    return gx, gw


@register_gradient("dropout")
def _dropout_rule(op, g):
    return (g * _constant(op.captured["mask"], g),)


@register_gradient("bias_add")
def _bias_add_rule(op, g):
    from featherflow.ops.reduce import reduce_sum

    return g, (reduce_sum(g, axis=list(op.captured["reduce_axes"])) if op.needs[1] else None)


@register_gradient("l2_loss")
def _l2_loss_rule(op, g):
    return (g * op.inputs[0],)
