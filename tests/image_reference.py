"""The tf.image / tf.keras reference outputs of ``tests/image/fixtures/tf_reference.npz`` (TensorFlow 2.21,
tf-keras 2.21; written once by ``tests/image/fixtures/make_tf_reference.py``)."""

import functools
from pathlib import Path

import numpy as np

PATH = Path(__file__).resolve().parent / "image" / "fixtures" / "tf_reference.npz"


@functools.lru_cache(maxsize=1)
def load() -> dict:
    with np.load(PATH) as data:
        return {key: data[key] for key in data.files}
