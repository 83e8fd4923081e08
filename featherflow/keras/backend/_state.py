"""``keras.backend`` session state: name counters, float and image settings, the learning phase,
variables and their values, placeholders and ``function``.

featherflow runs eagerly, as TensorFlow 2 does, so the graph-era functions behave as they do in
tf.keras 2 under eager execution: ``get_value`` reads a variable, ``set_value`` assigns it in
place, ``placeholder`` returns a symbolic ``keras.Input`` and ``function`` builds a small
functional model from symbolic inputs and outputs.

>>> from featherflow.keras import backend
>>> backend.clear_session(); backend.get_uid("dense"), backend.get_uid("dense")
(1, 2)
>>> v = backend.variable([1.0, 2.0])
>>> backend.set_value(v, [3.0, 4.0]); backend.get_value(v)
array([3., 4.], dtype=float32)
"""

from __future__ import annotations

import contextlib
import sys
import warnings

import numpy as np

from featherflow import ops
from featherflow.backend import epsilon, floatx, set_epsilon, set_floatx  # noqa: F401
from featherflow.core import Tensor, Variable, convert_to_tensor, runtime, scopes

_uids: dict = {}
_settings = {"image_data_format": "channels_last", "learning_phase": None, "manual_variable_initialization": False}


def get_uid(prefix: str = "") -> int:
    """A counter per name prefix: 1 the first time, then 2, 3, ... (reset by ``clear_session``), as in tf.keras 2.

    >>> reset_uids(); get_uid("dense"), get_uid("dense"), get_uid("conv")
    (1, 2, 1)
    """
    count = _uids.get(prefix, 0) + 1
    _uids[prefix] = count
    return count


def unique_name(prefix: str) -> str:
    """``prefix`` the first time, then ``prefix_1``, ``prefix_2``, ... as Keras names layers."""
    uid = get_uid(prefix)
    return prefix if uid == 1 else f"{prefix}_{uid - 1}"


def reset_uids() -> None:
    """Reset the name counters of ``get_uid`` (layer names restart at ``dense``)."""
    _uids.clear()


def clear_session() -> None:
    """Reset the session state: name counters and a learning phase set by ``set_learning_phase``.

    featherflow keeps no graph, so models built before stay usable; only new names restart.
    """
    _uids.clear()
    _settings["learning_phase"] = None


def backend() -> str:
    """The backend's name: ``"tensorflow"``, since featherflow stands in for TensorFlow (user code that
    branches on ``K.backend()`` takes its TensorFlow path, which featherflow runs)."""
    return "tensorflow"


def image_data_format() -> str:
    """The default image layout of layers created with ``data_format=None``: ``"channels_last"``
    (NHWC, the default) or ``"channels_first"``."""
    return _settings["image_data_format"]


def set_image_data_format(data_format: str) -> None:
    """Set the default image layout (``"channels_last"`` or ``"channels_first"``).

    >>> set_image_data_format("channels_first"); image_data_format()
    'channels_first'
    >>> set_image_data_format("channels_last")
    """
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"The `data_format` argument must be one of {{'channels_first', 'channels_last'}}. "
                         f"Received: data_format={data_format!r}")
    _settings["image_data_format"] = str(data_format)


def cast_to_floatx(x):
    """``x`` as a NumPy array of the default float type."""
    return np.asarray(x, dtype=floatx())


# -- learning phase ---------------------------------------------------------------------------------
def _context_training():
    return runtime.state.training


def learning_phase() -> int:
    """1 while training, 0 in inference: the phase set by ``set_learning_phase``, else the ``training``
    flag of the layer call in progress, else 0 (tf.keras 2's eager default)."""
    phase = _settings["learning_phase"]
    if phase is not None:
        return phase
    training = _context_training()
    return int(bool(training)) if training is not None else 0


def set_learning_phase(value) -> None:
    """Deprecated (as in tf.keras 2): fix the learning phase (0 or 1) for layers called with ``training=None``.

    Pass ``training=True/False`` to the model or layer call instead.
    """
    warnings.warn("`tf.keras.backend.set_learning_phase` is deprecated and will be removed after 2020-10-11. To "
                  "update it, simply pass a True/False value to the `training` argument of the `__call__` method of "
                  "your layer or model.", stacklevel=2)
    _set_learning_phase(value)


def _set_learning_phase(value) -> None:
    if value not in (0, 1):
        raise ValueError(f"Expected learning phase to be 0 or 1. Received: value={value!r}")
    _settings["learning_phase"] = int(value)


def global_learning_phase():
    """The phase fixed by ``set_learning_phase`` (0 or 1), or ``None`` when none is set."""
    return _settings["learning_phase"]


@contextlib.contextmanager
def learning_phase_scope(value):
    """Deprecated: run the block with the learning phase fixed to ``value`` (0 or 1).

    >>> with learning_phase_scope(1):
    ...     learning_phase()
    1
    """
    if value not in (0, 1):
        raise ValueError(f"Expected learning phase to be 0 or 1. Received: value={value!r}")
    previous = _settings["learning_phase"]
    _settings["learning_phase"] = int(value)
    try:
        yield
    finally:
        _settings["learning_phase"] = previous


def _choose(flag, x, alt):
    chosen = x if flag else alt
    return chosen() if callable(chosen) else chosen


def in_train_phase(x, alt, training=None):
    """``x`` in the training phase, else ``alt`` (either may be a zero-argument callable).

    ``training`` defaults to the current layer call's flag, then to ``learning_phase()``; a tensor
    flag selects elementwise (``switch``).

    >>> in_train_phase(1.0, 0.0, training=True)
    1.0
    """
    if training is None:
        training = _context_training()
    if training is None:
        training = learning_phase()
    if isinstance(training, Tensor):
        from featherflow.keras.backend._math import switch

        return switch(training, x, alt)
    if training in (0, 1, True, False):
        return _choose(bool(training), x, alt)
    raise ValueError(f"`training` must be a boolean, 0/1 or a tensor. Received: training={training!r}")


def in_test_phase(x, alt, training=None):
    """``x`` in the test phase, else ``alt`` (the mirror of ``in_train_phase``)."""
    return in_train_phase(alt, x, training=training)


def manual_variable_initialization(value: bool) -> None:
    """Kept for tf.keras compatibility: featherflow variables always hold their value from creation
    (eager execution), so this only records the flag."""
    _settings["manual_variable_initialization"] = bool(value)


name_scope = scopes.name_scope  # keras.backend.name_scope is tf.name_scope


# -- tensors, variables and their values ---------------------------------------------------------------
def _keras_tensor_type():
    from featherflow.keras.layers.node import KerasTensor  # symbolic tensors live with the functional API

    return KerasTensor


def is_keras_tensor(x) -> bool:
    """Whether ``x`` is a symbolic Keras tensor (``keras.Input`` or a layer output on one).

    >>> is_keras_tensor(variable(1.0))
    False
    """
    if isinstance(x, _keras_tensor_type()):
        return True
    if isinstance(x, Tensor):
        return False
    raise ValueError(f"Unexpectedly found an instance of type `{type(x)}`. Expected a symbolic tensor instance.")


def is_sparse(tensor) -> bool:
    """Whether ``tensor`` is sparse: a ``tf.sparse.SparseTensor`` or a symbolic ``Input(sparse=True)``.

    >>> import featherflow as tf
    >>> is_sparse(tf.sparse.from_dense([[1.0, 0.0]])), is_sparse(variable([1.0]))
    (True, False)
    """
    from featherflow.ops.sparse import SparseTensor

    if isinstance(tensor, SparseTensor):
        return True
    return bool(getattr(tensor, "sparse", False)) if isinstance(tensor, _keras_tensor_type()) else False


def to_dense(tensor):
    """``tensor`` as a dense tensor: a ``SparseTensor`` is filled in with zeros, a dense tensor returned as is.

    >>> import featherflow as tf
    >>> to_dense(tf.sparse.SparseTensor([[0, 1]], [5.0], [1, 3])).numpy()
    array([[0., 5., 0.]], dtype=float32)
    """
    from featherflow.ops.sparse import SparseTensor
    from featherflow.ops.sparse import to_dense as sparse_to_dense

    return sparse_to_dense(tensor) if isinstance(tensor, SparseTensor) else tensor


def placeholder(shape=None, ndim=None, dtype=None, sparse=False, name=None, ragged=False):
    """A symbolic input of ``shape`` (batch axis included, ``None`` for unknown sizes): a ``keras.Input``.

    >>> placeholder(shape=(None, 3)).shape
    (None, 3)
    """
    if sparse and ragged:
        raise ValueError("Cannot set both sparse and ragged to True when creating a placeholder.")
    if ragged:
        raise ValueError("featherflow has no ragged tensors: pad the sequences to one length "
                         "(`keras.utils.pad_sequences`) and use a dense placeholder. Received: ragged=True")
    if not shape:
        if ndim:
            shape = (None,) * int(ndim)
        else:
            raise ValueError("`placeholder` needs a `shape` or an `ndim`. Received: shape=None, ndim=None")
    from featherflow.keras.layers.input_layer import Input

    return Input(batch_shape=tuple(shape), dtype=dtype or floatx(), name=name, sparse=sparse or None)


def variable(value, dtype=None, name=None, constraint=None) -> Variable:
    """A variable holding ``value`` (cast to ``dtype``, default ``floatx()``).

    >>> variable([[1, 2]], dtype="float64").numpy()
    array([[1., 2.]])
    """
    return Variable(value, dtype=dtype or floatx(), name=name, constraint=constraint)


def constant(value, dtype=None, shape=None, name=None) -> Tensor:
    """A constant tensor of ``value`` (``dtype`` default ``floatx()``; ``shape`` fills or reshapes)."""
    return ops.constant(value, dtype=dtype or floatx(), shape=shape)


def _check_tensor(x, fn: str):
    if isinstance(x, _keras_tensor_type()):
        raise TypeError(f"`{fn}` needs a concrete tensor or variable; received a symbolic KerasTensor {x}. Run the "
                        "model on data (or use `keras.backend.function`) to get values.")


def get_value(x):
    """The value of a variable or tensor as a NumPy array (other objects are returned unchanged).

    >>> get_value(variable(2.0))
    array(2., dtype=float32)
    """
    _check_tensor(x, "get_value")
    if isinstance(x, Tensor):
        return x.numpy()
    return x


def batch_get_value(tensors) -> list:
    """``[get_value(x) for x in tensors]``."""
    return [get_value(x) for x in tensors]


def eval(x):  # noqa: A001 - Keras's name
    """The value of ``x`` as a NumPy array (``get_value`` of its dense form)."""
    return get_value(to_dense(x))


def set_value(x, value) -> None:
    """Assign ``value`` (array-like, cast to ``x``'s dtype) to the variable ``x`` in place.

    Typical use: ``set_value(model.optimizer.learning_rate, 1e-4)``.
    """
    if not isinstance(x, Variable):
        raise TypeError(f"`set_value` expects a variable (e.g. `model.optimizer.learning_rate` or a layer weight). "
                        f"Received: x of type {type(x).__name__}")
    x.assign(np.asarray(value, dtype=x.dtype))


def batch_set_value(tuples) -> None:
    """``set_value(x, value)`` for each ``(x, value)`` pair."""
    for x, value in tuples:
        set_value(x, value)


def count_params(x) -> int:
    """Number of scalars in ``x`` (a variable or tensor).

    >>> count_params(variable(np.zeros((2, 3))))
    6
    """
    return int(np.prod(int_shape(x)))


def dtype(x) -> str:
    """The dtype name of ``x``, e.g. ``"float32"``."""
    return np.dtype(x.dtype).name


def int_shape(x):
    """The shape of ``x`` as a tuple of ints (``None`` for unknown sizes of symbolic tensors).

    >>> int_shape(np.zeros((2, 3)))
    (2, 3)
    """
    try:
        return tuple(None if d is None else int(d) for d in x.shape)
    except (AttributeError, TypeError):
        return None


def ndim(x) -> int:
    """The rank of ``x``."""
    shape = int_shape(x)
    if shape is None:
        shape = np.shape(x)
    return len(shape)


def shape(x) -> Tensor:
    """The shape of ``x`` as an int32 tensor."""
    _check_tensor(x, "shape")
    return ops.shape(x)


def print_tensor(x, message: str = "", summarize: int = 3):
    """Print ``message`` and the value of ``x`` to standard output, and return ``x`` unchanged."""
    ops.print(message, x, output_stream=sys.stdout, summarize=summarize)
    return x


def gradients(loss, variables):
    """Graph-mode only in TensorFlow 2 (as here): use ``tf.GradientTape`` instead."""
    raise RuntimeError("tf.gradients is not supported when eager execution is enabled. Use tf.GradientTape instead.")


def stop_gradient(variables):
    """``x`` (or each tensor of a list) with its gradient blocked."""
    if isinstance(variables, (list, tuple)):
        return [ops.stop_gradient(v) for v in variables]
    return ops.stop_gradient(variables)


def _as_variable(x, fn: str) -> Variable:
    if not isinstance(x, Variable):
        raise TypeError(f"`{fn}` updates a variable in place. Received: x of type {type(x).__name__}")
    return x


def update(x, new_x) -> Variable:
    """``x.assign(new_x)``."""
    return _as_variable(x, "update").assign(new_x)


def update_add(x, increment) -> Variable:
    """``x.assign_add(increment)``."""
    return _as_variable(x, "update_add").assign_add(increment)


def update_sub(x, decrement) -> Variable:
    """``x.assign_sub(decrement)``."""
    return _as_variable(x, "update_sub").assign_sub(decrement)


def moving_average_update(x, value, momentum) -> Variable:
    """``x = x * momentum + value * (1 - momentum)``, in place.

    >>> v = variable(1.0); _ = moving_average_update(v, 3.0, 0.75); float(get_value(v))
    1.5
    """
    x = _as_variable(x, "moving_average_update")
    value = convert_to_tensor(value, dtype=x.dtype)
    momentum = np.asarray(momentum, dtype=x.dtype)
    return x.assign_sub((x - value) * (1 - momentum))


def function(inputs, outputs, updates=None, name=None, **kwargs):
    """A callable computing ``outputs`` from symbolic ``inputs`` (a functional model inside), returning NumPy.

    The usual use reads intermediate activations::

        get_hidden = K.function([model.input], [model.layers[1].output])
        hidden = get_hidden([x])[0]
    """
    if kwargs:
        raise ValueError(f"Session keyword arguments are not supported during eager execution. You passed: {kwargs}")
    if updates:
        raise ValueError(f"`updates` argument is not supported during eager execution. You passed: {updates}")
    from featherflow.keras.models.model import Model

    model = Model(inputs=inputs, outputs=outputs, name=name)
    wrap_outputs = isinstance(outputs, list) and len(outputs) == 1

    def func(model_inputs):
        outs = model(model_inputs)
        if wrap_outputs:
            outs = [outs]
        if isinstance(outs, (list, tuple)):
            return [o.numpy() if isinstance(o, Tensor) else o for o in outs]
        return outs.numpy() if isinstance(outs, Tensor) else outs

    return func
