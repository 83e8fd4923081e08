"""``print``: TensorFlow's ``tf.print`` (tensors shown by value, summarized like TF).

>>> import featherflow as tf, sys
>>> tf.print("loss:", tf.constant([0.5, 0.25]), output_stream=sys.stdout)
loss: [0.5 0.25]
"""

from __future__ import annotations

import sys

import numpy as np

from featherflow import compiler as _compiler
from featherflow.backend.arrays import to_numpy
from featherflow.core.tensor import Tensor


def _scalar(x) -> str:
    if isinstance(x, (np.floating, float)):
        magnitude = abs(float(x))
        if magnitude != 0 and not 1e-4 <= magnitude < 1e16:
            return np.format_float_scientific(x, unique=True, trim="-")
        return np.format_float_positional(x, unique=True, trim="-")
    return str(x.item() if hasattr(x, "item") else x)


def _array(arr, edge: int, indent: int = 1) -> str:
    if arr.ndim == 0:
        return _scalar(arr[()])
    n = arr.shape[0]
    indices = list(range(n)) if edge < 0 or n <= 2 * edge else list(range(edge)) + [None] + list(range(n - edge, n))
    parts = ["..." if i is None else _array(arr[i], edge, indent + 1) for i in indices]
    joiner = " " if arr.ndim == 1 else "\n" + " " * indent
    return "[" + joiner.join(parts) + "]"


def _format(value, summarize) -> str:
    if isinstance(value, Tensor):
        value = to_numpy(value.value)
    if isinstance(value, (np.ndarray, np.generic)):
        return _array(np.asarray(value), 3 if summarize is None else int(summarize))
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_format(v, summarize) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_format(v, summarize)}" for k, v in value.items()) + "}"
    return str(value)


def print(*inputs, output_stream=None, sep=" ", end="\n", summarize=3, name=None) -> None:  # noqa: A001
    """Print ``inputs`` (tensors by value) to ``output_stream`` (default ``sys.stderr``, as TF does).

    Args:
        *inputs: tensors, arrays, strings, numbers or nested lists/dicts of them.
        output_stream: ``sys.stdout``, ``sys.stderr``, any writable stream, or ``"file://path"``
            (appended to).
        sep, end: as for Python's ``print``.
        summarize: items shown at each end of every axis of a long tensor (-1: everything).
    """
    if _compiler.tracing():  # in a tf.function: print at every call of the compiled program, as TensorFlow
        values = [_raw(v) for v in inputs]
        _compiler.host_call(_print_now, values, output_stream, sep, end, summarize)
        return
    _print_now(inputs, output_stream, sep, end, summarize)


def _raw(value):
    """``value`` with tensors replaced by their arrays (what a host call hands over at every replay)."""
    if isinstance(value, Tensor):
        return value.value
    if isinstance(value, (list, tuple)):
        return type(value)(_raw(v) for v in value)
    if isinstance(value, dict):
        return {k: _raw(v) for k, v in value.items()}
    return value


def _print_now(inputs, output_stream, sep, end, summarize) -> None:
    text = sep.join(_format(v, summarize) for v in inputs) + end
    stream = sys.stderr if output_stream is None else output_stream
    if isinstance(stream, str):
        if not stream.startswith("file://"):
            raise ValueError(f'print: output_stream must be a stream or "file://path". Received: {stream!r}')
        with open(stream[len("file://"):], "a", encoding="utf-8") as handle:
            handle.write(text)
        return
    stream.write(text)


_print_now.skip_when_dead = True  # (inside a tf.cond branch the traced call does not take)
