"""Layers in checkpoints: their children's names, and load_weights into a model not built yet."""

import numpy as np
import pytest

from featherflow import keras


class Block(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.inner = [keras.layers.Dense(2), keras.layers.Dense(2)]
        self.table = {"a": keras.layers.Dense(1)}

    def build(self, input_shape):
        self.scale = self.add_weight(name="scale", shape=(), initializer="ones")
        self.add_weight(name="unnamed", shape=(2,), trainable=False)

    def call(self, x):
        return self.table["a"](self.inner[1](self.inner[0](x))) * self.scale


def test_children_are_named_after_attributes_and_variables():
    block = Block()
    block(np.ones((1, 3), "float32"))
    names = block._trackable_children()
    assert list(names) == ["inner/0", "inner/1", "table/a", "scale", "unnamed"]
    assert names["inner/1"] is block.inner[1] and names["scale"] is block.scale
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.Dense(1)])
    assert list(model._trackable_children()) == ["layer-0", "layer-1"]


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(3, activation="tanh")
        self.head = keras.layers.Dense(1)

    def call(self, x):
        return self.head(self.hidden(x))


def test_load_weights_before_build_restores_on_the_first_call(tmp_path):
    x = np.random.default_rng(0).normal(size=(4, 2)).astype("float32")
    trained = Subclassed()
    trained(x)
    trained.save_weights(str(tmp_path / "weights"))
    fresh = Subclassed()
    status = fresh.load_weights(str(tmp_path / "weights"))
    assert not fresh.built
    np.testing.assert_array_equal(fresh(x).numpy(), trained(x).numpy())
    status.expect_partial().assert_consumed()
    other = Subclassed()
    other.load_weights(str(tmp_path / "weights"))
    other.build((None, 2))  # building explicitly restores too
    np.testing.assert_array_equal(other.hidden.get_weights()[0], trained.hidden.get_weights()[0])
    wrong = keras.Sequential([keras.layers.Dense(5)])
    wrong.load_weights(str(tmp_path / "weights"))
    with pytest.raises(ValueError):
        wrong(x)  # the mismatch shows when the weights meet the built model
