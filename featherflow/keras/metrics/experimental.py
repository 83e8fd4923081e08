"""``keras.metrics.experimental``: ``PyMetric``, a metric computed in plain Python.

Every featherflow metric already runs as Python (eagerly, with NumPy), so ``PyMetric`` is ``Metric`` under
the name tf.keras gives the ones it keeps out of its graphs; subclass it the same way.
"""

from featherflow.keras.metrics.base import Metric


class PyMetric(Metric):
    """A metric whose ``update_state`` and ``result`` are plain Python (see the module docstring)."""


__all__ = ["PyMetric"]
