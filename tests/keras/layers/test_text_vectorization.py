import numpy as np
import pytest
from layer_helpers import layer_test

import featherflow as tf
from featherflow import keras
from featherflow.keras import layers

TEXTS = np.array(["The cat sat.", "The dog sat on the cat!", "a bird"])


@pytest.mark.parametrize("kwargs, expected_shape", [
    (dict(vocabulary=["the", "cat", "sat"], output_sequence_length=4), (None, 4)),
    (dict(vocabulary=["the", "cat"], output_mode="multi_hot"), (None, 3)),
    (dict(vocabulary=["the", "cat"], output_mode="count", ngrams=2), (None, 3)),
    (dict(vocabulary=["the", "cat"], idf_weights=[0.5, 1.0], output_mode="tf_idf"), (None, 3)),
])
def test_layer_helper(kwargs, expected_shape):
    out = layer_test(layers.TextVectorization, kwargs, input_data=TEXTS, expected_output_shape=expected_shape,
                     expected_num_trainable_weights=0, check_gradients=False)
    assert out.dtype == (np.int64 if kwargs.get("output_mode", "int") == "int" else np.float32)


def test_adapt_on_lists_arrays_tensors_and_datasets_gives_one_vocabulary():
    expected = None
    for data in (list(TEXTS), TEXTS, tf.constant(TEXTS), tf.data.Dataset.from_tensor_slices(TEXTS).batch(2),
                 (t for t in [TEXTS[:1], TEXTS[1:]])):
        layer = layers.TextVectorization()
        layer.adapt(data)
        vocabulary = layer.get_vocabulary()
        expected = expected or vocabulary
        assert vocabulary == expected
    assert expected == ["", "[UNK]", "the", "sat", "cat", "on", "dog", "bird", "a"]
    labelled = tf.data.Dataset.from_tensor_slices((TEXTS, np.array([0, 1, 0]))).batch(2)
    with pytest.raises(ValueError, match="Map it to the features"):
        layers.TextVectorization().adapt(labelled)
    layer = layers.TextVectorization()
    layer.adapt(labelled.map(lambda x, y: x))
    assert layer.get_vocabulary() == expected


def test_set_vocabulary_and_readapt_replaces_it():
    layer = layers.TextVectorization(output_sequence_length=3)
    layer.set_vocabulary(["x", "y"])
    np.testing.assert_array_equal(layer(["y x z"]).numpy(), [[3, 2, 1]])
    fresh = layers.TextVectorization()
    fresh.adapt(["a a b"])
    fresh.adapt(["c"])  # adapt starts from scratch, as in tf.keras
    assert fresh.get_vocabulary() == ["", "[UNK]", "c"]
    assert fresh.vocabulary_size() == 3 and fresh.get_vocabulary(include_special_tokens=False) == ["c"]


def test_end_to_end_string_model_trains_predicts_and_saves(tmp_path):
    texts = np.array(["good great fine", "bad awful poor", "great good", "poor bad", "fine good", "awful bad"])
    labels = np.array([1, 0, 1, 0, 1, 0])
    vectorize = layers.TextVectorization(max_tokens=20, output_sequence_length=4)
    vectorize.adapt(texts)
    inputs = keras.Input(shape=(1,), dtype="string")
    x = layers.Embedding(20, 8)(vectorize(inputs))
    outputs = layers.Dense(1, activation="sigmoid")(layers.GlobalAveragePooling1D()(x))
    model = keras.Model(inputs, outputs)
    assert model.layers[1].output_shape == (None, 4)
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(texts[:, None], labels, epochs=15, verbose=0)
    assert history.history["accuracy"][-1] == 1.0
    predictions = model.predict(["good great", "bad poor"], verbose=0)
    assert predictions[0, 0] > 0.5 > predictions[1, 0]
    path = tmp_path / "text.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.layers[1].get_vocabulary() == vectorize.get_vocabulary()
    np.testing.assert_array_equal(loaded.predict(["good great", "bad poor"], verbose=0), predictions)


def test_callable_standardize_and_split():
    def standardize(text):
        return tf.strings.regex_replace(tf.strings.lower(text), "<br />", " ")

    def split_on_commas(text):
        return tf.strings.split(text, sep=",")

    layer = layers.TextVectorization(standardize=standardize, split=split_on_commas)
    layer.adapt(["A,b<br />c", "a,B"])
    assert layer.get_vocabulary() == ["", "[UNK]", "a", "b c", "b"]  # a tie goes to the larger token
    np.testing.assert_array_equal(layer(["a,b c"]).numpy(), [[2, 3]])


def test_ragged_and_character_outputs():
    layer = layers.TextVectorization(ragged=True, vocabulary=["a", "b"])
    out = layer(["a b", "b", ""])
    assert isinstance(out, tf.RaggedTensor) and out.to_list() == [[2, 3], [3], []]
    chars = layers.TextVectorization(split="character", standardize=None, vocabulary=["h", "é"])
    np.testing.assert_array_equal(chars(["hé!"]).numpy(), [[2, 3, 1]])


def test_errors_in_keras_words():
    with pytest.raises(ValueError, match="`standardize` argument of TextVectorization"):
        layers.TextVectorization(standardize="upper")
    with pytest.raises(ValueError, match="output_sequence_length` must not be set"):
        layers.TextVectorization(output_mode="count", output_sequence_length=3)
    with pytest.raises(ValueError, match="may only have a dtype of string"):
        layers.TextVectorization(dtype="float32")
    with pytest.raises(RuntimeError, match="set the layer's vocabulary"):
        layers.TextVectorization(output_mode="multi_hot")(["a"])
    with pytest.raises(ValueError, match="last shape dimension must be 1"):
        layers.TextVectorization(vocabulary=["a"])(np.array([["a", "b"]]))
    with pytest.raises(TypeError, match="expects strings"):
        layers.TextVectorization(vocabulary=["a"])(np.array([1.0, 2.0]))
