"""Boston housing prices: tf.keras's ``boston_housing.load_data``.

506 samples of 13 attributes of houses around Boston in the 1970s; targets are median values
in k$. tf.keras warns, and so do we: the data set has an ethical problem (its "B" variable
assumes racial self-segregation influences prices); prefer ``california_housing``.
Downloaded from tf.keras's origin and checked against tf.keras's published sha256.
"""

from __future__ import annotations

from featherflow.keras.datasets._files import KERAS_DATASETS_BASE, fetch
from featherflow.keras.datasets._housing import shuffle_split
from featherflow.keras.datasets._safe_pickle import load_npz


def load_data(path: str = "boston_housing.npz", test_split: float = 0.2, seed: int = 113):
    """Loads the Boston Housing dataset.

    Args:
        path: where to cache the data (relative to ``~/.keras/datasets``).
        test_split: fraction of the data reserved as test set.
        seed: seed of the shuffle done before the split.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: float64 ``x`` of shape ``(n, 13)``, ``y`` ``(n,)``;
        404 training and 102 test samples with the defaults.
    """
    arrays = load_npz(fetch(KERAS_DATASETS_BASE + "boston_housing.npz", fname=path))
    return shuffle_split(arrays["x"], arrays["y"], test_split, seed)
