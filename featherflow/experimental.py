"""``tf.experimental``: the names that have a meaning in an eager NumPy engine.

``Optional`` is ``tf.data.experimental``'s; ``async_scope`` / ``async_clear_error`` exist for code written for
TensorFlow's asynchronous eager mode: featherflow runs every op synchronously, so there is nothing to wait
for or to clear. The rest (extension types, dispatch, DTensor, float8/int4 dtypes, ``tf.experimental.numpy``,
DLPack, TensorRT, file-system plugins) is listed with its reason in tools/api_names/omitted.txt.

>>> import featherflow as tf
>>> with tf.experimental.async_scope():
...     x = tf.constant(1.0) + 1.0
>>> float(x)
2.0
"""

from __future__ import annotations

import contextlib


def __getattr__(name):
    if name == "Optional":
        from featherflow.data.experimental import Optional

        return Optional
    raise AttributeError(f"module 'featherflow.experimental' has no attribute {name!r}")


@contextlib.contextmanager
def async_scope():
    """A scope for TensorFlow's asynchronous eager execution; featherflow's ops run synchronously already."""
    yield


def async_clear_error() -> None:
    """Clear a pending asynchronous error: featherflow raises errors where they happen, so none is pending."""
