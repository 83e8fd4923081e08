"""``RandomFourierFeatures`` (Rahimi & Recht, 2007) and ``SyncBatchNormalization``.

``RandomFourierFeatures`` maps ``x`` to ``cos(x W / scale + b)`` with fixed random ``W`` (Gaussian for the
``"gaussian"`` (RBF) kernel, Cauchy for ``"laplacian"``) and ``b`` uniform in ``[0, 2 pi)``, so inner products
of the features approximate the kernel; ``scale`` (default ``sqrt(input_dim / 2)`` for Gaussian, 1 for
Laplacian) is a trainable, non-negative weight. ``SyncBatchNormalization`` synchronizes batch statistics across
replicas in TensorFlow; featherflow trains in one process, where it is ``BatchNormalization``.

>>> import numpy as np
>>> layer = RandomFourierFeatures(output_dim=8)
>>> layer(np.zeros((2, 3), "float32")).shape
(2, 8)
"""

from __future__ import annotations

import numpy as np

from featherflow import ops
from featherflow.backend import random as backend_random
from featherflow.keras import initializers
from featherflow.keras.layers.base import Layer
from featherflow.keras.layers.input_spec import InputSpec
from featherflow.keras.layers.normalization import BatchNormalization

_KERNELS = ("gaussian", "laplacian")


class RandomFourierFeatures(Layer):
    """Random Fourier features approximating a shift-invariant kernel (see the module docstring).

    Args:
        output_dim: the number of features.
        kernel_initializer: ``"gaussian"``, ``"laplacian"`` or an initializer for the random projection.
        scale: the kernel's length scale (positive); default per kernel.
        trainable: whether ``kernel_scale`` is trained (the projection and phases never are).
    """

    def __init__(self, output_dim, kernel_initializer="gaussian", scale=None, trainable=False, name=None, **kwargs):
        if output_dim <= 0:
            raise ValueError(f"`output_dim` should be a positive integer. Received: {output_dim}")
        if isinstance(kernel_initializer, str) and kernel_initializer.lower() not in _KERNELS:
            raise ValueError(f"Unsupported `kernel_initializer`: {kernel_initializer} Expected one of: {_KERNELS}")
        if scale is not None and scale <= 0.0:
            raise ValueError(f"When provided, `scale` should be a positive float. Received: {scale}")
        super().__init__(trainable=trainable, name=name, **kwargs)
        self.output_dim = int(output_dim)
        self.kernel_initializer = kernel_initializer
        self.scale = scale

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != 2 or input_shape[1] is None:
            raise ValueError(f"The rank of the input tensor should be 2 with a defined last dimension. Full input shape "
                             f"received: {input_shape}")
        input_dim = input_shape[1]
        self.input_spec = InputSpec(ndim=2, axes={1: input_dim})
        shape = (input_dim, self.output_dim)
        kind = self.kernel_initializer.lower() if isinstance(self.kernel_initializer, str) else None
        if kind == "gaussian":
            init = initializers.RandomNormal(stddev=1.0)
        elif kind == "laplacian":
            def init(shape, dtype=None):
                draws = backend_random.generator().uniform(0.0, 1.0, size=shape)
                return np.tan(np.pi * (draws - 0.5)).astype(dtype or self.dtype)  # standard Cauchy
        else:
            init = self.kernel_initializer
        self.unscaled_kernel = self.add_weight(name="unscaled_kernel", shape=shape, initializer=init, trainable=False)
        self.bias = self.add_weight(name="bias", shape=(self.output_dim,),
                                    initializer=initializers.RandomUniform(0.0, 2 * np.pi), trainable=False)
        if self.scale is None:
            self.scale = float(np.sqrt(input_dim / 2.0)) if kind == "gaussian" else 1.0
        self.kernel_scale = self.add_weight(name="kernel_scale", shape=(1,),
                                            initializer=initializers.Constant(self.scale), trainable=True,
                                            constraint="NonNeg")
        self.built = True

    def call(self, inputs):
        kernel = self.unscaled_kernel / self.kernel_scale
        return ops.cos(ops.matmul(inputs, kernel) + self.bias)

    def compute_output_shape(self, input_shape):
        return (tuple(input_shape)[0], self.output_dim)

    def get_config(self):
        config = super().get_config()
        kernel = self.kernel_initializer if isinstance(self.kernel_initializer, str) else \
            initializers.serialize(self.kernel_initializer)
        config.update(output_dim=self.output_dim, kernel_initializer=kernel, scale=self.scale)
        return config


class SyncBatchNormalization(BatchNormalization):
    """``BatchNormalization`` with tf.keras's ``SyncBatchNormalization`` name (one process: nothing to sync)."""
