"""``keras.mixed_precision``: dtype policies (``Policy``, ``set_global_policy``) and ``LossScaleOptimizer``.

featherflow computes each layer in one float type. A plain policy (``"float32"``, ``"float64"``,
``"float16"``) sets the dtype of layers created without one. The mixed policies (``"mixed_float16"``,
``"mixed_bfloat16"``) are accepted and describe TensorFlow's split (compute in 16 bits, variables in
32), but featherflow layers under them compute in their variable dtype, float32: NumPy has no fast
16-bit arithmetic, so programs written for mixed precision run unchanged and exactly as in float32.

``LossScaleOptimizer`` wraps an optimizer with TensorFlow's dynamic loss scaling: a step whose
gradients are not all finite is skipped and the scale halved; after ``dynamic_growth_steps`` finite
steps it doubles. ``get_scaled_loss`` / ``get_unscaled_gradients`` serve custom training loops.

>>> set_global_policy("float64")
>>> from featherflow import keras
>>> keras.layers.Dense(2).dtype, global_policy().name
('float64', 'float64')
>>> set_global_policy(None)  # back to the default: floatx()
"""

from __future__ import annotations

import numpy as np

from featherflow.backend import floatx
from featherflow.core import Tensor, Variable
from featherflow.keras.optimizers.base import Optimizer
from featherflow.ops import control_flow
from featherflow.ops.compare import where
from featherflow.ops.elementwise import is_finite
from featherflow.ops.math import cast, maximum
from featherflow.ops.reduce import reduce_all
from featherflow.ops.shape import stack

_SPLIT = {"mixed_float16": ("float16", "float32"), "mixed_bfloat16": ("bfloat16", "float32")}
_PLAIN = ("float16", "float32", "float64", "bfloat16")


class Policy:
    """A dtype policy: ``name``, ``compute_dtype``, ``variable_dtype`` (see the module docstring).

    Args:
        name: ``"float32"``, ``"float64"``, ``"float16"``, ``"bfloat16"``, ``"mixed_float16"`` or
            ``"mixed_bfloat16"`` (``"_infer"``: the dtype of the first input, kept for compatibility).
    """

    def __init__(self, name):
        if isinstance(name, np.dtype):
            name = name.name
        if not isinstance(name, str):
            raise TypeError(f"'name' must be a string, not a DType. Instead got: {name!r}")
        if name in _SPLIT:
            compute, variable = _SPLIT[name]
        elif name in _PLAIN or name == "_infer":
            compute = variable = None if name == "_infer" else name
        else:
            raise ValueError(f'Cannot convert value {name!r} to a mixed precision Policy. Valid policies include '
                             f'"mixed_float16", "mixed_bfloat16", and the name of any dtype such as "float32".')
        self._name = name
        self._compute_dtype = compute
        self._variable_dtype = variable

    @property
    def name(self) -> str:
        return self._name

    @property
    def compute_dtype(self):
        return self._compute_dtype

    @property
    def variable_dtype(self):
        return self._variable_dtype

    def layer_dtype(self) -> str:
        """The dtype a featherflow layer under this policy computes and stores in."""
        dtype = self._variable_dtype or floatx()
        if dtype == "bfloat16":
            raise ValueError("NumPy has no bfloat16: featherflow cannot compute in it. Use the 'float32' policy.")
        return dtype

    def get_config(self) -> dict:
        return {"name": self._name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)

    def __eq__(self, other) -> bool:
        return isinstance(other, Policy) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self._name)

    def __repr__(self) -> str:
        return f'<Policy "{self._name}">'


_global = [None]


def global_policy() -> Policy:
    """The policy layers get when created without a ``dtype`` (default: ``floatx()``)."""
    return _global[0] if _global[0] is not None else Policy(floatx())


def set_global_policy(policy) -> None:
    """Set the global policy (a ``Policy``, its name, or ``None`` for the default)."""
    if policy is None:
        _global[0] = None
        return
    policy = policy if isinstance(policy, Policy) else Policy(policy)
    if policy.compute_dtype is not None and policy.compute_dtype != "float16" and not \
            np.issubdtype(np.dtype(policy.layer_dtype()), np.floating):
        raise ValueError(f"set_global_policy can only be used to set the global policy to floating-point policies, "
                         f"such as 'float32' and 'mixed_float16', but got policy: {policy.name}")
    policy.layer_dtype()  # refuses bfloat16 now rather than at the first layer
    _global[0] = policy


def layer_dtype(dtype) -> str:
    """A layer's dtype from its ``dtype`` argument: a dtype, a policy or its name, a config dict, or ``None``."""
    if dtype is None:
        return global_policy().layer_dtype()
    if isinstance(dtype, Policy):
        return dtype.layer_dtype()
    if isinstance(dtype, dict):
        config = dtype.get("config", {})
        return Policy(config.get("name", floatx())).layer_dtype() if dtype.get("class_name") in (
            "Policy", "DTypePolicy") else floatx()
    if isinstance(dtype, str) and (dtype in _SPLIT or dtype == "_infer"):
        return Policy(dtype).layer_dtype()
    return np.dtype(dtype).name


def layer_policy(dtype) -> Policy | None:
    """The ``Policy`` a layer's ``dtype`` argument names (a policy, a mixed policy's name, a policy config, or
    ``None`` under a global policy), or ``None`` when it is a plain dtype (the layer's policy is then its dtype's).

    >>> layer_policy("mixed_float16").name, layer_policy("float32")
    ('mixed_float16', None)
    """
    if dtype is None:
        return _global[0]
    if isinstance(dtype, Policy):
        return dtype
    if isinstance(dtype, dict) and dtype.get("class_name") in ("Policy", "DTypePolicy"):
        return Policy(dtype.get("config", {}).get("name", floatx()))
    if isinstance(dtype, str) and dtype in _SPLIT:
        return Policy(dtype)
    return None


_HALF_MAX = float(np.finfo(np.float32).max) / 2  # the largest loss scale that can still double


class LossScaleOptimizer(Optimizer):
    """Dynamic (or fixed) loss scaling around ``inner_optimizer`` (see the module docstring).

    Args:
        inner_optimizer: the optimizer that applies the updates.
        dynamic: adjust the scale (``True``) or keep ``initial_scale``.
        initial_scale: the starting scale (default ``2 ** 15`` when dynamic; required otherwise).
        dynamic_growth_steps: finite steps between doublings (default 2000).
    """

    def __init__(self, inner_optimizer, dynamic=True, initial_scale=None, dynamic_growth_steps=None):
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError(f'"inner_optimizer" must be an instance of `tf.keras.optimizers.Optimizer`, but got: '
                            f"{inner_optimizer}.")
        if isinstance(inner_optimizer, LossScaleOptimizer):
            raise TypeError("LossScaleOptimizer cannot wrap another LossScaleOptimizer.")
        if not dynamic and initial_scale is None:
            raise ValueError('"initial_scale" must be specified if "dynamic" is False')
        if not dynamic and dynamic_growth_steps is not None:
            raise ValueError(f'"dynamic_growth_steps" must be None if "dynamic" is False, but got: '
                             f"{dynamic_growth_steps}")
        self._optimizer = inner_optimizer
        self._dynamic = bool(dynamic)
        self._initial_scale = float(2 ** 15 if initial_scale is None else initial_scale)
        self._growth_steps = int(2000 if dynamic_growth_steps is None else dynamic_growth_steps) if dynamic else None
        self._loss_scale = Variable(np.asarray(self._initial_scale, np.float32), trainable=False, name="loss_scale")
        self._counter = Variable(np.zeros((), np.int64), trainable=False, name="good_steps")

    # No flat fast path: every training step goes through apply_gradients and its finiteness check.
    flat_gradient_views = None
    apply_flat = None

    def __getattr__(self, name):
        if name.startswith("__") or name == "_optimizer":
            raise AttributeError(name)
        return getattr(self.__dict__["_optimizer"], name)

    # -- the loss scale ------------------------------------------------------------------------------------
    @property
    def inner_optimizer(self) -> Optimizer:
        return self._optimizer

    @property
    def dynamic(self) -> bool:
        return self._dynamic

    @property
    def loss_scale(self) -> Variable:
        return self._loss_scale

    @property
    def dynamic_counter(self):
        return self._counter if self._dynamic else None

    @property
    def initial_scale(self) -> float:
        return self._initial_scale

    @property
    def dynamic_growth_steps(self):
        return self._growth_steps

    def get_scaled_loss(self, loss):
        """``loss * loss_scale`` (a callable loss gives a callable)."""
        if callable(loss) and not isinstance(loss, Tensor):
            return lambda: loss() * self._loss_scale
        return loss * self._loss_scale

    def get_unscaled_gradients(self, grads):
        """Each gradient divided by ``loss_scale`` (``None`` kept)."""
        return [None if g is None else g / cast(self._loss_scale, g.dtype) if isinstance(g, Tensor)
                else g / float(self._loss_scale.numpy()) for g in grads]

    # -- applying --------------------------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars, name=None, skip_gradients_aggregation=False, **kwargs):
        """Apply the (unscaled) gradients unless one is not finite; update the dynamic scale.

        Written with ``tf.cond`` on tensors, so that a compiled training step (``fit``, ``tf.function``)
        compiles with it: each call takes the branch its gradients ask for.
        """
        pairs = list(grads_and_vars)
        # the inner optimizer's slots exist before the branch (as TensorFlow's creates them): building re-homes the
        # variables into its buffers, which must not happen inside a branch a traced call does not take
        self._optimizer.build([v for _, v in pairs])
        checks = [reduce_all(is_finite(g)) if isinstance(g, Tensor) else
                  Tensor(np.asarray(np.isfinite(np.asarray(g)).all())) for g, _ in pairs if g is not None]
        finite = reduce_all(stack(checks)) if checks else Tensor(np.asarray(True))

        def apply():
            self._optimizer.apply_gradients(pairs, name=name, skip_gradients_aggregation=skip_gradients_aggregation,
                                            **kwargs)

        control_flow.cond(finite, apply, lambda: None)
        if self._dynamic:
            control_flow.cond(finite, self._grow, self._shrink)
        return self._optimizer.iterations

    def _grow(self) -> None:
        """One more finite step: double the scale after ``dynamic_growth_steps`` of them."""
        self._counter.assign_add(1)

        def double():  # (a doubling that would overflow keeps the scale, as TensorFlow's; computed without one)
            scale = self._loss_scale
            self._loss_scale.assign(scale + where(scale <= _HALF_MAX, scale, 0.0))
            self._counter.assign(0)

        control_flow.cond(self._counter >= self._growth_steps, double, lambda: None)

    def _shrink(self) -> None:
        """A step with a non-finite gradient: halve the scale (not below 1) and restart the count."""
        self._loss_scale.assign(maximum(self._loss_scale / 2.0, 1.0))
        self._counter.assign(0)

    def compute_gradients(self, loss, var_list, tape=None):
        """The gradients of the scaled loss (recorded on ``tape``), unscaled: ``[(gradient, variable)]``."""
        if tape is not None and not callable(loss):
            with tape:  # re-entered: the scaling is recorded after the loss, as TensorFlow does
                loss = self.get_scaled_loss(loss)
        else:
            loss = self.get_scaled_loss(loss)
        grads_and_vars = list(self._optimizer.compute_gradients(loss, var_list, tape))
        grads = self.get_unscaled_gradients([g for g, _ in grads_and_vars])
        return list(zip(grads, [v for _, v in grads_and_vars]))

    def minimize(self, loss, var_list, tape=None):
        """Gradients of the scaled loss, unscaled, then ``apply_gradients``."""
        self.apply_gradients(self.compute_gradients(loss, var_list, tape))
        return self._optimizer.iterations

    # -- delegated state ---------------------------------------------------------------------------------------
    @property
    def learning_rate(self):
        return self._optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self._optimizer.learning_rate = value

    lr = learning_rate

    @property
    def iterations(self):
        return self._optimizer.iterations

    @property
    def variables(self):
        return self._optimizer.variables

    def build(self, var_list) -> None:
        self._optimizer.build(var_list)

    def get_state(self) -> list:
        return self._optimizer.get_state()

    def set_state(self, state) -> None:
        self._optimizer.set_state(state)

    get_weights, set_weights = get_state, set_state

    def save_own_variables(self, store) -> None:
        self._optimizer.save_own_variables(store)

    def load_own_variables(self, store) -> None:
        self._optimizer.load_own_variables(store)

    def _trackable_children(self) -> dict:
        return {"inner_optimizer": self._optimizer, "loss_scale": self._loss_scale, "counter": self._counter}

    def get_config(self) -> dict:
        from featherflow.keras import optimizers

        return {"inner_optimizer": optimizers.serialize(self._optimizer), "dynamic": self._dynamic,
                "initial_scale": self._initial_scale, "dynamic_growth_steps": self._growth_steps}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from featherflow.keras import optimizers

        config = dict(config)
        config["inner_optimizer"] = optimizers.deserialize(config["inner_optimizer"])
        return cls(**config)
