"""The optimizers' Numba kernels (``featherflow.keras.optimizers._kernels`` asks for them through
``featherflow.ops._kernels``; imported only when Numba is installed: this module imports it).

Each kernel repeats its optimizer's NumPy update operation for operation, in the buffers' dtype, so the
two paths agree bit for bit: ``fastmath`` stays off (no fused multiply-adds or reassociation);
``error_model="numpy"`` drops Python's zero-division checks so the loops vectorize; ``cache=True``
compiles once per machine into ``__pycache__``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, error_model="numpy")
def adam(params, grads, m, v, one_minus_beta_1, one_minus_beta_2, epsilon, alpha):  # pragma: no cover - compiled
    """Adam (``Adam._update_flat``) in one pass: m, v and the parameters updated in place."""
    for i in range(params.shape[0]):
        g = grads[i]
        mi = m[i] + (g - m[i]) * one_minus_beta_1
        vi = v[i] + (g * g - v[i]) * one_minus_beta_2
        m[i] = mi
        v[i] = vi
        params[i] -= mi / (np.sqrt(vi) + epsilon) * alpha
