"""``Embedding``: map integer token ids to dense vectors.

>>> from featherflow import keras
>>> import numpy as np
>>> layer = keras.layers.Embedding(1000, 64)
>>> layer(np.array([[4, 20, 7]])).shape
(1, 3, 64)
"""

from __future__ import annotations

from featherflow import ops
from featherflow.keras import constraints, initializers, regularizers
from featherflow.keras.layers.base import Layer
from featherflow.keras.layers.core import _serialize
from featherflow.ops.embedding import embedding


class Embedding(Layer):
    """Turn positive integer indices into dense vectors: ``output[..., :] = embeddings[inputs[...]]``.

    Args:
        input_dim: vocabulary size (largest index + 1).
        output_dim: size of each vector.
        embeddings_initializer: default ``"uniform"`` (uniform in ``[-0.05, 0.05]``).
        embeddings_regularizer / activity_regularizer / embeddings_constraint: optional.
        mask_zero: index 0 is padding: the output carries a mask ``inputs != 0`` that RNNs and
            pooling layers honour (so index 0 cannot be a real token).
        input_length: optional fixed sequence length (needed before Flatten + Dense).

    Input ``(batch, ...)`` of integers; output ``(batch, ..., output_dim)``. Weight ``embeddings``
    ``(input_dim, output_dim)``. The gradient adds each looked-up row's gradient into its row.
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 activity_regularizer=None, embeddings_constraint=None, mask_zero=False, input_length=None,
                 sparse=False, **kwargs):
        if input_length is not None and "input_shape" not in kwargs and "batch_input_shape" not in kwargs:
            lengths = tuple(input_length) if isinstance(input_length, (list, tuple)) else (input_length,)
            kwargs["input_shape"] = lengths
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not _positive_int(input_dim) or not _positive_int(output_dim):
            raise ValueError(f"Both `input_dim` and `output_dim` should be positive, Received input_dim = "
                             f"{input_dim} and output_dim = {output_dim}")
        if sparse:
            raise ValueError("`sparse=True` is not supported by featherflow's Embedding: gradients are dense.")
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        self.embeddings_initializer = _get_initializer(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self.input_length = input_length
        self.sparse = False

    def _keeps_int_inputs(self) -> bool:
        return True

    def build(self, input_shape=None):
        self.embeddings = self.add_weight(name="embeddings", shape=(self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)
        self.built = True

    def call(self, inputs):
        return embedding(inputs, self.embeddings, op=f'Embedding layer "{self.name}"')

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return ops.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.input_length is None:
            return input_shape + (self.output_dim,)
        lengths = tuple(self.input_length) if isinstance(self.input_length, (list, tuple)) else (self.input_length,)
        if len(lengths) != len(input_shape) - 1:
            raise ValueError(f'"input_length" is {self.input_length}, but received input has shape {input_shape}')
        merged = []
        for length, size in zip(lengths, input_shape[1:]):
            if length is not None and size is not None and int(length) != int(size):
                raise ValueError(f'"input_length" is {self.input_length}, but received input has shape '
                                 f"{input_shape}")
            merged.append(size if length is None else length)
        return (input_shape[0],) + tuple(merged) + (self.output_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(input_dim=self.input_dim, output_dim=self.output_dim,
                      embeddings_initializer=_serialize(self.embeddings_initializer),
                      embeddings_regularizer=_serialize(self.embeddings_regularizer),
                      activity_regularizer=_serialize(self.activity_regularizer),
                      embeddings_constraint=_serialize(self.embeddings_constraint),
                      mask_zero=self.mask_zero, input_length=self.input_length)
        return config


class RandomUniform(initializers.Initializer):
    """Uniform in ``[minval, maxval]``; used only while ``keras.initializers`` lacks ``"uniform"``."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype=None, **kwargs):
        from featherflow.backend import random as _random
        from featherflow.core import Tensor

        rng = _random.make_generator(self.seed) if self.seed is not None else _random.generator()
        return Tensor(rng.uniform(self.minval, self.maxval, tuple(shape)).astype(dtype or "float32"))

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


def _get_initializer(identifier):
    try:
        return initializers.get(identifier)
    except ValueError:
        if isinstance(identifier, dict) and identifier.get("class_name") == "RandomUniform":
            return RandomUniform(**identifier.get("config", {}))
        if identifier in ("uniform", "random_uniform", "RandomUniform"):
            return RandomUniform()
        raise


def _positive_int(value) -> bool:
    try:
        return int(value) == value and int(value) > 0 and not isinstance(value, bool)
    except (TypeError, ValueError):
        return False
