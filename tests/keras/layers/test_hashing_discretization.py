import numpy as np
import pytest
from layer_helpers import layer_test

from featherflow import keras
from featherflow.keras import layers


@pytest.mark.parametrize("kwargs, data, shape", [
    (dict(num_bins=5), np.array([["a"], ["b"], ["c"]]), (None, 1)),
    (dict(num_bins=5, salt=7, mask_value="a"), np.array([["a", "b"], ["c", "d"]]), (None, 2)),
    (dict(num_bins=4, output_mode="multi_hot"), np.array([[1, 2], [3, 3]]), (None, 4)),
])
def test_hashing_layer_helper(kwargs, data, shape):
    layer_test(layers.Hashing, kwargs, input_data=data, expected_output_shape=shape,
               expected_num_trainable_weights=0, check_gradients=False)


def test_hashing_integers_hash_their_decimal_strings():
    ints = layers.Hashing(num_bins=97)(np.array([[1, -22, 333]])).numpy()
    strings = layers.Hashing(num_bins=97)(np.array([["1", "-22", "333"]])).numpy()
    np.testing.assert_array_equal(ints, strings)


def test_hashed_crossing_in_a_model():
    first = keras.Input((1,), dtype="string")
    second = keras.Input((1,), dtype="int64")
    crossed = layers.HashedCrossing(num_bins=8, output_mode="one_hot")((first, second))
    model = keras.Model([first, second], layers.Dense(1)(crossed))
    assert crossed.shape == (None, 8)
    out = model([np.array([["A"], ["B"]]), np.array([[101], [101]])])
    assert out.shape == (2, 1)
    with pytest.raises(ValueError, match="at least two inputs"):
        layers.HashedCrossing(num_bins=3)([np.array(["A"])])
    with pytest.raises(ValueError, match="equal shape"):
        layers.HashedCrossing(num_bins=3)((np.array(["A", "B"]), np.array([1])))


@pytest.mark.parametrize("kwargs, shape, expected", [
    (dict(bin_boundaries=[0.0, 1.0]), (None, 3), None),
    (dict(bin_boundaries=[-0.5, 0.5], output_mode="count"), (None, 3), None),
])
def test_discretization_layer_helper(kwargs, shape, expected):
    data = np.array([[-1.0, 0.0, 2.0], [0.25, 0.75, -0.75]], "float32")
    layer_test(layers.Discretization, kwargs, input_data=data, expected_output_shape=shape,
               expected_num_trainable_weights=0, check_gradients=False)


def test_discretization_adapt_and_save(tmp_path):
    rng = np.random.default_rng(0)
    layer = layers.Discretization(num_bins=4)
    layer.adapt(rng.uniform(0, 8, size=(1000, 1)).astype("float32"))
    assert len(layer.bin_boundaries) == 3
    np.testing.assert_allclose(layer.bin_boundaries, [2.0, 4.0, 6.0], atol=0.5)  # about the quartiles of U(0, 8)
    inputs = keras.Input((1,))
    model = keras.Model(inputs, layers.Dense(1)(layers.CategoryEncoding(4, output_mode="one_hot")(layer(inputs))))
    model.save(tmp_path / "bins.keras")
    loaded = keras.models.load_model(tmp_path / "bins.keras")
    assert loaded.layers[1].bin_boundaries == layer.bin_boundaries
    with pytest.raises(ValueError, match="Both `num_bins` and `bin_boundaries`"):
        layers.Discretization(num_bins=2, bin_boundaries=[1.0])
    with pytest.raises(ValueError, match="Cannot adapt"):
        layers.Discretization(bin_boundaries=[1.0]).adapt([1.0, 2.0])


@pytest.mark.parametrize("kwargs", [dict(num_bins=7), dict(num_bins=7, mask_value="b"), dict(num_bins=5, salt=[3, 9])])
def test_hashing_matches_the_value_by_value_definition(kwargs):
    from featherflow.strings._hash import fingerprint64, siphash24

    def reference(value, bins):
        key = value if isinstance(value, bytes) else str(int(value)).encode()
        if "salt" in kwargs:
            return siphash24(tuple(kwargs["salt"]), key) % bins
        return fingerprint64(key) % bins

    strings = np.array([["a", "b", "", "émile"], ["b", "a\x00", "q", "a"]], dtype=object)
    numbers = np.array([[1, -22, 333, 0], [2**40, -1, 1, 7]], dtype=np.int64)
    for values in (strings, numbers, numbers.astype("int32")[:, :2], np.array([[True, False]])):
        layer = layers.Hashing(**kwargs)
        bins = kwargs["num_bins"]
        flat = [v.encode() if isinstance(v, str) else v for v in values.reshape(-1).tolist()]
        if kwargs.get("mask_value") is not None:
            expected = [0 if v == b"b" else 1 + reference(v, bins - 1) for v in flat]
        else:
            expected = [reference(v, bins) for v in flat]
        np.testing.assert_array_equal(layer(values).numpy().reshape(-1), expected)


def test_hashing_hashes_each_distinct_value_once(monkeypatch):
    from featherflow.keras.layers import hashing
    from featherflow.strings._hash import fingerprint64

    seen = []
    monkeypatch.setattr(hashing, "fingerprint64", lambda key: seen.append(key) or fingerprint64(key))
    out = layers.Hashing(num_bins=10)(np.array([["x", "y", "x"]] * 400, dtype=object)).numpy()
    assert sorted(seen) == [b"x", b"y"]
    assert out[0].tolist() == [fingerprint64(b"x") % 10, fingerprint64(b"y") % 10, fingerprint64(b"x") % 10]
    crossing = layers.HashedCrossing(num_bins=10)
    features = (np.array(["x", "y", "x"] * 300, dtype=object), np.array([1, 2, 1] * 300))
    reference = layers.HashedCrossing(num_bins=10)((features[0][:3], features[1][:3])).numpy()
    seen.clear()
    np.testing.assert_array_equal(crossing(features).numpy(), np.tile(reference, 300))
    assert sorted(seen) == [b"x", b"y"]  # the two distinct (string, int) rows
