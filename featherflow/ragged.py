"""``tf.ragged``: ragged tensors (rows of different lengths; re-exports only).

>>> import featherflow as tf
>>> tf.ragged.constant([[1, 2], [3]]).row_lengths().numpy()
array([2, 1])
"""

from featherflow.core.ragged import RaggedTensor, constant
from featherflow.ops.ragged_ops import (
    boolean_mask,
    map_flat_values,
    range,
    row_splits_to_segment_ids,
    segment_ids_to_row_splits,
    stack,
)

__all__ = ["RaggedTensor", "boolean_mask", "constant", "map_flat_values", "range", "row_splits_to_segment_ids",
           "segment_ids_to_row_splits", "stack"]
