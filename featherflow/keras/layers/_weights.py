"""``LayerWeights``: the weight bookkeeping of ``keras.layers.Layer`` (trainable flag, the weight lists in Keras's
order, ``add_weight``, ``get_weights``/``set_weights``, ``count_params``), kept apart from the call machinery in
``base.py``.

>>> from featherflow import keras
>>> layer = keras.layers.Dense(3)
>>> layer.build((None, 2))
>>> [w.shape for w in layer.weights], layer.count_params()
([(2, 3), (3,)], 9)
>>> layer.trainable = False
>>> len(layer.trainable_weights), len(layer.non_trainable_weights)
(0, 2)
"""

from __future__ import annotations

import numpy as np

from featherflow.core import Tensor, Variable

_weight_creation_hooks: list = []  # hook(layer, shape, dtype) before each add_weight (load_model's size budget)


class LayerWeights:
    """Mixin of ``Layer``: expects ``_trainable``, ``_trainable_weights``, ``_non_trainable_weights``,
    ``_layers``, ``_losses``, ``_dtype``, ``name`` and ``built`` set by ``Layer.__init__``."""

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for layer in self._layers:
            layer.trainable = value

    @property
    def trainable_weights(self) -> list:
        """Variables updated by training (empty when the layer is frozen)."""
        if not self._trainable:
            return []
        weights = list(self._trainable_weights)
        for layer in self._layers:
            weights.extend(w for w in layer.trainable_weights if not any(w is x for x in weights))
        return weights

    @property
    def non_trainable_weights(self) -> list:
        """Variables not updated by the optimizer (all of them when the layer is frozen)."""
        if self._trainable:
            weights = list(self._non_trainable_weights)
            for layer in self._layers:
                weights.extend(w for w in layer.non_trainable_weights if not any(w is x for x in weights))
            return weights
        weights = []
        for w in self._all_weights():
            if not any(w is x for x in weights):
                weights.append(w)
        return weights

    def _all_weights(self) -> list:
        weights = list(self._trainable_weights) + list(self._non_trainable_weights)
        for layer in self._layers:
            weights.extend(layer._all_weights())
        return weights

    @property
    def weights(self) -> list:
        """All variables: trainable first, then non-trainable (Keras's order)."""
        return self.trainable_weights + self.non_trainable_weights

    @property
    def variables(self) -> list:
        return self.weights

    @property
    def trainable_variables(self) -> list:
        return self.trainable_weights

    @property
    def non_trainable_variables(self) -> list:
        return self.non_trainable_weights

    @property
    def losses(self) -> list:
        """Losses added by ``add_loss`` during the last call (and by weight regularizers)."""
        out = list(self._losses)
        for w, regularizer in getattr(self, "_weight_regularizers", ()):
            out.append(regularizer(w))
        for layer in self._layers:
            out.extend(layer.losses)
        return out

    # -- weights -------------------------------------------------------------------
    def add_weight(self, name=None, shape=None, dtype=None, initializer=None, regularizer=None,
                   trainable=True, constraint=None, **kwargs) -> Variable:
        """Create a variable owned by this layer (Glorot-uniform for floats unless told otherwise)."""
        from featherflow.keras import constraints, initializers, regularizers

        shape = () if shape is None else tuple(int(d) for d in shape)
        dtype = np.dtype(dtype or self._dtype)
        for hook in _weight_creation_hooks:
            hook(self, shape, dtype)
        if initializer is None:
            initializer = "glorot_uniform" if dtype.kind == "f" else "zeros"
        init = initializers.get(initializer)
        value = init(shape, dtype=dtype)
        value = value.value if isinstance(value, Tensor) else np.asarray(value, dtype=dtype)
        name = name or "Variable"
        variable = Variable(value.astype(dtype, copy=False), trainable=trainable, name=f"{self.name}/{name}",
                            constraint=constraints.get(constraint))
        variable._path = f"{self.name}/{name}"
        (self._trainable_weights if trainable else self._non_trainable_weights).append(variable)
        regularizer = regularizers.get(regularizer)
        if regularizer is not None:
            if not hasattr(self, "_weight_regularizers"):
                self._weight_regularizers = []
            self._weight_regularizers.append((variable, regularizer))
        return variable

    def get_weights(self) -> list:
        """The layer's weights as NumPy arrays (copies), in ``weights`` order."""
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights) -> None:
        """Set the weights from NumPy arrays, in ``self.weights`` order; the count and every shape are checked
        before anything is assigned, so a bad list changes nothing (layers and models alike)."""
        params = self.weights
        weights = list(weights)
        if len(params) != len(weights):
            raise ValueError(
                f'You called `set_weights(weights)` on layer "{self.name}" with a weight list of length '
                f"{len(weights)}, but the layer was expecting {len(params)} weights. Provided weights: "
                f"{[np.shape(w) for w in weights]}"
            )
        for p, w in zip(params, weights):
            if tuple(p.shape) != tuple(np.shape(w)):
                raise ValueError(
                    f'Layer "{self.name}" weight shape {tuple(p.shape)} is not compatible with provided weight '
                    f"shape {tuple(np.shape(w))}. Received: weight {p.name}"
                )
        for p, w in zip(params, weights):
            p.assign(np.asarray(w, dtype=p.dtype))

    def count_params(self) -> int:
        """Number of scalars in the layer's weights (the layer must be built)."""
        if not self.built:
            raise ValueError(
                f'You tried to call `count_params` on layer "{self.name}", but the layer isn\'t built. '
                "You can build it manually via: `layer.build(batch_input_shape)`."
            )
        return int(sum(int(np.prod(w.shape)) for w in self.weights))
