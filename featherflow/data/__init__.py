"""``tf.data``: input pipelines (``featherflow.data.Dataset``) that feed ``fit``, ``evaluate`` and ``predict``.

The TensorFlow half of the system: it uses the backend, core and ops, never Keras. Loaded on first use of
``featherflow.data`` (``import featherflow`` stays fast).

>>> import featherflow as tf
>>> ds = tf.data.Dataset.from_tensor_slices(([[1.0], [2.0], [3.0]], [0, 1, 0])).shuffle(3, seed=0).batch(2)
>>> [tuple(x.shape) for x, y in ds]
[(2, 1), (1, 1)]
"""

from featherflow.data import experimental  # noqa: F401
from featherflow.data.dataset import AUTOTUNE, Dataset, DatasetSpec  # noqa: F401
from featherflow.data.dataset import INFINITE as INFINITE_CARDINALITY  # noqa: F401
from featherflow.data.dataset import UNKNOWN as UNKNOWN_CARDINALITY  # noqa: F401
from featherflow.data.iterators import Iterator, IteratorSpec, NumpyIterator  # noqa: F401
from featherflow.data.options import Options, ThreadingOptions  # noqa: F401
from featherflow.data.readers import FixedLengthRecordDataset, TextLineDataset, TFRecordDataset  # noqa: F401
