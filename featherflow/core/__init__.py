"""Core: ``Tensor``, ``Variable`` and ``GradientTape`` (imports only the backend)."""

from featherflow.core.function import executing_eagerly, function
from featherflow.core.tape import (
    GradientTape,
    UnconnectedGradients,
    is_recording,
    pause_all_tapes,
    record,
    record_multi,
    unbroadcast,
)
from featherflow.core.tensor import Tensor, TensorShape, convert_to_tensor, is_tensor
from featherflow.core.tensor_spec import TensorSpec
from featherflow.core.variable import Variable

__all__ = [
    "GradientTape",
    "Tensor",
    "TensorShape",
    "TensorSpec",
    "UnconnectedGradients",
    "Variable",
    "convert_to_tensor",
    "executing_eagerly",
    "function",
    "is_recording",
    "is_tensor",
    "pause_all_tapes",
    "record",
    "record_multi",
    "unbroadcast",
]
