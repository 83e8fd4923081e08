"""Configs written by Keras 3 and tf.keras 2.x, translated to featherflow's before anything is built.

Keras 3 writes dtype policies as objects (``{"class_name": "DTypePolicy", "config": {"name": "float32"}}``),
``InputLayer`` shapes as ``batch_shape``, ``keras.ops`` calls as graph nodes (``NotEqual`` computing an
Embedding's mask) and options featherflow does not have (``quantization_config``, ``input_axes``, ...).
tf.keras 2.x names its optimizers ``"Custom>Adam"`` in ``.h5`` files, wraps losses with their function
(``"fn"``) and metrics in ``MeanMetricWrapper``. ``normalize`` rewrites a whole config tree into what
featherflow's ``from_config`` methods take; it is idempotent, so featherflow's own configs pass unchanged.

Unknown config keys follow one rule: a key is dropped when its value leaves the behaviour unchanged
(``quantization_config: None``, ``renorm: False``, ``seed``, ...); any other unknown key raises an
``UnsupportedConfigError`` naming the key, the layer and the Keras version that wrote the file.

>>> from featherflow.keras.saving.keras_compat import normalize
>>> policy = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}}
>>> layer = {"module": "keras.layers", "class_name": "Dense",
...          "config": {"name": "d", "units": 2, "dtype": policy, "quantization_config": None}}
>>> normalize(layer)["config"]
{'name': 'd', 'units': 2, 'dtype': 'float32'}
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import functools
import inspect
import textwrap
import threading

from featherflow.keras.saving import object_registration as registry
from featherflow.keras.saving.errors import InvalidArchiveError, UnsupportedConfigError

_local = threading.local()
_POLICY_CLASSES = frozenset({"DTypePolicy", "FloatDTypePolicy", "Policy", "PolicyV1"})
_MAX_DEPTH = 256


@dataclasses.dataclass(frozen=True)
class FileSource:
    """Who wrote the file being read: its ``keras_version`` (metadata) and ``backend`` (if recorded)."""

    keras_version: str | None = None
    backend: str | None = None

    def describe(self) -> str:
        """``"Keras 3.15.1"``, ``"tf.keras 2.21.0"``, ``"featherflow"`` or ``"an unknown Keras version"``."""
        if self.backend == "featherflow":
            return "featherflow" + (f" (keras_version {self.keras_version})" if self.keras_version else "")
        if not self.keras_version:
            return "an unknown Keras version"
        major = self.keras_version.split(".")[0]
        return f"{'Keras' if major >= '3' else 'tf.keras'} {self.keras_version}"


@contextlib.contextmanager
def reading(source: FileSource):
    """Within the block, errors about unsupported config keys name ``source`` (thread-local)."""
    previous = getattr(_local, "source", None)
    _local.source = source
    try:
        yield source
    finally:
        _local.source = previous


def current_source() -> FileSource:
    """The ``FileSource`` of the innermost ``reading`` block (an unknown source outside any)."""
    return getattr(_local, "source", None) or FileSource()


# -- unknown keys ----------------------------------------------------------------------------------
def _is_none(value, config) -> bool:
    return value is None


def _is_false(value, config) -> bool:
    return value is None or value is False


def _anything(value, config) -> bool:
    return True


# Keys featherflow does not implement, and when their value leaves the behaviour unchanged.
HARMLESS_KEYS = {
    "quantization_config": _is_none,  # Keras 3: int8/float8 quantization
    "lora_rank": _is_none,
    "lora_alpha": _is_none,
    "lora_enabled": _is_false,
    "input_axes": _is_none,  # Keras 3.13+ initializers: fan computation axes
    "output_axes": _is_none,
    "seed": _anything,  # only which random numbers a layer draws, never what it computes
    "optional": _is_false,  # Keras 3 InputLayer
    "sparse": _is_false,
    "ragged": _is_false,
    "renorm": _is_false,  # BatchNormalization's batch renormalization
    "renorm_clipping": _anything,  # used only with renorm=True, which is refused itself
    "renorm_momentum": _anything,
    "synchronized": _is_false,
    "rms_scaling": _is_false,  # LayerNormalization
    "loss_scale_factor": _is_none,  # Keras 3 optimizers
    "gradient_accumulation_steps": _is_none,
    "jit_compile": _anything,  # XLA compilation: featherflow has none
    "is_legacy_optimizer": _is_false,
    "time_major": _is_false,
    "unroll": _anything,  # how the loop is compiled, not what it computes
    "implementation": _anything,
    "use_cudnn": _anything,
    "autocast": _anything,
    "weights": _is_none,
    "input_tensor": _is_none,
    "use_gate": _is_false,  # Keras 3.13+ MultiHeadAttention's gated attention
    "sliding_window": _is_none,
    "zero_output_for_mask": _is_false,  # layers without masking (ConvLSTM)
    "rng_type": _anything,  # tf.keras 2.x augmentation layers: which random generator, not what they compute
    "groups": lambda value, config: value in (None, 1),  # grouped convolution off
    "data_format": lambda value, config: value in (None, "channels_last"),  # layers featherflow has channels-last only
    # Keras 3.14+ lookup layers: how unknown integers pick an OOV bucket (strings always hash with FarmHash64)
    "oov_method": lambda value, config: value in (None, "floormod") or "vocabulary_dtype" not in config
    or config["vocabulary_dtype"] == "string",
    "salt": _is_none,
}
# Keys Keras writes for a class that ignores them (tf.keras 2.x's separable and depthwise convolutions
# inherit `kernel_*` and `groups` from Conv), and the values a file may carry for them.
_SEPARABLE_IGNORED = {"groups": lambda value, config: value in (None, 1), "kernel_initializer": _anything,
                      "kernel_regularizer": _anything, "kernel_constraint": _anything}
_IGNORED_KEYS = {
    "SeparableConv1D": _SEPARABLE_IGNORED, "SeparableConv2D": _SEPARABLE_IGNORED,
    "DepthwiseConv1D": {**_SEPARABLE_IGNORED, "filters": _anything},
    "DepthwiseConv2D": {**_SEPARABLE_IGNORED, "filters": _anything},
}
_RENAMED_KEYS = {
    ("LeakyReLU", "negative_slope"): "alpha",  # Keras 3 name of tf.keras 2's argument
}


def _super_init_fixed(init) -> tuple[int, set] | None:
    """``(positional count, keyword names)`` that ``init`` passes to ``super().__init__`` (``None``: unknown)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(init)))
    except (OSError, TypeError, SyntaxError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "__init__" \
                and isinstance(node.func.value, ast.Call) and getattr(node.func.value.func, "id", None) == "super":
            if any(isinstance(arg, ast.Starred) for arg in node.args):
                return None
            return len(node.args), {kw.arg for kw in node.keywords if kw.arg is not None}
    return 0, set()


def _keys_read_in(function, every_name: bool = False) -> set:
    """String keys ``function`` reads from a dict: ``d.pop("k")``, ``d.get("k")``, ``d["k"]``, ``"k" in d``
    (with ``every_name``, every identifier-like string constant in it)."""
    function = getattr(function, "__func__", function)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return set()
    keys = set()
    for node in ast.walk(tree):
        if every_name and isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier():
            keys.add(node.value)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("pop", "get") \
                and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            keys.add(node.args[0].value)
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) \
                and isinstance(node.slice.value, str):
            keys.add(node.slice.value)
        elif isinstance(node, ast.Compare) and isinstance(node.left, ast.Constant) and isinstance(node.left.value, str) \
                and any(isinstance(op, ast.In) for op in node.ops):
            keys.add(node.left.value)
    return keys


@functools.cache
def consumed_keys(cls) -> frozenset:
    """Keys a class reads outside its signature: in its own ``from_config`` or from ``**kwargs`` in ``__init__``."""
    from featherflow.keras.layers import base

    keys: set = set()
    for klass in cls.__mro__:
        if klass in (base.Layer, object):
            break
        for name in ("from_config", "__init__"):
            if name in klass.__dict__:
                keys |= _keys_read_in(klass.__dict__[name], every_name=name == "from_config")
    return frozenset(keys)


@functools.cache
def accepted_keys(cls) -> frozenset:
    """The config keys ``cls(**config)`` takes: its constructor's parameters, and up the ``**kwargs`` chain
    the parents' parameters that no subclass sets itself in its ``super().__init__(...)`` call."""
    from featherflow.keras.layers import base

    keys: set = set()
    fixed: set = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        try:
            params = inspect.signature(init).parameters
        except (TypeError, ValueError):
            break
        names = [name for name, p in params.items()
                 if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and name != "self"]
        keys |= {name for name in names if name not in fixed}
        if klass is base.Layer:
            keys |= base._ALLOWED_KWARGS
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            break
        passed = _super_init_fixed(init)
        if passed is not None:
            parent = next((k for k in klass.__mro__[1:] if "__init__" in k.__dict__), None)
            parent_names = []
            if parent is not None:
                try:
                    parent_names = [name for name, p in inspect.signature(parent.__init__).parameters.items()
                                    if p.kind is p.POSITIONAL_OR_KEYWORD and name != "self"]
                except (TypeError, ValueError):
                    parent_names = []
            fixed |= (set(parent_names[: passed[0]]) | passed[1]) - keys
    return frozenset(keys)


def _is_featherflow_class(cls) -> bool:
    return inspect.isclass(cls) and (getattr(cls, "__module__", "") or "").startswith("featherflow.")


def _is_model_class(cls) -> bool:
    from featherflow.keras.models.model import Model

    return inspect.isclass(cls) and issubclass(cls, Model)


def _unsupported(key, value, class_name, inner) -> UnsupportedConfigError:
    name = inner.get("name") if isinstance(inner, dict) else None
    owner = f"'{name}' ({class_name})" if isinstance(name, str) else f"of class {class_name}"
    from featherflow.keras.saving.serialization_lib import _short

    return UnsupportedConfigError(
        f"The config of {owner} sets {key!r}={_short(value, 120)}, which featherflow does not implement; the file was "
        f"written by {current_source().describe()}. featherflow loads unknown keys only when their value changes "
        "nothing (None, False, defaults). Re-save the model without this option, or build the model in code and "
        "load only its weights with `model.load_weights(...)`.")


def translate_keys(cls, class_name: str, inner: dict) -> dict:
    """Rename, drop (harmless) or refuse the keys of one object's config that ``cls`` does not take."""
    if not _is_featherflow_class(cls) or _is_model_class(cls) or not isinstance(inner, dict) or any(
            base.__name__ == "Lambda" for base in cls.__mro__):
        return inner  # models check their own keys; a Lambda's code fields are vetted by check_config
    accepted = accepted_keys(cls)
    consumed = consumed_keys(cls)
    ignored = _IGNORED_KEYS.get(cls.__name__, {})
    out = {}
    for key, value in inner.items():
        renamed = _RENAMED_KEYS.get((cls.__name__, key))
        if renamed and renamed in accepted and key not in accepted:
            out[renamed] = value
            continue
        if key in accepted or key in consumed:
            out[key] = value
            continue
        harmless = ignored.get(key) or HARMLESS_KEYS.get(key)
        if harmless is not None and harmless(value, inner):
            continue
        raise _unsupported(key, value, class_name, inner)
    return out


# -- the walk ---------------------------------------------------------------------------------------
def normalize(config, custom_objects: dict | None = None):
    """A copy of ``config`` (any object config tree) in featherflow's form; see the module docstring.

    Raises:
        UnsupportedConfigError: an unknown key whose value would change what the model computes.
    """
    return _walk(config, custom_objects, 0)


def _walk(node, custom_objects, depth):
    if depth > _MAX_DEPTH:
        raise InvalidArchiveError(f"The model config is nested too deeply (limit: depth {_MAX_DEPTH}).")
    if isinstance(node, list):
        return [_walk(item, custom_objects, depth + 1) for item in node]
    if not isinstance(node, dict):
        return node
    if isinstance(node.get("class_name"), str):
        return _object(node, custom_objects, depth)
    return {key: _walk(value, custom_objects, depth + 1) for key, value in node.items() if key != "shared_object_id"}


def _object(node, custom_objects, depth):
    class_name = node["class_name"]
    if class_name.startswith("__"):
        return node  # data entries (__numpy__, __keras_tensor__, ...) and lambdas keep their form
    if class_name in _POLICY_CLASSES or class_name.endswith("DTypePolicy"):
        return _policy_name(node)
    module = node.get("module")
    from featherflow.keras.saving import keras_ops

    if keras_ops.is_keras_op(module, class_name) or keras_ops.is_legacy_op_entry(node, custom_objects):
        return keras_ops.normalize_op_node(node)
    if class_name == "MeanMetricWrapper" and isinstance(node.get("config"), dict):
        return _metric_wrapper(node["config"])
    class_name = _strip_custom_prefix(class_name, node.get("registered_name"), custom_objects)
    out = {key: (_walk(value, custom_objects, depth + 1) if key in ("config", "compile_config") else value)
           for key, value in node.items() if key != "shared_object_id"}
    out["class_name"] = class_name
    if class_name != node["class_name"] and out.get("registered_name") == node["class_name"]:
        out["registered_name"] = None
    inner = out.get("config")
    if isinstance(inner, dict):
        from featherflow.keras.saving.serialization_lib import resolve_class

        cls = resolve_class(class_name, out.get("registered_name"), module, custom_objects)
        if cls is not None:
            inner = _class_specific(cls, inner)
            out["config"] = translate_keys(cls, class_name, inner)
    return out


def _strip_custom_prefix(class_name: str, registered_name, custom_objects) -> str:
    """tf.keras 2.x's ``.h5`` files name its optimizers ``"Custom>Adam"``: the built-in, unless registered."""
    if not class_name.startswith("Custom>"):
        return class_name
    if registry.get_registered_object(class_name, custom_objects) is not None:
        return class_name
    bare = class_name.split(">", 1)[1]
    return bare if registry.get_builtin_class(bare, "keras.optimizers") is not None else class_name


def _metric_wrapper(inner: dict):
    """tf.keras 2.x's ``MeanMetricWrapper(fn, name)`` entry as the metric name ``compile`` takes.

    Its name may carry an output's prefix (``"reg_mae"``); the shortest suffix that names the same
    function (or ``accuracy``/``crossentropy``, which ``compile`` resolves by the output's shape) is used.
    """
    from featherflow.keras import metrics

    def function(name):
        try:
            return metrics.get(name)
        except (ValueError, TypeError):
            return None

    name, fn = inner.get("name"), inner.get("fn")
    target = function(fn) if isinstance(fn, str) else None
    if isinstance(name, str):
        parts = name.split("_")
        for i in range(len(parts)):
            candidate = "_".join(parts[i:])
            if candidate in ("accuracy", "acc", "crossentropy", "ce") or (
                    target is not None and function(candidate) is target) or (fn is None and function(candidate)):
                return candidate
    if target is not None:
        return fn
    raise _unsupported("fn", fn, "MeanMetricWrapper", inner)


def _policy_name(node) -> str:
    inner = node.get("config")
    name = inner.get("name") if isinstance(inner, dict) else inner
    if not isinstance(name, str):
        raise _unsupported("dtype", node, node.get("class_name"), {})
    if node.get("class_name", "").startswith("Quantized") or name.startswith(("int8", "float8", "int4")):
        raise _unsupported("dtype", name, node.get("class_name"), {"name": name})
    return name


def _class_specific(cls, inner: dict) -> dict:
    """Per-class translations that are more than a key rename."""
    names = {base.__name__ for base in cls.__mro__}
    if "InputLayer" in names and "batch_shape" in inner:
        inner = dict(inner)
        batch_shape = inner.pop("batch_shape")
        inner.setdefault("batch_input_shape", batch_shape)
    if "Loss" in names and "fn" in inner and "fn" not in accepted_keys(cls):
        inner = {k: v for k, v in inner.items() if k != "fn"}  # tf.keras 2.x: the class already is the function
    return inner
