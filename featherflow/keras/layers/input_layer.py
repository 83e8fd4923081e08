"""``InputLayer`` and ``keras.Input``: the entry points of a functional model.

>>> from featherflow import keras
>>> keras.Input(shape=(28, 28)).shape
(None, 28, 28)
"""

from __future__ import annotations

from featherflow.core.string_tensor import is_string_dtype
from featherflow.keras.layers.base import Layer
from featherflow.keras.layers.node import KerasTensor, Node


class InputLayer(Layer):
    """The layer behind ``keras.Input``: holds the input's shape and dtype, passes data through.

    Args:
        input_shape: shape without the batch axis.
        batch_size: optional fixed batch size.
        dtype: the input's dtype (default ``floatx()``).
        batch_input_shape: full shape including the batch axis (alternative to the two above).
    """

    def __init__(self, input_shape=None, batch_size=None, dtype=None, input_tensor=None, sparse=None,
                 name=None, ragged=None, batch_input_shape=None, **kwargs):
        if name is None:
            from featherflow.keras import backend as K

            name = f"input_{K.get_uid('input')}"  # Keras names inputs input_1, input_2, ...
        super().__init__(name=name, dtype=dtype if dtype is not None and str(dtype)[:5] == "float" else None)
        if batch_input_shape is not None:
            shape = tuple(batch_input_shape)
        elif input_shape is not None:
            shape = (batch_size,) + (tuple(input_shape) if not isinstance(input_shape, int) else (input_shape,))
        else:
            raise ValueError("InputLayer needs `input_shape` or `batch_input_shape`. Received neither.")
        for d in shape[1:]:
            if d is not None and (not isinstance(d, int) or d < 0):
                raise ValueError(f"Input shape must contain non-negative integers or None. Received: shape={shape[1:]}")
        self._batch_input_shape = shape
        if is_string_dtype(dtype):
            dtype = "string"  # tf.string's name in configs
        self._input_dtype = str(dtype) if dtype is not None else self.dtype
        self.built = True
        self.is_placeholder = True
        tensor = KerasTensor(shape, self._input_dtype, name=self.name, keras_history=(self, 0, 0))
        node = Node(self, [], (), {}, tensor)
        self._inbound_nodes.append(node)

    @property
    def output_shape(self):
        """``[batch_input_shape]``: an input layer reports its shape in a list, as in tf.keras 2."""
        return [self._batch_input_shape]

    def _keeps_int_inputs(self) -> bool:
        return self._input_dtype[:3] in ("int", "uin", "boo")

    def get_config(self) -> dict:
        return {"batch_input_shape": self._batch_input_shape, "dtype": self._input_dtype,
                "sparse": False, "ragged": False, "name": self.name}


def Input(shape=None, batch_size=None, name=None, dtype=None, sparse=None, tensor=None, ragged=None,
          type_spec=None, batch_shape=None, **kwargs) -> KerasTensor:  # noqa: N802 - Keras's name
    """A symbolic input for the functional API.

    Args:
        shape: the shape of one sample, e.g. ``(28, 28)`` (``None`` for variable sizes).
        batch_size: optional fixed batch size.
        name: the input's name (models accept dicts of arrays keyed by it).
        dtype: the input's dtype (``float32`` by default; ``int32`` for token ids).
    """
    if shape is None and batch_shape is None:
        raise ValueError("Please provide to Input a `shape` or a `batch_shape` argument. Note that `shape` does "
                         "not include the batch dimension.")
    if "batch_input_shape" in kwargs:
        batch_shape = kwargs.pop("batch_input_shape")
    if kwargs:
        raise TypeError(f"Keyword argument not understood: {sorted(kwargs)[0]!r}")
    layer = InputLayer(input_shape=shape, batch_size=batch_size, dtype=dtype, name=name,
                       batch_input_shape=batch_shape)
    return layer._inbound_nodes[0].outputs
