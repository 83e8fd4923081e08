"""to_categorical, normalize, set_random_seed, Sequence against hand-computed values."""

import random

import numpy as np
import pytest

import featherflow as ff
from featherflow.keras import utils


def test_to_categorical_values_and_shapes():
    out = utils.to_categorical([2, 0, 1, 2])
    expected = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype="float32")
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.float32
    column = utils.to_categorical(np.array([[1], [3]]), num_classes=5, dtype="int32")
    np.testing.assert_array_equal(column, [[0, 1, 0, 0, 0], [0, 0, 0, 1, 0]])
    assert column.dtype == np.int32
    grid = utils.to_categorical(np.array([[0, 1], [1, 0]]))
    assert grid.shape == (2, 2, 2) and grid[0, 1, 1] == 1 and grid[0, 1, 0] == 0
    assert utils.to_categorical(ff.constant([1, 0])).tolist() == [[0.0, 1.0], [1.0, 0.0]]


@pytest.mark.parametrize("bad", [[0, 3], [-1, 0], [0.5, 1.0]])
def test_to_categorical_rejects_bad_labels(bad):
    with pytest.raises(ValueError):
        utils.to_categorical(bad, num_classes=3)


def test_normalize():
    x = np.array([[3.0, 4.0], [1.0, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(utils.normalize(x), [[0.6, 0.8], [1.0, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(utils.normalize(x, axis=0), x / np.array([np.sqrt(10.0), 4.0]))
    np.testing.assert_allclose(utils.normalize(x, order=1), [[3 / 7, 4 / 7], [1.0, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(utils.normalize([1, 1]), [2**-0.5, 2**-0.5])


def test_set_random_seed_makes_all_generators_repeat():
    def draw():
        return random.random(), np.random.rand(), ff.random.normal((3,)).numpy().tolist()

    utils.set_random_seed(42)
    first = draw()
    utils.set_random_seed(42)
    assert draw() == first
    utils.set_random_seed(43)
    assert draw() != first
    with pytest.raises(ValueError, match="Expected `seed` argument to be an integer"):
        utils.set_random_seed(1.5)
    with pytest.raises(ValueError):
        utils.set_random_seed(-1)


def test_sequence_protocol():
    class Squares(utils.Sequence):
        def __init__(self):
            self.epochs = 0

        def __len__(self):
            return 3

        def __getitem__(self, index):
            return np.full((2,), index * index)

        def on_epoch_end(self):
            self.epochs += 1

    seq = Squares()
    assert [batch.tolist() for batch in seq] == [[0, 0], [1, 1], [4, 4]]
    seq.on_epoch_end()
    assert seq.epochs == 1

    class Empty(utils.Sequence):
        pass

    with pytest.raises(NotImplementedError):
        len(Empty())
    with pytest.raises(NotImplementedError):
        Empty()[0]
    Empty().on_epoch_end()  # default does nothing
