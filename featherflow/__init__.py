"""featherflow: a complete deep-learning system on NumPy, with TensorFlow's and Keras's API.

>>> import featherflow as tf
>>> x = tf.Variable(2.0)
>>> with tf.GradientTape() as tape:
...     y = x * x + 3.0 * x
>>> float(tape.gradient(y, x))
7.0

This module only re-exports; ``featherflow.keras`` (and ``data``, ``summary``, ``train``, ``tuner``,
``evolution``, ``strings``) load on first use.
"""

import numpy as _np

from featherflow import (  # noqa: F401
    autodiff,
    bitwise,
    config,
    errors,
    image,
    linalg,
    math,
    nn,
    ragged,
    random,
    signal,
)
from featherflow._version import __version__  # noqa: F401
from featherflow.backend import floatx, set_floatx  # noqa: F401
from featherflow.core import (  # noqa: F401
    GradientTape,
    Tensor,
    TensorShape,
    TensorSpec,
    UnconnectedGradients,
    Variable,
    convert_to_tensor,
    executing_eagerly,
    function,
    is_tensor,
)
from featherflow.core.ragged import RaggedTensor  # noqa: F401
from featherflow.ops import *  # noqa: F401,F403

float16 = _np.dtype("float16")
float32 = _np.dtype("float32")
float64 = _np.dtype("float64")
int8 = _np.dtype("int8")
int16 = _np.dtype("int16")
int32 = _np.dtype("int32")
int64 = _np.dtype("int64")
uint8 = _np.dtype("uint8")
bool = _np.dtype("bool")  # noqa: A001 - TensorFlow's name (tf.bool)
string = _np.dtype(object)  # tf.string: NumPy object arrays of bytes (what TensorFlow's .numpy() returns)
newaxis = None


def __getattr__(name):
    # `featherflow.keras`, `.data`, `.summary` and `.train` are loaded lazily so `import featherflow` stays fast;
    # so are `.tuner`, `.evolution` (`tf.tuner.RandomSearch` after `import featherflow as tf`) and `.strings`.
    if name in ("keras", "data", "summary", "train", "tuner", "evolution", "strings"):
        import importlib

        return importlib.import_module(f"featherflow.{name}")
    raise AttributeError(f"module 'featherflow' has no attribute {name!r}")
