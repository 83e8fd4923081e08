import numpy as np
import pytest
from layer_helpers import layer_test

import featherflow as ff
from featherflow import keras
from featherflow.keras import layers

RNG = np.random.default_rng(0)
A = RNG.uniform(-1, 1, (3, 4)).astype("float32")
B = RNG.uniform(-1, 1, (3, 4)).astype("float32")
C = RNG.uniform(-1, 1, (3, 4)).astype("float32")


@pytest.mark.parametrize("cls,ref", [
    (layers.Add, lambda xs: sum(xs)),
    (layers.Multiply, lambda xs: xs[0] * xs[1] * xs[2]),
    (layers.Average, lambda xs: sum(xs) / 3),
    (layers.Maximum, lambda xs: np.maximum(np.maximum(xs[0], xs[1]), xs[2])),
    (layers.Minimum, lambda xs: np.minimum(np.minimum(xs[0], xs[1]), xs[2])),
])
def test_elementwise_merges(cls, ref):
    xs = [A, B, C]
    layer_test(cls, {}, input_data=xs, expected_output=ref([x.astype("float64") for x in xs]),
               expected_output_shape=(None, 4), expected_num_trainable_weights=0, supports_masking=True)


def test_subtract():
    layer_test(layers.Subtract, {}, input_data=[A, B], expected_output=A - B, expected_output_shape=(None, 4))
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        layers.Subtract()([A, B, C])


def test_merge_broadcasting_and_errors():
    x = RNG.uniform(size=(3, 1, 4)).astype("float32")
    y = RNG.uniform(size=(3, 5, 4)).astype("float32")
    layer_test(layers.Add, {}, input_data=[x, y], expected_output=x + y, expected_output_shape=(None, 5, 4))
    with pytest.raises(ValueError, match="Inputs have incompatible shapes"):
        layers.Add()([keras.Input(shape=(3,)), keras.Input(shape=(4,))])
    with pytest.raises(ValueError, match="list of inputs"):
        layers.Add()(A)
    with pytest.raises(ValueError, match="different batch sizes"):
        layers.Add()([np.zeros((2, 3), "float32"), np.zeros((3, 3), "float32")])
    assert layers.Add().compute_output_shape([(None, 3), (None, 3)]) == (None, 3)


@pytest.mark.parametrize("axis", [-1, 1, 0])
def test_concatenate(axis):
    x = RNG.uniform(size=(2, 3, 4)).astype("float32")
    y = RNG.uniform(size=(2, 3, 4)).astype("float32") if axis != 1 else RNG.uniform(size=(2, 5, 4)).astype("float32")
    if axis == 0:
        out = layers.Concatenate(axis=0)([x, y]).numpy()
        np.testing.assert_array_equal(out, np.concatenate([x, y], 0))
        return
    ref = np.concatenate([x, y], axis=axis)
    layer_test(layers.Concatenate, {"axis": axis}, input_data=[x, y], expected_output=ref,
               expected_output_shape=(None,) + ref.shape[1:])
    with pytest.raises(ValueError, match="matching shapes except for the concatenation axis"):
        layers.Concatenate(axis=axis)([keras.Input(shape=(3, 4)), keras.Input(shape=(7, 2))])


def test_concatenate_masks():
    x = ff.constant(RNG.uniform(size=(2, 3, 2)).astype("float32"))
    y = ff.constant(RNG.uniform(size=(2, 3, 2)).astype("float32"))
    x._keras_mask = ff.constant(np.array([[True, True, False], [True, False, False]]))
    out = layers.Concatenate()([x, y])
    np.testing.assert_array_equal(out._keras_mask.numpy(), [[True, True, False], [True, False, False]])
    out = layers.Concatenate(axis=1)([x, y])
    np.testing.assert_array_equal(out._keras_mask.numpy(),
                                  [[True, True, False, True, True, True], [True, False, False, True, True, True]])


def test_add_combines_masks():
    x = ff.constant(A[:, :3, None] if False else RNG.uniform(size=(2, 3, 2)).astype("float32"))
    y = ff.constant(RNG.uniform(size=(2, 3, 2)).astype("float32"))
    x._keras_mask = ff.constant(np.array([[True, True, False], [True, True, True]]))
    y._keras_mask = ff.constant(np.array([[True, False, True], [True, True, True]]))
    out = layers.Add()([x, y])
    np.testing.assert_array_equal(out._keras_mask.numpy(), [[True, False, False], [True, True, True]])


def test_dot():
    ref = (A.astype("float64") * B).sum(-1, keepdims=True)
    layer_test(layers.Dot, {"axes": 1}, input_data=[A, B], expected_output=ref, expected_output_shape=(None, 1))
    na = A / np.linalg.norm(A, axis=1, keepdims=True)
    nb = B / np.linalg.norm(B, axis=1, keepdims=True)
    layer_test(layers.Dot, {"axes": -1, "normalize": True}, input_data=[A, B],
               expected_output=(na * nb).sum(-1, keepdims=True), expected_output_shape=(None, 1))
    x = RNG.uniform(size=(2, 3, 4)).astype("float32")
    y = RNG.uniform(size=(2, 4, 5)).astype("float32")
    layer_test(layers.Dot, {"axes": (2, 1)}, input_data=[x, y], expected_output=np.einsum("bij,bjk->bik", x, y),
               expected_output_shape=(None, 3, 5))
    y2 = RNG.uniform(size=(2, 3, 5)).astype("float32")
    layer_test(layers.Dot, {"axes": 1}, input_data=[x, y2], expected_output=np.einsum("bij,bik->bjk", x, y2),
               expected_output_shape=(None, 4, 5))
    with pytest.raises(ValueError, match="Incompatible input shapes"):
        layers.Dot(axes=1)([keras.Input(shape=(3,)), keras.Input(shape=(4,))])
    assert layers.Dot(axes=(2, 1)).compute_output_shape([(None, 3, 4), (None, 4, 5)]) == (None, 3, 5)


def test_functional_helpers():
    a, b = keras.Input(shape=(4,)), keras.Input(shape=(4,))
    assert layers.add([a, b]).shape == (None, 4)
    assert layers.concatenate([a, b]).shape == (None, 8)
    assert layers.dot([a, b], axes=1).shape == (None, 1)
    assert layers.multiply([a, b]).shape == layers.subtract([a, b]).shape == layers.average([a, b]).shape
    assert layers.maximum([a, b]).shape == layers.minimum([a, b]).shape == (None, 4)
