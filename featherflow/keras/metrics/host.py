"""Metric and loss-tracker bookkeeping inside a compiled (``tf.function``) step: it runs on the host, every call.

Built-in metrics compute their updates with NumPy on real arrays (``np.asarray``, ``float()``, sorting,
``bincount``): code a tracer cannot record, and whose effect - state written in place - must happen on every
call, not only while the step is traced. So while ``featherflow.compiler`` traces a step, such code runs through
``on_host(fn, *args)``: the compiler records a host call (``featherflow.compiler.host_call``) that runs ``fn``
again on each replay with that call's real arrays. Outside a trace (eager steps, ``run_eagerly=True``) ``fn``
simply runs. Nested ``on_host`` calls (a metric updating another from its host function) run directly.

``args`` may be any nest of ``Tensor``s, arrays and plain values; only the arrays travel through the host call
(a ``Tensor``'s ``_keras_mask`` and ``_logits`` travel with it), the rest is kept by the host function.

>>> import numpy as np
>>> from featherflow.core import Tensor
>>> seen = []
>>> on_host(lambda t, k: seen.append((t.numpy().tolist(), k)), Tensor(np.array([1.0, 2.0])), "kept")
>>> seen
[([1.0, 2.0], 'kept')]
"""

from __future__ import annotations

import numpy as np

from featherflow.core.tensor import Tensor

_state = {"depth": 0, "compiler": None}
_CARRIED = ("_keras_mask", "_logits")  # Tensor attributes the metrics and losses read


def _compiler():
    module = _state["compiler"]
    if module is None:
        try:
            from featherflow import compiler as module
        except ImportError:  # the compiler is not part of this build: every step runs eagerly
            module = False
        if module is not False and not (hasattr(module, "tracing") and hasattr(module, "host_call")):
            module = False
        _state["compiler"] = module
    return module or None


def tracing() -> bool:
    """Whether code running now is being traced by ``featherflow.compiler`` (and is not a host call's body).

    >>> tracing()
    False
    """
    if _state["depth"]:
        return False
    compiler = _compiler()
    return compiler is not None and compiler.tracing()


def on_host(fn, *args):
    """``fn(*args)``, recorded as a host call while a step is traced (see the module docstring)."""
    if not tracing():
        return fn(*args)
    leaves, rebuild = _split(args)

    def host(*arrays):
        _state["depth"] += 1
        try:
            return fn(*rebuild(list(arrays)))
        finally:
            _state["depth"] -= 1

    return _compiler().host_call(host, *leaves)


def _split(structure):
    """``(array leaves, rebuild(arrays) -> structure)``: the arrays of a nest pulled out, the rest kept."""
    leaves = []

    def pull(value):
        if isinstance(value, Tensor):
            extras = [(name, pull(getattr(value, name))) for name in _CARRIED if getattr(value, name, None) is not None]
            leaves.append(value.value)
            return ("tensor", len(leaves) - 1, extras)
        if isinstance(value, (list, tuple)):
            return (type(value), [pull(v) for v in value])
        if isinstance(value, dict):
            return ("dict", {k: pull(v) for k, v in value.items()})
        if value is not None and not isinstance(value, (str, bytes, bool, int, float, np.ndarray, np.generic)):
            leaves.append(value)  # an array of the tracer (or another array type)
            return ("array", len(leaves) - 1)
        if isinstance(value, np.ndarray):
            leaves.append(value)
            return ("array", len(leaves) - 1)
        return ("const", value)

    spec = pull(structure)

    def push(node, arrays):
        kind = node[0]
        if kind == "tensor":
            out = Tensor(arrays[node[1]])
            for name, sub in node[2]:
                setattr(out, name, push(sub, arrays))
            return out
        if kind == "array":
            return arrays[node[1]]
        if kind == "const":
            return node[1]
        if kind == "dict":
            return {k: push(v, arrays) for k, v in node[1].items()}
        return kind(push(v, arrays) for v in node[1])

    return leaves, lambda arrays: push(spec, arrays)
