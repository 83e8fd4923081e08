"""featherflow: a complete deep-learning system on NumPy, with TensorFlow's and Keras's API.

>>> import featherflow as tf
>>> x = tf.Variable(2.0)
>>> with tf.GradientTape() as tape:
...     y = x * x + 3.0 * x
>>> float(tape.gradient(y, x))
7.0

This module only re-exports; ``featherflow.keras`` (and ``data``, ``summary``, ``train``, ``tuner``,
``evolution``, ``strings``, ``image``, ``linalg``, ``signal``, ``sparse`` and the other less common
namespaces and ops) load on first use.
"""

import numpy as _np

from featherflow import (  # noqa: F401
    autodiff,
    dtypes,
    errors,
    math,
    nest,
    nn,
    random,
    version,
)
from featherflow._lazy import lazy_attributes as _lazy_attributes
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
from featherflow.ops import _LAZY as _OPS_LAZY
from featherflow.ops.math import saturate_cast  # noqa: F401

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


# Loaded on first use (featherflow/_lazy.py), so `import featherflow` stays fast: `featherflow.keras`, `.data`,
# `.summary`, `.train`, `.tuner`, `.evolution`, `.strings` and the less common namespaces; tf.losses / tf.metrics /
# tf.optimizers / tf.initializers and the v2 initializer names (Keras's); tf.as_string (tf.strings'); the less
# common ops (featherflow.ops's own lazy table, as `from featherflow.ops import *` re-exports the others).
_LAZY = {
    "featherflow.keras": ("keras=",),
    "featherflow.config": ("config=",),
    "featherflow.image": ("image=",),
    "featherflow.ragged": ("ragged=",),
    "featherflow.core.ragged": ("RaggedTensor",),
    "featherflow.data": ("data=",),
    "featherflow.io": ("io=",),
    "featherflow.lookup": ("lookup=",),
    "featherflow.quantization": ("quantization=",),
    "featherflow.saved_model": ("saved_model=",),
    "featherflow.types": ("types=",),
    "featherflow.experimental": ("experimental=",),
    "featherflow.io.tensor_proto": ("make_tensor_proto", "make_ndarray"),
    "featherflow.summary": ("summary=",),
    "featherflow.train": ("train=",),
    "featherflow.tuner": ("tuner=",),
    "featherflow.evolution": ("evolution=",),
    "featherflow.strings": ("strings=", "as_string"),
    "featherflow.keras.losses": ("losses=",),
    "featherflow.keras.metrics": ("metrics=",),
    "featherflow.keras.optimizers": ("optimizers=",),
    "featherflow.keras.initializers": ("initializers=", "constant_initializer=Constant", "ones_initializer=Ones",
                                       "zeros_initializer=Zeros", "random_normal_initializer=RandomNormal",
                                       "random_uniform_initializer=RandomUniform"),
    "featherflow.audio": ("audio=",),
    "featherflow.autograph": ("autograph=",),
    "featherflow.bitwise": ("bitwise=",),
    "featherflow.debugging": ("debugging=",),
    "featherflow.linalg": ("linalg=",),
    "featherflow.sets": ("sets=",),
    "featherflow.signal": ("signal=",),
    "featherflow.sparse": ("sparse=",),
    "featherflow.test": ("test=",),
    "featherflow.core.custom_gradient": ("custom_gradient", "grad_pass_through", "recompute_grad"),
    "featherflow.core.module": ("Module",),
    "featherflow.ops.debugging": ("Assert", "assert_equal", "assert_greater", "assert_less", "assert_rank"),
    "featherflow.ops.nn_extra": ("conv",),
    "featherflow.ops.sparse": ("SparseTensor",),
    "featherflow.ops.sparse_math": ("edit_distance",),
    "featherflow.ops.type_spec": ("IndexedSlicesSpec", "NoneTensorSpec", "OptionalSpec", "RaggedTensorSpec",
                                  "SparseTensorSpec", "TensorArraySpec", "TypeSpec", "type_spec_from_value"),
}
__getattr__, __dir__ = _lazy_attributes(__name__, globals(), _OPS_LAZY, _LAZY)
