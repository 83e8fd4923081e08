"""Control flow: ``cond``, ``case``, ``switch_case``, ``while_loop``, ``map_fn``, ``scan``, ``foldl``/``foldr``,
``vectorized_map``.

featherflow executes eagerly, so control flow is plain Python over ops: a branch or loop body runs the ops
it calls, which the tape records like any others, so every construct is differentiable (to any order).
Structures follow ``tf.nest``; TensorFlow's checks are kept (a scalar predicate, matching loop-variable
structures and dtypes, ``maximum_iterations``). ``back_prop=False`` stops the gradient at the result.

Inside a ``tf.function``, ``cond`` / ``case`` / ``switch_case`` on a tensor the function computes compile into
the program, both branches traced and one run per call (``_traced_cond.py``), and so does ``while_loop``
(``_traced_loop.py``, its gradient ``_traced_loop_grad.py``).

>>> import featherflow as ff
>>> x = ff.constant(2.0)
>>> float(ff.cond(x > 1.0, lambda: x * x, lambda: x))
4.0
>>> float(ff.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, s * 2.0), (0, 1.0))[1])
8.0
"""

from __future__ import annotations

import numpy as np

from featherflow.core import nest
from featherflow.core.errors import InvalidArgumentError
from featherflow.core.tensor import Tensor, convert_to_tensor
from featherflow.ops import _traced_cond, _traced_loop
from featherflow.ops.math import stop_gradient
from featherflow.ops.shape import stack, unstack


def _check_predicate(pred, op) -> None:
    if pred.value.size != 1 or pred.value.ndim != 0:
        raise ValueError(f"{op}: the predicate must be a scalar boolean. Received: shape={tuple(pred.shape)}")
    if pred.value.dtype.kind != "b":
        raise TypeError(f"{op}: the predicate must be a boolean tensor. Received dtype {pred.dtype.name}")


def _truth(pred, op):
    if isinstance(pred, Tensor):
        _check_predicate(pred, op)
        return bool(pred.value)
    if isinstance(pred, (bool, np.bool_)):
        return bool(pred)
    arr = np.asarray(pred)
    if arr.shape != () or arr.dtype.kind != "b":
        raise TypeError(f"{op}: the predicate must be a Python bool or a scalar boolean tensor. Received: {pred!r:.60}")
    return bool(arr)


def _callable(fn, what):
    if not callable(fn):
        raise TypeError(f"{what} must be callable.")
    return fn


def cond(pred, true_fn=None, false_fn=None, name=None):
    """Run ``true_fn()`` when ``pred`` is true, else ``false_fn()``, and return its result.

    Args:
        pred: a scalar boolean tensor or Python bool.
        true_fn, false_fn: callables without arguments.

    >>> float(cond(False, lambda: 1.0, lambda: 2.0))
    2.0
    """
    _callable(true_fn, "true_fn")
    _callable(false_fn, "false_fn")
    if _traced_cond.is_traced_predicate(pred):
        _check_predicate(pred, "cond")
        return _traced_cond.cond(pred, true_fn, false_fn)
    return true_fn() if _truth(pred, "cond") else false_fn()


def case(pred_fn_pairs, default=None, exclusive=False, strict=False, name="case"):
    """Run the callable of the first pair whose predicate is true (``default`` when none is).

    Args:
        pred_fn_pairs: a list of ``(predicate, callable)`` pairs (or a dict of them).
        default: the callable for "no predicate true"; if None, that raises ``InvalidArgumentError`` as in
            TensorFlow.
        exclusive: raise ``InvalidArgumentError`` when more than one predicate is true.

    >>> import featherflow as ff
    >>> x = ff.constant(5)
    >>> int(case([(x < 3, lambda: ff.constant(1)), (x < 9, lambda: ff.constant(2))], default=lambda: ff.constant(0)))
    2
    """
    pairs = list(pred_fn_pairs.items()) if isinstance(pred_fn_pairs, dict) else list(pred_fn_pairs)
    for i, pair in enumerate(pairs):
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise TypeError(f"case: each entry of pred_fn_pairs must be a (predicate, callable) pair. Received "
                            f"entry {i}: {pair!r:.60}")
        _callable(pair[1], f"case: the callable of pair {i}")
    if default is not None:
        _callable(default, "case: default")
    if any(_traced_cond.is_traced_predicate(p) for p, _ in pairs):
        return _traced_cond.case(pairs, default, exclusive, cond)
    truths = [_truth(p, "case") for p, _ in pairs]
    if exclusive and sum(truths) > 1:
        raise InvalidArgumentError(None, None, f"case: more than one condition evaluated as True but "
                                   f"exclusive=True. Conditions: {truths}")
    for truth, (_, fn) in zip(truths, pairs):
        if truth:
            return fn()
    if default is None:
        raise InvalidArgumentError(None, None, f"Input error: None of conditions evaluated as True: {truths}")
    return default()


def switch_case(branch_index, branch_fns, default=None, name="switch_case"):
    """Run ``branch_fns[branch_index]`` (``default``, or the last branch, when the index is out of range).

    ``branch_fns`` is a list of callables, a dict with keys ``0..n-1``, or a list of ``(index, callable)``.

    >>> import featherflow as ff
    >>> int(switch_case(ff.constant(1), [lambda: ff.constant(10), lambda: ff.constant(20)]))
    20
    """
    if isinstance(branch_fns, dict):
        items = sorted(branch_fns.items())
    elif branch_fns and isinstance(branch_fns[0], tuple):
        items = sorted(branch_fns)
    else:
        items = list(enumerate(branch_fns))
    keys = [k for k, _ in items]
    if keys != list(range(len(keys))):
        raise ValueError(f"branch indices (keys) must form contiguous range of [0 to {len(keys)}) but found "
                         f"{{{','.join(map(str, keys))}}}")
    for k, fn in items:
        _callable(fn, f"switch_case: branch {k}")
    index = branch_index.value if isinstance(branch_index, Tensor) else np.asarray(branch_index)
    if index.ndim != 0 or index.dtype.kind not in "iu":
        raise TypeError(f"switch_case: branch_index must be a scalar integer. Received: {branch_index!r:.60}")
    if _traced_cond.is_traced_predicate(branch_index):
        return _traced_cond.switch_case(branch_index, [fn for _, fn in items], default, cond)
    index = int(index)
    if 0 <= index < len(items):
        return items[index][1]()
    return _callable(default, "switch_case: default")() if default is not None else items[-1][1]()


def _composite_types() -> tuple:
    """The loop-variable kinds kept as they are: TensorArray, SparseTensor, RaggedTensor, IndexedSlices."""
    from featherflow.core.ragged import RaggedTensor
    from featherflow.ops.eager_api import IndexedSlices
    from featherflow.ops.sparse import SparseTensor
    from featherflow.ops.tensor_array import TensorArray

    return TensorArray, SparseTensor, RaggedTensor, IndexedSlices


def _as_loop_var(value):
    if isinstance(value, Tensor) or isinstance(value, _composite_types()):
        return value
    return convert_to_tensor(value)


def _kind_name(value) -> str:
    return value.dtype.name if isinstance(value, Tensor) else type(value).__name__


def _check_loop_vars(before, after):
    try:
        nest.assert_same_structure(before, after, check_types=False)
    except ValueError as exc:
        raise ValueError(f"while_loop: body must return the structure of loop_vars. {exc}") from None
    for b, a in zip(nest.flatten(before), nest.flatten(after)):
        if isinstance(b, Tensor) != isinstance(a, Tensor) or (not isinstance(b, Tensor) and type(a) is not type(b)):
            raise TypeError(f"while_loop: a loop variable changed from {_kind_name(b)} to {_kind_name(a)} in the "
                            f"body. Return the same kind of value for each loop variable.")
        if np.dtype(a.dtype) != np.dtype(b.dtype):
            raise TypeError(f"while_loop: a loop variable changed dtype from {np.dtype(b.dtype).name} to "
                            f"{np.dtype(a.dtype).name} in the body. Cast it inside the body to keep it "
                            f"{np.dtype(b.dtype).name}.")


def _stop(value):
    return stop_gradient(value) if isinstance(value, Tensor) else value


def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations=10, back_prop=True,
               swap_memory=False, maximum_iterations=None, name=None):
    """Repeat ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` holds.

    Args:
        cond: returns a scalar boolean for the current loop variables.
        body: returns new loop variables with the structure and dtypes of ``loop_vars``.
        loop_vars: a tensor or a (nested) tuple/list of tensors or Python values.
        maximum_iterations: stop after this many iterations whatever ``cond`` says.
        back_prop: ``False`` stops gradients at the result.

    >>> import featherflow as ff
    >>> int(while_loop(lambda i: i < 10, lambda i: i + 3, ff.constant(0)))
    12
    """
    _callable(cond, "while_loop: cond")
    _callable(body, "while_loop: body")
    single = not nest.is_nested(loop_vars)
    state = nest.map_structure(_as_loop_var, loop_vars)
    limit = None if maximum_iterations is None else int(
        maximum_iterations.value if isinstance(maximum_iterations, Tensor) else maximum_iterations)
    iterations = 0
    while limit is None or iterations < limit:
        args = _loop_args(state, single)
        truth = cond(*args)
        if _traced_cond.is_traced_predicate(truth):  # (inside a tf.function: the rest of the loop compiles)
            _check_predicate(truth, "while_loop: cond")
            compiled = _traced_loop.run(cond, body, state, lambda s: _loop_args(s, single),
                                        lambda r, s: _loop_result(r, s, single),
                                        None if limit is None else limit - iterations, back_prop)
            if compiled is not None:
                state = compiled
                break
        if not _truth(truth, "while_loop: cond"):
            break
        state = _loop_result(body(*args), state, single)
        iterations += 1
    if not back_prop:
        state = nest.map_structure(_stop, state)
    return state


def _loop_args(state, single) -> tuple:
    return (state,) if single else tuple(state) if not isinstance(state, dict) else (state,)


def _loop_result(result, state, single):
    """``body``'s result as loop variables in the structure of ``state``, checked against it."""
    plain_sequence = isinstance(result, (list, tuple)) and not hasattr(result, "_fields")
    if not single and len(state) == 1 and not (plain_sequence and len(result) == 1):
        result = type(state)([result]) if not hasattr(state, "_fields") else [result]  # one loop variable
    elif not single and isinstance(state, list) and plain_sequence:
        result = list(result)
    if single and nest.is_nested(result) and len(nest.flatten(result)) == 1:
        result = nest.flatten(result)[0]
    result = nest.map_structure(_as_loop_var, result)
    _check_loop_vars(state, result)
    return result


def _rows(t) -> int | None:
    if not isinstance(t, Tensor):  # a RaggedTensor (or another composite): its rows
        return len(t)
    return t.value.shape[0] if t.value.ndim else None


def _first_dimension(flat, op):
    sizes = {_rows(t) for t in flat}
    if None in sizes:
        raise ValueError(f"{op}: elements must have rank >= 1 (they are unstacked along axis 0).")
    if len(sizes) != 1:
        raise ValueError(f"{op}: all elements must have the same size in the first dimension. Received: "
                         f"{sorted(sizes)}")
    return sizes.pop()


def _empty_like_signature(structure, flat, signature):
    """The result of mapping over zero elements: zero rows of the signature's (or the elements') shape."""
    if signature is None:
        return nest.pack_sequence_as(structure, [Tensor(t.value[:0].copy()) for t in flat])
    outs = []
    for leaf in nest.flatten(signature):
        shape = getattr(leaf, "shape", None) or ()
        dtype = np.dtype(getattr(leaf, "dtype", leaf))
        if _is_ragged_spec(leaf):
            outs.append(_ragged_rows([], dtype))
        else:
            outs.append(Tensor(np.zeros((0,) + tuple(d or 0 for d in shape), dtype=dtype)))
    return nest.pack_sequence_as(signature, outs)


def _is_ragged_spec(leaf) -> bool:
    from featherflow.ops.type_spec import RaggedTensorSpec

    return isinstance(leaf, RaggedTensorSpec)


def _ragged_rows(rows, dtype):
    """The rows ``fn`` returned for a ``RaggedTensorSpec`` output, as one RaggedTensor (no gradient: featherflow's
    RaggedTensor holds data)."""
    from featherflow.core.ragged import RaggedTensor

    for row in rows:
        if not isinstance(row, Tensor) or row.value.ndim == 0:
            raise ValueError(f"map_fn: a RaggedTensorSpec output needs fn to return a tensor of rank >= 1 per "
                             f"element. Received: {row!r:.80}")
    return RaggedTensor.from_rows([row.value for row in rows], dtype=dtype)


def _map(fn, elems, signature, check_dtypes, back_prop, op):
    _callable(fn, f"{op}: fn")
    structure = nest.map_structure(_as_loop_var, elems)
    flat = nest.flatten(structure)
    if not flat:
        raise ValueError(f"{op}: elems must be a tensor or a non-empty structure of tensors.")
    count = _first_dimension(flat, op)
    if count == 0:
        return _empty_like_signature(structure, flat, signature)
    target = signature if signature is not None else structure
    expected = [np.dtype(getattr(s, "dtype", s)) for s in nest.flatten(signature)] if signature is not None \
        else [np.dtype(t.dtype) for t in flat]
    # which outputs are ragged: a RaggedTensorSpec in the signature or, by default, a RaggedTensor in elems
    ragged = [_is_ragged_spec(s) for s in nest.flatten(signature)] if signature is not None \
        else [not isinstance(t, Tensor) for t in flat]
    columns = [unstack(t) if isinstance(t, Tensor) else list(t) for t in flat]
    outputs = []
    for i in range(count):
        result = nest.map_structure(_as_loop_var, fn(nest.pack_sequence_as(structure, [c[i] for c in columns])))
        if check_dtypes:
            if nest.is_nested(target) or nest.is_nested(result):
                try:
                    nest.assert_same_structure(target, result, check_types=False)
                except ValueError as exc:
                    raise ValueError(f"{op}: fn's output must have the structure of fn_output_signature (by default "
                                     f"that of elems). {exc}") from None
            for out, want in zip(nest.flatten(result), expected):
                if np.dtype(out.dtype) != want:
                    raise InvalidArgumentError(None, None, f"{op}: the output dtype is {want.name} but fn returned "
                                               f"{out.dtype.name}. Pass fn_output_signature=featherflow."
                                               f"{out.dtype.name}.")
        outputs.append(result)
    width = len(nest.flatten(outputs[0]))
    if not check_dtypes or len(ragged) != width:  # vectorized_map: the structure fn gives
        ragged = [not isinstance(leaf, Tensor) for leaf in nest.flatten(outputs[0])]
    try:
        stacked = [_ragged_rows([nest.flatten(o)[j] for o in outputs], nest.flatten(outputs[0])[j].dtype)
                   if ragged[j] else stack([nest.flatten(o)[j] for o in outputs], axis=0) for j in range(width)]
    except ValueError as exc:
        raise ValueError(f"{op}: fn returned tensors of different shapes for different elements; pass "
                         f"fn_output_signature=tf.RaggedTensorSpec(...) for rows of different lengths. {exc}") from None
    result = nest.pack_sequence_as(outputs[0], stacked)
    return result if back_prop else nest.map_structure(_stop, result)


def map_fn(fn, elems, dtype=None, parallel_iterations=None, back_prop=True, swap_memory=False, infer_shape=True,
           name=None, fn_output_signature=None):
    """Apply ``fn`` to the slices of ``elems`` along axis 0 and stack the results.

    ``elems`` may be a nest of tensors (``fn`` then gets the nest of slices). The output structure and dtypes
    are ``fn_output_signature``'s (TensorSpecs or dtypes), by default those of ``elems``.

    >>> import featherflow as ff
    >>> map_fn(lambda t: t * t, ff.constant([1.0, 2.0, 3.0])).numpy()
    array([1., 4., 9.], dtype=float32)
    """
    signature = fn_output_signature if fn_output_signature is not None else dtype
    return _map(fn, elems, signature, True, back_prop, "map_fn")


def vectorized_map(fn, elems, fallback_to_while_loop=True, warn=True):
    """``map_fn`` under TensorFlow's vectorizing name, with the output structure and dtypes ``fn`` gives
    (featherflow runs the slices in turn).

    >>> import featherflow as ff
    >>> vectorized_map(lambda t: ff.cast(t, "float32") / 2, ff.constant([1, 2])).numpy()
    array([0.5, 1. ], dtype=float32)
    """
    return _map(fn, elems, None, False, True, "vectorized_map")


def _scan_loop(fn, elems, initializer, reverse, op, keep_all):
    _callable(fn, f"{op}: fn")
    structure = nest.map_structure(_as_loop_var, elems)
    flat = nest.flatten(structure)
    count = _first_dimension(flat, op)
    columns = [unstack(t) for t in flat] if count else [[] for _ in flat]
    order = list(range(count - 1, -1, -1)) if reverse else list(range(count))
    if initializer is None:
        if not count:
            raise ValueError(f"{op}: elems must not be empty when no initializer is given.")
        first = order.pop(0)
        acc = nest.pack_sequence_as(structure, [c[first] for c in columns])
        produced = [(first, acc)]
    else:
        acc = nest.map_structure(_as_loop_var, initializer)
        produced = []
    for i in order:
        acc = nest.map_structure(_as_loop_var, fn(acc, nest.pack_sequence_as(structure, [c[i] for c in columns])))
        produced.append((i, acc))
    if not keep_all:
        return acc
    if not produced:
        raise ValueError(f"{op}: nothing to scan (empty elems).")
    produced.sort(key=lambda item: item[0])
    leaves = [nest.flatten(a) for _, a in produced]
    stacked = [stack([row[j] for row in leaves], axis=0) for j in range(len(leaves[0]))]
    return nest.pack_sequence_as(produced[0][1], stacked)


def scan(fn, elems, initializer=None, parallel_iterations=10, back_prop=True, swap_memory=False, infer_shape=True,
         reverse=False, name=None):
    """The accumulated values ``a_i = fn(a_{i-1}, elems[i])``, stacked (``a_0 = initializer``, or ``elems[0]``
    itself without one); ``reverse`` scans from the end.

    >>> import featherflow as ff
    >>> scan(lambda a, x: a + x, ff.constant([1, 2, 3])).numpy()
    array([1, 3, 6], dtype=int32)
    """
    result = _scan_loop(fn, elems, initializer, reverse, "scan", True)
    return result if back_prop else nest.map_structure(stop_gradient, result)


def foldl(fn, elems, initializer=None, parallel_iterations=10, back_prop=True, swap_memory=False, name=None):
    """Fold ``elems`` from the left: ``fn(...fn(fn(initializer, e0), e1)..., en)``.

    >>> import featherflow as ff
    >>> int(foldl(lambda a, x: a - x, ff.constant([1, 2, 3])))
    -4
    """
    result = _scan_loop(fn, elems, initializer, False, "foldl", False)
    return result if back_prop else nest.map_structure(stop_gradient, result)


def foldr(fn, elems, initializer=None, parallel_iterations=10, back_prop=True, swap_memory=False, name=None):
    """Fold ``elems`` from the right: ``fn(...fn(fn(initializer, en), e(n-1))..., e0)``.

    >>> import featherflow as ff
    >>> int(foldr(lambda a, x: a - x, ff.constant([1, 2, 3])))
    0
    """
    result = _scan_loop(fn, elems, initializer, True, "foldr", False)
    return result if back_prop else nest.map_structure(stop_gradient, result)
