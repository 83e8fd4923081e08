"""Hashing strings into buckets: to_hash_bucket_fast (FarmHash Fingerprint64), to_hash_bucket_strong
(SipHash-2-4 with a key) and to_hash_bucket (TensorFlow's Hash64), each ``hash % num_buckets`` as int64,
bit for bit as TensorFlow computes them (``featherflow/strings/_hash.py``).

>>> import featherflow as tf
>>> tf.strings.to_hash_bucket_fast(["Hello World", ""], 10).numpy()
array([1, 3])
"""

from __future__ import annotations

import functools

import numpy as np

from featherflow.strings import _hash
from featherflow.strings._common import elementwise

fingerprint64 = functools.lru_cache(maxsize=1 << 16)(_hash.fingerprint64)
tf_hash64 = functools.lru_cache(maxsize=1 << 16)(_hash.tf_hash64)


def _buckets(num_buckets, op) -> int:
    if isinstance(num_buckets, bool) or int(num_buckets) < 1:
        raise ValueError(f"tf.strings.{op}: num_buckets must be >= 1. Received: num_buckets={num_buckets!r}")
    return int(num_buckets)


def to_hash_bucket_fast(input, num_buckets, name=None):  # noqa: A002 - TensorFlow's name
    """``Fingerprint64(s) % num_buckets`` for each string (int64): fast and stable across processes."""
    buckets = _buckets(num_buckets, "to_hash_bucket_fast")
    return elementwise(lambda s: fingerprint64(s) % buckets, input, "to_hash_bucket_fast", dtype=np.int64)


def to_hash_bucket_strong(input, num_buckets, key, name=None):  # noqa: A002
    """``SipHash-2-4(key, s) % num_buckets`` for each string (int64); ``key`` is two unsigned 64-bit ints.

    >>> to_hash_bucket_strong(["a"], 100, key=[1, 2]).shape
    (1,)
    """
    buckets = _buckets(num_buckets, "to_hash_bucket_strong")
    if not isinstance(key, (list, tuple, np.ndarray)) or len(key) != 2:
        raise ValueError(f"tf.strings.to_hash_bucket_strong: key must be a list of two integers. Received: {key!r}")
    pair = (int(key[0]), int(key[1]))
    strong = functools.lru_cache(maxsize=1 << 16)(lambda s: _hash.siphash24(pair, s))
    return elementwise(lambda s: strong(s) % buckets, input, "to_hash_bucket_strong", dtype=np.int64)


def to_hash_bucket(string_tensor, num_buckets, name=None):
    """``Hash64(s) % num_buckets`` for each string (TensorFlow's legacy hash; int64)."""
    buckets = _buckets(num_buckets, "to_hash_bucket")
    return elementwise(lambda s: tf_hash64(s) % buckets, string_tensor, "to_hash_bucket", dtype=np.int64)
