import numpy as np
import pytest
from layer_helpers import layer_test

import featherflow as tf
from featherflow import keras
from featherflow.keras import layers


@pytest.mark.parametrize("kwargs, data, shape", [
    (dict(vocabulary=["a", "b", "c"]), np.array([["a", "z"], ["c", "b"]]), (None, 2)),
    (dict(vocabulary=["a", "b"], num_oov_indices=2, mask_token=""), np.array([["a", ""], ["q", "b"]]), (None, 2)),
    (dict(vocabulary=["a", "b"], output_mode="multi_hot"), np.array([["a", "b"], ["b", "q"]]), (None, 3)),
    (dict(vocabulary=["a", "b"], output_mode="one_hot"), np.array([["a"], ["b"]]), (None, 3)),
    (dict(vocabulary=["a", "b"], output_mode="count", pad_to_max_tokens=True, max_tokens=5),
     np.array([["a", "a"], ["b", "q"]]), (None, 5)),
])
def test_string_lookup_layer_helper(kwargs, data, shape):
    layer_test(layers.StringLookup, kwargs, input_data=data, expected_output_shape=shape,
               expected_num_trainable_weights=0, check_gradients=False)


@pytest.mark.parametrize("kwargs, data, shape", [
    (dict(vocabulary=[12, 36, 7]), np.array([[12, 5], [7, 36]]), (None, 2)),
    (dict(vocabulary=[12, 36], output_mode="count"), np.array([[12, 12], [36, 1]]), (None, 3)),
    (dict(vocabulary=[12, 36], invert=True), np.array([[0, 1], [2, 9]]), (None, 2)),
])
def test_integer_lookup_layer_helper(kwargs, data, shape):
    layer_test(layers.IntegerLookup, kwargs, input_data=data, expected_output_shape=shape,
               expected_num_trainable_weights=0, check_gradients=False)


def test_lookup_round_trip_through_invert():
    vocab = ["cat", "dog", "émile"]
    forward = layers.StringLookup(vocabulary=vocab)
    inverse = layers.StringLookup(vocabulary=vocab, invert=True)
    words = np.array([["dog", "émile", "fish"]])
    assert inverse(forward(words)).numpy().tolist() == [[b"dog", "émile".encode(), b"[UNK]"]]


def test_adapted_vocabulary_is_saved_with_the_model(tmp_path):
    lookup = layers.StringLookup(output_mode="tf_idf", max_tokens=6)
    lookup.adapt(np.array([["a", "b", "b"], ["c", "b", "d"], ["a", "a", "e"]]))
    ints = layers.IntegerLookup(num_oov_indices=2)
    ints.adapt(np.array([3, 3, 9, 100]))
    text_in = keras.Input((3,), dtype="string")
    int_in = keras.Input((2,), dtype="int64")
    merged = layers.Concatenate()([lookup(text_in), layers.Flatten()(layers.Embedding(6, 2)(ints(int_in)))])
    model = keras.Model([text_in, int_in], layers.Dense(1)(merged))
    data = [np.array([["b", "e", "zz"]]), np.array([[9, 8]])]
    before = model.predict(data, verbose=0)
    model.save(tmp_path / "lookup.keras")
    loaded = keras.models.load_model(tmp_path / "lookup.keras")
    np.testing.assert_array_equal(loaded.predict(data, verbose=0), before)
    assert loaded.get_layer(lookup.name).get_vocabulary() == lookup.get_vocabulary()
    np.testing.assert_array_equal(loaded.get_layer(lookup.name).idf_weights, lookup.idf_weights)
    assert loaded.get_layer(ints.name).get_vocabulary() == [-1, -1, 3, 100, 9]


def test_vocabulary_file_and_dataset_adapt(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("red\ngreen\nblue\n", encoding="utf-8")
    layer = layers.StringLookup(vocabulary=str(path))
    assert layer.get_vocabulary() == ["[UNK]", "red", "green", "blue"]
    ds = tf.data.Dataset.from_tensor_slices(np.array(["x", "y", "y", "z", "y"])).batch(2)
    adapted = layers.StringLookup()
    adapted.adapt(ds)
    assert adapted.get_vocabulary() == ["[UNK]", "y", "z", "x"]


def test_errors():
    with pytest.raises(ValueError, match="repeated term"):
        layers.StringLookup(vocabulary=["a", "a"])
    with pytest.raises(ValueError, match="found OOV values"):
        layers.StringLookup(vocabulary=["a"], num_oov_indices=0)(["b"])
    with pytest.raises(ValueError, match="`output_mode` must be `'int'` when `invert` is true"):
        layers.StringLookup(invert=True, output_mode="count")
    with pytest.raises(ValueError, match="does not exist"):
        layers.StringLookup(vocabulary="/no/such/vocabulary.txt")
    with pytest.raises(ValueError, match="integer dtype"):
        layers.IntegerLookup(vocabulary_dtype="float32")
    with pytest.raises(ValueError, match="larger than the maximum"):
        layers.StringLookup(max_tokens=2, vocabulary=["a", "b"])
    with pytest.raises(ValueError, match="static vocabulary"):
        layers.StringLookup(vocabulary=["a"]).adapt(["a"])
