"""``Layer``: the Keras layer contract (config in ``__init__``, weights in ``build``, math in ``call``).

>>> from featherflow import keras
>>> class Scale(keras.layers.Layer):
...     def build(self, input_shape):
...         self.w = self.add_weight(name="w", shape=(input_shape[-1],), initializer="ones")
...     def call(self, inputs):
...         return inputs * self.w
>>> layer = Scale()
>>> layer([[1.0, 2.0]]).numpy()
array([[1., 2.]], dtype=float32)
>>> [w.shape for w in layer.get_weights()]
[(2,)]
"""

from __future__ import annotations

import inspect
import re

import numpy as np

from featherflow.core import Tensor, convert_to_tensor
from featherflow.core.runtime import count_loss_event
from featherflow.core.runtime import state as _runtime
from featherflow.core.string_tensor import to_string_array
from featherflow.keras import backend as K
from featherflow.keras import mixed_precision
from featherflow.keras.layers._weights import LayerWeights, _weight_creation_hooks  # noqa: F401 (re-exported)
from featherflow.keras.layers.input_spec import check_input_compatibility

_ALLOWED_KWARGS = frozenset({
    "input_dim", "input_shape", "batch_input_shape", "batch_size", "weights", "activity_regularizer",
    "autocast", "implementation", "input_length",
})
_signature_cache: dict = {}


def default_training():
    """The ``training`` flag of a call made without one: the enclosing layer call's, else the phase fixed by
    ``keras.backend.set_learning_phase`` (as a bool), else ``None``."""
    training = _runtime.training
    if training is None:
        phase = K.global_learning_phase()
        if phase is not None:
            return bool(phase)
    return training


def _to_snake_case(name: str) -> str:
    s = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)  # Keras's rules: Conv2D -> conv2d
    s = re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()
    return s if not s.startswith("_") else "private" + s


def _call_flags(cls):
    """Whether ``cls.call`` accepts ``training`` and ``mask`` (cached per class)."""
    flags = _signature_cache.get(cls)
    if flags is None:
        params = inspect.signature(cls.call).parameters
        var_kw = any(p.kind is p.VAR_KEYWORD for p in params.values())
        flags = ("training" in params or var_kw, "mask" in params or var_kw)
        _signature_cache[cls] = flags
    return flags


def flatten(structure) -> list:
    """Flatten nested lists/tuples/dicts (dicts in key order) to a list of leaves."""
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten(structure[key])]
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def map_structure(fn, structure):
    """Apply ``fn`` to every leaf of a nested list/tuple/dict, keeping the structure."""
    if isinstance(structure, dict):
        return {k: map_structure(fn, v) for k, v in structure.items()}
    if isinstance(structure, list):
        return [map_structure(fn, v) for v in structure]
    if isinstance(structure, tuple):
        return tuple(map_structure(fn, v) for v in structure)
    return fn(structure)


def _numbers_to_arrays(structure):
    """Inside a dict/list of inputs, each nested list of Python numbers is one array input."""
    if isinstance(structure, dict):
        return {k: _numbers_to_arrays(v) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        leaves = flatten(structure)
        if leaves and all(isinstance(x, (int, float, bool, np.number)) for x in leaves):
            return np.asarray(structure)
        items = [_numbers_to_arrays(v) for v in structure]
        return items if isinstance(structure, list) else tuple(items)
    return structure


class Layer(LayerWeights):
    """Base class of all layers.

    Args:
        trainable: whether the layer's weights are updated by training.
        name: unique name; defaults to the snake-cased class name with a counter (``dense_1``).
        dtype: the layer's float type (default ``floatx()``); float inputs are cast to it.
        input_shape / batch_input_shape / input_dim / batch_size: on a model's first layer,
            declare the input (``input_shape`` excludes the batch axis).
        activity_regularizer: optional penalty on the layer's outputs, added to ``losses``.
    """

    def __init__(self, trainable=True, name=None, dtype=None, dynamic=False, **kwargs):
        unknown = set(kwargs) - _ALLOWED_KWARGS
        if unknown:
            raise TypeError(f"Keyword argument not understood: {sorted(unknown)[0]!r}. Received: "
                            f"{type(self).__name__}({', '.join(sorted(unknown))}=...)")
        object.__setattr__(self, "_layers", [])
        self._trainable_weights: list = []
        self._non_trainable_weights: list = []
        self._losses: list = []
        self._inbound_nodes: list = []
        self._outbound_nodes: list = []
        self._trainable = bool(trainable)
        self.built = False
        self.input_spec = None
        self.supports_masking = False
        self.stateful = False
        self._dtype = mixed_precision.layer_dtype(dtype)  # a dtype, a policy (or its name), or the global policy
        self._policy = mixed_precision.layer_policy(dtype)
        if name is None:
            name = K.unique_name(_to_snake_case(type(self).__name__))
        elif not isinstance(name, str):
            raise TypeError(f"A layer's name must be a string. Received: name={name!r}")
        self.name = name
        self._batch_input_shape = None
        if "batch_input_shape" in kwargs:
            self._batch_input_shape = tuple(kwargs["batch_input_shape"])
        elif "input_shape" in kwargs or "input_dim" in kwargs:
            shape = kwargs.get("input_shape")
            if shape is None:
                shape = (kwargs["input_dim"],)
            if isinstance(shape, int):
                shape = (shape,)
            self._batch_input_shape = (kwargs.get("batch_size"),) + tuple(shape)
        self._initial_weights = kwargs.get("weights")
        from featherflow.keras import regularizers  # layer below keras root; imported lazily to avoid a cycle

        self.activity_regularizer = regularizers.get(kwargs.get("activity_regularizer"))
        self._call_has_training, self._call_has_mask = _call_flags(type(self))

    # -- attribute tracking ------------------------------------------------------
    def __setattr__(self, name, value):
        if isinstance(value, Layer) and name != "_outer" and value is not self:
            layers = self.__dict__.get("_layers")
            if layers is not None and not any(lay is value for lay in layers):
                layers.append(value)
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, Layer) for v in value) \
                and not name.startswith("_"):
            layers = self.__dict__.get("_layers")
            if layers is not None:
                for v in value:
                    if not any(lay is v for lay in layers):
                        layers.append(v)
        object.__setattr__(self, name, value)

    # -- properties --------------------------------------------------------------
    @property
    def dtype(self) -> str:
        """The layer's variable and compute dtype, e.g. ``"float32"``."""
        return self._dtype

    @property
    def dtype_policy(self):
        """The layer's ``keras.mixed_precision.Policy``: the one it was given (or the global one then), else
        its dtype's. Under a mixed policy featherflow computes in the variable dtype (see ``mixed_precision``).

        >>> from featherflow import keras
        >>> keras.layers.Dense(2, dtype="mixed_float16").dtype_policy
        <Policy "mixed_float16">
        """
        policy = self.__dict__.get("_policy")
        return policy if policy is not None else mixed_precision.Policy(self._dtype)

    @property
    def compute_dtype(self) -> str:
        return self._dtype

    @property
    def variable_dtype(self) -> str:
        return self._dtype

    # -- losses ----------------------------------------------------------------------
    def add_loss(self, loss) -> None:
        """Add a scalar loss tensor (or zero-argument callable) to ``losses``."""
        if callable(loss) and not isinstance(loss, Tensor):
            loss = loss()
        count_loss_event()  # lets a compiled step skip looking for losses when none were added
        self._losses.append(loss if isinstance(loss, Tensor) else convert_to_tensor(loss, dtype_hint=self._dtype))

    def add_metric(self, value, name=None, **kwargs) -> None:
        """Track the running mean of ``value`` as a metric ``name`` (tf.keras 2's ``Layer.add_metric``).

        Called in ``call()``: the first call creates a ``keras.metrics.Mean`` named ``name`` (listed in the
        model's ``metrics``, so ``fit``/``evaluate`` log it and reset it each epoch) and every call adds
        ``value`` to it; a value computed by a ``Metric`` (``add_metric(mean_metric(x))``) keeps that metric.

        Args:
            value: the tensor to average (a scalar, or values averaged over all their elements).
            name: the metric's name in the logs (required unless ``value`` comes from a ``Metric``).
            aggregation: tf.keras's deprecated argument, accepted and ignored as there (values are averaged).

        >>> from featherflow import keras
        >>> class Scale(keras.layers.Layer):
        ...     def call(self, x):
        ...         self.add_metric(x, name="mean_input")
        ...         return 2 * x
        >>> layer = Scale()
        >>> _ = layer(np.array([[1.0, 3.0]])); _ = layer(np.array([[5.0, 7.0]]))
        >>> [(m.name, float(m.result())) for m in layer.metrics]
        [('mean_input', 4.0)]
        """
        unknown = [key for key in kwargs if key != "aggregation"]
        if unknown:
            raise TypeError(f"Unknown keyword arguments: {sorted(kwargs)}. Expected `aggregation`.")
        metric_obj = getattr(value, "_metric_obj", None)
        if metric_obj is not None:
            name = metric_obj.name
        if name is None:
            raise ValueError("Please provide a name for your metric like `self.add_metric(tf.reduce_sum(inputs), "
                             "name='mean_activation')`")
        from featherflow.keras.layers.node import KerasTensor

        if isinstance(value, KerasTensor):
            raise ValueError(f"`add_metric` on the symbolic tensor {value!r} outside a layer's call is not supported "
                             "by featherflow. Call `self.add_metric(...)` inside the `call()` of a layer that receives "
                             f"it instead. Received: name={name!r}")
        metrics = self.__dict__.get("_metrics")
        if metrics is None:
            metrics = []
            object.__setattr__(self, "_metrics", metrics)
        existing = next((m for m in metrics if m.name == name), None)
        if existing is None:
            if metric_obj is None:
                from featherflow.keras.metrics import Mean  # metrics are layers: imported here, not at the top

                existing = Mean(name=name, dtype=getattr(value, "dtype", None))
            else:
                existing = metric_obj
            metrics.append(existing)
        # a metric's own result is already counted; a shape-inference run on dummy data counts nothing
        if metric_obj is None and not _runtime.inferring_shapes:
            existing.update_state(value)

    @property
    def metrics(self) -> list:
        """The metrics added with ``add_metric`` by this layer and the layers inside it."""
        out = list(self.__dict__.get("_metrics", ()))
        for layer in self._layers:
            out.extend(m for m in layer.metrics if not any(m is x for x in out))
        return out

    def _clear_losses(self) -> None:
        self._losses = []
        for layer in self._layers:
            layer._clear_losses()

    # -- building and calling ---------------------------------------------------------------
    def build(self, input_shape) -> None:
        """Create the layer's weights for ``input_shape`` (a tuple with ``None`` batch)."""
        self.built = True

    def call(self, inputs, *args, **kwargs):
        """The layer's computation; the default returns the inputs unchanged."""
        return inputs

    def _maybe_build(self, input_shapes) -> None:
        if not self.built:
            shape = input_shapes[0] if len(input_shapes) == 1 else input_shapes
            self.build(shape)
            self.built = True
            if self._initial_weights is not None:
                self.set_weights(self._initial_weights)
                self._initial_weights = None
            if "_pending_restores" in self.__dict__:
                self._run_pending_restores()

    def _convert_input(self, x):
        """Inputs as tensors of the layer's dtype (integer inputs too, unless ``_keeps_int_inputs``)."""
        if x is None:
            return None
        if isinstance(x, Tensor):
            arr = x.value
        else:
            arr = np.asarray(x)
            if arr.dtype.kind in "USO" and self._keeps_string_inputs():
                strings = to_string_array(arr)  # a string tensor (object array of bytes) for the inner layers
                if strings is not None:
                    return Tensor(strings)
            if arr.dtype.kind in "USO":
                raise TypeError(
                    f'Layer "{self.name}" expects numeric inputs; received an array of dtype {arr.dtype}. '
                    "Encode strings as numbers first (e.g. with a lookup table)."
                )
        kind = arr.dtype.kind
        if arr.dtype.name == self._dtype or (kind in "iub" and self._keeps_int_inputs()):
            return x if isinstance(x, Tensor) else Tensor(arr)
        if kind in "fiub":
            out = Tensor(arr.astype(self._dtype))
            if isinstance(x, Tensor):
                out._keras_mask = x._keras_mask
            return out
        return x if isinstance(x, Tensor) else Tensor(arr)

    def _keeps_int_inputs(self) -> bool:
        """Layers that index with their inputs (Embedding) keep integer inputs; others cast to float."""
        return False

    def _keeps_string_inputs(self) -> bool:
        """Models (whose text layers take strings) accept string inputs; other layers refuse them."""
        return False

    def __call__(self, *args, **kwargs):
        from featherflow.keras.layers import node

        if args:
            inputs, args = args[0], args[1:]
        elif "inputs" in kwargs:
            inputs = kwargs.pop("inputs")
        else:
            raise ValueError(f'Layer "{self.name}" was called without inputs.')
        leaves = flatten(inputs)
        if isinstance(inputs, (list, tuple)) and leaves and all(
                isinstance(x, (int, float, bool, np.number)) for x in leaves):
            inputs = np.asarray(inputs)  # nested Python numbers are one input, not a list of inputs
            leaves = [inputs]
        elif isinstance(inputs, (dict, list, tuple)):
            inputs = _numbers_to_arrays(inputs)
            leaves = flatten(inputs)
        if any(isinstance(x, node.KerasTensor) for x in leaves):
            return node.symbolic_call(self, inputs, args, kwargs)
        inputs = map_structure(self._convert_input, inputs)
        leaves = flatten(inputs)
        if not self.built:
            self._maybe_build([x.shape for x in leaves if x is not None])
        if self.input_spec is not None:
            check_input_compatibility(self.input_spec, [x.shape for x in leaves if x is not None], self.name)
        if self._call_has_training:
            if kwargs.get("training") is None:
                kwargs["training"] = default_training()
            training = kwargs["training"]
        else:
            # Not an argument of `call`, but still the mode of the inner layers' calls (as in tf.keras).
            training = kwargs.pop("training", None)
            if training is None:
                training = default_training()
        if self._call_has_mask and "mask" not in kwargs:
            masks = [getattr(x, "_keras_mask", None) for x in leaves]
            if any(m is not None for m in masks):
                kwargs["mask"] = masks[0] if len(leaves) == 1 else map_structure(
                    lambda x: getattr(x, "_keras_mask", None), inputs)
        runtime = _runtime  # this thread's call context (core/runtime.py)
        if runtime.model_call_depth == 0 and (self._losses or self._layers):
            self._clear_losses()  # an outermost call starts afresh: `losses` are those of the last call (tf.keras)
        previous = runtime.training
        runtime.training = training
        runtime.model_call_depth += 1
        try:
            outputs = self.call(inputs, *args, **kwargs)
        finally:
            runtime.model_call_depth -= 1
            runtime.training = previous
        self._set_output_masks(inputs, outputs, kwargs.get("mask"))
        if self.activity_regularizer is not None:
            for out in flatten(outputs):
                if isinstance(out, Tensor):
                    from featherflow.ops import cast

                    batch = out.shape[0] if out.ndim else 1
                    self.add_loss(self.activity_regularizer(out) / cast(max(batch, 1), out.dtype))
        return outputs

    def _set_output_masks(self, inputs, outputs, mask) -> None:
        if not self.supports_masking and type(self).compute_mask is Layer.compute_mask:
            return
        if mask is None:
            leaves = flatten(inputs)
            masks = [getattr(x, "_keras_mask", None) for x in leaves]
            mask = masks[0] if len(masks) == 1 else (masks if any(m is not None for m in masks) else None)
        out_mask = self.compute_mask(inputs, mask)
        if out_mask is None:
            return
        out_leaves = flatten(outputs)
        mask_leaves = flatten(out_mask) if isinstance(out_mask, (list, tuple)) else [out_mask] * len(out_leaves)
        for out, m in zip(out_leaves, mask_leaves):
            if isinstance(out, Tensor):
                out._keras_mask = m

    def compute_mask(self, inputs, mask=None):
        """The output mask: passed through when ``supports_masking``, else ``None``."""
        if not self.supports_masking:
            if mask is not None and any(m is not None for m in flatten(mask)):
                raise TypeError(
                    f'Layer "{self.name}" does not support masking, but was passed an input mask. '
                    "Remove the Masking/Embedding(mask_zero=True) layer before it, or use a layer that "
                    "supports masking."
                )
            return None
        return mask

    def compute_output_shape(self, input_shape):
        """Output shape for ``input_shape``; the default runs ``call`` on small dummy inputs."""
        from featherflow.keras.layers import node

        return node.infer_output_shapes(self, input_shape)

    # -- checkpoints ---------------------------------------------------------------------------
    def _trackable_children(self) -> dict:
        """``{name: sub-layer or variable}`` for ``tf.train.Checkpoint`` (see ``layers/tracking.py``)."""
        from featherflow.keras.layers.tracking import trackable_children

        return trackable_children(self)

    def _run_pending_restores(self) -> None:
        """Restore checkpointed values waiting for this layer's variables (run once it is built)."""
        from featherflow.keras.layers.tracking import run_pending_restores

        run_pending_restores(self)

    # -- config ------------------------------------------------------------------------------
    def get_config(self) -> dict:
        """The constructor arguments that recreate this layer (without weights)."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": self._dtype}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = self._batch_input_shape
        own = inspect.signature(type(self).__init__).parameters
        extra = [p for p in own if p not in ("self", "trainable", "name", "dtype", "dynamic", "kwargs", "args")]
        if extra and type(self).get_config is Layer.get_config:
            raise NotImplementedError(
                f"Layer {type(self).__name__} has arguments {extra} in `__init__()` and therefore must override "
                "`get_config()`."
            )
        return config

    @classmethod
    def from_config(cls, config):
        """Create a layer from ``get_config()``'s output."""
        return cls(**config)

    # -- misc --------------------------------------------------------------------------------
    @property
    def input_shape(self):
        if self._inbound_nodes:
            shapes = [t.shape for t in self._inbound_nodes[0].input_tensors]
            return shapes[0] if len(shapes) == 1 else shapes
        if self._batch_input_shape is not None:
            return self._batch_input_shape
        raise AttributeError(f'The layer "{self.name}" has never been called and thus has no defined input shape.')

    @property
    def output_shape(self):
        if self._inbound_nodes:
            per_node = []
            for node in self._inbound_nodes:
                shapes = [t.shape for t in flatten(node.outputs)]
                per_node.append(shapes[0] if len(shapes) == 1 else shapes)
            if any(s != per_node[0] for s in per_node[1:]):
                raise AttributeError(
                    f'The layer "{self.name}" has multiple inbound nodes, with different output shapes. Hence the '
                    "notion of \"output shape\" is ill-defined for the layer.")
            return per_node[0]
        raise AttributeError(f'The layer "{self.name}" has never been called and thus has no defined output shape.')

    @property
    def input(self):
        if not self._inbound_nodes:
            raise AttributeError(f'Layer "{self.name}" is not connected, no input to return.')
        ins = self._inbound_nodes[0].input_tensors
        return ins[0] if len(ins) == 1 else ins

    @property
    def output(self):
        if not self._inbound_nodes:
            raise AttributeError(f'Layer "{self.name}" has no inbound nodes.')
        return self._inbound_nodes[0].outputs

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__name__} object '{self.name}'>"
