"""``SpectralNormalization`` (Miyato et al., 2018): keep a layer's kernel at spectral norm 1.

While training, each call first estimates the largest singular value ``sigma`` of the kernel
(reshaped to ``(-1, out)``) by ``power_iterations`` steps of power iteration from a persistent vector
``u``, then rescales the kernel in place to ``kernel / sigma`` (tf.keras 2's wrapper; the rescaling is
an update of the weights, not part of the gradient). A kernel of zeros is left as it is.

>>> import numpy as np
>>> from featherflow import keras
>>> layer = keras.layers.SpectralNormalization(keras.layers.Dense(3), power_iterations=20)
>>> _ = layer(np.ones((1, 4), "float32"), training=True)
>>> round(float(np.linalg.svd(layer.layer.kernel.numpy(), compute_uv=False)[0]), 3)
1.0
"""

from __future__ import annotations

import numpy as np

from featherflow.keras import initializers
from featherflow.keras.layers.input_spec import InputSpec
from featherflow.keras.layers.wrappers import Wrapper
from featherflow.ops._host import on_host


def _l2_normalize(x: np.ndarray) -> np.ndarray:
    return x / np.sqrt(max(float(np.sum(x * x)), 1e-12))


def _normalized(kernel: np.ndarray, u: np.ndarray, iterations: int) -> tuple:
    """``(kernel / sigma, u)`` after ``iterations`` power-iteration steps from ``u`` (the kernel as it is when
    it is all zeros), in the variables' dtypes."""
    weights = kernel.astype(np.float64)
    if not weights.any():
        return kernel.copy(), u.copy()
    matrix = weights.reshape(-1, kernel.shape[-1])
    u64 = u.astype(np.float64)
    v = u64
    for _ in range(iterations):
        v = _l2_normalize(u64 @ matrix.T)
        u64 = _l2_normalize(v @ matrix)
    sigma = float((v @ matrix @ u64.T).item())
    return (matrix / sigma).reshape(kernel.shape).astype(kernel.dtype), u64.astype(u.dtype)


class SpectralNormalization(Wrapper):
    """Wrap a layer with a ``kernel`` (or ``embeddings``) so that training keeps its spectral norm at 1.

    Args:
        layer: the wrapped layer (e.g. ``Dense``, ``Conv2D``, ``Embedding``).
        power_iterations: power-iteration steps per training call (default 1).
    """

    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(layer, **kwargs)
        if isinstance(power_iterations, bool) or not isinstance(power_iterations, int) or power_iterations <= 0:
            raise ValueError(f"`power_iterations` should be greater than zero. Received: "
                             f"`power_iterations={power_iterations}`")
        self.power_iterations = power_iterations

    def build(self, input_shape):
        if not self.layer.built:
            self.layer.build(input_shape)
            self.layer.built = True
        self.input_spec = InputSpec(shape=(None,) + tuple(input_shape)[1:])
        if hasattr(self.layer, "kernel"):
            self.kernel = self.layer.kernel
        elif hasattr(self.layer, "embeddings"):
            self.kernel = self.layer.embeddings
        else:
            raise ValueError(f"{type(self.layer).__name__} object has no attribute 'kernel' nor 'embeddings'")
        self.kernel_shape = tuple(self.kernel.shape)
        self.vector_u = self.add_weight(name="vector_u", shape=(1, self.kernel_shape[-1]),
                                        initializer=initializers.TruncatedNormal(stddev=0.02), trainable=False,
                                        dtype=self.kernel.dtype)
        self.built = True

    def call(self, inputs, training=False):
        if training:
            self._update_weights()
        return self.layer(inputs)

    def _update_weights(self) -> None:
        # one host call in a compiled step (the power iteration works on real arrays; the variables are
        # written after it, so each replay rescales the kernel as an eager call does)
        kernel, u = on_host(_normalized, self.kernel.value, self.vector_u.value, self.power_iterations)
        self.kernel.assign(kernel)
        self.vector_u.assign(u)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config["power_iterations"] = self.power_iterations
        return config
