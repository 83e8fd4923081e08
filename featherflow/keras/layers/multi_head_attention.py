"""``MultiHeadAttention``: Keras's multi-head attention (Vaswani et al. 2017, "Attention Is All You Need").

The query, key and value are projected by ``EinsumDense`` layers into ``num_heads`` heads (kernels
``(dim, num_heads, key_dim)``, biases ``(num_heads, key_dim)``; the output projection ``(num_heads,
value_dim, dim)`` - tf.keras's layouts, so weights transfer), then one fused op computes every head's
``softmax(q k^T / sqrt(key_dim)) v`` (``ops.attention.dot_product_attention``). Self-attention with the
default projections (``layer(x, x)``) runs the three projections, the attention and the output projection as
ONE op (``ops.attention_block.projected_self_attention``): chunks of batch rows in threads, one fork and join
each way, the same values as the layers one after the other.

>>> from featherflow import keras
>>> import numpy as np
>>> layer = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)
>>> x = np.ones((1, 3, 8), "float32")
>>> out, scores = layer(x, x, return_attention_scores=True)
>>> out.shape, scores.shape
((1, 3, 8), (1, 2, 3, 3))
>>> [tuple(w.shape) for w in layer.weights][:2]
[(8, 2, 4), (2, 4)]
"""

from __future__ import annotations

import numpy as np

from featherflow import ops
from featherflow.core import Tensor
from featherflow.keras import constraints, initializers, regularizers
from featherflow.keras.layers.activation import Softmax
from featherflow.keras.layers.base import Layer
from featherflow.keras.layers.core import _serialize
from featherflow.keras.layers.einsum_dense import EinsumDense
from featherflow.keras.layers.regularization import Dropout
from featherflow.ops.attention import dot_product_attention, packed_self_attention
from featherflow.ops.attention_block import projected_self_attention

_CHR_IDX = "abcdefghijklmnopqrstuvwxyz"


def _projection_equation(free_dims: int, bound_dims: int, output_dims: int) -> tuple:
    """Keras's projection einsum: ``(equation, bias_axes, output_rank)`` (``"abc,cde->abde"`` for 2, 1, 2)."""
    letters = iter(_CHR_IDX)
    free = "".join(next(letters) for _ in range(free_dims))
    bound = "".join(next(letters) for _ in range(bound_dims))
    out = "".join(next(letters) for _ in range(output_dims))
    return f"{free}{bound},{bound}{out}->{free}{out}", out, free_dims + output_dims


def _output_shape(output_rank: int, known_last_dims) -> list:
    return [None] * (output_rank - len(known_last_dims)) + list(known_last_dims)


def _shape_of(x):
    if x is None:
        return None
    shape = x.shape if hasattr(x, "shape") else np.shape(x)
    return tuple(None if d is None else int(d) for d in shape)


def _as_bool(mask):
    if mask is None:
        return None
    arr = mask.value if isinstance(mask, Tensor) else np.asarray(mask)
    return arr if arr.dtype == bool else arr.astype(bool)


class MultiHeadAttention(Layer):
    """Multi-head attention: project the query, key and value into heads, attend, project back.

    Args:
        num_heads: number of heads ``N``.
        key_dim: size of each head for the query and key.
        value_dim: size of each head for the value (default ``key_dim``).
        dropout: dropout rate on the attention probabilities (while training).
        use_bias: whether the projections have biases.
        output_shape: the output's trailing shape (default: the query's last dimension).
        attention_axes: the axes attention runs over (default: all but batch, heads and features).
        kernel/bias initializers, regularizers and constraints (for the four projections),
        activity_regularizer.
        softmax_robust_masking: set masked logits to -1e9 instead of adding -1e9.

    Call arguments:
        query: ``(B, T, dim)``; value: ``(B, S, dim)``; key: optional ``(B, S, dim)`` (default ``value``).
        attention_mask: boolean ``(B, T, S)`` (``True`` = may attend); combined with the inputs' Keras
            masks (``Embedding(mask_zero=True)``) and the causal mask.
        return_attention_scores: also return the ``(B, N, T, S)`` attention probabilities.
        training: apply the dropout.
        use_causal_mask: position ``t`` attends only to positions ``<= t`` (decoders, GPT).

    Output ``(B, T, dim)`` (or ``(B, T) + output_shape``).

    >>> import numpy as np
    >>> mha = MultiHeadAttention(num_heads=2, key_dim=2)
    >>> mha(np.ones((2, 5, 4), "float32"), np.ones((2, 3, 4), "float32")).shape
    (2, 5, 4)
    """

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True, output_shape=None,
                 attention_axes=None, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, softmax_robust_masking=False, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        for name, value in (("num_heads", num_heads), ("key_dim", key_dim)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
        if value_dim is not None and (isinstance(value_dim, bool) or not isinstance(value_dim, (int, np.integer))
                                      or value_dim <= 0):
            raise ValueError(f"`value_dim` must be a positive integer or None. Received: value_dim={value_dim!r}")
        if not 0 <= float(dropout) <= 1:
            raise ValueError(f"`dropout` must be a float in [0, 1]. Received: dropout={dropout!r}")
        self.supports_masking = True
        self._num_heads = int(num_heads)
        self._key_dim = int(key_dim)
        self._value_dim = int(value_dim) if value_dim else self._key_dim
        self._dropout = dropout
        self._use_bias = bool(use_bias)
        self._output_shape = output_shape
        self._kernel_initializer = initializers.get(kernel_initializer)
        self._bias_initializer = initializers.get(bias_initializer)
        self._kernel_regularizer = regularizers.get(kernel_regularizer)
        self._bias_regularizer = regularizers.get(bias_regularizer)
        self._kernel_constraint = constraints.get(kernel_constraint)
        self._bias_constraint = constraints.get(bias_constraint)
        self._softmax_robust_masking = bool(softmax_robust_masking)
        if attention_axes is not None and not isinstance(attention_axes, (list, tuple)):
            attention_axes = (attention_axes,)
        self._attention_axes = None if attention_axes is None else tuple(int(a) for a in attention_axes)
        self._built_from_signature = False
        self._query_shape = self._key_shape = self._value_shape = None

    # -- read-only views of the configuration (Keras 3's property names) ------------------------------
    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_heads=self._num_heads, key_dim=self._key_dim, value_dim=self._value_dim, dropout=self._dropout,
            use_bias=self._use_bias, output_shape=self._output_shape, attention_axes=self._attention_axes,
            kernel_initializer=_serialize(self._kernel_initializer),
            bias_initializer=_serialize(self._bias_initializer),
            kernel_regularizer=_serialize(self._kernel_regularizer),
            bias_regularizer=_serialize(self._bias_regularizer),
            activity_regularizer=_serialize(self.activity_regularizer),
            kernel_constraint=_serialize(self._kernel_constraint), bias_constraint=_serialize(self._bias_constraint),
            query_shape=_listed(self._query_shape), key_shape=_listed(self._key_shape),
            value_shape=_listed(self._value_shape), softmax_robust_masking=self._softmax_robust_masking,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        shapes = [config.pop(k, None) for k in ("query_shape", "key_shape", "value_shape")]
        layer = cls(**config)
        if None not in shapes:  # tf.keras builds the weights now, so they can be loaded before a call
            layer._build_from_signature(shapes[0], shapes[2], shapes[1])
        return layer

    # -- building ------------------------------------------------------------------------------------------
    def _common_kwargs(self) -> dict:
        return dict(kernel_regularizer=self._kernel_regularizer, bias_regularizer=self._bias_regularizer,
                    activity_regularizer=self.activity_regularizer, kernel_constraint=self._kernel_constraint,
                    bias_constraint=self._bias_constraint, dtype=self.dtype,
                    kernel_initializer=_fresh(self._kernel_initializer),
                    bias_initializer=_fresh(self._bias_initializer))

    def _build_from_signature(self, query, value, key=None):
        """Create the four projections for these input shapes (tf.keras's method of this name)."""
        self._built_from_signature = True
        self._query_shape = _shape_of(query) if hasattr(query, "shape") else tuple(query)
        self._value_shape = _shape_of(value) if hasattr(value, "shape") else tuple(value)
        if key is None:
            self._key_shape = self._value_shape
        else:
            self._key_shape = _shape_of(key) if hasattr(key, "shape") else tuple(key)
        if len(self._query_shape) < 3 or len(self._value_shape) < 3:
            raise ValueError(f'MultiHeadAttention "{self.name}" expects query and value of rank >= 3 '
                             f"(batch, positions..., features). Received: query_shape={self._query_shape}, "
                             f"value_shape={self._value_shape}")
        self.built = True
        projections = []
        for shape, dim, name in ((self._query_shape, self._key_dim, "query"), (self._key_shape, self._key_dim, "key"),
                                 (self._value_shape, self._value_dim, "value")):
            equation, bias_axes, rank = _projection_equation(len(shape) - 1, 1, 2)
            dense = EinsumDense(equation, output_shape=_output_shape(rank - 1, [self._num_heads, dim]),
                                bias_axes=bias_axes if self._use_bias else None, name=name, **self._common_kwargs())
            dense.build(shape)
            projections.append(dense)
        # public names as Keras 3 saves them; the private ones as tf.keras code (subclasses) reads them
        self.query_dense = self._query_dense = projections[0]
        self.key_dense = self._key_dense = projections[1]
        self.value_dense = self._value_dense = projections[2]
        self._build_attention(rank)
        self.output_dense = self._output_dense = self._make_output_dense(len(self._query_shape) - 1,
                                                                         self._common_kwargs(), "attention_output")

    def _make_output_dense(self, free_dims, common_kwargs, name=None):
        if self._output_shape:
            shape = list(self._output_shape) if isinstance(self._output_shape, (list, tuple)) else [self._output_shape]
        else:
            shape = [self._query_shape[-1]]
        equation, bias_axes, rank = _projection_equation(free_dims, 2, len(shape))
        dense = EinsumDense(equation, output_shape=_output_shape(rank - 1, shape),
                            bias_axes=bias_axes if self._use_bias else None, name=name, **common_kwargs)
        dense.build(tuple(self._query_shape[:-1]) + (self._num_heads, self._value_dim))
        return dense

    def _build_attention(self, rank: int) -> None:
        if self._attention_axes is None:
            self._attention_axes = tuple(range(1, rank - 2))
        axes = tuple(a % rank for a in self._attention_axes)
        if any(not 0 < a < rank - 2 for a in axes) or len(set(axes)) != len(axes):
            raise ValueError(f"`attention_axes` must name distinct axes of the query other than the batch and "
                             f"feature axes. Received: attention_axes={self._attention_axes} for a query of rank "
                             f"{rank - 1}")
        self._attention_axes_normalized = tuple(sorted(axes))
        batch_dims = [i for i in range(rank - 2) if i not in axes]
        self._batch_dims = batch_dims
        scores_rank = len(batch_dims) + 1 + 2 * len(axes)
        norm_axes = tuple(range(scores_rank - len(axes), scores_rank))
        self._softmax = Softmax(axis=norm_axes, dtype=self.dtype)
        self._dropout_layer = Dropout(rate=self._dropout, dtype=self.dtype)

    def build(self, input_shape):
        # the projections need the value's shape too: they are built on the first call
        self.built = True

    # -- calling ---------------------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        names = ("query", "value", "key")
        values = list(args[:3]) + [None] * (3 - min(len(args), 3))
        for i, name in enumerate(names):
            if name in kwargs:
                if i < len(args):
                    raise TypeError(f"MultiHeadAttention got multiple values for argument '{name}'")
                values[i] = kwargs.pop(name)
        query, value, key = values
        if value is None and isinstance(query, (list, tuple)) and 2 <= len(query) <= 3:
            query, value, key = (list(query) + [None])[:3]  # [query, value(, key)]: a functional model's saved call
        if query is None or value is None:
            raise TypeError(f'MultiHeadAttention "{self.name}" needs `query` and `value` (self-attention: '
                            "layer(x, x)).")
        if not self._built_from_signature:
            self._build_from_signature(query, value, key)
        return super().__call__(query, value, key, *args[3:], **kwargs)

    def call(self, query, value, key=None, attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False):
        value = self._convert_input(value)
        key = value if key is None else self._convert_input(key)
        mask = self._compute_attention_mask(query, value, key=key, attention_mask=attention_mask,
                                            use_causal_mask=use_causal_mask)
        if query is value and key is value and self._fusable_projections():
            if self._packed_attention_applies(query, mask):
                output, scores, projected = self._packed_attention(query, mask, training, return_attention_scores)
                if not projected:
                    output = self._output_dense(output)
                return (output, scores) if return_attention_scores else output
            q, k, v = self._fused_projections(query)
        else:
            q = self._query_dense(query)
            k = self._key_dense(key)
            v = self._value_dense(value)
        output, scores = self._compute_attention(q, k, v, mask, training, return_attention_scores)
        output = self._output_dense(output)
        if return_attention_scores:
            return output, scores
        return output

    def _fusable_projections(self) -> bool:
        """Self-attention whose three projections are plain products over the last axis (the default layer):
        they can run as one product with the kernels side by side."""
        dense = (self._query_dense, self._key_dense, self._value_dense)
        return all(d._plan is not None and d._plan[0] == 1 and d.activity_regularizer is None and d.built
                   and type(d) is EinsumDense and d._fused_activation is None for d in dense)

    def _fused_kernel(self):
        """``(kernel, bias)``: the query, key and value kernels (and biases, or None) side by side, as 2-D
        ``(features, width)`` and 1-D ``(width,)`` tensors."""
        dense = (self._query_dense, self._key_dense, self._value_dense)
        widths = [int(np.prod(d._plan[1])) for d in dense]
        kernel = ops.concat([ops.reshape(d.kernel, (d.kernel.shape[0], w)) for d, w in zip(dense, widths)], axis=1)
        bias = None
        if self._use_bias:
            bias = ops.concat([ops.reshape(d.bias, (w,)) for d, w in zip(dense, widths)], axis=0)
        return kernel, bias

    def _fused_product(self, x):
        """``(projected, widths)``: ``query_dense(x), key_dense(x), value_dense(x)`` side by side along the last
        axis as one dense op (the same values: each output column is the same dot product)."""
        dense = (self._query_dense, self._key_dense, self._value_dense)
        kernel, bias = self._fused_kernel()
        return ops.dense(x, kernel, bias), [int(np.prod(d._plan[1])) for d in dense]

    def _fused_projections(self, x):
        """``query_dense(x), key_dense(x), value_dense(x)`` as one dense op, split back into the three
        ``(..., heads, dim)`` tensors."""
        dense = (self._query_dense, self._key_dense, self._value_dense)
        projected, widths = self._fused_product(x)
        lead = tuple(x.shape[:-1])
        parts = ops.split(projected, widths, axis=-1)
        return [ops.reshape(part, lead + d._plan[1]) for part, d in zip(parts, dense)]

    def _packed_attention_applies(self, query, mask) -> bool:
        """The default layer's self-attention over ``(batch, positions, features)``: the fused projection goes
        to ``packed_self_attention`` whole (one gradient for it, no split and concatenation)."""
        return (type(self)._compute_attention is MultiHeadAttention._compute_attention
                and self._attention_axes_normalized == (1,) and query.ndim == 3
                and self._query_dense._plan[1] == (self._num_heads, self._key_dim)
                and self._key_dense._plan[1] == (self._num_heads, self._key_dim)
                and self._value_dense._plan[1][0] == self._num_heads and len(self._value_dense._plan[1]) == 2
                and not (self._softmax_robust_masking and mask is not None))

    def _packed_attention(self, x, attention_mask, training, return_scores):
        """``(output, scores, projected)``: ``_compute_attention`` of the fused projections of ``x`` as one op
        (``projected_self_attention``: the projection, the attention and, where it is a plain product, the
        output projection, in threads over the batch rows; ``projected``: whether the output projection is
        done), else through ``packed_self_attention``."""
        batch, positions = x.shape[0], x.shape[1]
        mask = None if attention_mask is None else self._expand_mask(attention_mask, 4)
        layout = (self._num_heads, self._key_dim, self._value_dense._plan[1][1])
        kernel, bias = self._fused_kernel()
        if isinstance(x, Tensor) and x.value.dtype == kernel.value.dtype:
            drop = self._dropout_mask((batch, self._num_heads, positions, positions), kernel.dtype, training)
            out_kernel, out_bias = self._output_product(kernel.value.dtype)
            result = projected_self_attention(x, kernel, bias, *layout, mask=mask, scale=1.0 / np.sqrt(self._key_dim),
                                              dropout_mask=drop, return_scores=return_scores,
                                              output_kernel=out_kernel, output_bias=out_bias)
            output, scores = result if return_scores else (result, None)
            return output, scores, out_kernel is not None
        projected, _ = self._fused_product(x)
        drop = self._dropout_mask((batch, self._num_heads, positions, positions), projected.dtype, training)
        result = packed_self_attention(projected, *layout, mask=mask, scale=1.0 / np.sqrt(self._key_dim),
                                       dropout_mask=drop, return_scores=return_scores)
        output, scores = result if return_scores else (result, None)
        return output, scores, False

    def _output_product(self, dtype):
        """``(kernel, bias)`` of the output projection as a plain ``(heads * value_dim, features)`` product (bias
        ``(features,)`` or None) when it is one (the default layer's, of ``dtype``), else ``(None, None)``."""
        d = self._output_dense
        if not (type(d) is EinsumDense and d.built and d._plan is not None and d._plan[0] == 2
                and len(d._plan[1]) == 1 and d._fused_activation is None and d.activity_regularizer is None
                and d.kernel.value.dtype == dtype and (d.bias is None or d.bias.value.dtype == dtype)):
            return None, None
        kernel = ops.reshape(d.kernel, (-1, d._plan[1][0]))
        return kernel, None if d.bias is None else ops.reshape(d.bias, (-1,))

    def _compute_attention(self, query, key, value, attention_mask=None, training=None,
                           return_attention_scores=True):
        """Attention over projected ``query`` ``(B, T, N, key_dim)``, ``key`` and ``value``: ``(output,
        probabilities)`` (probabilities None unless asked for). Subclasses may override it."""
        if self._attention_axes_normalized == (1,) and query.ndim == 4:
            mask = None if attention_mask is None else self._expand_mask(attention_mask, 4)
            drop = self._dropout_mask((query.shape[0], self._num_heads, query.shape[1], key.shape[1]),
                                      query.dtype, training)
            if self._softmax_robust_masking and mask is not None:
                return self._composed_attention(query, key, value, attention_mask, drop, return_attention_scores)
            result = dot_product_attention(query, key, value, mask=mask, scale=1.0 / np.sqrt(self._key_dim),
                                           dropout_mask=drop, return_scores=return_attention_scores)
            return result if return_attention_scores else (result, None)
        return self._general_attention(query, key, value, attention_mask, training, return_attention_scores)

    def _dropout_mask(self, shape, dtype, training):
        rate = float(self._dropout)
        if not training or rate == 0:
            return None
        if rate >= 1:
            return np.zeros(shape, dtype=dtype)
        keep = self._dropout_layer._uniform(shape, dtype) >= rate
        return np.multiply(keep, dtype.type(1.0 / (1.0 - rate)), dtype=dtype)

    def _expand_mask(self, mask, scores_rank):
        """tf.keras's mask expansion: insert axes before the attention axes until it has the scores' rank."""
        mask = _as_bool(mask)
        axis = -len(self._attention_axes_normalized) * 2 - 1
        while mask.ndim < scores_rank:
            mask = np.expand_dims(mask, axis)
        return mask

    def _composed_attention(self, query, key, value, attention_mask, drop, return_scores):
        """``softmax_robust_masking`` (masked logits set to -1e9) with composed ops, for the standard layout."""
        q = ops.transpose(query * (1.0 / np.sqrt(self._key_dim)), (0, 2, 1, 3))
        scores = ops.matmul(q, ops.transpose(key, (0, 2, 3, 1)))
        mask = self._expand_mask(attention_mask, 4)
        scores = ops.where(Tensor(np.broadcast_to(mask, scores.shape)), scores,
                           ops.cast(_large_negative(scores.dtype), scores.dtype))
        probs = ops.softmax(scores, axis=-1)
        weights = probs if drop is None else probs * Tensor(drop)
        out = ops.transpose(ops.matmul(weights, ops.transpose(value, (0, 2, 1, 3))), (0, 2, 1, 3))
        return out, (probs if return_scores else None)

    def _general_attention(self, query, key, value, attention_mask, training, return_scores):
        """Attention over several axes (or a non-default axis): the projected tensors are transposed to
        ``[batch..., T..., N, H]``, flattened to the fused op's ``[B', T', N, H]`` and back."""
        axes = self._attention_axes_normalized
        batch_dims = self._batch_dims  # excluding the heads axis (rank - 2)
        rank = query.ndim
        perm = tuple(batch_dims) + axes + (rank - 2, rank - 1)

        def flat(t):
            t = ops.transpose(t, perm)
            lead = int(np.prod([t.shape[i] for i in range(len(batch_dims))], dtype=np.int64))
            positions = int(np.prod([t.shape[len(batch_dims) + i] for i in range(len(axes))], dtype=np.int64))
            return ops.reshape(t, (lead, positions, t.shape[-2], t.shape[-1]))

        q, k, v = flat(query), flat(key), flat(value)
        batch_shape = tuple(query.shape[i] for i in batch_dims)
        q_positions = tuple(query.shape[a] for a in axes)
        k_positions = tuple(key.shape[a] for a in axes)
        scores_shape = batch_shape + (self._num_heads,) + q_positions + k_positions
        mask = None
        if attention_mask is not None:
            full = np.broadcast_to(self._expand_mask(attention_mask, len(scores_shape)), scores_shape)
            mask = full.reshape(q.shape[0], self._num_heads, q.shape[1], k.shape[1])
        drop = self._dropout_mask((q.shape[0], self._num_heads, q.shape[1], k.shape[1]), query.dtype, training)
        if self._softmax_robust_masking and mask is not None:
            out, probs = self._composed_attention(q, k, v, mask, drop, True)
        else:
            out, probs = dot_product_attention(q, k, v, mask=mask, scale=1.0 / np.sqrt(self._key_dim),
                                               dropout_mask=drop, return_scores=True)
        transposed_shape = batch_shape + q_positions + (self._num_heads, self._value_dim)
        out = ops.reshape(out, transposed_shape)
        out = ops.transpose(out, tuple(np.argsort(perm)))
        scores = ops.reshape(probs, scores_shape) if return_scores else None
        return out, scores

    def _compute_attention_mask(self, query, value, key=None, attention_mask=None, use_causal_mask=False):
        """The boolean attention mask ``(B, T, S)`` from the inputs' Keras masks, ``attention_mask`` and the
        causal mask (all combined with logical and), or None."""
        query_mask = _as_bool(getattr(query, "_keras_mask", None))
        value_mask = _as_bool(getattr(value, "_keras_mask", None))
        key_mask = _as_bool(getattr(key, "_keras_mask", None)) if key is not value else None
        auto = None
        if query_mask is not None:
            auto = query_mask[:, :, None]
        for m in (value_mask, key_mask):
            if m is not None:
                m = m[:, None, :]
                auto = m if auto is None else auto & m
        if use_causal_mask:
            causal = self._compute_causal_mask(query, value)
            auto = causal if auto is None else auto & causal
        if auto is None:
            return None if attention_mask is None else _as_bool(attention_mask)
        return auto if attention_mask is None else _as_bool(attention_mask) & auto

    def _compute_causal_mask(self, query, value=None):
        """Lower-triangular ``(1, T, S)`` mask: query position ``t`` attends to key positions ``<= t``."""
        q_len = query.shape[1]
        v_len = q_len if value is None else value.shape[1]
        return np.tril(np.ones((1, q_len, v_len), dtype=bool))

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        query_shape = tuple(query_shape)
        value_shape = query_shape if value_shape is None else tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if query_shape[-1] != value_shape[-1]:
            raise ValueError(f"The last dimension of `query_shape` and `value_shape` must be equal, but are "
                             f"{query_shape[-1]}, {value_shape[-1]}. Received: query_shape={query_shape}, "
                             f"value_shape={value_shape}")
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(f"All dimensions of `value` and `key`, except the last one, must be equal. Received "
                             f"{value_shape} and {key_shape}")
        if self._output_shape:
            extra = self._output_shape if isinstance(self._output_shape, (list, tuple)) else (self._output_shape,)
            return query_shape[:-1] + tuple(extra)
        return query_shape


def _large_negative(dtype) -> float:
    return float(np.finfo(np.float16).min) / 2 if np.dtype(dtype) == np.float16 else -1e9


def _fresh(initializer):
    """A new initializer of the same kind (each projection draws its own values, as in tf.keras)."""
    if hasattr(initializer, "get_config"):
        return type(initializer).from_config(initializer.get_config()) if hasattr(type(initializer), "from_config") \
            else type(initializer)(**initializer.get_config())
    return initializer


def _listed(shape):
    return None if shape is None else list(shape)
