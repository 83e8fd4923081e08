"""``tf.ragged``: ragged tensors (rows of different lengths; re-exports only).

>>> import featherflow as tf
>>> tf.ragged.constant([[1, 2], [3]]).row_lengths().numpy()
array([2, 1])
"""

from featherflow.core.ragged import RaggedTensor, constant

__all__ = ["RaggedTensor", "constant"]
