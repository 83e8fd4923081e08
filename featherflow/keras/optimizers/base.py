"""``Optimizer``: the base of every Keras optimizer, updating flat parameter buffers.

Keras 2.12 ("new optimizer") semantics: ``apply_gradients`` builds the slots on first use, drops
``None`` gradients with a warning, clips (``clipnorm`` per variable, else ``global_clipnorm``,
else ``clipvalue``), applies decoupled weight decay ``var -= var * weight_decay * lr``, runs the
update, optionally tracks an exponential moving average of the weights, increments
``iterations`` and finally applies each variable's ``constraint``.

Speed (``docs/architecture.md``, "Speed is in the design"): on ``build`` the variables of one dtype become views of one flat buffer
(``_flat.FlatGroup``); gradients are copied into a twin flat buffer and the update is a few
vectorized NumPy operations writing with ``out=`` into preallocated work buffers. The trainer's
fast entry is::

    views = optimizer.flat_gradient_views(model.trainable_variables)  # once, after build
    ...  # each step: write every gradient into its view (e.g. numpy.copyto(views[i], g))
    optimizer.apply_flat()  # one update over the already-filled gradient buffer

Subclasses declare ``_slot_specs()`` (slot names and initial values), ``_num_work`` and
``_update_flat(params, grads, slots, work, scalars)`` working on 1-D arrays, plus
``_step_scalars(lr, step)`` for per-step constants (bias corrections).

>>> import featherflow as ff
>>> from featherflow import keras
>>> v = ff.Variable([1.0, 2.0])
>>> opt = keras.optimizers.SGD(learning_rate=0.1)
>>> _ = opt.apply_gradients([(ff.constant([1.0, 1.0]), v)])
>>> v.numpy(), int(opt.iterations)
(array([0.9, 1.9], dtype=float32), 1)
"""

from __future__ import annotations

import math
import re
import warnings

import numpy as np

from featherflow import compiler as _compiler
from featherflow.backend.arrays import floatx, to_numpy
from featherflow.core.tape import GradientTape
from featherflow.core.tensor import Tensor
from featherflow.core.variable import Variable
from featherflow.keras.optimizers import schedules as _schedules
from featherflow.keras.optimizers._flat import FlatGroup
from featherflow.keras.optimizers._state import CallableList, OptimizerState  # noqa: F401 (CallableList re-exported)
from featherflow.keras.optimizers._tracking import TrackableOptimizer


def check_number(value, name: str, low=None, high=None, low_open=False, high_open=False, optimizer="Optimizer"):
    """Validate a hyperparameter; raise ``ValueError`` naming it when out of range."""
    if callable(value) and not isinstance(value, (int, float)):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{optimizer}: `{name}` must be a number. Received: {name}={value!r}") from None
    bad = (low is not None and (number <= low if low_open else number < low)) or (
        high is not None and (number >= high if high_open else number > high))
    if bad or math.isnan(number):
        if high is None:
            wanted = f"{'>' if low_open else '>='} {low}"
        elif low is None:
            wanted = f"{'<' if high_open else '<='} {high}"
        else:
            wanted = f"in the range {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ValueError(f"{optimizer}: `{name}` must be {wanted}. Received: {name}={value!r}")
    return number


class Optimizer(OptimizerState, TrackableOptimizer):
    """Base optimizer (Keras 2.12 ``tf.keras.optimizers.Optimizer``).

    Args:
        learning_rate: a non-negative float, a ``LearningRateSchedule`` or a zero-argument callable.
        name: the optimizer's name.
        weight_decay: decoupled weight decay; each step ``var -= var * weight_decay * lr``.
        clipnorm: clip each gradient to this L2 norm.
        clipvalue: clip each gradient element to ``[-clipvalue, clipvalue]``.
        global_clipnorm: scale all gradients so that their joint L2 norm is at most this.
        use_ema: keep an exponential moving average of the weights (``finalize_variable_values``
            writes it into the model at the end of training).
        ema_momentum: the EMA's momentum, ``avg = m * avg + (1 - m) * var``.
        ema_overwrite_frequency: every this many steps, overwrite the weights with the EMA.
        jit_compile: accepted for compatibility (ignored).
        **kwargs: legacy ``lr`` (use ``learning_rate``) and ``decay`` (use a schedule), both accepted
            with a ``DeprecationWarning``.
    """

    _num_work = 1

    def __init__(self, learning_rate=0.001, name="Optimizer", weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                 jit_compile=True, **kwargs):
        cls = type(self).__name__
        kwargs.pop("is_legacy_optimizer", None)
        if "lr" in kwargs:
            warnings.warn(f"The `lr` argument is deprecated, use `learning_rate` instead: "
                          f"keras.optimizers.{cls}(learning_rate=...).", DeprecationWarning, stacklevel=3)
            learning_rate = kwargs.pop("lr")
        self._legacy_decay = 0.0
        if "decay" in kwargs:
            decay = kwargs.pop("decay")
            if decay:
                warnings.warn(f"The `decay` argument is deprecated, use a learning rate schedule instead: "
                              f"keras.optimizers.{cls}(learning_rate=keras.optimizers.schedules.InverseTimeDecay("
                              f"lr, decay_steps=1, decay_rate=decay)).", DeprecationWarning, stacklevel=3)
                self._legacy_decay = check_number(decay, "decay", low=0, optimizer=cls)
        for key in ("gradient_aggregator", "gradient_transformers"):
            if key in kwargs:
                raise ValueError(f"{key} is not supported by featherflow optimizers. Received: {key}={kwargs[key]!r}")
        if kwargs:
            raise TypeError(f"{cls}: unexpected keyword argument(s) {sorted(kwargs)}. Valid arguments are the "
                            f"optimizer's hyperparameters and: learning_rate, name, weight_decay, clipnorm, clipvalue, "
                            f"global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency.")
        for arg, value in (("clipnorm", clipnorm), ("clipvalue", clipvalue), ("global_clipnorm", global_clipnorm),
                           ("weight_decay", weight_decay)):
            if value is not None:
                check_number(value, arg, low=0, optimizer=cls)
        if clipnorm is not None and global_clipnorm is not None:
            raise ValueError(f"At most one of `clipnorm` and `global_clipnorm` can be set. Received: "
                             f"clipnorm={clipnorm}, global_clipnorm={global_clipnorm}.")
        if use_ema:
            check_number(ema_momentum, "ema_momentum", 0, 1, optimizer=cls)
            if ema_overwrite_frequency and (not isinstance(ema_overwrite_frequency, int)
                                            or ema_overwrite_frequency < 1):
                raise ValueError(f"`ema_overwrite_frequency` must be an integer >= 1 or None. Received: "
                                 f"ema_overwrite_frequency={ema_overwrite_frequency}")
        self.name = name
        self.weight_decay = None if weight_decay is None else float(weight_decay)
        self.clipnorm = None if clipnorm is None else float(clipnorm)
        self.clipvalue = None if clipvalue is None else float(clipvalue)
        self.global_clipnorm = None if global_clipnorm is None else float(global_clipnorm)
        self.use_ema = bool(use_ema)
        self.ema_momentum = float(ema_momentum)
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.jit_compile = False
        self._iterations = Variable(np.zeros((), dtype=np.int64), trainable=False, name="iteration")
        self._current_learning_rate = None
        self._learning_rate = self._build_learning_rate(learning_rate)
        self._groups: list = []
        self._index: dict = {}
        self._variables = [self._iterations]
        self._slot_lookup: dict = {}
        self._built = False
        self._pending_state = None
        self._exclude_vars: list = []
        self._exclude_names: list = []
        self._scratch = {}

    # -- learning rate ---------------------------------------------------------------
    def _build_learning_rate(self, learning_rate):
        if isinstance(learning_rate, _schedules.LearningRateSchedule):
            current = float(learning_rate(self._iterations))
            self._current_learning_rate = Variable(np.asarray(current, dtype=floatx()), trainable=False,
                                                   name="current_learning_rate")
            return learning_rate
        if callable(learning_rate) and not isinstance(learning_rate, Tensor):
            return learning_rate
        value = float(to_numpy(learning_rate.value)) if isinstance(learning_rate, Tensor) else learning_rate
        check_number(value, "learning_rate", low=0, optimizer=type(self).__name__)
        return Variable(np.asarray(value, dtype=floatx()), trainable=False, name="learning_rate")

    @property
    def learning_rate(self):
        """The learning rate as a scalar ``Variable`` (float32); with a schedule, the value it gave
        for the current step. Settable at run time: ``opt.learning_rate = 0.01``."""
        lr = self._learning_rate
        if isinstance(lr, _schedules.LearningRateSchedule):
            return self._current_learning_rate
        if callable(lr) and not isinstance(lr, Variable):
            return Variable(np.asarray(float(lr()), dtype=floatx()), trainable=False, name="learning_rate")
        return lr

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        if isinstance(learning_rate, _schedules.LearningRateSchedule) or (
                callable(learning_rate) and not isinstance(learning_rate, Tensor)):
            self._learning_rate = self._build_learning_rate(learning_rate)
            return
        if isinstance(self._learning_rate, _schedules.LearningRateSchedule):
            raise TypeError("This optimizer was created with a `LearningRateSchedule` object as its `learning_rate` "
                            "constructor argument, hence its learning rate is not settable. If you need the learning "
                            "rate to be settable, you should instantiate the optimizer with a float `learning_rate` "
                            "argument.")
        value = float(to_numpy(learning_rate.value)) if isinstance(learning_rate, Tensor) else learning_rate
        check_number(value, "learning_rate", low=0, optimizer=type(self).__name__)
        if isinstance(self._learning_rate, Variable):
            self._learning_rate.value[...] = value
        else:
            self._learning_rate = self._build_learning_rate(value)

    lr = learning_rate  # Keras keeps ``optimizer.lr`` as an alias (ReduceLROnPlateau uses it)

    def _compute_current_learning_rate(self) -> float:
        lr = self._learning_rate
        if isinstance(lr, Variable):
            value = float(lr.value)
        elif isinstance(lr, _schedules.LearningRateSchedule):
            value = float(lr(self._iterations))
            self._current_learning_rate.value[...] = value
        else:
            value = float(lr())
        if self._legacy_decay:
            value = value / (1.0 + self._legacy_decay * int(self._iterations.value))
        return value

    @property
    def iterations(self) -> Variable:
        """The number of steps applied so far (an int64 scalar ``Variable``)."""
        return self._iterations

    @iterations.setter
    def iterations(self, value):
        self._iterations.value[...] = int(to_numpy(value.value) if isinstance(value, Tensor) else value)

    # -- build ---------------------------------------------------------------------------
    def _slot_specs(self) -> list:
        """``[(slot_name, initial_value), ...]`` for this optimizer (override)."""
        return []

    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        """Exclude variables (by object, or by regex found in their name) from weight decay; call before build."""
        if self._built:
            raise ValueError("`exclude_from_weight_decay()` can only be configured before the optimizer is built.")
        self._exclude_vars = list(var_list or [])
        self._exclude_names = list(var_names or [])

    def _uses_weight_decay(self, variable) -> bool:
        if any(variable is v for v in self._exclude_vars):
            return False
        return not any(re.search(name, variable.name) for name in self._exclude_names)

    def build(self, var_list) -> None:
        """Create the slots for ``var_list`` and re-home the variables into flat buffers.

        Calling it again with variables it has not seen (a layer added later) rebuilds cleanly:
        existing slot values are kept, new variables get fresh slots. Inside a ``tf.function`` trace the
        buffers are built once, on real values (``init_scope``).
        """
        with _compiler.init_scope():
            self._build(var_list)

    def _build(self, var_list) -> None:
        var_list = list(var_list)
        for v in var_list:
            if not isinstance(v, Variable):
                raise TypeError(f"{type(self).__name__}: expected a list of Variables to optimize. "
                                f"Received an element of type {type(v).__name__}: {v!r:.80}")
            if v.value.dtype.kind not in "fc":
                raise TypeError(f"{type(self).__name__}: can only optimize floating-point variables. "
                                f"Received variable '{v.name}' of dtype {v.dtype.name}.")
        new = []
        seen = set(self._index)
        for v in var_list:
            if id(v) not in seen:
                seen.add(id(v))
                new.append(v)
        if self._built and not new:
            return
        old_groups = {g.dtype: g for g in self._groups}
        everything = [v for g in self._groups for v in g.variables] + new
        by_dtype: dict = {}
        for v in everything:
            by_dtype.setdefault(v.value.dtype, []).append(v)
        specs = ([("average", "params")] if self.use_ema else []) + list(self._slot_specs())
        self._groups = [FlatGroup(vs, specs, self._num_work, old=old_groups.get(dtype))
                        for dtype, vs in by_dtype.items()]
        self._index = {}
        for group in self._groups:
            group.decay_flags = [self._uses_weight_decay(v) for v in group.variables]
            group.all_decay = all(group.decay_flags)
            for i, v in enumerate(group.variables):
                self._index[id(v)] = (group, i)
        self._build_variable_list(everything, specs)
        self._built = True
        self._scratch = {}
        if self._pending_state is not None:
            state, self._pending_state = self._pending_state, None
            self.set_state(state)

    def _build_variable_list(self, ordered, specs) -> None:
        per_group = {id(g): {name: g.slot_variables(name) for name, _ in specs} for g in self._groups}
        variables = [self._iterations]
        self._slot_lookup = {}
        names = [name for name, _ in specs]
        # Keras order: iterations, the EMA averages, then the slot blocks (each block holds its slots
        # variable by variable: Adam's m0, v0, m1, v1, ..., then amsgrad's vhat0, vhat1, ...).
        blocks = [[n for n in block if n in names] for block in self._slot_blocks()]
        for pass_names in ([n for n in names if n == "average"], *blocks):
            for v in ordered:
                group, i = self._index[id(v)]
                for name in pass_names:
                    slot = per_group[id(group)][name][i]
                    self._slot_lookup[(id(v), name)] = slot
                    variables.append(slot)
        self._variables = variables

    def _slot_blocks(self) -> list:
        """Keras's grouping of the slot variables (``[["m", "v"], ["vhat"]]`` for Adam with amsgrad):
        within a block, the slots of each model variable in turn; blocks follow each other."""
        return [[name for name, _ in self._slot_specs()]]

    def get_slot(self, var, slot_name) -> Variable:
        """The slot variable ``slot_name`` (e.g. ``"m"``) kept for ``var``."""
        try:
            return self._slot_lookup[(id(var), slot_name)]
        except KeyError:
            raise ValueError(f"No slot {slot_name!r} for variable '{getattr(var, 'name', var)}'. Slots of "
                             f"{type(self).__name__}: {[n for n, _ in self._slot_specs()]}") from None

    def get_slot_names(self) -> list:
        return [name for name, _ in self._slot_specs()]

    # -- applying gradients ------------------------------------------------------------------
    def compute_gradients(self, loss, var_list, tape=None) -> list:
        """``[(gradient, variable), ...]`` of ``loss`` (a tensor with its ``tape``, or a callable)."""
        if not callable(loss) and tape is None:
            raise ValueError(f"`tape` is required when a `Tensor` loss is passed. Received: loss={loss}, tape={tape}.")
        if tape is None:
            tape = GradientTape()
        if callable(loss):
            with tape:
                if not callable(var_list):
                    tape.watch(list(var_list))
                loss = loss()
                if callable(var_list):
                    var_list = var_list()
        elif callable(var_list):
            var_list = var_list()
        var_list = list(var_list)
        grads = tape.gradient(loss, var_list)
        return list(zip(grads, var_list))

    def minimize(self, loss, var_list, tape=None):
        """Compute the gradients of ``loss`` and apply them; returns ``iterations``.

        >>> import featherflow as ff
        >>> from featherflow import keras
        >>> x = ff.Variable(3.0)
        >>> _ = keras.optimizers.SGD(0.1).minimize(lambda: x * x, [x])
        >>> round(float(x), 4)
        2.4
        """
        self.apply_gradients(self.compute_gradients(loss, var_list, tape))
        return self._iterations

    def apply_gradients(self, grads_and_vars, name=None, skip_gradients_aggregation=False, **kwargs):
        """Apply ``(gradient, variable)`` pairs; gradients may be Tensors, arrays or ``None`` (skipped with a
        warning; when every gradient is ``None`` a ``ValueError`` says so, as in tf.keras).

        Returns the ``iterations`` variable.
        """
        pairs = list(grads_and_vars)
        if not pairs:
            return self._iterations
        for pair in pairs:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(f"apply_gradients expects an iterable of (gradient, variable) pairs. "
                                f"Received an element: {pair!r:.80}")
        self.build([v for _, v in pairs])
        present = [(g, v) for g, v in pairs if g is not None]
        if not present:
            raise ValueError(f"No gradients provided for any variable: {([v.name for _, v in pairs],)}. "
                             f"Provided `grads_and_vars` is {tuple(pairs)}.")
        if len(present) < len(pairs):
            missing = [v.name for g, v in pairs if g is None]
            warnings.warn(f"Gradients do not exist for variables {missing} when minimizing the loss. If you're using "
                          f"`model.compile()`, did you forget to provide a `loss` argument?", UserWarning, stacklevel=2)
        selected: dict = {}
        for g, v in present:
            group, i = self._index[id(v)]
            arr = g.value if isinstance(g, Tensor) else g
            view = group.grad_views[i]
            if arr is not view:
                arr = group.xp.asarray(arr)
                if arr.shape != view.shape:
                    raise ValueError(f"Gradient for variable '{v.name}' has shape {arr.shape}, but the variable has "
                                     f"shape {view.shape}. Received: gradient.shape={arr.shape}")
                group.xp.copyto(view, arr, casting="same_kind")
            selected.setdefault(id(group), (group, set()))[1].add(i)
        plan = []
        for group, idx in selected.values():
            full = len(idx) == len(group.variables)
            plan.append((group, None if full else group.runs_for(idx), idx))
        self._apply_plan(plan)
        return self._iterations

    def flat_gradient_views(self, var_list) -> list:
        """Build for ``var_list`` (if needed) and return each variable's view of the flat gradient buffer.

        The trainer writes gradients straight into these arrays, then calls ``apply_flat()``.
        The views stay valid until the optimizer rebuilds (new variables); call again after that.
        """
        var_list = list(var_list)
        self.build(var_list)
        out = []
        for v in var_list:
            group, i = self._index[id(v)]
            out.append(group.grad_views[i])
        return out

    def apply_flat(self):
        """One update of every built variable from the already-filled flat gradient buffers."""
        if not self._built:
            raise ValueError("apply_flat() needs a built optimizer: call optimizer.flat_gradient_views(var_list) or "
                             "optimizer.build(var_list) first.")
        plan = self._scratch.get("full_plan")
        if plan is None:
            plan = self._scratch["full_plan"] = [(g, None, range(len(g.variables))) for g in self._groups]
        self._apply_plan(plan)
        return self._iterations

    def _apply_plan(self, plan) -> None:
        for group, _, _ in plan:
            group.resync()
        extras = self.clipnorm or self.global_clipnorm or self.clipvalue or self.weight_decay or self.use_ema
        # in a trace, one host call per buffer may compute the step scalars and run the whole update itself
        if not (_compiler.tracing() and not extras and self._host_update(plan)):
            self._update_with_scalars(plan)
        self._iterations.value += 1
        for group, runs, idx in plan:
            for i in group.constrained:
                if runs is None or i in idx:
                    v = group.variables[i]
                    v.assign(v.constraint(v))

    def _update_with_scalars(self, plan) -> None:
        """The step scalars, then clipping, weight decay, ``_update_flat`` over every group and the moving
        averages (``iterations`` not yet incremented)."""
        if _compiler.tracing():
            # in a tf.function: the learning rate and step scalars are computed at every call (a host call),
            # as the Python floats eager code uses, so the update's arithmetic is the same
            lr, step, scalars = self._traced_scalars(_compiler.host_call(self._scalars_now))
        else:
            lr = self._compute_current_learning_rate()
            step = int(self._iterations.value) + 1
            scalars = self._step_scalars(lr, step)
        # clipping (the norm is read into Python), weight decay and the moving averages work in place on the plain
        # flat buffers: in a tf.function they run as host calls, at every call of the compiled program (traced
        # NumPy calls on those buffers would not be recorded, and the program would skip them)
        host = _compiler.host_call
        if self.clipnorm or self.global_clipnorm or self.clipvalue:
            host(self._clip_gradients_flat, plan)
        if self.weight_decay:
            host(self._apply_weight_decay_flat, plan, lr)
        self._update_groups(plan, scalars)
        if self.use_ema:
            host(self._update_ema, plan, step)

    def _host_update(self, plan) -> bool:
        """Inside a trace, without clipping, weight decay or moving averages: record the whole update of
        ``plan`` as host calls that compute their step scalars themselves (one call per buffer instead of a
        scalars call plus an update call), and return True; or return False (the default) to trace
        ``_update_flat``. Subclasses with a compiled kernel override this."""
        return False

    def _scalars_now(self) -> tuple:
        """``(lr, step, *step scalars)`` for the coming update, as Python numbers."""
        lr = self._compute_current_learning_rate()
        step = int(self._iterations.value) + 1
        scalars = self._step_scalars(lr, step)
        self._scratch["scalars_tuple"] = isinstance(scalars, tuple)
        return (lr, step) + (tuple(scalars) if isinstance(scalars, tuple) else (scalars,))

    def _traced_scalars(self, values) -> tuple:
        lr, step, *rest = values
        return lr, step, (tuple(rest) if self._scratch.get("scalars_tuple") else rest[0])

    def _clip_gradients_flat(self, plan) -> None:
        if self.clipnorm:
            c = self.clipnorm
            for group, _, idx in plan:
                for i in idx:
                    a = group.offsets[i]
                    g = group.grads[a:a + group.sizes[i]]
                    norm = math.sqrt(float(group.xp.dot(g, g)))
                    if norm > c:
                        g *= c / norm
        elif self.global_clipnorm:
            c = self.global_clipnorm
            total = 0.0
            for group, runs, _ in plan:
                for a, b in (runs or group.full_run):
                    g = group.grads[a:b]
                    total += float(group.xp.dot(g, g))
            norm = math.sqrt(total)
            if norm > c:
                for group, runs, _ in plan:
                    for a, b in (runs or group.full_run):
                        group.grads[a:b] *= c / norm
        elif self.clipvalue:
            c = self.clipvalue
            for group, runs, _ in plan:
                for a, b in (runs or group.full_run):
                    g = group.grads[a:b]
                    group.xp.clip(g, -c, c, out=g)

    def _apply_weight_decay_flat(self, plan, lr) -> None:
        factor = self.weight_decay * lr
        for group, runs, idx in plan:
            if runs is None and group.all_decay:
                decay_runs = group.full_run
            else:
                decay_runs = group.runs_for([i for i in idx if group.decay_flags[i]])
            for a, b in decay_runs:
                p, w = group.params[a:b], group.work[0][a:b]
                group.xp.multiply(p, factor, out=w)
                p -= w

    def _update_ema(self, plan, step) -> None:
        m = self.ema_momentum
        overwrite = bool(self.ema_overwrite_frequency) and step % self.ema_overwrite_frequency == 0
        for group, runs, _ in plan:
            for a, b in (runs or group.full_run):
                avg, p, w = group.slots["average"][a:b], group.params[a:b], group.work[0][a:b]
                avg *= m
                group.xp.multiply(p, 1.0 - m, out=w)
                avg += w
                if overwrite:
                    p[...] = avg

    def finalize_variable_values(self, var_list) -> None:
        """With ``use_ema``, write the moving averages into the variables (end of training)."""
        if not self.use_ema or not self._built:
            return
        for v in var_list:
            entry = self._index.get(id(v))
            if entry is not None:
                group, i = entry
                v.assign(group.slot_views["average"][i])

    def _step_scalars(self, lr: float, step: int):
        """Per-step constants for ``_update_flat`` (override to add bias corrections)."""
        return lr

    def _update_groups(self, plan, scalars) -> None:
        """Run ``_update_flat`` over each group's buffers (or the runs of the variables being updated)."""
        state = _compiler.state  # inside a tf.function trace: the buffers as traced state (updates recorded)
        for group, runs, _ in plan:
            params, grads = state(group.params, "params"), state(group.grads, "grads")
            slots = {k: state(s, k) for k, s in group.slots.items()}
            work = [state(w, "work") for w in group.work]
            if runs is None:
                self._update_flat(params, grads, slots, work, scalars)
            else:
                for a, b in runs:
                    self._update_flat(params[a:b], grads[a:b], {k: s[a:b] for k, s in slots.items()},
                                      [w[a:b] for w in work], scalars)

    def _update_flat(self, params, grads, slots, work, scalars) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement _update_flat.")

    # -- config -----------------------------------------------------------------------------------
    def _serialize_hyperparameter(self, value):
        if isinstance(value, _schedules.LearningRateSchedule):
            return _schedules.serialize(value)
        if isinstance(value, Tensor):
            # the shortest decimal that rounds to the stored float32 (0.01, not 0.009999999776)
            return float(str(np.asarray(to_numpy(value.value)).astype(np.float32)[()]))
        if callable(value):
            return value()
        return value

    def get_config(self) -> dict:
        """Every constructor argument (the learning rate as a float or a serialized schedule)."""
        config = {
            "name": self.name, "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue, "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum, "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "jit_compile": self.jit_compile, "is_legacy_optimizer": False,
            "learning_rate": self._serialize_hyperparameter(self._learning_rate),
        }
        if self._legacy_decay:
            config["decay"] = self._legacy_decay
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Recreate an optimizer (without its state) from ``get_config()``."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = _schedules.deserialize(config["learning_rate"], custom_objects=custom_objects)
        return cls(**config)

    def __repr__(self) -> str:
        return f"<featherflow.keras.optimizers.{type(self).__name__} name={self.name!r}>"
