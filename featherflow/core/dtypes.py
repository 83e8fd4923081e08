"""``tf.dtypes``: featherflow's dtypes are NumPy dtypes, named as in TensorFlow.

``DType`` is ``numpy.dtype`` (``isinstance(tf.float32, tf.DType)`` holds and ``tf.float32 == "float32"``).
The quantized types are TensorFlow's own NumPy representations (``qint8`` is the structured dtype
``[("qint8", "i1")]``): they can be created and stored, not computed with (as in TensorFlow, where
quantized tensors go through dedicated quantization ops).

>>> as_dtype("double") is float64 or as_dtype("double") == float64
True
"""

from __future__ import annotations

import builtins

import numpy as np

from featherflow.core.tensor_spec import STRING

DType = np.dtype

float16 = half = np.dtype("float16")
float32 = np.dtype("float32")
float64 = double = np.dtype("float64")
complex64 = np.dtype("complex64")
complex128 = np.dtype("complex128")
int8 = np.dtype("int8")
int16 = np.dtype("int16")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
uint8 = np.dtype("uint8")
uint16 = np.dtype("uint16")
uint32 = np.dtype("uint32")
uint64 = np.dtype("uint64")
bool = np.dtype("bool")  # noqa: A001 - TensorFlow's name
string = STRING
qint8 = np.dtype([("qint8", "i1")])
quint8 = np.dtype([("quint8", "u1")])
qint16 = np.dtype([("qint16", "<i2")])
quint16 = np.dtype([("quint16", "<u2")])
qint32 = np.dtype([("qint32", "<i4")])
QUANTIZED_DTYPES = frozenset({qint8, quint8, qint16, quint16, qint32})

_NAMES = {"float": float32, "double": float64, "half": float16, "string": STRING, "str": STRING,
          "qint8": qint8, "quint8": quint8, "qint16": qint16, "quint16": quint16, "qint32": qint32}
_PYTHON = {float: float32, builtins.bool: bool, complex: complex128, object: STRING, str: STRING, bytes: STRING}
_ENUM = {1: float32, 2: float64, 3: int32, 4: uint8, 5: int16, 6: int8, 7: STRING, 8: complex64, 9: int64,
         10: bool, 11: qint8, 12: quint8, 13: qint32, 15: qint16, 16: quint16, 17: uint16, 18: complex128,
         19: float16, 22: uint32, 23: uint64}


def as_dtype(type_value) -> np.dtype:
    """Convert a dtype name, NumPy dtype, Python type or TensorFlow type enum to a featherflow dtype.

    >>> as_dtype("float"), as_dtype(float), as_dtype(3)
    (dtype('float32'), dtype('float32'), dtype('int32'))
    """
    if isinstance(type_value, np.dtype):
        return type_value
    if isinstance(type_value, str) and type_value in _NAMES:
        return _NAMES[type_value]
    if isinstance(type_value, type) and type_value in _PYTHON:
        return _PYTHON[type_value]
    if isinstance(type_value, (int, np.integer)) and not isinstance(type_value, (builtins.bool, np.bool_)):
        if int(type_value) in _ENUM:
            return _ENUM[int(type_value)]
    elif type_value is not int and type_value is not None:
        dtype = type_value if isinstance(type_value, (type, str)) else (
            getattr(type_value, "as_numpy_dtype", None) or getattr(type_value, "dtype", None) or type_value)
        try:
            converted = np.dtype(dtype)
        except TypeError:
            converted = None
        if converted is not None and (converted.kind in "biufcO" or converted in QUANTIZED_DTYPES):
            return converted
    raise TypeError(f"Cannot convert the argument `type_value`: {type_value!r} to a TensorFlow DType.")
