"""A model's trainable weights as one flat parameter vector, and seeded initial vectors.

Neuroevolution works on ``theta``, the concatenation of ``model.trainable_weights`` (in that order, each
raveled in C order). ``ParameterLayout`` knows the slices, reads ``theta`` from a model and writes it back
in place (``Variable.assign``, so optimizer flat buffers stay valid).

Initial parameters (``ParameterLayout.initial(seed)``) come from the model's own initializers, re-created
with a seed derived from ``(seed, weight index)``: ``kernel`` from ``kernel_initializer``, ``bias`` from
``bias_initializer``, ``recurrent_kernel`` from ``recurrent_initializer``, ``embeddings`` from
``embeddings_initializer`` and so on. A weight whose initializer cannot be found keeps the model's current
value (every individual then starts from the same values for it).

>>> from featherflow import keras
>>> model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2)])
>>> layout = ParameterLayout(model)
>>> layout.size, [tuple(s) for s in layout.shapes]
(8, [(3, 2), (2,)])
>>> theta = layout.initial(seed=5)
>>> bool((theta == layout.initial(seed=5)).all()), bool((theta[6:] == 0).all())  # zero biases
(True, True)
"""

from __future__ import annotations

import numpy as np

from featherflow.core.variable import Variable
from featherflow.evolution.noise import derive_seed


def _walk_layers(model) -> list:
    out, seen, stack = [], set(), [model]
    while stack:
        layer = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        out.append(layer)
        stack.extend(reversed(getattr(layer, "_layers", [])))
    return out


def _initializer_for(layer, attribute: str):
    candidates = [f"{attribute}_initializer"]
    if attribute.endswith("_kernel"):
        candidates.append(f"{attribute[:-len('_kernel')]}_initializer")
    for name in candidates:
        init = getattr(layer, name, None)
        if init is not None and callable(init):
            return init
    return None


def _seeded(initializer, seed: int):
    """A copy of ``initializer`` with ``seed`` (initializers without randomness are returned as they are)."""
    get_config = getattr(initializer, "get_config", None)
    if get_config is None:
        return initializer
    config = get_config()
    if "seed" not in config:
        return initializer
    return type(initializer).from_config({**config, "seed": int(seed)})


class ParameterLayout:
    """The flat layout of a built model's trainable weights.

    Args:
        model: a built featherflow model (or layer) with at least one trainable weight.

    Attributes:
        variables: ``model.trainable_weights``; ``shapes``, ``sizes``, ``offsets``: per variable;
        size: total number of parameters ``n``; dtype: the parameter dtype (the weights' common float type).
    """

    def __init__(self, model):
        variables = list(model.trainable_weights)
        if not variables:
            raise ValueError("The model has no trainable weights. Build it first (give it a keras.Input or call "
                             "model.build(input_shape)) and make sure some layers are trainable. "
                             f"Received: model={model!r}")
        self.model = model
        self.variables = variables
        self.shapes = [tuple(v.shape) for v in variables]
        self.sizes = [int(np.prod(s, dtype=np.int64)) for s in self.shapes]
        self.offsets = [int(o) for o in np.concatenate([[0], np.cumsum(self.sizes)[:-1]])]
        self.size = int(sum(self.sizes))
        self.dtype = np.result_type(*[v.value.dtype for v in variables])
        if self.dtype.kind != "f":
            raise TypeError(f"Neuroevolution needs floating-point trainable weights. Received dtype {self.dtype}.")
        self._owners = self._find_owners(model)

    def _find_owners(self, model) -> list:
        by_id = {id(v): i for i, v in enumerate(self.variables)}
        owners: list = [None] * len(self.variables)
        for layer in _walk_layers(model):
            for attribute, value in vars(layer).items():
                if isinstance(value, Variable) and id(value) in by_id and owners[by_id[id(value)]] is None:
                    owners[by_id[id(value)]] = (layer, attribute)
        return owners

    def slice(self, index: int) -> slice:
        """The slice of variable ``index`` in the flat vector."""
        return slice(self.offsets[index], self.offsets[index] + self.sizes[index])

    def get(self) -> np.ndarray:
        """The model's current parameters as a new flat vector ``(n,)``."""
        return np.concatenate([np.asarray(v.numpy(), dtype=self.dtype).ravel() for v in self.variables])

    def set(self, theta) -> None:
        """Write the flat vector ``theta`` ``(n,)`` into the model's trainable weights (in place)."""
        theta = np.asarray(theta)
        if theta.shape != (self.size,):
            raise ValueError(f"Expected a parameter vector of shape ({self.size},). Received: theta.shape="
                             f"{theta.shape}")
        for variable, start, size, shape in zip(self.variables, self.offsets, self.sizes, self.shapes):
            variable.value[...] = theta[start:start + size].reshape(shape)

    def split(self, theta) -> list:
        """``theta`` as a list of arrays in ``model.trainable_weights`` shapes (views)."""
        theta = np.asarray(theta)
        return [theta[a:a + s].reshape(shape) for a, s, shape in zip(self.offsets, self.sizes, self.shapes)]

    def initial(self, seed: int) -> np.ndarray:
        """Initial parameters from the model's initializers, each seeded by ``derive_seed(seed, index)``."""
        parts = []
        for index, (variable, owner) in enumerate(zip(self.variables, self._owners)):
            init = _initializer_for(*owner) if owner is not None else None
            if init is None:
                value = variable.numpy()
            else:
                value = _seeded(init, derive_seed(seed, index))(self.shapes[index], dtype=variable.value.dtype)
                value = value.numpy() if hasattr(value, "numpy") else np.asarray(value)
            parts.append(np.asarray(value, dtype=self.dtype).ravel())
        return np.concatenate(parts)

    def __repr__(self) -> str:
        return f"ParameterLayout(variables={len(self.variables)}, size={self.size}, dtype={self.dtype.name})"
