"""Backend: the array module (NumPy or CuPy), floatx, epsilon and seeded random state.

>>> from featherflow import backend
>>> backend.floatx()
'float32'
"""

from featherflow.backend import random
from featherflow.backend.arrays import (
    array_module,
    epsilon,
    floatx,
    get_backend,
    set_backend,
    set_epsilon,
    set_floatx,
    to_numpy,
    xp,
)

__all__ = [
    "array_module",
    "epsilon",
    "floatx",
    "get_backend",
    "random",
    "set_backend",
    "set_epsilon",
    "set_floatx",
    "to_numpy",
    "xp",
]
