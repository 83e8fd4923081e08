"""Numbers to strings and back, and formatting tensors into text: as_string, to_number, format.

>>> import featherflow as tf
>>> tf.strings.as_string([3.5, 1.0]).numpy()
array([b'3.500000', b'1.000000'], dtype=object)
>>> tf.strings.to_number(["1e3", "0.5"]).numpy()
array([1.e+03, 5.e-01], dtype=float32)
>>> tf.strings.format("x={}", [1, 2]).numpy().decode()
'x=[1 2]'
"""

from __future__ import annotations

import re

import numpy as np

from featherflow.core.ragged import RaggedTensor
from featherflow.core.tensor import Tensor
from featherflow.strings._common import as_bytes, as_text, elementwise


def _numeric_array(value, op):
    if isinstance(value, RaggedTensor):
        return value
    arr = np.asarray(value.value if isinstance(value, Tensor) else value)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"tf.strings.{op}: `input` must be numeric or bool. Received dtype {arr.dtype}")
    if arr.dtype.kind == "f" and not isinstance(value, (Tensor, np.ndarray)):
        arr = arr.astype(np.float32)  # Python floats are float32 tensors in TensorFlow
    return arr


def as_string(input, precision=-1, scientific=False, shortest=False, width=-1, fill="", name=None):  # noqa: A002
    """Each number as a string, printf-style: floats ``"%f"`` (``precision`` decimals, ``scientific`` = ``%e``,
    ``shortest`` = ``%g``), integers ``"%d"``, bools ``"true"``/``"false"``; ``width`` pads with ``fill``
    (``" "`` or ``"0"``)."""
    if scientific and shortest:
        raise ValueError("tf.strings.as_string: cannot select both scientific and shortest notation.")
    if fill not in ("", " ", "0"):
        raise ValueError(f"tf.strings.as_string: fill must be '', ' ' or '0'. Received: fill={fill!r}")
    data = _numeric_array(input, "as_string")
    kind = data.dtype.kind
    flags = "0" if fill == "0" else ""
    size = str(width) if width >= 0 else ""
    if kind == "f":
        conv = "e" if scientific else "g" if shortest else "f"
        spec = f"%{flags}{size}{'.' + str(precision) if precision >= 0 else ''}{conv}"
    elif kind in "iu":
        if precision >= 0 or scientific or shortest:
            raise ValueError("tf.strings.as_string: precision, scientific and shortest apply to floats only.")
        spec = f"%{flags}{size}d"
    else:
        spec = None

    def fmt(x):
        if spec is None:
            text = "true" if x else "false"
            return text.rjust(width).encode() if width >= 0 else text.encode()
        return (spec % x).encode()

    flat = data.reshape(-1)
    out = np.empty(flat.shape, dtype=object)
    out[:] = [fmt(x) for x in flat.tolist()]
    return Tensor(out.reshape(data.shape))


_INT_RE = re.compile(r"\s*[+-]?\d+\s*\Z")


def _parse_number(s: bytes, out_type):
    text = as_text(s, "latin-1") if not isinstance(s, str) else s
    try:
        if out_type.kind in "iu":
            if not _INT_RE.match(text):
                raise ValueError
            value = int(text)
            info = np.iinfo(out_type)
            if not info.min <= value <= info.max:
                raise ValueError
            return value
        stripped = text.strip()
        if stripped.lower().lstrip("+-").startswith("0x"):
            return float.fromhex(stripped)
        return float(stripped)
    except ValueError:
        raise ValueError(f"StringToNumberOp could not correctly convert string: {s!r}") from None


def to_number(input, out_type="float32", name=None):  # noqa: A002
    """Parse each string as a number of ``out_type`` (float32, float64, int32 or int64); a string that is not
    a number raises ``ValueError`` naming it, as TensorFlow does."""
    dtype = np.dtype(out_type)
    if dtype.name not in ("float32", "float64", "int32", "int64"):
        raise TypeError(f"tf.strings.to_number: out_type must be float32, float64, int32 or int64. Received: "
                        f"{dtype.name}")
    return elementwise(lambda s: _parse_number(s, dtype), input, "to_number", dtype=dtype)


def _format_value(arr: np.ndarray, summarize: int) -> str:
    def item(x):
        if isinstance(x, bytes):
            return '"' + x.decode("utf-8", "replace") + '"'
        if isinstance(x, (bool, np.bool_)):
            return "1" if x else "0"
        if isinstance(x, (float, np.floating)):
            digits = 15 if isinstance(x, np.float64) else 6
            return f"{float(x):.{digits}g}"
        return str(x)

    def render(a, depth):
        if a.ndim == 0:
            return item(a[()])
        n = a.shape[0]
        shown = list(range(n)) if summarize < 0 or n <= 2 * summarize else \
            list(range(summarize)) + [None] + list(range(n - summarize, n))
        parts = ["..." if i is None else item(a[i]) if a.ndim == 1 else render(a[i], depth + 1) for i in shown]
        sep = " " if a.ndim == 1 else "\n" + " " * (depth + 1)
        return "[" + sep.join(parts) + "]"

    return render(arr, 0)


def format(template, inputs, placeholder="{}", summarize=3, name=None):  # noqa: A001 - TensorFlow's name
    """Put the values of ``inputs`` (a tensor or a list of them) into the ``template``'s placeholders, one
    each, printed as TensorFlow prints tensors (at most ``summarize`` entries at each end of an axis)."""
    values = list(inputs) if isinstance(inputs, (list, tuple)) and (
        not inputs or isinstance(inputs[0], (Tensor, RaggedTensor, np.ndarray, list, tuple))) else [inputs]
    text = as_text(template)
    pieces = text.split(as_text(placeholder))
    if len(pieces) - 1 != len(values):
        raise ValueError(f"tf.strings.format: {len(pieces) - 1} placeholders in template {text!r} but "
                         f"{len(values)} inputs.")
    out = [pieces[0]]
    for value, rest in zip(values, pieces[1:]):
        if isinstance(value, RaggedTensor):
            value = value.to_tensor()
        if isinstance(value, Tensor):
            arr = value.value
        else:
            arr = np.asarray(value)
            if arr.dtype.kind in "US":
                arr = arr.astype(object)
                arr = np.vectorize(as_bytes, otypes=[object])(arr) if arr.size else arr
        out.append(_format_value(arr, int(summarize)))
        out.append(rest)
    result = np.empty((), dtype=object)
    result[()] = "".join(out).encode("utf-8")
    return Tensor(result)
