"""Merging layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot.

Each takes a list of tensors (same shape, or broadcast-compatible after the batch axis) and
returns one. Masks of the inputs are combined (logical AND; Concatenate joins them).

>>> import numpy as np
>>> from featherflow import keras
>>> a, b = keras.Input(shape=(4,)), keras.Input(shape=(4,))
>>> keras.layers.Add()([a, b]).shape
(None, 4)
>>> keras.layers.Concatenate()([a, b]).shape
(None, 8)
"""

from __future__ import annotations

import numpy as np

from featherflow import ops
from featherflow.keras.layers.base import Layer


def _is_shape(value) -> bool:
    return isinstance(value, (tuple, list)) and all(d is None or isinstance(d, (int, np.integer)) for d in value)


def _shape_list(input_shape, layer_name):
    if _is_shape(input_shape) and (not input_shape or not isinstance(input_shape[0], (tuple, list))):
        raise ValueError(f"A merge layer should be called on a list of inputs. Received: input_shape={input_shape} "
                         f"(not a list of shapes)")
    return [tuple(s) for s in input_shape]


def _broadcast_shape(shape1, shape2):
    """Keras's elementwise output shape: sizes broadcast, ``None`` stays unknown."""
    if len(shape1) < len(shape2):
        shape1, shape2 = shape2, shape1
    out = list(shape1[:len(shape1) - len(shape2)])
    for a, b in zip(shape1[len(shape1) - len(shape2):], shape2):
        if a is None or b is None:
            out.append(None)
        elif a == 1:
            out.append(b)
        elif b == 1 or a == b:
            out.append(a)
        else:
            raise ValueError(f"Inputs have incompatible shapes. Received shapes {tuple(shape1)} and {tuple(shape2)}")
    return tuple(out)


class _Merge(Layer):
    """Elementwise merge of a list of tensors; subclasses define ``_merge_function``."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def build(self, input_shape):
        shapes = _shape_list(input_shape, self.name)
        if len(shapes) < 1:
            raise ValueError(f"A merge layer should be called on a list of at least 1 input. Got {len(shapes)} "
                             f"inputs. Full input_shape received: {input_shape}")
        batch_sizes = {s[0] for s in shapes if s and s[0] is not None}
        if len(batch_sizes) > 1:
            raise ValueError(f"Cannot merge tensors with different batch sizes. Received tensors with shapes "
                             f"{shapes}")
        out = shapes[0][1:] if shapes[0] else ()
        for shape in shapes[1:]:
            out = _broadcast_shape(out, shape[1:] if shape else ())
        self.built = True

    def _merge_function(self, inputs):
        raise NotImplementedError

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"A merge layer should be called on a list of inputs. Received: inputs={inputs} "
                             f"(not a list of tensors)")
        return self._merge_function(list(inputs))

    def compute_output_shape(self, input_shape):
        shapes = _shape_list(input_shape, self.name)
        out = shapes[0][1:]
        for shape in shapes[1:]:
            out = _broadcast_shape(out, shape[1:])
        batch = {s[0] for s in shapes if s[0] is not None}
        return (batch.pop() if len(batch) == 1 else None,) + tuple(out)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        if not isinstance(mask, (list, tuple)):
            raise ValueError(f"`mask` should be a list. Received: mask={mask}")
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"`inputs` should be a list. Received: inputs={inputs}")
        if len(mask) != len(inputs):
            raise ValueError(f"The lists `inputs` and `mask` should have the same length. Received: "
                             f"inputs={inputs} of length {len(inputs)}, and mask={mask} of length {len(mask)}")
        masks = [m for m in mask if m is not None]
        if not masks:
            return None
        combined = ops.cast(masks[0], "bool")
        for m in masks[1:]:
            combined = ops.logical_and(combined, ops.cast(m, "bool"))
        return combined


class Add(_Merge):
    """Sum of a list of tensors: ``inputs[0] + inputs[1] + ...``.

    >>> Add()([np.array([[1.0, 2.0]]), np.array([[3.0, 4.0]])]).numpy()
    array([[4., 6.]], dtype=float32)
    """

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out


class Subtract(_Merge):
    """``inputs[0] - inputs[1]`` (exactly two inputs).

    >>> Subtract()([np.array([[5.0]]), np.array([[2.0]])]).numpy()
    array([[3.]], dtype=float32)
    """

    def build(self, input_shape):
        shapes = _shape_list(input_shape, self.name)
        if len(shapes) != 2:
            raise ValueError(f"A `Subtract` layer should be called on exactly 2 inputs. Received: "
                             f"input_shape={input_shape}")
        super().build(input_shape)

    def _merge_function(self, inputs):
        if len(inputs) != 2:
            raise ValueError(f"A `Subtract` layer should be called on exactly 2 inputs. Received: inputs={inputs}")
        return inputs[0] - inputs[1]


class Multiply(_Merge):
    """Elementwise product of a list of tensors.

    >>> Multiply()([np.array([[2.0, 3.0]]), np.array([[4.0, 5.0]])]).numpy()
    array([[ 8., 15.]], dtype=float32)
    """

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out * x
        return out


class Average(_Merge):
    """Elementwise mean of a list of tensors.

    >>> Average()([np.array([[2.0]]), np.array([[4.0]])]).numpy()
    array([[3.]], dtype=float32)
    """

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out * (1.0 / len(inputs))


class Maximum(_Merge):
    """Elementwise maximum of a list of tensors.

    >>> Maximum()([np.array([[2.0, 5.0]]), np.array([[4.0, 1.0]])]).numpy()
    array([[4., 5.]], dtype=float32)
    """

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = ops.maximum(out, x)
        return out


class Minimum(_Merge):
    """Elementwise minimum of a list of tensors.

    >>> Minimum()([np.array([[2.0, 5.0]]), np.array([[4.0, 1.0]])]).numpy()
    array([[2., 1.]], dtype=float32)
    """

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = ops.minimum(out, x)
        return out


class Concatenate(_Merge):
    """Join a list of tensors along ``axis`` (default the last); all other sizes must match.

    >>> Concatenate(axis=1)([np.array([[1.0]]), np.array([[2.0]])]).numpy()
    array([[1., 2.]], dtype=float32)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def _check(self, shapes, input_shape):
        if len(shapes) < 1:
            raise ValueError(f"A `Concatenate` layer should be called on a list of at least 1 input. "
                             f"Received: input_shape={input_shape}")
        ranks = {len(s) for s in shapes}
        if len(ranks) != 1:
            raise ValueError(f"A `Concatenate` layer requires inputs with matching shapes except for the "
                             f"concatenation axis. Received: input_shape={input_shape}")
        rank = ranks.pop()
        if not -rank <= self.axis < rank:
            raise ValueError(f"`axis` {self.axis} is out of range for inputs of rank {rank}. "
                             f"Received: input_shape={input_shape}")
        axis = self.axis % rank
        for i in range(rank):
            if i == axis:
                continue
            sizes = {s[i] for s in shapes if s[i] is not None}
            if len(sizes) > 1:
                raise ValueError(f"A `Concatenate` layer requires inputs with matching shapes except for the "
                                 f"concatenation axis. Received: input_shape={input_shape}")
        return axis

    def build(self, input_shape):
        shapes = _shape_list(input_shape, self.name)
        self._check(shapes, input_shape)
        self.built = True

    def _merge_function(self, inputs):
        return ops.concat(inputs, axis=self.axis)

    def compute_output_shape(self, input_shape):
        shapes = _shape_list(input_shape, self.name)
        axis = self._check(shapes, input_shape)
        out = list(shapes[0])
        for i in range(len(out)):
            if i == axis:
                sizes = [s[i] for s in shapes]
                out[i] = None if any(d is None for d in sizes) else int(sum(sizes))
            else:
                known = [s[i] for s in shapes if s[i] is not None]
                out[i] = known[0] if known else None
        return tuple(out)

    def compute_mask(self, inputs, mask=None):
        if mask is None or all(m is None for m in mask):
            return None
        if len(mask) != len(inputs):
            raise ValueError(f"The lists `inputs` and `mask` should have the same length. Received: "
                             f"inputs={inputs} of length {len(inputs)}, and mask={mask} of length {len(mask)}")
        parts = []
        for x, m in zip(inputs, mask):
            shape = tuple(x.shape)
            if m is None:
                parts.append(ops.ones(shape, dtype="bool"))
                continue
            m = ops.cast(m, "bool")
            while m.ndim < len(shape):
                m = ops.expand_dims(m, -1)
            parts.append(ops.broadcast_to(m, shape))
        return ops.reduce_all(ops.concat(parts, axis=self.axis), axis=-1)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class Dot(_Merge):
    """Dot product of two tensors along ``axes``, per sample (``batch_dot``).

    Args:
        axes: int or pair of ints: the axis of each input to contract (batch axis excluded).
        normalize: L2-normalise both inputs along ``axes`` first, giving the cosine similarity.

    Inputs ``(batch, n)`` and ``(batch, n)`` with ``axes=1`` give ``(batch, 1)``; ``(batch, m, n)``
    and ``(batch, n, p)`` with ``axes=(2, 1)`` give ``(batch, m, p)``.

    >>> Dot(axes=1)([np.array([[1.0, 2.0]]), np.array([[3.0, 4.0]])]).numpy()
    array([[11.]], dtype=float32)
    """

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axes, (int, np.integer)):
            axes = (int(axes), int(axes))
        else:
            axes = tuple(axes)
            if len(axes) != 2 or not all(isinstance(a, (int, np.integer)) for a in axes):
                raise ValueError(f"Invalid format for argument `axes`: expected a list of 2 integers. "
                                 f"Received: axes={axes}")
            axes = (int(axes[0]), int(axes[1]))
        self.axes = axes
        self.normalize = bool(normalize)
        self.supports_masking = True

    def _axes_for(self, shape1, shape2):
        return tuple(a % len(s) if a < 0 else a for a, s in zip(self.axes, (shape1, shape2)))

    def build(self, input_shape):
        shapes = _shape_list(input_shape, self.name)
        if len(shapes) != 2:
            raise ValueError(f"A `Dot` layer should be called on a list of 2 inputs. Received: "
                             f"input_shape={input_shape}")
        shape1, shape2 = shapes
        a1, a2 = self._axes_for(shape1, shape2)
        if a1 == 0 or a2 == 0:
            raise ValueError(f"Cannot perform batch_dot over axis 0 (the batch axis). Received: axes={self.axes}")
        if shape1[a1] is not None and shape2[a2] is not None and shape1[a1] != shape2[a2]:
            raise ValueError(f"Incompatible input shapes: axis values {shape1[a1]} (at axis {a1}) != {shape2[a2]} "
                             f"(at axis {a2}). Full input shapes: {shape1}, {shape2}")
        self.built = True

    def _merge_function(self, inputs):
        if len(inputs) != 2:
            raise ValueError(f"A `Dot` layer should be called on exactly 2 inputs. Received: inputs={inputs}")
        x1, x2 = inputs
        a1, a2 = self._axes_for(x1.shape, x2.shape)
        if self.normalize:
            x1 = ops.l2_normalize(x1, axis=a1)
            x2 = ops.l2_normalize(x2, axis=a2)
        letters = "cdefghijklmnopqrstuvwxyz"
        sub1 = ["b"] + [letters[i] for i in range(x1.ndim - 1)]
        sub2 = ["b"] + [letters[x1.ndim - 1 + i] for i in range(x2.ndim - 1)]
        sub2[a2] = sub1[a1]
        out_sub = [s for i, s in enumerate(sub1) if i != a1] + [s for i, s in enumerate(sub2) if i not in (0, a2)]
        out = ops.einsum(f"{''.join(sub1)},{''.join(sub2)}->{''.join(out_sub)}", x1, x2)
        if out.ndim == 1:
            out = ops.expand_dims(out, 1)
        return out

    def compute_output_shape(self, input_shape):
        shapes = _shape_list(input_shape, self.name)
        shape1, shape2 = list(shapes[0]), list(shapes[1])
        a1, a2 = self._axes_for(shape1, shape2)
        shape1.pop(a1)
        shape2.pop(a2)
        shape2.pop(0)
        out = shape1 + shape2
        if len(out) == 1:
            out += [1]
        return tuple(out)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        config = super().get_config()
        config.update(axes=self.axes, normalize=self.normalize)
        return config


def add(inputs, **kwargs):
    """Functional form of ``Add``: ``add([x1, x2])``."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """Functional form of ``Subtract``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """Functional form of ``Multiply``."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """Functional form of ``Average``."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """Functional form of ``Maximum``."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """Functional form of ``Minimum``."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """Functional form of ``Concatenate``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes, normalize=False, **kwargs):
    """Functional form of ``Dot``."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
