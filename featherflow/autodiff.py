"""``featherflow.autodiff``: TensorFlow's ``tf.autodiff`` namespace (re-exports only)."""

from featherflow.core.forward import ForwardAccumulator  # noqa: F401
from featherflow.core.tape import GradientTape  # noqa: F401
