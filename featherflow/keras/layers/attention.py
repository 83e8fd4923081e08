"""Dot-product (Luong) and additive (Bahdanau) attention over ``[query, value(, key)]``.

``Attention`` scores ``query @ key^T`` (Luong et al. 2015, "Effective Approaches to Attention-based
Neural Machine Translation"); ``AdditiveAttention`` scores ``sum(scale * tanh(query + key))`` (Bahdanau et
al. 2015, "Neural Machine Translation by Jointly Learning to Align and Translate"). Both take the
softmax of the scores over the value positions and return the weighted sum of the values.

>>> from featherflow import keras
>>> import numpy as np
>>> q = np.ones((1, 2, 3), "float32")
>>> keras.layers.Attention()([q, q]).shape
(1, 2, 3)
"""

from __future__ import annotations

import numpy as np

from featherflow import ops
from featherflow.core import Tensor
from featherflow.keras.layers.base import Layer


def _bool_array(mask):
    if mask is None:
        return None
    arr = mask.value if isinstance(mask, Tensor) else np.asarray(mask)
    return arr if arr.dtype == bool else arr.astype(bool)


class BaseDenseAttention(Layer):
    """Shared machinery: masks, causal masking, softmax, dropout and the weighted sum.

    Call arguments:
        inputs: ``[query, value]`` or ``[query, value, key]``: ``(B, Tq, dim)``, ``(B, Tv, dim)``,
            ``(B, Tv, dim)`` (``key`` defaults to ``value``).
        mask: ``[query_mask, value_mask]`` booleans ``(B, Tq)``, ``(B, Tv)`` (taken from the inputs'
            Keras masks when not given): masked values get no weight, masked query rows output zeros.
        training: apply the dropout to the attention weights.
        return_attention_scores: also return the ``(B, Tq, Tv)`` weights.
        use_causal_mask: query position ``i`` attends only to value positions ``<= i``.
    """

    def __init__(self, dropout=0.0, **kwargs):
        causal = kwargs.pop("causal", False)
        super().__init__(**kwargs)
        if not 0 <= float(dropout) <= 1:
            raise ValueError(f"`dropout` must be a float in [0, 1]. Received: dropout={dropout!r}")
        self.causal = bool(causal)
        if causal:
            import warnings

            warnings.warn("`causal` argument is deprecated. Please use `use_causal_mask` in call() method to "
                          "specify causal masking.", DeprecationWarning, stacklevel=2)
        self.dropout = dropout
        self.supports_masking = True

    def _calculate_scores(self, query, key):
        raise NotImplementedError

    def _apply_scores(self, scores, value, scores_mask=None, training=None):
        """``(softmax(masked scores) @ value, weights)``; masked scores get -1e9 (float16: -65504)."""
        if scores_mask is not None:
            padding = Tensor(np.logical_not(scores_mask).astype(scores.dtype))
            large = 65504.0 if scores.dtype == np.float16 else 1.0e9
            scores = scores - padding * ops.cast(large, scores.dtype)
        weights = ops.softmax(scores)
        if training and float(self.dropout) > 0:
            weights = ops.dropout(weights, rate=float(self.dropout))
        return ops.matmul(weights, value), weights

    def _validate_call_args(self, inputs, mask):
        name = type(self).__name__
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"{name} layer must be called on a list of inputs, namely [query, value] or "
                             f"[query, value, key]. Received: {inputs}.")
        if len(inputs) < 2 or len(inputs) > 3:
            raise ValueError(f"{name} layer accepts inputs list of length 2 or 3, namely [query, value] or "
                             f"[query, value, key]. Received length: {len(inputs)}.")
        if mask is not None and any(m is not None for m in (mask if isinstance(mask, (list, tuple)) else [mask])):
            if not isinstance(mask, (list, tuple)):
                raise ValueError(f"{name} layer mask must be a list, namely [query_mask, value_mask]. "
                                 f"Received: {mask}.")
            if len(mask) < 2 or len(mask) > len(inputs):
                raise ValueError(f"{name} layer mask must be a list of length 2, namely [query_mask, value_mask]. "
                                 f"Received length: {len(mask)}.")

    def call(self, inputs, mask=None, training=None, return_attention_scores=False, use_causal_mask=False):
        self._validate_call_args(inputs, mask)
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        q_mask = _bool_array(mask[0]) if mask else None
        v_mask = _bool_array(mask[1]) if mask else None
        scores = self._calculate_scores(query=query, key=key)
        scores_mask = None if v_mask is None else np.expand_dims(v_mask, -2)
        if self.causal or use_causal_mask:
            rows, cols = scores.shape[-2], scores.shape[-1]
            causal = np.tril(np.ones((rows, cols), dtype=bool)).reshape((1,) * (scores.ndim - 2) + (rows, cols))
            scores_mask = causal if scores_mask is None else scores_mask & causal
        result, weights = self._apply_scores(scores, value, scores_mask, training)
        if q_mask is not None:
            result = result * Tensor(np.expand_dims(q_mask, -1).astype(result.dtype))
        if return_attention_scores:
            return result, weights
        return result

    def compute_mask(self, inputs, mask=None):
        self._validate_call_args(inputs, mask)
        if mask:
            q_mask = mask[0]
            return None if q_mask is None else q_mask
        return None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        config = super().get_config()
        config["dropout"] = self.dropout
        return config


class Attention(BaseDenseAttention):
    """Dot-product attention: ``softmax(query @ key^T [* scale]) @ value``.

    Args:
        use_scale: learn a scalar ``scale`` multiplying the scores (initialized to 1).
        score_mode: ``"dot"`` (default) or ``"concat"``: ``concat_score_weight * sum(tanh(query + key))``
            (times ``scale`` inside the tanh when ``use_scale``).
        dropout: dropout rate on the attention weights while training.

    See ``BaseDenseAttention`` for the call arguments. Weights: ``scale`` (with ``use_scale``) and
    ``concat_score_weight`` (with ``score_mode="concat"``), both scalars.

    >>> import numpy as np
    >>> q = np.array([[[1.0, 0.0]]], "float32")
    >>> v = np.array([[[1.0, 0.0], [0.0, 1.0]]], "float32")
    >>> Attention()([q, v]).numpy().round(3)
    array([[[0.731, 0.269]]], dtype=float32)
    """

    def __init__(self, use_scale=False, score_mode="dot", **kwargs):
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f'Received: score_mode={score_mode}. Acceptable values are: ["dot", "concat"]')
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode

    def build(self, input_shape):
        self.scale = self.add_weight(name="scale", shape=(), initializer="ones") if self.use_scale else None
        self.concat_score_weight = (self.add_weight(name="concat_score_weight", shape=(), initializer="ones")
                                    if self.score_mode == "concat" else None)
        self.built = True

    def _calculate_scores(self, query, key):
        if self.score_mode == "dot":
            scores = ops.matmul(query, key, transpose_b=True)
            return scores * self.scale if self.scale is not None else scores
        q = ops.expand_dims(query, -2)
        k = ops.expand_dims(key, -3)
        summed = q + k if self.scale is None else self.scale * (q + k)
        return self.concat_score_weight * ops.reduce_sum(ops.tanh(summed), axis=-1)

    def get_config(self):
        config = super().get_config()
        config.update(use_scale=self.use_scale, score_mode=self.score_mode)
        return config


class AdditiveAttention(BaseDenseAttention):
    """Additive (Bahdanau) attention: scores ``sum(scale * tanh(query + key), over features)``.

    Args:
        use_scale: learn a ``scale`` vector of the feature size (Glorot-uniform initialized); otherwise 1.
        dropout: dropout rate on the attention weights while training.

    See ``BaseDenseAttention`` for the call arguments. Weight: ``scale`` ``(dim,)`` with ``use_scale``.

    >>> import numpy as np
    >>> q = np.zeros((1, 1, 2), "float32")
    >>> v = np.array([[[1.0, 0.0], [0.0, 1.0]]], "float32")
    >>> AdditiveAttention(use_scale=False)([q, v]).numpy()
    array([[[0.5, 0.5]]], dtype=float32)
    """

    def __init__(self, use_scale=True, **kwargs):
        super().__init__(**kwargs)
        self.use_scale = bool(use_scale)

    def build(self, input_shape):
        dim = tuple(input_shape[1])[-1]
        self.scale = self.add_weight(name="scale", shape=(dim,), initializer="glorot_uniform") \
            if self.use_scale else None
        self.built = True

    def _calculate_scores(self, query, key):
        summed = ops.tanh(ops.expand_dims(query, -2) + ops.expand_dims(key, -3))
        if self.scale is not None:
            summed = summed * self.scale
        return ops.reduce_sum(summed, axis=-1)

    def get_config(self):
        config = super().get_config()
        config["use_scale"] = self.use_scale
        return config

