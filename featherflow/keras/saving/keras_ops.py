"""Keras 3 ``keras.ops`` calls recorded in functional configs, run as featherflow layers.

Keras 3 records an op applied to symbolic tensors as a graph node of its own: the mask of an
``Embedding(mask_zero=True)`` feeding a later layer is saved as a ``NotEqual`` node (module
``keras.src.ops.numpy``) whose output is passed as ``mask=``. ``normalize_op_node`` turns such an entry
into a ``KerasOperation`` layer that calls the featherflow op; saving writes it back in Keras 3's form.
The ops covered are the elementwise comparisons, logic and arithmetic, the reductions, casts,
``convert_to_tensor`` and the simple shape ops; any other op is refused with a message naming it.

>>> import numpy as np
>>> from featherflow.keras.saving.keras_ops import KerasOperation
>>> KerasOperation("NotEqual")(np.array([[3, 0]]), 0).numpy()
array([[ True, False]])
"""

from __future__ import annotations

from featherflow.keras.layers.base import Layer
from featherflow.keras.saving.errors import UnsupportedConfigError

_OP_MODULES = ("keras.src.ops.", "keras.ops")
REGISTERED_NAME = "featherflow>KerasOperation"


def _op_table() -> dict:
    """``{Keras 3 op class: (featherflow function, Keras config key -> function keyword)}``."""
    import featherflow as ff

    def reduction(fn):
        return fn, {"axis": "axis", "keepdims": "keepdims"}

    binary = {"NotEqual": ff.not_equal, "Equal": ff.equal, "Greater": ff.greater, "GreaterEqual": ff.greater_equal,
              "Less": ff.less, "LessEqual": ff.less_equal, "LogicalAnd": ff.logical_and, "LogicalOr": ff.logical_or,
              "Add": ff.add, "Subtract": ff.subtract, "Multiply": ff.multiply, "Divide": ff.divide,
              "TrueDivide": ff.divide, "Maximum": ff.maximum, "Minimum": ff.minimum, "Matmul": ff.matmul}
    unary = {"LogicalNot": ff.logical_not, "Negative": ff.negative, "Abs": ff.abs, "Absolute": ff.abs,
             "Exp": ff.exp, "Log": ff.math.log, "Sqrt": ff.sqrt, "Square": ff.square, "Sigmoid": ff.sigmoid,
             "Tanh": ff.tanh, "Relu": ff.nn.relu}
    table = {name: (fn, {}) for name, fn in {**binary, **unary}.items()}
    table.update({"Any": reduction(ff.reduce_any), "All": reduction(ff.reduce_all), "Sum": reduction(ff.reduce_sum),
                  "Mean": reduction(ff.reduce_mean), "Max": reduction(ff.reduce_max),
                  "Min": reduction(ff.reduce_min), "Cast": (ff.cast, {"dtype": "dtype"}),
                  "ExpandDims": (ff.expand_dims, {"axis": "axis"}), "Squeeze": (ff.squeeze, {"axis": "axis"}),
                  "Reshape": (ff.reshape, {"newshape": "shape"}), "Transpose": (ff.transpose, {"axes": "perm"}),
                  "Softmax": (ff.nn.softmax, {"axis": "axis"}),
                  # Keras 3's Attention returns its query mask through ops.convert_to_tensor
                  "ConvertToTensor": (_convert_to_tensor, {"dtype": "dtype", "sparse": "sparse", "ragged": "ragged"})})
    return table


def _convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """Keras 3's ``ops.convert_to_tensor``: a dense tensor (of ``dtype`` when given)."""
    import featherflow as ff

    if sparse or ragged:
        raise ValueError("featherflow runs Keras 3's ConvertToTensor op on dense tensors only. "
                         f"Received: sparse={sparse}, ragged={ragged}")
    return ff.convert_to_tensor(x, dtype=dtype)


def is_keras_op(module, class_name) -> bool:
    """Whether a config entry is a Keras 3 op node (``module`` under ``keras.src.ops``)."""
    return isinstance(module, str) and module.startswith(_OP_MODULES) and isinstance(class_name, str)


def is_legacy_op_entry(node: dict, custom_objects=None) -> bool:
    """A Keras 3 op node in a legacy ``.h5`` config (no ``module``): an op name whose config is only a name.

    ``Add``, ``Maximum``... are layers too; a layer's config has ``trainable``, an op's not (an op's may have a
    ``dtype``: ``Cast``, ``ConvertToTensor``).
    """
    from featherflow.keras.saving.object_registration import get_registered_object

    class_name, inner = node.get("class_name"), node.get("config")
    if node.get("module") is not None or class_name not in _op_table() or not isinstance(inner, dict):
        return False
    if get_registered_object(class_name, custom_objects) is not None:
        return False
    return "trainable" not in inner


def normalize_op_node(node: dict) -> dict:
    """A Keras 3 op entry as a ``KerasOperation`` entry (other keys, e.g. ``inbound_nodes``, kept)."""
    from featherflow.keras.saving.keras_compat import current_source

    class_name = node["class_name"]
    if class_name not in _op_table():
        raise UnsupportedConfigError(
            f"The model uses the Keras 3 op `{node.get('module')}.{class_name}` in its graph, which featherflow does "
            f"not support; the file was written by {current_source().describe()}. Supported ops: "
            f"{sorted(_op_table())}.")
    inner = dict(node.get("config") or {})
    name = inner.pop("name", None)
    out = dict(node)
    out.update(module="featherflow.keras.saving", class_name="KerasOperation", registered_name=REGISTERED_NAME,
               config={"op": class_name, "op_config": inner, "name": name, "op_module": node.get("module")})
    return out


class KerasOperation(Layer):
    """One Keras 3 op call (``NotEqual``, ``Cast``, ``Sum``, ...) as a layer of a functional model.

    Args:
        op: the Keras 3 op class name, e.g. ``"NotEqual"``.
        op_config: the op's own arguments as Keras 3 saved them (``{"axis": 1}`` for ``Sum``).
        op_module: the Keras module that defines the op (written back on saving).
    """

    def __init__(self, op: str, op_config: dict | None = None, op_module: str | None = None, **kwargs):
        table = _op_table()
        if op not in table:
            raise ValueError(f"Unknown Keras op {op!r}; supported: {sorted(table)}. Received: op={op!r}")
        super().__init__(**kwargs)
        self.op = op
        self.op_config = dict(op_config or {})
        self.op_module = op_module or "keras.src.ops.numpy"
        fn, keys = table[op]
        unknown = sorted(set(self.op_config) - set(keys))
        if unknown:
            raise ValueError(f"Keras op {op!r} has no argument(s) {unknown} in featherflow. Received: "
                             f"op_config={self.op_config!r}")
        self._fn = fn
        self._fn_kwargs = {keys[key]: value for key, value in self.op_config.items()}
        self.supports_masking = False

    def _keeps_int_inputs(self) -> bool:
        return True

    def call(self, inputs, *args):
        return self._fn(inputs, *args, **self._fn_kwargs)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(op=self.op, op_config=dict(self.op_config), op_module=self.op_module)
        return config
