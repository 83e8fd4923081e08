"""``keras.Model``: a layer that groups layers and knows how to train (``compile``/``fit``/...).

Three ways to make one, as in tf.keras:

* functional: ``keras.Model(inputs, outputs)`` (returns a ``Functional`` model);
* ``keras.Sequential([...])``;
* subclassing: define the layers in ``__init__`` and the computation in ``call``.

>>> from featherflow import keras
>>> keras.backend.clear_session()  # layer names restart at "dense"
>>> class TwoLayers(keras.Model):
...     def __init__(self):
...         super().__init__()
...         self.hidden = keras.layers.Dense(4, activation="relu")
...         self.out = keras.layers.Dense(1)
...     def call(self, inputs):
...         return self.out(self.hidden(inputs))
>>> model = TwoLayers()
>>> model([[1.0, 2.0, 3.0]]).shape
(1, 1)
>>> [layer.name for layer in model.layers], model.count_params()
(['dense', 'dense_1'], 21)
"""

from __future__ import annotations

import numpy as np

from featherflow.core import Tensor, pause_all_tapes
from featherflow.core.runtime import inferring_shapes_scope
from featherflow.core.runtime import state as _runtime
from featherflow.keras.layers.base import Layer, _to_snake_case, default_training
from featherflow.keras.models.trainer import TrainerMixin

_MODEL_KWARGS = frozenset({"trainable", "dtype", "dynamic", "name", "autocast", "inputs", "outputs"})



def _is_builtin(layer) -> bool:
    """Whether ``layer`` and the layers inside it are featherflow's own classes (no user ``call`` code, no
    ``Lambda`` wrapping a user function)."""
    kind = type(layer)
    if not kind.__module__.startswith("featherflow.") or kind.__name__ == "Lambda":
        return False
    return all(_is_builtin(inner) for inner in getattr(layer, "_layers", ()))


def _builtin_layers_only(plan) -> bool:
    """``model(x)`` replays a traced forward pass only for models made of built-in layers: with a user's layer
    in it, ``model(x)`` stays eager as in tf.keras (its Python runs at every call; ``predict`` traces it, as
    tf.keras's ``predict_function`` does)."""
    return all(_is_builtin(layer) for layer in plan.flat_layers)

class Model(TrainerMixin, Layer):
    """A group of layers with training and inference features.

    Args:
        inputs: for the functional API, the ``keras.Input`` tensor(s) (a tensor, list or dict).
        outputs: the output tensor(s) computed from ``inputs`` by calling layers.
        name: the model's name (default ``model``, ``model_1``, ... or the snake-cased class name).
        trainable: whether the model's weights are updated by ``fit``.

    Subclasses implement ``call(inputs, training=None, mask=None)`` and create their layers in
    ``__init__``; layers assigned as attributes are tracked (``model.layers``, weights).
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from featherflow.keras.models.functional import Functional

            return object.__new__(Functional)
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        inputs = kwargs.pop("inputs", None)
        outputs = kwargs.pop("outputs", None)
        if args:
            if inputs is not None:
                raise TypeError("Model() got multiple values for argument 'inputs'.")
            inputs, args = args[0], args[1:]
        if args:
            if outputs is not None:
                raise TypeError("Model() got multiple values for argument 'outputs'.")
            outputs, args = args[0], args[1:]
        if args:
            raise TypeError(f"Model() takes at most 2 positional arguments (inputs, outputs); received {len(args) + 2}.")
        unknown = set(kwargs) - _MODEL_KWARGS
        if unknown:
            raise TypeError(f"Keyword argument not understood: {sorted(unknown)[0]!r}. Received: "
                            f"Model({', '.join(sorted(unknown))}=...). Valid arguments: inputs, outputs, name, "
                            "trainable, dtype.")
        name = kwargs.pop("name", None)
        if name is None:
            from featherflow.keras import backend as K

            base = "model" if type(self).__name__ in ("Model", "Functional") else _to_snake_case(type(self).__name__)
            name = K.unique_name(base)
        super().__init__(trainable=kwargs.pop("trainable", True), name=name, dtype=kwargs.pop("dtype", None))
        self._is_graph_network = False
        self._init_model_state()
        if (inputs is None) != (outputs is None):
            raise ValueError("A functional model needs both `inputs` and `outputs`. Received: "
                             f"inputs={inputs!r}, outputs={outputs!r}")
        if inputs is not None:
            from featherflow.keras.models.functional import init_graph

            init_graph(self, inputs, outputs)

    def _init_model_state(self) -> None:
        self.inputs = None
        self.outputs = None
        self._build_input_shape = None
        self._plan = None
        self._init_trainer_state()

    # -- calling ------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if len(args) == 1 and self._is_graph_network and (not kwargs or (len(kwargs) == 1 and "training" in kwargs)):
            x = args[0]
            kind = type(x)
            if (kind is np.ndarray or (kind is Tensor and x._keras_mask is None)) and x.ndim and \
                    x.dtype.kind in "biuf" and self.activity_regularizer is None:
                plan = self._plan
                if plan is None:
                    from featherflow.keras.models.functional import get_plan

                    plan = get_plan(self)
                if plan.accepts_single(x):
                    return self._call_plan(plan, x, kwargs.get("training"))
                if len(plan.input_shapes) == 1:
                    from featherflow.keras.models.functional import conform_input

                    conformed = conform_input(x, plan.input_shapes[0])  # (N,) data for Input(shape=(1,))
                    if conformed is not x and plan.accepts_single(conformed):
                        return self._call_plan(plan, conformed, kwargs.get("training"))
        if args and self._is_graph_network:
            from featherflow.keras.models.functional import conform_inputs, flatten_model_inputs

            inputs = args[0]
            if isinstance(inputs, dict):
                flat = flatten_model_inputs(self, inputs)  # by input name; raises on a missing one
                flat = [np.asarray(v) if isinstance(v, (list, tuple)) else v for v in flat]
                inputs = flat[0] if len(flat) == 1 else flat
            args = (conform_inputs(self, inputs),) + args[1:]
        runtime = _runtime  # this thread's (core/runtime.py)
        if runtime.model_call_depth == 0 and self._losses_to_clear():
            self._clear_losses()
        runtime.model_call_depth += 1
        try:
            return super().__call__(*args, **kwargs)
        finally:
            runtime.model_call_depth -= 1

    def _call_plan(self, plan, x, training):
        """``model(x)`` for one array that fits the graph's only input: run the cached plan directly."""
        runtime = _runtime
        if runtime.model_call_depth == 0:
            if self._losses:
                self._losses = []
            for layer in plan.flat_layers:
                if layer._losses:
                    layer._losses = []
        dtype = plan.input_dtypes[0]
        if training is None:
            training = default_training()
        if not training and not runtime.tapes and x.shape[0] and \
                (type(x) is np.ndarray or type(x.value) is np.ndarray) and \
                plan.memo("builtin_layers_only", _builtin_layers_only):
            # Inference outside any tape: the plan's compiled forward pass (steps.CompiledForward; the same
            # numbers, no per-layer Tensors), for an input shape seen before
            forward = plan.derived.get("compiled_forward")
            if forward is None:
                from featherflow.keras.models.steps import CompiledForward

                forward = plan.memo("compiled_forward", lambda p: CompiledForward(p, self))
            a = x if type(x) is np.ndarray else x.value
            out = forward.call(a if a.dtype == dtype else a.astype(dtype))
            if out is not None:
                return out
        if type(x) is np.ndarray:
            x = Tensor(x if x.dtype == dtype else x.astype(dtype))
        elif x.dtype != dtype:
            x = Tensor(x.value.astype(dtype))
        previous = runtime.training
        runtime.training = training
        runtime.model_call_depth += 1
        try:
            return plan.run([x], training)
        finally:
            runtime.model_call_depth -= 1
            runtime.training = previous

    def _losses_to_clear(self) -> bool:
        return bool(self._losses) or any(layer._losses for layer in self._flat_layers())

    def _keeps_int_inputs(self) -> bool:
        # Integer inputs reach the inner layers unchanged; each layer (or Input) casts for itself.
        return True

    def _keeps_string_inputs(self) -> bool:
        return True  # strings reach the inner layers as string tensors (TextVectorization, StringLookup, ...)

    def call(self, inputs, training=None, mask=None):
        """The model's forward pass; subclassed models must implement it."""
        if self._is_graph_network:
            from featherflow.keras.models.functional import run_graph

            return run_graph(self, inputs, training, mask)
        raise NotImplementedError(
            f"Model {type(self).__name__} has no `call()` method. When subclassing `Model`, implement "
            "`call(self, inputs, training=None)`; or build a functional model with `keras.Model(inputs, outputs)`."
        )

    def build(self, input_shape) -> None:
        """Build a subclassed model by calling it on zeros of ``input_shape`` (``None`` axes -> 1)."""
        if self._is_graph_network:
            self.built = True
            return
        if input_shape is None:
            raise ValueError("Input shape must be defined when calling `build()` on a `Model` subclass.")
        if isinstance(input_shape, dict):
            raise ValueError("A subclassed model cannot be built from a dict of shapes; call it on data instead.")
        shapes = input_shape if isinstance(input_shape, list) and input_shape and \
            isinstance(input_shape[0], (tuple, list)) else [input_shape]
        dummies = [Tensor(np.zeros(tuple(1 if d is None else int(d) for d in s), dtype=self.dtype)) for s in shapes]
        self._build_input_shape = input_shape
        self.built = True  # set first: `self(...)` below must not recurse into `build`
        try:
            with inferring_shapes_scope(), pause_all_tapes():
                self.call(dummies[0] if len(dummies) == 1 else dummies)
        except (TypeError, ValueError) as exc:
            self.built = False
            raise ValueError(
                f"You cannot build your model by calling `build` if your layers do not support float type inputs, "
                f"or if `call` fails on zeros of shape {input_shape}. Call the model on real data instead. "
                f"Original error: {exc}"
            ) from exc
        if not self._is_graph_network:
            self._clear_losses()
        if "_pending_restores" in self.__dict__:
            self._run_pending_restores()

    # -- structure ------------------------------------------------------------------------
    @property
    def layers(self) -> list:
        """The model's direct sub-layers, in order (``InputLayer``s included for functional models; metrics held
        as attributes are in ``metrics`` instead, as in tf.keras)."""
        return [layer for layer in self._layers if not getattr(layer, "_is_metric", False)]

    def _flat_layers(self) -> list:
        """Every layer inside this model, nested models' layers included (each once)."""
        out, seen, stack = [], set(), list(reversed(self._layers))
        while stack:
            layer = stack.pop()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            out.append(layer)
            stack.extend(reversed(layer._layers))
        return out

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by ``name`` or by ``index`` in ``model.layers`` (index wins if both are given)."""
        if index is not None and name is not None:
            raise ValueError(f"Provide only a layer name or a layer index. Received: index={index}, name={name}.")
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
                raise TypeError(f"`index` must be an integer. Received: index={index!r}")
            layers = self.layers
            if len(layers) <= index:
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only has {len(layers)} "
                                 "layers.")
            return layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError(f"No such layer: {name}. Existing layers are: {[layer.name for layer in self.layers]}.")
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    def _assert_weights_created(self) -> None:
        # tf.keras's rule: a model class that defines its own `build` (Sequential, or a subclass overriding it)
        # has no weights to list before it is built; reading them is an error, not an empty list.
        cls = type(self)
        if self.built or getattr(self, "dynamic", False) or cls is Model or "build" not in cls.__dict__:
            return
        raise ValueError(f"Weights for model '{self.name}' have not yet been created. Weights are created when the "
                         "model is first called on inputs or `build()` is called with an `input_shape`.")

    @property
    def trainable_weights(self) -> list:
        self._assert_weights_created()
        return super().trainable_weights

    @property
    def non_trainable_weights(self) -> list:
        self._assert_weights_created()
        return super().non_trainable_weights

    @property
    def weights(self) -> list:
        """All weights, layer by layer (each layer's trainable then non-trainable ones), as Keras orders them."""
        self._assert_weights_created()
        out, seen = [], set()
        for w in self._own_and_layer_weights():
            if id(w) not in seen:
                seen.add(id(w))
                out.append(w)
        return out

    def _own_and_layer_weights(self):
        for layer in self._layers:
            yield from layer.weights
        yield from self._trainable_weights
        yield from self._non_trainable_weights

    def get_weights(self) -> list:
        """All weights as NumPy arrays, in ``model.weights`` order."""
        return [w.numpy() for w in self.weights]

    def count_params(self) -> int:
        """Number of scalars in all the model's weights (the model must be built)."""
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer {self.name}, but the layer isn't built. "
                f"You can build it manually via: `{self.name}.build(batch_input_shape)`."
            )
        return int(sum(int(np.prod(w.shape)) for w in self.weights))

    @property
    def input_names(self) -> list:
        return list(getattr(self, "_input_names", []))

    @property
    def output_names(self) -> list:
        names = getattr(self, "_output_names", None)
        if names is None:
            return ["output_1"]
        return list(names)

    @property
    def input_shape(self):
        if self.inputs:
            shapes = [t.shape for t in self.inputs]
            return shapes[0] if len(shapes) == 1 else shapes
        return super().input_shape

    @property
    def output_shape(self):
        if self.outputs:
            shapes = [t.shape for t in self.outputs]
            return shapes[0] if len(shapes) == 1 else shapes
        return super().output_shape

    # -- saving: thin methods delegating to featherflow/keras/saving ---------------------------------------
    def save(self, filepath, overwrite: bool = True, save_format: str | None = None, **kwargs) -> None:
        """Save the model (config, weights, compile config and optimizer state) to ``filepath``.

        ``"m.keras"`` writes the zip archive, ``"m.h5"`` the legacy HDF5 file, a path without an
        extension a directory with the archive's members. Atomic: a crash keeps the previous file.
        """
        from featherflow.keras.saving import saving_lib

        saving_lib.save_model(self, filepath, overwrite=overwrite, save_format=save_format, **kwargs)

    def save_weights(self, filepath, overwrite: bool = True, save_format: str | None = None, options=None) -> None:
        """Save all variables (and the optimizer's state) to ``.weights.h5`` / ``.h5`` or ``.npz``."""
        from featherflow.keras.saving import saving_api

        saving_api.save_weights(self, filepath, overwrite=overwrite, save_format=save_format, options=options)

    def load_weights(self, filepath, skip_mismatch: bool = False, by_name: bool = False, options=None):
        """Load weights saved by ``save_weights`` / ``save`` (format detected from the file); into a model not
        built yet, restored on its first call (non-HDF5 files). Returns a status for non-HDF5 files."""
        from featherflow.keras.saving import saving_api

        return saving_api.load_weights(self, filepath, skip_mismatch=skip_mismatch, by_name=by_name, options=options)

    def to_json(self, **kwargs) -> str:
        """The architecture as JSON; rebuild it with ``keras.models.model_from_json``."""
        from featherflow.keras.saving import saving_api

        return saving_api.to_json(self, **kwargs)

    def to_yaml(self, **kwargs):
        """Removed in tf.keras 2.6+ (YAML loading could run code); use ``to_json``."""
        raise RuntimeError("Method `model.to_yaml()` has been removed due to security risk of arbitrary code "
                           "execution. Please use `model.to_json()` instead.")

    # -- summary ------------------------------------------------------------------------------
    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None) -> None:
        """Print a table of the model's layers, output shapes and parameter counts (tf.keras 2.12 layout).

        Args:
            line_length: total width of a line (default 65, or 98 with a "Connected to" column).
            positions: column end positions, relative (``<= 1``) or absolute.
            print_fn: called with each line (default ``print``).
            expand_nested: also list the layers inside nested models.
            show_trainable: add a "Trainable" column.
            layer_range: ``[first_name, last_name]`` (inclusive) to print a slice of the layers.
        """
        from featherflow.keras.models.summary import print_summary

        if not self.built:
            raise ValueError(
                "This model has not yet been built. Build the model first by calling `build()` or by calling "
                "the model on a batch of data."
            )
        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      expand_nested=expand_nested, show_trainable=show_trainable, layer_range=layer_range)

    # -- config -------------------------------------------------------------------------------
    def get_config(self) -> dict:
        """Subclassed models return ``{}`` unless they override ``get_config`` (as in Keras)."""
        if self._is_graph_network:
            from featherflow.keras.models.functional import functional_config

            return functional_config(self)
        return {}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        if "layers" in config and "input_layers" in config:
            from featherflow.keras.models.functional import functional_from_config

            return functional_from_config(cls, config, custom_objects)
        try:
            return cls(**config)
        except TypeError as exc:
            raise TypeError(f"Unable to revive model from config. When overriding `get_config()`, make sure that "
                            f"it returns a dict with the arguments of `__init__`. Error: {exc}") from exc

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__name__} object '{self.name}'>"
