"""Helpers of the tf.data tests."""

import numpy as np

from featherflow.data.structure import map_structure


def values(ds) -> list:
    """The elements of a dataset as Python values (arrays as nested lists, scalars as NumPy scalars), their
    structure (tuples, dicts) kept."""
    return [map_structure(lambda v: v.tolist() if isinstance(v, np.ndarray) else v, e) for e in ds.as_numpy_iterator()]
