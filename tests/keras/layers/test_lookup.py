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


# -- the vectorized lookups (dict lookups through map, a dense table or searchsorted for integers, unknown
# tokens hashed once per distinct token) against a token-by-token reference written here --------------------
def _reference_lookup(layer, tokens):
    """Index of each token the way tf.keras's IndexLookup defines it, one token at a time."""
    from featherflow.strings._hash import fingerprint64

    vocabulary = layer.get_vocabulary()
    start = layer._token_start_index()
    index = {token: i for i, token in enumerate(vocabulary) if i >= start}
    out = []
    for token in tokens:
        key = token.decode() if isinstance(token, bytes) else token
        if layer.mask_token is not None and key == layer.mask_token:
            out.append(0)
        elif key in index:
            out.append(index[key])
        elif layer.num_oov_indices == 1:
            out.append(layer._oov_start_index())
        else:
            raw = token if isinstance(token, bytes) else None
            bucket = fingerprint64(raw) if raw is not None else int(token) % layer.num_oov_indices
            out.append(layer._oov_start_index() + (bucket % layer.num_oov_indices if raw is not None else bucket))
    return np.array(out)


@pytest.mark.parametrize("kwargs", [dict(), dict(mask_token=""), dict(num_oov_indices=3, mask_token="[M]"),
                                    dict(num_oov_indices=2)])
def test_string_lookup_matches_the_token_by_token_definition(kwargs):
    rng = np.random.default_rng(1)
    words = ["", "a", "b\x00", "émile", "[M]", "zz", "q", "日本"] + [f"w{i}" for i in range(40)]
    layer = layers.StringLookup(vocabulary=words[1:4] + words[8:30], **kwargs)
    tokens = np.array(rng.choice(np.array(words, dtype=object), (50, 30)), dtype=object)
    encoded = np.array([[t.encode() for t in row] for row in tokens], dtype=object)
    expected = _reference_lookup(layer, encoded.reshape(-1).tolist()).reshape(encoded.shape)
    np.testing.assert_array_equal(layer(encoded).numpy(), expected)
    as_str = tokens.astype(str)  # NumPy str input (NumPy itself drops the trailing NUL of "b\x00")
    expected = _reference_lookup(layer, [t.encode() for t in as_str.reshape(-1).tolist()]).reshape(encoded.shape)
    np.testing.assert_array_equal(layer(as_str).numpy(), expected)


@pytest.mark.parametrize("vocabulary", [[3, 10, -4, 7], [1, 10**12, -(10**12), 5]])  # dense table / searchsorted
@pytest.mark.parametrize("kwargs", [dict(), dict(mask_token=0), dict(num_oov_indices=4), dict(num_oov_indices=0)])
def test_integer_lookup_matches_the_token_by_token_definition(vocabulary, kwargs):
    layer = layers.IntegerLookup(vocabulary=vocabulary, **kwargs)
    values = np.array([[3, 10, -4, 7], [1, 10**12, -(10**12), 5]], dtype=np.int64)
    values = np.concatenate([values, np.array([[0, -7, 11, 2**40 + 3]], dtype=np.int64)])
    if kwargs.get("num_oov_indices") == 0:
        known = np.array([vocabulary] * 2, dtype=np.int64)
        np.testing.assert_array_equal(layer(known).numpy(), _reference_lookup(layer, known.reshape(-1).tolist())
                                      .reshape(known.shape))
        with pytest.raises(ValueError, match="found OOV values"):
            layer(values)
        return
    np.testing.assert_array_equal(layer(values).numpy(),
                                  _reference_lookup(layer, values.reshape(-1).tolist()).reshape(values.shape))
    # floats are cast as tf.keras casts them; multi_hot drops the mask and counts the rest
    np.testing.assert_array_equal(layer(values.astype("float64")[:1]).numpy(), layer(values[:1]).numpy())


def test_inverse_lookup_matches_the_token_by_token_definition():
    layer = layers.StringLookup(vocabulary=["a", "b", "c"], invert=True, mask_token="[M]", num_oov_indices=2)
    ids = np.array([[0, 1, 2, 3, 4, 5, 6, -1, 99]])
    vocabulary = layer.get_vocabulary()
    expected = [[(vocabulary[i] if 0 <= i < len(vocabulary) else "[UNK]").encode() for i in row] for row in ids]
    assert layer(ids).numpy().tolist() == expected
    ints = layers.IntegerLookup(vocabulary=[7, 9], invert=True)
    assert ints(np.array([0, 1, 2, 3])).numpy().tolist() == [-1, 7, 9, -1]


def test_unknown_tokens_are_hashed_once_each(monkeypatch):
    from featherflow.keras.layers import index_lookup
    from featherflow.strings._hash import fingerprint64

    hashed = []
    monkeypatch.setattr(index_lookup, "fingerprint64", lambda key: hashed.append(key) or fingerprint64(key))
    layer = layers.StringLookup(vocabulary=["a"], num_oov_indices=3)
    out = layer(np.array([["x", "y", "x", "a"]] * 500, dtype=object)).numpy()
    assert sorted(hashed) == [b"x", b"y"]  # two distinct unknown tokens, 1,500 unknown occurrences
    assert out[0].tolist() == [fingerprint64(b"x") % 3, fingerprint64(b"y") % 3, fingerprint64(b"x") % 3, 3]
