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
    audio,
    autodiff,
    bitwise,
    config,
    debugging,
    dtypes,
    errors,
    image,
    linalg,
    math,
    nest,
    nn,
    ragged,
    random,
    sets,
    signal,
    sparse,
    test,
    version,
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
from featherflow.core.custom_gradient import custom_gradient, grad_pass_through, recompute_grad  # noqa: F401
from featherflow.core.dtypes import (  # noqa: F401
    DType,
    as_dtype,
    complex64,
    complex128,
    double,
    half,
    qint8,
    qint16,
    qint32,
    quint8,
    quint16,
    uint16,
    uint32,
    uint64,
)
from featherflow.core.module import Module  # noqa: F401
from featherflow.core.ragged import RaggedTensor  # noqa: F401
from featherflow.core.scopes import (  # noqa: F401
    DeviceSpec,
    control_dependencies,
    device,
    get_current_name_scope,
    init_scope,
    name_scope,
    variable_creator_scope,
)
from featherflow.core.tensor import register_tensor_conversion_function  # noqa: F401
from featherflow.ops import *  # noqa: F401,F403
from featherflow.ops.debugging import Assert, assert_equal, assert_greater, assert_less, assert_rank  # noqa: F401
from featherflow.ops.math import saturate_cast  # noqa: F401
from featherflow.ops.nn_extra import conv  # noqa: F401
from featherflow.ops.sparse import SparseTensor  # noqa: F401
from featherflow.ops.sparse_math import edit_distance  # noqa: F401
from featherflow.ops.type_spec import (  # noqa: F401
    IndexedSlicesSpec,
    NoneTensorSpec,
    OptionalSpec,
    RaggedTensorSpec,
    SparseTensorSpec,
    TensorArraySpec,
    TypeSpec,
    type_spec_from_value,
)

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
    # tf.losses / tf.metrics / tf.optimizers / tf.initializers and the v2 initializer names are Keras's, tf.as_string
    # is tf.strings' (lazy too)
    if name in _KERAS_ALIASES:
        import importlib

        module, attribute = _KERAS_ALIASES[name]
        target = importlib.import_module(module)
        return getattr(target, attribute) if attribute else target
    raise AttributeError(f"module 'featherflow' has no attribute {name!r}")


_KERAS_ALIASES = {
    "as_string": ("featherflow.strings", "as_string"),  # tf.as_string is tf.strings.as_string
    "losses": ("featherflow.keras.losses", None),
    "metrics": ("featherflow.keras.metrics", None),
    "optimizers": ("featherflow.keras.optimizers", None),
    "initializers": ("featherflow.keras.initializers", None),
    "constant_initializer": ("featherflow.keras.initializers", "Constant"),
    "ones_initializer": ("featherflow.keras.initializers", "Ones"),
    "zeros_initializer": ("featherflow.keras.initializers", "Zeros"),
    "random_normal_initializer": ("featherflow.keras.initializers", "RandomNormal"),
    "random_uniform_initializer": ("featherflow.keras.initializers", "RandomUniform"),
}
