"""``featherflow.sets``: TensorFlow's ``tf.sets`` namespace (re-exports only)."""

from featherflow.ops.sets import set_difference, set_intersection, set_size, set_union

difference = set_difference
intersection = set_intersection
size = set_size
union = set_union

__all__ = ["difference", "intersection", "size", "union"]
