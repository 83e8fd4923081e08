"""``tf.saved_model``: the names, options and constants of TensorFlow's SavedModel API; ``save`` and ``load``
raise an error that says what to use instead.

A SavedModel directory holds TensorFlow graphs (``saved_model.pb``, a ``MetaGraphDef`` of ``GraphDef``
protocol buffers) and a TensorFlow checkpoint of the variables. featherflow runs eagerly on NumPy and builds no
graphs, so it can neither write one that TensorFlow Serving / TFLite could run nor execute the graphs of one
TensorFlow wrote. What exists instead: ``model.save("model.keras")`` / ``keras.models.load_model`` (the Keras
archive TensorFlow's Keras reads too), ``model.save_weights`` and ``tf.train.Checkpoint`` for the variables
of any ``tf.Module``. ``contains_saved_model`` works (it looks for the files TensorFlow looks for).

>>> import tempfile
>>> contains_saved_model(tempfile.mkdtemp())
False
"""

from __future__ import annotations

import enum
import os
import types

ASSETS_DIRECTORY = "assets"
ASSETS_KEY = "saved_model_assets"
CLASSIFY_INPUTS = "inputs"
CLASSIFY_METHOD_NAME = "tensorflow/serving/classify"
CLASSIFY_OUTPUT_CLASSES = "classes"
CLASSIFY_OUTPUT_SCORES = "scores"
DEBUG_DIRECTORY = "debug"
DEBUG_INFO_FILENAME_PB = "saved_model_debug_info.pb"
DEFAULT_SERVING_SIGNATURE_DEF_KEY = "serving_default"
GPU = "gpu"
PREDICT_INPUTS = "inputs"
PREDICT_METHOD_NAME = "tensorflow/serving/predict"
PREDICT_OUTPUTS = "outputs"
REGRESS_INPUTS = "inputs"
REGRESS_METHOD_NAME = "tensorflow/serving/regress"
REGRESS_OUTPUTS = "outputs"
SAVED_MODEL_FILENAME_PB = "saved_model.pb"
SAVED_MODEL_FILENAME_PBTXT = "saved_model.pbtxt"
SAVED_MODEL_SCHEMA_VERSION = 1
SERVING = "serve"
TPU = "tpu"
TRAINING = "train"
VARIABLES_DIRECTORY = "variables"
VARIABLES_FILENAME = "variables"

_INSTEAD = ('featherflow runs eagerly on NumPy and builds no TensorFlow graphs, so it has no SavedModel format. '
            'Instead: model.save("model.keras") and tf.keras.models.load_model("model.keras") for a Keras model '
            '(TensorFlow\'s Keras reads the file too), model.save_weights("model.weights.h5") for its weights, '
            'tf.train.Checkpoint(model=model).save(path) for the variables of any tf.Module. There is no '
            'model.export() or TensorFlow Serving / TFLite export.')


class VariablePolicy(enum.Enum):
    """TensorFlow's variable-saving policies (``SaveOptions.experimental_variable_policy``)."""

    NONE = None
    SAVE_VARIABLE_DEVICES = "save_variable_devices"
    EXPAND_DISTRIBUTED_VARIABLES = "expand_distributed_variables"


class SaveOptions:
    """The options of ``tf.saved_model.save`` (kept for code that builds them; ``save`` itself raises)."""

    def __init__(self, namespace_whitelist=None, save_debug_info=False, function_aliases=None,
                 experimental_debug_stripper=False, experimental_io_device=None, experimental_variable_policy=None,
                 experimental_custom_gradients=True, experimental_image_format=False, experimental_skip_saver=False,
                 experimental_sharding_callback=None, extra_tags=None):
        self.namespace_whitelist = list(namespace_whitelist or [])
        self.save_debug_info = save_debug_info
        self.function_aliases = dict(function_aliases or {})
        self.experimental_debug_stripper = experimental_debug_stripper
        self.experimental_io_device = experimental_io_device
        self.experimental_variable_policy = VariablePolicy(experimental_variable_policy) \
            if not isinstance(experimental_variable_policy, VariablePolicy) else experimental_variable_policy
        self.experimental_custom_gradients = experimental_custom_gradients
        self.experimental_image_format = experimental_image_format
        self.experimental_skip_saver = experimental_skip_saver
        self.experimental_sharding_callback = experimental_sharding_callback
        self.extra_tags = extra_tags


class LoadOptions:
    """The options of ``tf.saved_model.load`` (kept for code that builds them; ``load`` itself raises)."""

    def __init__(self, allow_partial_checkpoint=False, experimental_io_device=None, experimental_skip_checkpoint=False,
                 experimental_variable_policy=None, experimental_load_function_aliases=False):
        self.allow_partial_checkpoint = allow_partial_checkpoint
        self.experimental_io_device = experimental_io_device
        self.experimental_skip_checkpoint = experimental_skip_checkpoint
        self.experimental_variable_policy = VariablePolicy(experimental_variable_policy) \
            if not isinstance(experimental_variable_policy, VariablePolicy) else experimental_variable_policy
        self.experimental_load_function_aliases = experimental_load_function_aliases


class Asset:
    """A file a SavedModel would carry along (``asset_path``)."""

    def __init__(self, path):
        self.asset_path = os.fspath(path)


def save(obj, export_dir: str, signatures=None, options=None) -> None:
    """Not available: raises ``NotImplementedError`` saying what to use instead (see the module docstring)."""
    raise NotImplementedError(f"tf.saved_model.save: {_INSTEAD} Received: obj of type {type(obj).__name__}, "
                              f"export_dir={export_dir!r}")


def load(export_dir, tags=None, options=None):
    """Not available: raises ``NotImplementedError`` saying what to use instead (see the module docstring)."""
    kind = " (this directory holds a SavedModel written by TensorFlow)" if contains_saved_model(export_dir) else ""
    raise NotImplementedError(f"tf.saved_model.load: {_INSTEAD} Received: export_dir={export_dir!r}{kind}")


def contains_saved_model(export_dir) -> bool:
    """Whether ``export_dir`` holds a SavedModel (``saved_model.pb`` or ``saved_model.pbtxt``)."""
    export_dir = os.fspath(export_dir)
    return os.path.isdir(export_dir) and any(
        os.path.exists(os.path.join(export_dir, name)) for name in (SAVED_MODEL_FILENAME_PB, SAVED_MODEL_FILENAME_PBTXT))


experimental = types.SimpleNamespace(VariablePolicy=VariablePolicy)  # tf.saved_model.experimental (in part)
