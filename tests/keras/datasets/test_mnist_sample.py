"""The bundled MNIST sample: structure, and equality with the shared data file."""

import os

import numpy as np
import pytest

from featherflow.keras.datasets import mnist

SHARED_SAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "shared", "data", "mnist_sample.npz")


def test_sample_structure():
    (x_train, y_train), (x_test, y_test) = mnist.load_sample()
    assert x_train.shape == (4000, 28, 28) and x_test.shape == (1000, 28, 28)
    assert y_train.shape == (4000,) and y_test.shape == (1000,)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [400] * 10
    assert np.bincount(y_test).tolist() == [100] * 10
    assert int(x_train.max()) == 255 and int(x_train.min()) == 0
    (a, b), (c, d) = mnist.load_data(sample=True)
    np.testing.assert_array_equal(a, x_train)
    np.testing.assert_array_equal(d, y_test)


@pytest.mark.skipif(
    not os.path.exists(SHARED_SAMPLE),
    reason="../shared/data/mnist_sample.npz (the team's shared data folder beside the repository) is not present "
    "in this checkout, so the bundled copy cannot be compared with its source",
)
def test_sample_equals_shared_file():
    with np.load(SHARED_SAMPLE) as shared:
        (x_train, y_train), (x_test, y_test) = mnist.load_sample()
        for name, array in [("x_train", x_train), ("y_train", y_train), ("x_test", x_test), ("y_test", y_test)]:
            np.testing.assert_array_equal(array, shared[name])
            assert array.dtype == shared[name].dtype
