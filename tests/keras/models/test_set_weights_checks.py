"""set_weights on layers and models: count and shapes are checked before anything is assigned (one
implementation, LayerWeights.set_weights, serves both)."""

import numpy as np
import pytest

from featherflow import keras


def _model():
    return keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2, name="d1"), keras.layers.Dense(1)])


def test_model_set_weights_round_trip():
    model = _model()
    new = [np.arange(np.prod(w.shape), dtype="float32").reshape(w.shape) for w in model.get_weights()]
    model.set_weights(new)
    for got, want in zip(model.get_weights(), new):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("target", ["model", "layer"])
def test_wrong_count_names_the_layer_and_changes_nothing(target):
    model = _model()
    obj = model if target == "model" else model.get_layer("d1")
    before = [w.copy() for w in obj.get_weights()]
    with pytest.raises(ValueError, match=r"with a weight list of length 1, but the layer was expecting "
                                         rf"{len(before)} weights"):
        obj.set_weights([np.zeros((3, 2))])
    for got, want in zip(obj.get_weights(), before):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("target", ["model", "layer"])
def test_wrong_shape_changes_nothing(target):
    model = _model()
    obj = model if target == "model" else model.get_layer("d1")
    before = [w.copy() for w in obj.get_weights()]
    bad = [np.ones_like(w) for w in before]
    bad[-1] = np.ones((7,), "float32")  # the last weight has the wrong shape: the first must not be written
    with pytest.raises(ValueError, match=r"weight shape \(\w*,?\) is not compatible with provided weight shape "
                                         r"\(7,\)"):
        obj.set_weights(bad)
    for got, want in zip(obj.get_weights(), before):
        np.testing.assert_array_equal(got, want)
