"""``tf.custom_gradient``, ``tf.recompute_grad`` and ``tf.grad_pass_through``.

``custom_gradient(f)``: ``f(*args)`` returns ``(outputs, grad_fn)``; the decorated function runs ``f`` with
the tapes paused (its ops are not recorded) and records one op whose gradient is ``grad_fn(*upstream)``. If
``f`` reads trainable variables, ``grad_fn`` must accept ``variables=`` and return
``(input_grads, variable_grads)``, as in TensorFlow. ``grad_fn`` written with featherflow ops is itself
differentiable: under an outer tape its ops are recorded (higher-order gradients).

>>> import featherflow as ff
>>> @ff.custom_gradient
... def clip_gradient(x):
...     def grad(upstream):
...         return ff.clip_by_value(upstream, -0.1, 0.1)
...     return ff.identity(x), grad
>>> x = ff.constant(2.0)
>>> with ff.GradientTape() as tape:
...     tape.watch(x)
...     y = clip_gradient(x) * 5.0
>>> float(tape.gradient(y, x))
0.1
"""

from __future__ import annotations

import functools
import inspect

from featherflow.core import nest
from featherflow.core.gradients import OpRecord, register_gradient
from featherflow.core.tape import GradientTape, pause_all_tapes, record, record_multi
from featherflow.core.tensor import Tensor, convert_to_tensor


def _accepts_variables(fn) -> bool:
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return True
    return "variables" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _call_grad(grad_fn, upstream, variables, n_inputs, name):
    """``grad_fn(*upstream)``, checked and split into (input gradients, variable gradients)."""
    if variables:
        result = grad_fn(*upstream, variables=variables)
        if not isinstance(result, (list, tuple)) or len(result) != 2:
            raise ValueError(f"custom_gradient: {name}'s grad_fn uses variables, so it must return "
                             f"(input_gradients, variable_gradients). Received: {result!r:.80}")
        input_grads, variable_grads = _as_list(result[0]), _as_list(result[1])
        if len(variable_grads) != len(variables):
            raise ValueError(f"custom_gradient: {name}'s grad_fn returned {len(variable_grads)} variable "
                             f"gradients for {len(variables)} variables.")
    else:
        input_grads, variable_grads = _as_list(grad_fn(*upstream)), []
    if len(input_grads) != n_inputs:
        raise ValueError(f"custom_gradient: {name}'s grad_fn returned {len(input_grads)} gradients for "
                         f"{n_inputs} inputs.")
    return input_grads + variable_grads


def _tensor(value, like):
    if value is None or isinstance(value, Tensor):
        return value
    return convert_to_tensor(value, dtype=like.value.dtype)


def custom_gradient(f=None):
    """Decorator defining a function together with its gradient (see the module docstring).

    Args:
        f: ``f(*x) -> (y, grad_fn)``; ``y`` a tensor or a nested structure of tensors, ``grad_fn(*dy)`` the
            gradients w.r.t. ``x`` (one per argument; ``None`` allowed).
    """
    if f is None:
        return custom_gradient
    if not callable(f):
        raise TypeError(f"custom_gradient expects a function. Received: {f!r}")
    name = getattr(f, "__name__", "custom_gradient")

    @functools.wraps(f)
    def decorated(*args, **kwargs):
        inputs = [a if isinstance(a, Tensor) else convert_to_tensor(a) for a in args]
        with pause_all_tapes(), GradientTape(watch_accessed_variables=True) as probe:
            result = f(*inputs, **kwargs)
        if not isinstance(result, (list, tuple)) or len(result) != 2 or not callable(result[1]):
            raise TypeError(f"custom_gradient: {name} must return (outputs, grad_fn). Received: {result!r:.80}")
        outputs, grad_fn = result
        variables = [v for v in probe.watched_variables() if v._trainable]
        if variables and not _accepts_variables(grad_fn):
            raise TypeError(f"If using @custom_gradient with a function that uses variables, then grad_fn must "
                            f"accept a keyword argument 'variables'. {name} reads {[v.name for v in variables]}.")
        flat = [o if isinstance(o, Tensor) else convert_to_tensor(o) for o in nest.flatten(outputs)]
        op_inputs = tuple(inputs) + tuple(variables)
        attrs = {"grad_fn": grad_fn, "variables": variables, "n_inputs": len(inputs), "name": name}

        def backward(g, needs):
            upstream = [Tensor(x) if x is not None else Tensor(o.value * 0) for x, o in
                        zip(g if len(flat) > 1 else [g], flat)]
            with pause_all_tapes():
                grads = _call_grad(grad_fn, upstream, variables, len(inputs), name)
            return tuple(None if gr is None else _tensor(gr, t).value for gr, t in zip(grads, op_inputs))

        backward.attrs = attrs
        if len(flat) == 1:
            new = [record("custom_gradient", op_inputs, flat[0].value, backward)]
        else:
            new = record_multi("custom_gradient", op_inputs, [o.value for o in flat], backward)
        return nest.pack_sequence_as(outputs, new)

    return decorated


@register_gradient("custom_gradient")
def _custom_gradient_rule(op: OpRecord, g):
    a = op.captured["attrs"]
    upstream = g if isinstance(g, list) else [g]
    upstream = [x if x is not None else Tensor(o.value * 0) for x, o in zip(upstream, op.outputs)]
    grads = _call_grad(a["grad_fn"], upstream, a["variables"], a["n_inputs"], a["name"])
    return tuple(_tensor(gr, t) for gr, t in zip(grads, op.inputs))


def recompute_grad(f):
    """Decorator trading compute for memory: the forward pass keeps only ``f``'s inputs and outputs; the
    backward pass runs ``f`` again under a tape to get its gradients (activation checkpointing).

    >>> import featherflow as ff
    >>> block = ff.recompute_grad(lambda x: ff.tanh(x) * x)
    >>> x = ff.constant(0.5)
    >>> with ff.GradientTape() as tape:
    ...     tape.watch(x)
    ...     y = block(x)
    >>> round(float(tape.gradient(y, x)), 6)
    0.855341
    """
    if not callable(f):
        raise TypeError(f"recompute_grad expects a function. Received: {f!r}")

    @custom_gradient
    def inner(*args, **kwargs):
        outputs = f(*args, **kwargs)

        def grad(*upstream, variables=None):
            floats = [i for i, a in enumerate(args) if a.value.dtype.kind in "fc"]
            with GradientTape(watch_accessed_variables=True) as tape:
                tape.watch([args[i] for i in floats])
                again = f(*args, **kwargs)
            sources = [args[i] for i in floats] + list(variables or [])
            grads = tape.gradient(nest.flatten(again), sources, output_gradients=list(upstream))
            input_grads = [None] * len(args)
            for i, g in zip(floats, grads):
                input_grads[i] = g
            return (input_grads, grads[len(floats):]) if variables else input_grads

        return outputs, grad

    return functools.wraps(f)(inner)


def grad_pass_through(f):
    """Decorator: compute ``f(x)`` but let the gradient pass through as if ``f`` were the identity (e.g.
    straight-through estimators for quantization).

    >>> import featherflow as ff
    >>> straight_through = ff.grad_pass_through(ff.round)
    >>> x = ff.constant(1.3)
    >>> with ff.GradientTape() as tape:
    ...     tape.watch(x)
    ...     y = straight_through(x) * 3.0
    >>> float(y), float(tape.gradient(y, x))
    (3.0, 3.0)
    """
    if not callable(f):
        raise TypeError(f"grad_pass_through expects a function. Received: {f!r}")

    @custom_gradient
    def inner(x):
        return f(x), lambda upstream: upstream

    @functools.wraps(f)
    def wrapped(x):
        return inner(x)

    return wrapped
