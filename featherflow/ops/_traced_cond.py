"""``tf.cond`` on a predicate computed inside a ``tf.function``: both branches compiled, one of them run per call.

The trace records each branch under its guard (``compiler/branches.py``) and joins their results with one
``select`` per output, which the tape differentiates: the gradient of each output goes into the branch that
made it, and the backward rules of a branch's ops run under that branch's guard, so a call computes the
backward of the taken branch only and the other branch adds zeros (no NaN from a value it never made).

>>> import featherflow as ff
>>> @ff.function
... def f(x):
...     return ff.cond(ff.reduce_sum(x) > 0.0, lambda: x * 2.0, lambda: -x)
>>> f(ff.constant([1.0, 2.0])).numpy(), f(ff.constant([-1.0, -2.0])).numpy()
(array([2., 4.], dtype=float32), array([1., 2.], dtype=float32))
"""

from __future__ import annotations

import functools

import numpy as np

from featherflow import compiler
from featherflow.compiler import branches
from featherflow.core import nest
from featherflow.core.gradients import register_gradient
from featherflow.core.runtime import state as _runtime
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor, convert_to_tensor

_MISMATCH = ("true_fn and false_fn arguments to tf.cond must have the same number, type, and overall structure of "
             "return values.")


def is_traced_predicate(pred) -> bool:
    """Whether ``pred`` is a tensor computed inside the function being traced (its value known per call only)."""
    return isinstance(pred, Tensor) and compiler.is_traced(pred.value) and compiler.current() is not None


def _guarded(backward, guard):
    @functools.wraps(backward)
    def run(grad, needs):
        return branches.run_under(guard, backward, grad, needs)

    run._ff_guard = guard
    return run


def _guard_nodes(marks, guard) -> None:
    """Run the backward rules of the ops the branch recorded (on the tapes of ``marks``) under ``guard``."""
    for tape, start in marks:
        nodes = tape._nodes
        for i in range(start, len(nodes)):
            out, inputs, backward, needs, name = nodes[i]
            nodes[i] = (out, inputs, _guarded(backward, guard), needs, name)


def _leaves(out) -> list:
    return [leaf if leaf is None or isinstance(leaf, Tensor) else convert_to_tensor(leaf)
            for leaf in nest.flatten(out)]


def _pass_raw(grad, guard):
    """``grad`` as a value made under ``guard`` (zeros where the branch does not run), for a raw backward."""
    tracer = compiler.current()
    with branches.under(tracer, guard, save=False):
        return tracer.function(branches.passthrough, (grad,), {})


def _pass(grad: Tensor, guard) -> Tensor:
    """``_pass_raw`` as a recorded op (a gradient an outer tape differentiates again)."""
    def backward(g, needs):
        return (_pass_raw(g, guard),)

    backward._ff_pass_guard = guard
    marks = [(tape, len(tape._nodes)) for tape in _runtime.tapes]
    out = record("cond_pass", [grad], _pass_raw(grad.value, guard), backward)
    _guard_nodes(marks, guard)
    return out


@register_gradient("cond_pass")
def _pass_gradient(op, grad):
    return [_pass(grad, op.backward._ff_pass_guard)]


@register_gradient("cond")
def _cond_gradient(op, grad):
    return [_pass(grad, guard) if need else None for guard, need in zip(op.backward._ff_branches, op.needs)]


def _join(tracer, pred, outer, on_true, on_false) -> Tensor:
    guards = (outer + ((pred.value._slot, True),), outer + ((pred.value._slot, False),))
    value = tracer.function(branches.select, (pred.value, on_true.value, on_false.value), {})

    def backward(grad, needs):
        return tuple(_pass_raw(grad, guard) if need else None for guard, need in zip(guards, needs))

    backward._ff_branches = guards
    return record("cond", [on_true, on_false], value, backward)


def cond(pred, true_fn, false_fn):
    """``tf.cond`` while tracing, ``pred`` a traced scalar boolean tensor (``is_traced_predicate``)."""
    tracer = compiler.current()
    outer = tracer.guard or ()
    results = []
    for polarity, fn in ((True, true_fn), (False, false_fn)):
        guard = outer + ((pred.value._slot, polarity),)
        marks = [(tape, len(tape._nodes)) for tape in _runtime.tapes]
        with branches.under(tracer, guard):
            out = fn()
            leaves = _leaves(out)
        _guard_nodes(marks, guard)
        results.append((out, leaves))
    (out_true, on_true), (out_false, on_false) = results
    try:
        nest.assert_same_structure(out_true, out_false, check_types=False)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{_MISMATCH} {exc}") from None
    joined = []
    for a, b in zip(on_true, on_false):
        if a is None or b is None:
            if a is not b:
                raise ValueError(f"{_MISMATCH} One branch returned None where the other returned a tensor.")
            joined.append(None)
            continue
        if np.dtype(a.dtype) != np.dtype(b.dtype):
            raise TypeError(f"{_MISMATCH} true_fn returned a {np.dtype(a.dtype).name} tensor where false_fn "
                            f"returned a {np.dtype(b.dtype).name} one: cast one of them.")
        if tuple(a.shape) != tuple(b.shape):
            taken = out_true if bool(tracer.real(pred.value)) else out_false
            return tracer.escape(None, f"tf.cond with branches of different shapes ({tuple(a.shape)} and "
                                       f"{tuple(b.shape)})", value=taken)
        joined.append(_join(tracer, pred, outer, a, b))
    return nest.pack_sequence_as(out_true, joined)


def _none_true(*truths) -> None:
    from featherflow.core.errors import InvalidArgumentError

    raise InvalidArgumentError(None, None, f"Input error: None of conditions evaluated as True: "
                                           f"{[bool(t) for t in truths]}")


_none_true.skip_when_dead = True  # (it runs only in the branch where no predicate holds)


def _at_most_one(*truths) -> None:
    if sum(bool(t) for t in truths) > 1:
        from featherflow.core.errors import InvalidArgumentError

        raise InvalidArgumentError(None, None, f"case: more than one condition evaluated as True but "
                                               f"exclusive=True. Conditions: {[bool(t) for t in truths]}")


def _values(predicates) -> list:
    return [p.value if isinstance(p, Tensor) else np.asarray(p) for p in predicates]


def case(pairs, default, exclusive, cond_fn):
    """``tf.case`` with a traced predicate: the first pair whose predicate holds, as nested ``cond`` s; with no
    ``default``, reaching the end raises ``InvalidArgumentError`` at run time, as in TensorFlow."""
    truths = _values([p for p, _ in pairs])
    if exclusive:
        compiler.host_call(_at_most_one, *truths)
    if default is None:
        last = pairs[-1][1]

        def default():
            compiler.host_call(_none_true, *truths)
            return last()

    chain = default
    for pred, fn in reversed(pairs):
        chain = functools.partial(cond_fn, pred, fn, chain)
    return chain()


def switch_case(index, fns, default, cond_fn):
    """``tf.switch_case`` with a traced index: ``fns[index]``, ``default`` (else the last branch) when the
    index is out of range."""
    from featherflow.ops.compare import equal

    chain = default if default is not None else fns[-1]
    for k in range(len(fns) - 1 if default is None else len(fns), 0, -1):
        chain = functools.partial(cond_fn, equal(index, np.asarray(k - 1, index.dtype)), fns[k - 1], chain)
    return chain()
