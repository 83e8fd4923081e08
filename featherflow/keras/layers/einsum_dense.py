"""``EinsumDense``: a dense layer whose product is an Einstein summation.

>>> from featherflow import keras
>>> import numpy as np
>>> layer = keras.layers.EinsumDense("abc,cde->abde", output_shape=(None, 2, 4), bias_axes="de")
>>> layer(np.ones((1, 3, 5), "float32")).shape
(1, 3, 2, 4)
>>> [tuple(w.shape) for w in layer.weights]
[(5, 2, 4), (2, 4)]
"""

from __future__ import annotations

import math
import re

from featherflow import ops
from featherflow.keras import activations, constraints, initializers, regularizers
from featherflow.keras.layers.base import Layer
from featherflow.keras.layers.core import _FUSED, _serialize


def _split_equation(equation: str):
    """``(input, kernel, output, ellipsis)``: the three subscripts (``...`` removed) and where ``...`` was:
    ``"left"`` (``...ab,bc->...ac``), ``"right"`` (``ab...,bc->ac...``) or ``None``."""
    dotted = re.sub(r"\.\.\.", "0", equation.replace(" ", ""))
    for pattern, side in (("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$", None),
                          ("0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)$", "left"),
                          ("([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0$", "right")):
        match = re.match(pattern, dotted)
        if match:
            return match.group(1), match.group(2), match.group(3), side
    raise ValueError(f"Invalid einsum equation '{equation}'. Equations must be in the form [X],[Y]->[Z], "
                     "...[X],[Y]->...[Z], or [X]...,[Y]->[Z]....")


def analyze_einsum_shapes(equation, bias_axes, input_shape, output_shape):
    """Keras's shape analysis of an ``EinsumDense``: ``(kernel_shape, bias_shape, full_output_shape)``.

    ``output_shape`` is the layer's partial output shape (without the batch axis, ``None`` for axes
    taken from the input); ``bias_shape`` is ``None`` without ``bias_axes``.
    """
    input_spec, weight_spec, output_spec, side = _split_equation(equation)
    input_shape = list(input_shape)
    elided = len(input_shape) - len(input_spec)
    output_shape = [output_shape] if isinstance(output_shape, int) else list(output_shape)
    output_shape.insert(0, input_shape[0])
    if elided > 0 and side == "left":
        for i in range(1, elided):
            output_shape.insert(1, input_shape[i])
    elif elided > 0:
        for i in range(len(input_shape) - elided, len(input_shape)):
            output_shape.append(input_shape[i])
    if side == "left":
        input_dim_map = {dim: (i + elided) - len(input_shape) for i, dim in enumerate(input_spec)}
        output_dim_map = {dim: i + elided for i, dim in enumerate(output_spec)}
    else:
        input_dim_map = {dim: i for i, dim in enumerate(input_spec)}
        output_dim_map = {dim: i for i, dim in enumerate(output_spec)}
    for dim in input_spec:
        if dim in output_dim_map:
            expected = output_shape[output_dim_map[dim]]
            if expected is not None and expected != input_shape[input_dim_map[dim]]:
                raise ValueError(f"Input shape and output shape do not match at shared dimension '{dim}'. Input "
                                 f"shape is {input_shape[input_dim_map[dim]]}, and output shape is {expected}.")
    for dim in input_spec:  # unknown output sizes shared with the input take the input's size
        if dim in output_dim_map and output_shape[output_dim_map[dim]] is None:
            output_shape[output_dim_map[dim]] = input_shape[input_dim_map[dim]]
    for dim in output_spec:
        if dim not in input_spec and dim not in weight_spec:
            raise ValueError(f"Dimension '{dim}' was specified in the output '{output_spec}' but has no "
                             f"corresponding dim in the input spec '{input_spec}' or weight spec '{output_spec}'")
    kernel_shape = []
    for dim in weight_spec:
        if dim in input_dim_map:
            kernel_shape.append(input_shape[input_dim_map[dim]])
        elif dim in output_dim_map:
            kernel_shape.append(output_shape[output_dim_map[dim]])
        else:
            raise ValueError(f"Weight dimension '{dim}' did not have a match in either the input spec "
                             f"'{input_spec}' or the output spec '{output_spec}'. For this layer, the weight "
                             "must be fully specified.")
    bias_shape = None
    if bias_axes is not None:
        left = elided if side == "left" else 0
        sizes = {char: output_shape[i + left] for i, char in enumerate(output_spec)}
        for char in bias_axes:
            if char not in output_spec:
                raise ValueError(f"Bias dimension '{char}' was requested, but is not part of the output spec "
                                 f"'{output_spec}'")
        first = min(output_spec.find(char) for char in bias_axes)
        bias_shape = [sizes[char] if char in bias_axes else 1 for char in output_spec[first:]]
        if side != "left":
            bias_shape.extend([1] * max(elided, 0))
    return kernel_shape, bias_shape, output_shape


def _dense_plan(equation, bias_axes, kernel_shape, bias_shape):
    """When the equation is a plain matrix product over trailing axes - ``[free][contracted], [contracted]
    [new] -> [free][new]`` (MultiHeadAttention's projections, ``...b,bc->...c``) - return
    ``(contracted_count, new_shape)``, so the layer runs as one fused dense op on reshaped views; else None."""
    input_spec, weight_spec, output_spec, side = _split_equation(equation)
    if side == "right" or len(set(input_spec)) != len(input_spec) or len(set(weight_spec)) != len(weight_spec):
        return None
    count = sum(1 for c in weight_spec if c not in output_spec)
    contracted, new = weight_spec[:count], weight_spec[count:]
    free = input_spec[:len(input_spec) - count]
    if (count == 0 or not input_spec.endswith(contracted) or output_spec != free + new
            or any(c in input_spec for c in new) or any(c in output_spec for c in contracted)):
        return None
    if bias_shape is not None and (bias_axes != new or list(bias_shape) != list(kernel_shape[count:])):
        return None
    return count, tuple(kernel_shape[count:])


class EinsumDense(Layer):
    """A dense layer with an arbitrary Einstein-summation product: ``activation(einsum(equation, inputs,
    kernel) + bias)``.

    Args:
        equation: ``"ab,bc->ac"`` style; the first operand is the input (``...`` may stand for leading
            or trailing axes), the second the kernel, whose shape follows from the input and output.
        output_shape: the output's shape without the batch axis (an int for one axis); ``None``
            entries take the input's size on that axis.
        activation: optional activation.
        bias_axes: output letters that get a bias (e.g. ``"c"``); ``None`` = no bias.
        kernel/bias initializers, regularizers and constraints as for ``Dense``.

    When the equation is a matrix product over trailing axes (``"abc,cde->abde"``, ``"abcd,cde->abe"``,
    ``"...b,bc->...c"``) it runs as one fused ``dense`` op on reshaped views; otherwise as ``einsum``.

    >>> import numpy as np
    >>> EinsumDense("ab,bc->ac", output_shape=3, bias_axes="c")(np.ones((2, 4), "float32")).shape
    (2, 3)
    """

    def __init__(self, equation, output_shape, activation=None, bias_axes=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(equation, str):
            raise TypeError(f"`equation` must be a string such as 'ab,bc->ac'. Received: equation={equation!r}")
        _split_equation(equation)
        self.equation = equation
        if isinstance(output_shape, int):
            self.partial_output_shape = [output_shape]
        else:
            self.partial_output_shape = [None if d is None else int(d) for d in output_shape]
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        act_name = activations.serialize(self.activation)
        self._fused_activation = _FUSED.get(act_name, False) if isinstance(act_name, str) else False
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self._plan = None

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        kernel_shape, bias_shape, self.full_output_shape = analyze_einsum_shapes(
            self.equation, self.bias_axes, input_shape, self.partial_output_shape)
        if any(d is None for d in kernel_shape):
            raise ValueError(f"The kernel shape of EinsumDense '{self.name}' is not fully defined: {kernel_shape}. "
                             f"Received: input_shape={input_shape}, output_shape={self.partial_output_shape}")
        self.kernel = self.add_weight(name="kernel", shape=kernel_shape, initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = None
        if bias_shape is not None:
            self.bias = self.add_weight(name="bias", shape=bias_shape, initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self._plan = _dense_plan(self.equation, self.bias_axes, kernel_shape, bias_shape)
        self.built = True

    def call(self, inputs):
        if self._plan is not None:
            count, new_shape = self._plan
            x = inputs
            lead = tuple(x.shape[:x.ndim - count])
            contracted = math.prod(x.shape[x.ndim - count:])
            if count != 1:
                x = ops.reshape(x, lead + (contracted,))
            kernel = self.kernel
            if kernel.ndim != 2:
                kernel = ops.reshape(kernel, (contracted, math.prod(new_shape)))
            bias = self.bias
            if bias is not None and bias.ndim != 1:
                bias = ops.reshape(bias, (-1,))
            fused = self._fused_activation
            out = ops.dense(x, kernel, bias, fused if fused is not False else None)
            if len(new_shape) != 1:
                out = ops.reshape(out, lead + new_shape)
            return out if fused is not False else self.activation(out)
        out = ops.einsum(self.equation, inputs, self.kernel)
        if self.bias is not None:
            out = out + self.bias
        return self.activation(out)

    def compute_output_shape(self, input_shape):
        return tuple(analyze_einsum_shapes(self.equation, self.bias_axes, tuple(input_shape),
                                           self.partial_output_shape)[2])

    def get_config(self):
        config = super().get_config()
        config.update(
            output_shape=list(self.partial_output_shape), equation=self.equation,
            activation=activations.serialize(self.activation), bias_axes=self.bias_axes,
            kernel_initializer=_serialize(self.kernel_initializer), bias_initializer=_serialize(self.bias_initializer),
            kernel_regularizer=_serialize(self.kernel_regularizer), bias_regularizer=_serialize(self.bias_regularizer),
            activity_regularizer=_serialize(self.activity_regularizer),
            kernel_constraint=_serialize(self.kernel_constraint), bias_constraint=_serialize(self.bias_constraint),
        )
        return config
