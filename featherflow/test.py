"""``featherflow.test``: TensorFlow's ``tf.test`` helpers for writing tests against featherflow.

``TestCase`` is a ``unittest.TestCase`` with TensorFlow's array assertions (``assertAllClose``,
``assertAllEqual``, ...); ``compute_gradient`` returns the tape's and the finite-difference Jacobians;
``is_gpu_available`` / ``gpu_device_name`` report CuPy GPUs.

>>> import featherflow as ff
>>> theoretical, numerical = ff.test.compute_gradient(lambda x: x * x, [ff.constant([1.0, 2.0], "float64")])
>>> bool(abs(theoretical[0] - numerical[0]).max() < 1e-6)
True
"""

from __future__ import annotations

import unittest

import numpy as np

from featherflow.backend import devices as _devices
from featherflow.core.tensor import Tensor

main = unittest.main


def _array(value):
    if isinstance(value, Tensor):
        return value.numpy()
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], Tensor):
        return [v.numpy() for v in value]
    return np.asarray(value)


class TestCase(unittest.TestCase):
    """``unittest.TestCase`` with TensorFlow's assertions on tensors and arrays."""

    def evaluate(self, tensors):
        """The NumPy values of a tensor or a nested structure of tensors."""
        from featherflow.core import nest

        return nest.map_structure(lambda t: t.numpy() if isinstance(t, Tensor) else t, tensors)

    def assertAllClose(self, a, b, rtol=1e-6, atol=1e-6, msg=None):  # noqa: N802 - TensorFlow's names
        np.testing.assert_allclose(_array(a), _array(b), rtol=rtol, atol=atol, err_msg=msg or "")

    def assertNotAllClose(self, a, b, rtol=1e-6, atol=1e-6, msg=None):  # noqa: N802
        if np.allclose(_array(a), _array(b), rtol=rtol, atol=atol):
            self.fail(msg or "The two values are close at all elements.")

    def assertAllEqual(self, a, b, msg=None):  # noqa: N802
        a, b = _array(a), _array(b)
        self.assertEqual(np.shape(a), np.shape(b), msg)
        np.testing.assert_array_equal(a, b, err_msg=msg or "")

    def assertNotAllEqual(self, a, b, msg=None):  # noqa: N802
        if np.array_equal(_array(a), _array(b)):
            self.fail(msg or "The two values are equal at all elements.")

    def assertAllGreater(self, a, comparison_target):  # noqa: N802
        self.assertTrue(np.all(_array(a) > comparison_target), f"Not all elements are > {comparison_target}.")

    def assertAllGreaterEqual(self, a, comparison_target):  # noqa: N802
        self.assertTrue(np.all(_array(a) >= comparison_target), f"Not all elements are >= {comparison_target}.")

    def assertAllLess(self, a, comparison_target):  # noqa: N802
        self.assertTrue(np.all(_array(a) < comparison_target), f"Not all elements are < {comparison_target}.")

    def assertAllLessEqual(self, a, comparison_target):  # noqa: N802
        self.assertTrue(np.all(_array(a) <= comparison_target), f"Not all elements are <= {comparison_target}.")

    def assertAllInRange(self, target, lower_bound, upper_bound, open_lower_bound=False,  # noqa: N802
                         open_upper_bound=False):
        t = _array(target)
        low = t > lower_bound if open_lower_bound else t >= lower_bound
        high = t < upper_bound if open_upper_bound else t <= upper_bound
        self.assertTrue(np.all(low & high), f"Not all elements lie in [{lower_bound}, {upper_bound}].")

    def assertNear(self, f1, f2, err, msg=None):  # noqa: N802
        self.assertTrue(abs(float(f1) - float(f2)) <= err, msg or f"{f1} != {f2} +/- {err}")

    def assertArrayNear(self, farray1, farray2, err, msg=None):  # noqa: N802
        np.testing.assert_allclose(_array(farray1), _array(farray2), rtol=0, atol=err, err_msg=msg or "")

    def assertDTypeEqual(self, target, expected_dtype):  # noqa: N802
        self.assertEqual(_array(target).dtype, np.dtype(expected_dtype))

    def assertShapeEqual(self, input_a, input_b, msg=None):  # noqa: N802
        self.assertEqual(np.shape(_array(input_a)), tuple(_array(input_b).shape), msg)


def compute_gradient(f, x, delta=None):
    """The Jacobians of ``f`` w.r.t. each tensor of ``x``: ``(theoretical, numerical)``, lists of 2-D arrays
    ``(x_size, y_size)`` from the tape and from central differences (step ``delta``, default ``1e-3`` for
    float32 and ``1e-6`` for float64).
    """
    from featherflow.core.tape import GradientTape

    xs = [v if isinstance(v, Tensor) else Tensor(np.asarray(v)) for v in x]
    theoretical, numerical = [], []
    for i, xi in enumerate(xs):
        step = delta if delta is not None else (1e-6 if xi.value.dtype == np.float64 else 1e-3)
        with GradientTape() as tape:
            tape.watch(xi)
            y = f(*xs)
        jac = tape.jacobian(y, xi)
        y_size = int(np.prod(y.shape))
        theoretical.append(np.zeros((xi.value.size, y_size)) if jac is None else
                           jac.numpy().reshape(y_size, xi.value.size).T)
        cols = np.zeros((xi.value.size, y_size))
        for j in range(xi.value.size):
            bumped = xi.value.astype(np.float64).reshape(-1).copy()
            bumped[j] += step
            plus = f(*[Tensor(bumped.reshape(xi.value.shape).astype(xi.value.dtype)) if k == i else v
                       for k, v in enumerate(xs)]).numpy().astype(np.float64)
            bumped[j] -= 2 * step
            minus = f(*[Tensor(bumped.reshape(xi.value.shape).astype(xi.value.dtype)) if k == i else v
                        for k, v in enumerate(xs)]).numpy().astype(np.float64)
            cols[j] = ((plus - minus) / (2 * step)).reshape(-1)
        numerical.append(cols)
    return theoretical, numerical


def is_gpu_available(cuda_only=False, min_cuda_compute_capability=None) -> bool:
    """True when CuPy sees a CUDA GPU (featherflow's GPU backend)."""
    return bool(_devices.list_physical_devices("GPU"))


def gpu_device_name() -> str:
    """``"/device:GPU:0"`` when a GPU is available, else ``""``."""
    return "/device:GPU:0" if is_gpu_available() else ""


def is_built_with_cuda() -> bool:
    """True when the CUDA backend (CuPy) is installed."""
    import importlib.util

    return importlib.util.find_spec("cupy") is not None


is_built_with_gpu_support = is_built_with_cuda


def is_built_with_rocm() -> bool:
    """False: featherflow's GPU backend is CuPy on CUDA."""
    return False


def is_built_with_xla() -> bool:
    """False: featherflow does not compile with XLA."""
    return False
