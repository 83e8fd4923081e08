"""``featherflow.dtypes``: TensorFlow's ``tf.dtypes`` namespace (re-exports only)."""

from featherflow._lazy import lazy_attributes as _lazy_attributes
from featherflow.core.dtypes import (  # noqa: F401
    QUANTIZED_DTYPES,
    DType,
    as_dtype,
    bool,
    complex64,
    complex128,
    double,
    float16,
    float32,
    float64,
    half,
    int8,
    int16,
    int32,
    int64,
    qint8,
    qint16,
    qint32,
    quint8,
    quint16,
    string,
    uint8,
    uint16,
    uint32,
    uint64,
)
from featherflow.ops.math import cast, saturate_cast  # noqa: F401

# less common names load on first use (featherflow/_lazy.py)
_LAZY = {
    "featherflow.ops.complex": ("complex",),
}
__getattr__, __dir__ = _lazy_attributes(__name__, globals(), _LAZY)
