"""The recorded backward pass: ``GradientTape.gradient`` when an outer tape must see the gradient computation.

A first-order ``gradient`` runs each op's raw-array rule (``tape._backpropagate``). When a tape is recording
during the call (an enclosing tape, or the tape itself if it is persistent and still recording), the result
may be differentiated again, so the walk here keeps every gradient a Tensor and, for each node that such a
tape can see (its output gradient, inputs or outputs are watched there), runs the op's differentiable rule
(``core.gradients``): the ops it calls are recorded by the outer tapes like any others. Nodes no recording
tape can see keep the fast raw rule, wrapped in Tensors. An op without a differentiable rule raises a clear
``NotImplementedError`` only when its gradient would really be differentiated.

The ops needed here (sum down broadcast axes, cast) live in a higher layer; ``featherflow.ops`` installs them
with ``install_tensor_helpers`` when it is imported.

>>> import featherflow as ff
>>> x = ff.Variable(2.0)
>>> with ff.GradientTape() as outer:
...     with ff.GradientTape() as inner:
...         y = x ** 3
...     dy = inner.gradient(y, x)           # 3x^2, recorded by `outer`
>>> float(dy), float(outer.gradient(dy, x))  # 12, 6x
(12.0, 12.0)
"""

from __future__ import annotations

from featherflow.backend.arrays import array_module
from featherflow.compiler.branches import run_under
from featherflow.core.gradients import OpRecord, gradient_rule
from featherflow.core.runtime import state as _state
from featherflow.core.tensor import Tensor

_HELPERS: dict = {}


def install_tensor_helpers(sum_to_shape, cast, stack, reshape, transpose) -> None:
    """Called by ``featherflow.ops``: ``sum_to_shape(t, shape)``, ``cast(t, dtype)``, ``stack(list, axis)``,
    ``reshape(t, shape)`` and ``transpose(t, perm)``, all recorded ops."""
    _HELPERS.update(sum_to_shape=sum_to_shape, cast=cast, stack=stack, reshape=reshape, transpose=transpose)


def recording_tapes(tape) -> list:
    """The tapes of this thread that would record a backward pass of ``tape`` (empty: first order suffices)."""
    return [t for t in _state.tapes if t._recording and (t is not tape or t._persistent)]


def _sees(tapes, tensors) -> bool:
    """True when one of ``tapes`` watches (or would auto-watch) one of ``tensors``."""
    for t in tensors:
        if t is None:
            continue
        key = id(t)
        for tape in tapes:
            if key in tape._watched or (tape._auto_watch and t._trainable):
                return True
    return False


def as_gradient_tensor(value, like: Tensor) -> Tensor:
    """``value`` (a Tensor, array or number) as a Tensor of ``like``'s dtype, for seeds and rule results."""
    if not isinstance(value, Tensor):
        value = Tensor(array_module(like.value).asarray(value))
    if value.value.dtype != like.value.dtype:
        value = _HELPERS["cast"](value, like.value.dtype)
    return value


def closure_key(backward) -> str:
    """``"module:qualname"`` of an op's raw backward function: the key of a rule registered for every op
    built by one function whatever its recorded name (Keras layers record their convolutions under the
    layer's name)."""
    return f"{getattr(backward, '__module__', '')}:{getattr(backward, '__qualname__', '')}"


def backpropagate(tape, grads: dict, keep: set, outer: list) -> None:
    """Walk ``tape``'s nodes backwards from ``grads`` (id -> Tensor), with differentiable rules where ``outer``
    tapes can see the node; the ids in ``keep`` stay in ``grads``."""
    sum_to_shape, cast = _HELPERS["sum_to_shape"], _HELPERS["cast"]
    for out, inputs, backward, needs, name in reversed(list(tape._nodes)):
        multi = out.__class__ is tuple
        if multi:
            g = [grads.get(id(o)) if id(o) in keep else grads.pop(id(o), None) for o in out]
            if all(gi is None for gi in g):
                continue
            visible = _sees(outer, g) or _sees(outer, inputs) or _sees(outer, out)
        else:
            key = id(out)
            g = grads.get(key) if key in keep else grads.pop(key, None)
            if g is None:
                continue
            visible = _sees(outer, (g,)) or _sees(outer, inputs) or _sees(outer, (out,))
        if visible:
            rule = gradient_rule(name) or gradient_rule(closure_key(backward))
            if rule is None:
                raise NotImplementedError(
                    f"The gradient of op {name!r} cannot be differentiated again: it has no differentiable "
                    f"gradient rule (featherflow.core.gradients.register_gradient). Compute this gradient "
                    f"outside the outer GradientTape, or use ops that support higher-order gradients."
                )
            guard = getattr(backward, "_ff_guard", None)  # (a traced tf.cond's branch: its rule runs under it)
            record = OpRecord(name, inputs, out, needs, backward)
            in_grads = rule(record, g) if guard is None else run_under(guard, rule, record, g)
        else:
            raw_g = [None if gi is None else gi.value for gi in g] if multi else g.value
            in_grads = [None if a is None else Tensor(a) for a in backward(raw_g, needs)]
        for t, gi, need in zip(inputs, in_grads, needs):
            if gi is None or not need:
                continue
            if not isinstance(gi, Tensor):
                gi = Tensor(array_module(t.value).asarray(gi))
            if gi.value.shape != t.value.shape:
                gi = sum_to_shape(gi, t.value.shape)
            if gi.value.dtype != t.value.dtype:
                gi = cast(gi, t.value.dtype)
            k = id(t)
            prev = grads.get(k)
            grads[k] = gi if prev is None else prev + gi
    if not tape._persistent:
        tape._used = True
        tape._nodes = []
        tape._keep_alive = []


def jacobian_from_rows(rows: list, lead: tuple, source_shape: tuple, batched: bool, recorded: bool) -> Tensor:
    """Stack one gradient per target element into a jacobian: ``lead + source_shape``, or for a batch jacobian
    ``(batch,) + lead + source_shape[1:]`` (each row then holds every example's gradient). Through the ops
    when ``recorded`` (an outer tape may differentiate the jacobian), else on the arrays."""
    count = len(rows)
    if batched:
        batch, rest = source_shape[0], source_shape[1:]
        perm = (len(lead),) + tuple(range(len(lead))) + tuple(range(len(lead) + 1, len(lead) + 1 + len(rest)))
        grid = lead + (batch,) + rest
    if recorded:
        stacked = _HELPERS["stack"](rows, 0)
        if batched:
            return _HELPERS["transpose"](_HELPERS["reshape"](stacked, grid), perm)
        return _HELPERS["reshape"](stacked, lead + source_shape)
    xp = array_module(rows[0].value)
    stacked = xp.stack([r.value for r in rows]).reshape((count,) + source_shape)
    if batched:
        return Tensor(xp.ascontiguousarray(stacked.reshape(grid).transpose(perm)))
    return Tensor(stacked.reshape(lead + source_shape))
