"""``GradientTape`` and ``record``: the one automatic-differentiation engine.

An op computes its output array, then calls ``record(name, inputs, value, backward)``.
When a recording tape watches one of the inputs (explicitly with ``watch`` or because
it is a trainable ``Variable``), the tape appends a node ``(output, inputs, backward,
needs)``. ``gradient`` walks the nodes in reverse, calls each ``backward(grad, needs)``
(a function of raw arrays returning one gradient per input, ``None`` allowed) and sums
the results per input, reducing broadcast axes in one place (``unbroadcast``).

Higher-order gradients: when a tape records during ``gradient`` (an enclosing tape, or the
tape itself when persistent), the backward pass runs through each op's differentiable rule
(``core.gradients``) so that tape records it; see ``core/higher_order.py``. First-order
gradients keep the raw-array rules.

>>> import featherflow as ff
>>> x = ff.Variable(3.0)
>>> with ff.GradientTape() as tape:
...     y = x * x
>>> float(tape.gradient(y, x))
6.0
"""

from __future__ import annotations

import enum
import warnings

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.core import higher_order
from featherflow.core.nest import flatten_into as _flatten
from featherflow.core.nest import pack_from as _pack
from featherflow.core.runtime import state as _state
from featherflow.core.tensor import Tensor, _dtype_name, convert_to_tensor
from featherflow.core.variable import Variable

_new_object = object.__new__
_np_generic = np.generic


class UnconnectedGradients(enum.Enum):
    """What ``gradient`` returns for a source the target does not depend on."""

    NONE = "none"
    ZERO = "zero"


def is_recording() -> bool:
    """True when at least one tape of this thread is recording (ops may then skip gradient-free fast paths)."""
    return bool(_state.tapes)


def is_watched(tensor) -> bool:
    """True when an op on ``tensor`` would be recorded: a recording tape of this thread watches it (or, for a
    trainable Variable, watches accessed variables). Ops may skip building what only a backward pass needs."""
    for tape in _state.tapes:
        if tape._recording and (id(tensor) in tape._watched or (tape._auto_watch and getattr(tensor, "_trainable",
                                                                                            False))):
            return True
    return False


def record(name: str, inputs, value, backward) -> Tensor:
    """Wrap ``value`` in a Tensor and, if a recording tape watches an input, record the op.

    Args:
        name: the op's name (for error messages).
        inputs: the op's differentiable input tensors, in the order ``backward`` returns.
        value: the output array.
        backward: ``backward(grad, needs) -> tuple`` of input gradients (arrays or None);
            ``needs[i]`` tells whether input ``i`` needs a gradient at all, so expensive
            rules can skip work. ``grad`` may be a read-only broadcast view and may be
            shared with other rules: never modify it in place. A returned gradient may
            have the broadcast (output) shape; the tape sums it down to the input's shape.
    """
    # Tensor(value) without the __init__ frame: this runs once per op.
    if isinstance(value, _np_generic):
        value = np.asarray(value)
    out = _new_object(Tensor)
    out.value = value
    tapes = _state.tapes  # this thread's (core/runtime.py)
    if tapes and value.dtype.kind in "fc":
        for tape in tapes:
            if not tape._recording:
                continue
            # GradientTape._maybe_record, inlined for one- and two-input ops: this runs for every op.
            watched = tape._watched
            count = len(inputs)
            if count == 2:
                first, second = inputs
                needs = [id(first) in watched, id(second) in watched]
            elif count == 1:
                needs = [id(inputs[0]) in watched]
            else:
                tape._maybe_record(name, out, inputs, backward)
                continue
            if tape._auto_watch and False in needs:
                tape._watch_trainable(inputs, needs)
            if True in needs:
                watched.add(id(out))
                tape._nodes.append((out, inputs, backward, needs, name))
    return out


def record_multi(name: str, inputs, values, backward) -> list:
    """Like ``record`` for an op with several outputs (``split``, ``unstack``, ...).

    ``backward(grads, needs)`` receives one gradient per output, ``None`` for outputs the
    target does not depend on (treat them as zeros), and returns one gradient per input.
    One node for all outputs keeps the backward pass linear in the input size.
    """
    outs = [Tensor(v) for v in values]
    tapes = _state.tapes
    if tapes and outs and outs[0].value.dtype.kind in "fc":
        group = tuple(outs)
        for tape in tapes:
            if tape._recording:
                tape._maybe_record(name, group, inputs, backward)
    return outs


def unbroadcast(grad, shape):
    """Sum ``grad`` over the axes that broadcasting added or stretched to reach ``grad.shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, (g, s) in enumerate(zip(grad.shape, shape)) if s == 1 and g != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


class GradientTape:
    """Record operations for automatic differentiation, with TensorFlow's semantics.

    Args:
        persistent: allow several ``gradient`` calls (the recording is kept until the
            tape is deleted or ``reset``).
        watch_accessed_variables: watch every trainable ``Variable`` an op reads.

    >>> import featherflow as ff
    >>> x = ff.constant(2.0)
    >>> with ff.GradientTape() as t:
    ...     t.watch(x)
    ...     y = x ** 3
    >>> float(t.gradient(y, x))
    12.0
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True):
        self._persistent = bool(persistent)
        self._auto_watch = bool(watch_accessed_variables)
        self._recording = False
        self._nodes: list = []
        self._watched: set = set()
        self._keep_alive: list = []  # explicitly watched tensors, so their ids stay unique
        self._variables: dict = {}
        self._used = False
        self._registry = None  # the thread's tape list it was entered into

    # -- context management -------------------------------------------------------
    def __enter__(self):
        if self._recording:
            raise ValueError("This GradientTape is already recording; tapes cannot be re-entered.")
        self._recording = True
        self._registry = _state.tapes
        self._registry.append(self)
        return self

    def __exit__(self, exc_type, exc, tb):
        self._recording = False
        registry, self._registry = self._registry, None
        if registry is not None:
            for i in range(len(registry) - 1, -1, -1):
                if registry[i] is self:
                    del registry[i]
                    break
        return False

    def stop_recording(self):
        """Context manager that pauses this tape (ops inside are not differentiated)."""
        return _StopRecording(self)

    def reset(self) -> None:
        """Forget everything recorded so far (watches included)."""
        self._nodes = []
        self._watched = set()
        self._keep_alive = []
        self._variables = {}
        self._used = False

    def watch(self, tensor) -> None:
        """Watch a tensor (or a nested structure of tensors) so gradients can be taken w.r.t. it."""
        for t in _flatten(tensor, []):
            if not isinstance(t, Tensor):
                raise ValueError(
                    f"GradientTape.watch expects tensors or variables. Received: {type(t).__name__} "
                    f"{t!r:.60}. Convert it first with featherflow.constant."
                )
            if t.dtype.kind not in "fc":  # TensorFlow warns and leaves it unwatched: its gradient is None
                warnings.warn(f"The dtype of the watched tensor must be floating (e.g. tf.float32), got "
                              f"tf.{_dtype_name(t.dtype)}", stacklevel=2)
                continue
            self._watched.add(id(t))
            self._keep_alive.append(t)
            if isinstance(t, Variable):
                self._variables[id(t)] = t

    def watched_variables(self) -> tuple:
        """The variables this tape watched, in the order first seen."""
        return tuple(self._variables.values())

    def _watch_trainable(self, inputs, needs):
        """Watch the trainable Variables among ``inputs`` (TF's watch_accessed_variables)."""
        for i, t in enumerate(inputs):
            if not needs[i] and t._trainable:
                needs[i] = True
                self._watched.add(id(t))
                self._variables[id(t)] = t

    def _maybe_record(self, name, out, inputs, backward):
        # The hot path of every op. One- and two-input ops (nearly all of them) are unrolled:
        # a list comprehension costs a frame of its own.
        watched = self._watched
        count = len(inputs)
        if count == 2:
            first, second = inputs
            needs = [id(first) in watched, id(second) in watched]
        elif count == 1:
            needs = [id(inputs[0]) in watched]
        else:
            needs = [id(t) in watched for t in inputs]
        if self._auto_watch and False in needs:
            self._watch_trainable(inputs, needs)
        if True in needs:
            if out.__class__ is tuple:
                for o in out:
                    watched.add(id(o))
            else:
                watched.add(id(out))
            self._nodes.append((out, inputs, backward, needs, name))

    # -- differentiation ------------------------------------------------------------
    def gradient(self, target, sources, output_gradients=None,
                 unconnected_gradients=UnconnectedGradients.NONE):
        """Gradients of ``target`` w.r.t. ``sources`` (a tensor or nested list/tuple/dict).

        A non-scalar target is treated as the sum of its elements (or weighted by
        ``output_gradients``); a list of targets as the sum of the targets.
        """
        self._check_usable()
        unconnected = UnconnectedGradients(
            unconnected_gradients.value if isinstance(unconnected_gradients, UnconnectedGradients)
            else unconnected_gradients
        )
        flat_sources = _flatten(sources, [])
        for s in flat_sources:
            if not isinstance(s, Tensor):
                raise ValueError(
                    f"GradientTape.gradient: sources must be tensors or variables. Received: "
                    f"{type(s).__name__}."
                )
        outer = higher_order.recording_tapes(self)
        flat_targets = _flatten(target, [])
        grads: dict = {}
        out_grads = None if output_gradients is None else _flatten(output_gradients, [])
        for i, t in enumerate(flat_targets):
            if not isinstance(t, Tensor):
                t = convert_to_tensor(t)
            if t.dtype.kind not in "fc":
                raise TypeError(
                    f"GradientTape.gradient: the target must be a floating-point tensor. "
                    f"Received dtype {t.dtype.name}."
                )
            seed = self._seed(t, None if out_grads is None else out_grads[i], outer)
            grads[id(t)] = grads[id(t)] + seed if id(t) in grads else seed
        keep = {id(s) for s in flat_sources}
        if outer:
            higher_order.backpropagate(self, grads, keep, outer)
        else:
            self._backpropagate(grads, keep)
        results = []
        for s in flat_sources:
            g = grads.get(id(s))
            if g is None:
                results.append(Tensor(array_module(s.value).zeros_like(s.value)) if unconnected is UnconnectedGradients.ZERO
                               else None)
            elif isinstance(g, Tensor):  # recorded by an outer tape: returned as is, so it stays connected
                results.append(g)
            else:
                if isinstance(g, np.ndarray) and not g.flags.writeable:
                    g = g.copy()
                results.append(Tensor(g))
        return _pack(sources, iter(results))

    @staticmethod
    def _seed(target: Tensor, given, outer: list):
        """The initial gradient of ``target``: ones, or ``output_gradients`` broadcast to its shape (a Tensor,
        kept as the given object when it fits, when an outer tape records the backward pass)."""
        xp = array_module(target.value)
        if not outer:
            if given is None:
                return xp.ones_like(target.value)
            g = given.value if isinstance(given, Tensor) else np.asarray(given)
            if g.shape == target.value.shape and g.dtype == target.value.dtype:
                return g  # (already the target's shape and dtype: no conversion, no broadcast view)
            return xp.broadcast_to(g.astype(target.dtype, copy=False), target.shape)
        if given is None:
            return Tensor(xp.ones_like(target.value))
        seed = higher_order.as_gradient_tensor(given, target)
        if seed.value.shape != target.value.shape:
            seed = seed * Tensor(xp.ones_like(target.value))  # broadcast (recorded when `given` is watched)
        return seed

    def _check_usable(self) -> None:
        if self._used and not self._persistent:
            raise RuntimeError(
                "A non-persistent GradientTape can only be used to compute one set of gradients "
                "(or jacobians). Use GradientTape(persistent=True) to call gradient() more than once."
            )

    def _toward_sources(self, sources: set) -> list:
        """Per node, the ``needs`` restricted to inputs that depend on a source (ids in ``sources``), or
        ``None`` for a node none of whose inputs does.

        A tape records every op on a watched tensor, but a gradient only has to flow along paths that end at
        the sources asked for (TensorFlow prunes the same way): with two tapes over one computation (a GAN's
        generator and discriminator), the discriminator's gradient need not run the generator's backward
        rules, nor a generator's gradient compute the discriminator's weight gradients.
        """
        reach = set(sources)
        plans = []
        for out, inputs, _backward, needs, _name in self._nodes:
            plan = [need and id(t) in reach for t, need in zip(inputs, needs)]
            if True in plan:
                plans.append(needs if plan == needs else plan)
                if out.__class__ is tuple:
                    reach.update(id(o) for o in out)
                else:
                    reach.add(id(out))
            else:
                plans.append(None)
        return plans

    def _backpropagate(self, grads: dict, keep: set) -> None:
        """Walk the nodes backwards from the seeded ``grads`` (id -> array); the ids in ``keep`` stay in it.

        Only the inputs through which a gradient can reach a source in ``keep`` get one (``_toward_sources``)."""
        plans = self._toward_sources(keep)
        for (out, inputs, backward, _needs, _name), needs in zip(reversed(self._nodes), reversed(plans)):
            if needs is None:
                continue
            if out.__class__ is tuple:  # a multi-output op (record_multi)
                g = [grads.get(id(o)) if id(o) in keep else grads.pop(id(o), None) for o in out]
                if all(gi is None for gi in g):
                    continue
            else:
                key = id(out)
                g = grads.get(key) if key in keep else grads.pop(key, None)
                if g is None:
                    continue
            in_grads = backward(g, needs)
            for t, gi, need in zip(inputs, in_grads, needs):
                if gi is None or not need:
                    continue
                if gi.shape != t.value.shape:
                    gi = unbroadcast(gi, t.value.shape)
                if gi.dtype != t.value.dtype:
                    gi = gi.astype(t.value.dtype)
                k = id(t)
                prev = grads.get(k)
                grads[k] = gi if prev is None else prev + gi
        if not self._persistent:
            self._used = True
            self._nodes = []
            self._keep_alive = []

    def _gradients_into(self, loss: Tensor, variables: list, outs: list) -> list:
        """The training loop's ``gradient``: write d loss / d variables[i] into the array ``outs[i]``.

        ``loss`` must be a floating scalar Tensor and ``variables`` distinct floating Variables (the
        trainer checks both once); returns the variables without a gradient (their ``outs`` are zeroed).
        Numbers as ``gradient``'s, without its per-call argument handling and result Tensors.
        """
        self._check_usable()
        keys = [id(v) for v in variables]
        grads = {id(loss): array_module(loss.value).ones_like(loss.value)}
        self._backpropagate(grads, set(keys))
        missing = []
        for key, variable, out in zip(keys, variables, outs):
            g = grads.get(key)
            if g is None:
                out.fill(0)
                missing.append(variable)
            else:
                out[...] = g
        return missing

    def jacobian(self, target, sources, unconnected_gradients=UnconnectedGradients.NONE,
                 parallel_iterations=None, experimental_use_pfor=True):
        """Jacobian of every element of ``target`` w.r.t. ``sources``: shape ``target.shape + source.shape``.

        One backward pass per element of ``target``. Under an outer recording tape the result is recorded
        (Hessians: the jacobian of a gradient).

        >>> import featherflow as ff
        >>> x = ff.constant([1.0, 2.0])
        >>> with ff.GradientTape() as t:
        ...     t.watch(x)
        ...     y = x * x
        >>> t.jacobian(y, x).numpy()
        array([[2., 0.],
               [0., 4.]], dtype=float32)
        """
        target = target if isinstance(target, Tensor) else convert_to_tensor(target)
        size = target.value.size
        return self._rows_of_gradients(target, sources, unconnected_gradients, size, target.shape,
                                       lambda index, seed: seed.reshape(-1).__setitem__(index, 1))

    def batch_jacobian(self, target, source, unconnected_gradients=UnconnectedGradients.NONE,
                       parallel_iterations=None, experimental_use_pfor=True):
        """Per-example jacobians: ``result[b] = d target[b] / d source[b]``, shape
        ``(batch,) + target.shape[1:] + source.shape[1:]``.

        Assumes, as TensorFlow does, that example ``b`` of ``target`` depends only on example ``b`` of
        ``source``; one backward pass per element of ``target[0]``.

        >>> import featherflow as ff
        >>> x = ff.constant([[1.0, 2.0], [3.0, 4.0]])
        >>> with ff.GradientTape() as t:
        ...     t.watch(x)
        ...     y = x * x
        >>> t.batch_jacobian(y, x).numpy()[1]
        array([[6., 0.],
               [0., 8.]], dtype=float32)
        """
        target = target if isinstance(target, Tensor) else convert_to_tensor(target)
        if target.value.ndim < 1 or not isinstance(source, Tensor) or source.value.ndim < 1 or \
                target.value.shape[0] != source.value.shape[0]:
            raise ValueError(
                f"batch_jacobian: target and source must have the same first (batch) dimension. Received: "
                f"target.shape={tuple(target.shape)}, source.shape={tuple(getattr(source, 'shape', ()))}"
            )
        batch = target.value.shape[0]
        inner = target.value.shape[1:]
        count = int(np.prod(inner, dtype=np.int64))

        def set_seed(index, seed):
            seed.reshape(batch, -1)[:, index] = 1

        return self._rows_of_gradients(target, [source], unconnected_gradients, count, inner, set_seed,
                                       batched=True)[0]

    def _rows_of_gradients(self, target, sources, unconnected_gradients, count, lead_shape, set_seed, batched=False):
        """One ``gradient`` per seed ``i < count`` (``set_seed`` puts its ones), stacked: the jacobians."""
        persistent, used = self._persistent, self._used
        was_recording = self._recording
        self._persistent = True
        if not persistent:
            self._recording = False  # a non-persistent tape never records its own jacobian
        flat_sources = _flatten(sources, [])
        rows = [[] for _ in flat_sources]
        xp = array_module(target.value)
        try:
            for index in range(count):
                seed = xp.zeros(target.value.shape, dtype=target.dtype)
                set_seed(index, seed)
                grads = self.gradient(target, flat_sources, output_gradients=seed,
                                      unconnected_gradients=unconnected_gradients)
                for j, g in enumerate(grads):
                    rows[j].append(g)
        finally:
            self._persistent = persistent
            self._recording = was_recording
            self._used = used or not persistent
            if not persistent:
                self._nodes = []
        recorded = bool(higher_order.recording_tapes(self))
        results = []
        for s, r in zip(flat_sources, rows):
            lead = tuple(lead_shape)
            shape = (s.shape[0],) + lead + tuple(s.shape[1:]) if batched else lead + tuple(s.shape)
            if r and r[0] is not None:
                results.append(higher_order.jacobian_from_rows(r, lead, tuple(s.shape), batched, recorded))
            elif count == 0 or target.value.size == 0:
                results.append(Tensor(xp.zeros(shape, dtype=s.dtype)))
            else:
                results.append(None)
        return _pack(sources, iter(results))


class pause_all_tapes:
    """Context manager: no tape of this thread records inside (shape inference on dummy data, metric updates)."""

    def __enter__(self):
        self._saved = _state.tapes
        _state.tapes = []
        return self

    def __exit__(self, *exc):
        _state.tapes = self._saved
        return False


class _StopRecording:
    def __init__(self, tape):
        self._tape = tape

    def __enter__(self):
        self._was = self._tape._recording
        self._tape._recording = False
        return self

    def __exit__(self, *exc):
        self._tape._recording = self._was
        return False
