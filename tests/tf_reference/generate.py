"""Run the reference cases (``cases.py``) with the real TensorFlow and write ``core_ops.npz``.

Run once, in an environment with TensorFlow (never by the tests)::

    /work/tfenv/bin/python tests/tf_reference/generate.py

Each case stores its outputs (``<id>|out|<k>``), the gradients of the weighted objective w.r.t. the
arguments listed in ``grad`` (``<id>|grad|<i>``, absent when TensorFlow returns None) or the error class
(``<id>|error``), or ``<id>|graderror|<i>`` where TensorFlow cannot compute a gradient. ``__versions__`` records the TensorFlow and NumPy versions.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tf_reference.cases import CASES, weights  # noqa: E402


def resolve(root, dotted):
    obj = root
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def to_tensors(value, tf):
    if isinstance(value, np.ndarray):
        return tf.constant(value)
    if isinstance(value, list) and any(isinstance(v, np.ndarray) for v in value):
        return [to_tensors(v, tf) for v in value]
    return value


def flatten(out):
    if isinstance(out, (list, tuple)):
        items = []
        for o in out:
            items.extend(flatten(o))
        return items
    return [out]


def objective(outputs, tf):
    total = tf.constant(0.0, tf.float64)
    for k, o in enumerate(outputs):
        if not hasattr(o, "dtype") or not (o.dtype.is_floating or o.dtype.is_complex):
            continue
        re = tf.cast(tf.math.real(o), tf.float64)
        total += tf.reduce_sum(re * weights(o.shape, k))
        if o.dtype.is_complex:
            total += tf.reduce_sum(tf.cast(tf.math.imag(o), tf.float64) * weights(o.shape, k, True))
    return total


def main() -> None:
    import tensorflow as tf

    results = {"__versions__": np.asarray(f"tensorflow {tf.__version__}, numpy {np.__version__}")}
    for case in CASES:
        fn = resolve(tf, case.fn)
        args = [to_tensors(a, tf) for a in case.args]
        kwargs = {k: to_tensors(v, tf) for k, v in case.kwargs.items()}
        try:
            with tf.GradientTape(persistent=True) as tape:
                for i in case.grad:
                    tape.watch(args[i])
                out = fn(*args, **kwargs)
                flat = flatten(out)
                total = objective(flat, tf) if case.grad else None
        except Exception as exc:  # noqa: BLE001 - recorded: the test expects the same failure
            results[f"{case.id}|error"] = np.asarray(type(exc).__name__)
            continue
        for k, o in enumerate(flat):
            results[f"{case.id}|out|{k}"] = np.asarray(o.numpy() if hasattr(o, "numpy") else o)
        for i in case.grad:
            try:
                g = tape.gradient(total, args[i])
            except Exception as exc:  # noqa: BLE001 - TensorFlow has no gradient here: recorded, not compared
                results[f"{case.id}|graderror|{i}"] = np.asarray(type(exc).__name__)
                continue
            if g is not None:
                results[f"{case.id}|grad|{i}"] = np.asarray(g.numpy())
    np.savez_compressed(HERE / "core_ops.npz", **results)
    print(f"{len(CASES)} cases written to {HERE / 'core_ops.npz'}")


if __name__ == "__main__":
    main()
