import numpy as np
import pytest
from gradcheck import check_gradient
from layer_helpers import layer_test
from tf_fixtures import case, check_against_tf

import featherflow as ff
from featherflow import keras
from featherflow.keras import layers


def _reference_attention(q, k, v, wq, bq, wk, bk, wv, bv, wo, bo, mask=None):
    """MultiHeadAttention written out in NumPy (float64): projections, per-head softmax, output projection."""
    qh = np.einsum("btd,dnh->btnh", q, wq) + bq
    kh = np.einsum("bsd,dnh->bsnh", k, wk) + bk
    vh = np.einsum("bsd,dnh->bsnh", v, wv) + bv
    scores = np.einsum("btnh,bsnh->bnts", qh / np.sqrt(wq.shape[-1]), kh)
    if mask is not None:
        scores = scores + (1.0 - mask[:, None].astype(float)) * -1e9
    scores = np.exp(scores - scores.max(-1, keepdims=True))
    probs = scores / scores.sum(-1, keepdims=True)
    out = np.einsum("bnts,bsnh->btnh", probs, vh)
    return np.einsum("btnh,nhd->btd", out, wo) + bo, probs


def test_weights_layout_and_names_match_tf_keras():
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4)
    layer(np.ones((1, 5, 6), "float32"), np.ones((1, 2, 6), "float32"))
    assert [tuple(w.shape) for w in layer.weights] == [(6, 2, 3), (2, 3), (6, 2, 3), (2, 3), (6, 2, 4), (2, 4),
                                                      (2, 4, 6), (6,)]
    names = [w.name for w in layer.weights]
    assert names == ["query/kernel", "query/bias", "key/kernel", "key/bias", "value/kernel", "value/bias",
                     "attention_output/kernel", "attention_output/bias"]
    assert layer.query_dense is layer._query_dense and layer.output_dense.equation == "abcd,cde->abe"
    assert layer._query_dense.equation == "abc,cde->abde"


def test_against_numpy_reference_float64():
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(size=(2, 4, 5)), rng.normal(size=(2, 3, 5)), rng.normal(size=(2, 3, 5))
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3, dtype="float64")
    layer(q, v, k)
    weights = [rng.normal(size=w.shape) for w in layer.get_weights()]
    layer.set_weights(weights)
    mask = rng.random((2, 4, 3)) > 0.3
    mask[..., 0] = True
    out, probs = layer(q, v, k, attention_mask=mask, return_attention_scores=True)
    ref_out, ref_probs = _reference_attention(q, k, v, *weights, mask=mask)
    np.testing.assert_allclose(out.numpy(), ref_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(probs.numpy(), ref_probs, rtol=1e-12, atol=1e-12)
    assert np.all(probs.numpy()[np.broadcast_to(~mask[:, None], probs.shape)] == 0)


@pytest.mark.parametrize("name, kwargs, call", [
    ("mha_self", dict(num_heads=2, key_dim=3), lambda m, x: m(x[0], x[0], return_attention_scores=True)),
    ("mha_cross_mask", dict(num_heads=3, key_dim=2, value_dim=4, output_shape=(7,)),
     lambda m, x: m(x[0], x[1], x[2], attention_mask=case("mha_cross_mask")["extra"]["attention_mask"],
                    return_attention_scores=True)),
    ("mha_causal", dict(num_heads=2, key_dim=4, use_bias=False),
     lambda m, x: m(x[0], x[0], use_causal_mask=True, return_attention_scores=True)),
    ("mha_keras_masks", dict(num_heads=2, key_dim=3),
     lambda m, x: m(x[0], x[1], use_causal_mask=True, return_attention_scores=True)),
    ("mha_axes_1_2", dict(num_heads=2, key_dim=3, attention_axes=(1, 2)),
     lambda m, x: m(x[0], x[0], return_attention_scores=True)),
    ("mha_axis_2_mask", dict(num_heads=2, key_dim=3, attention_axes=2),
     lambda m, x: m(x[0], x[0], attention_mask=case("mha_axis_2_mask")["extra"]["attention_mask"],
                    return_attention_scores=True)),
])
def test_outputs_and_gradients_equal_tf_keras(name, kwargs, call):
    check_against_tf(layers.MultiHeadAttention(**kwargs), name, call)


@pytest.mark.parametrize("kwargs, shapes, call_kwargs", [
    (dict(num_heads=2, key_dim=3), [(2, 4, 5), (2, 3, 5)], {}),
    (dict(num_heads=2, key_dim=2, value_dim=3, output_shape=4), [(2, 4, 5), (2, 3, 5), (2, 3, 6)],
     {"use_causal_mask": True}),
    (dict(num_heads=1, key_dim=2, attention_axes=(1, 2)), [(2, 2, 3, 4), (2, 2, 3, 4)], {}),
    (dict(num_heads=2, key_dim=2, use_bias=False), [(1, 3, 4), (1, 3, 4)], {"return_attention_scores": True}),
])
def test_layer_helper(kwargs, shapes, call_kwargs):
    layer_test(layers.MultiHeadAttention, kwargs, input_shape=shapes, positional_inputs=True,
               call_kwargs=call_kwargs, expected_num_trainable_weights=8 if kwargs.get("use_bias", True) else 4)


def test_dropout_and_gradient_in_training():
    layer_test(layers.MultiHeadAttention, dict(num_heads=2, key_dim=2, dropout=0.5),
               input_shape=[(2, 3, 4), (2, 3, 4)], positional_inputs=True, gradient_training=True)
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=2, dropout=0.5)
    x = np.random.default_rng(1).normal(size=(4, 6, 4)).astype("float32")
    inference = layer(x, x).numpy()
    np.testing.assert_array_equal(layer(x, x, training=False).numpy(), inference)
    assert not np.allclose(layer(x, x, training=True).numpy(), inference)


def test_config_round_trip_builds_weights_before_a_call():
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3, attention_axes=[1])
    x = keras.Input((4, 6))
    layer(x, x)
    config = layer.get_config()
    assert config["query_shape"] == [None, 4, 6] and config["attention_axes"] == (1,)
    clone = layers.MultiHeadAttention.from_config(config)
    assert len(clone.weights) == 8  # tf.keras builds from the stored shapes, so weights load before a call
    clone.set_weights(layer.get_weights())
    data = np.random.default_rng(2).normal(size=(2, 4, 6)).astype("float32")
    np.testing.assert_allclose(clone(data, data).numpy(), layer(data, data).numpy(), rtol=1e-6)


def test_keras_masks_from_embedding_and_causal_mask():
    ids = np.array([[3, 4, 5, 0, 0], [1, 2, 3, 4, 5]])
    inputs = keras.Input((5,), dtype="int32")
    embedded = layers.Embedding(10, 4, mask_zero=True)(inputs)
    attended = layers.MultiHeadAttention(num_heads=1, key_dim=4)(embedded, embedded, use_causal_mask=True)
    model = keras.Model(inputs, attended)
    layer = model.layers[-1]
    embedding = model.layers[1]
    out, probs = layer(embedding(ids), embedding(ids), use_causal_mask=True, return_attention_scores=True)
    probs = probs.numpy()
    assert np.all(np.triu(probs[1, 0], 1) == 0)  # causal
    # padded keys of row 0 get no weight; padded queries see a fully masked row (uniform, as tf.keras)
    assert np.all(probs[0, 0, :3, 3:] == 0)
    np.testing.assert_allclose(probs[0, 0, 3], np.full(5, 0.2), rtol=1e-6)
    assert out._keras_mask is not None and out._keras_mask.numpy().tolist() == (ids != 0).tolist()
    np.testing.assert_allclose(model(ids).numpy(), out.numpy(), rtol=1e-6)


def test_transformer_block_trains_in_a_functional_model():
    ff.keras.utils.set_random_seed(0)
    inputs = keras.Input((6,), dtype="int32")
    x = layers.Embedding(20, 8)(inputs)
    attended = layers.MultiHeadAttention(num_heads=2, key_dim=4)(x, x)
    x = layers.LayerNormalization()(layers.Add()([x, attended]))
    x = layers.GlobalAveragePooling1D()(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    data = rng.integers(1, 20, size=(64, 6))
    labels = ((data > 10).sum(axis=1) >= 3).astype("int32")  # order-free: attention + pooling can learn it
    history = model.fit(data, labels, epochs=20, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] * 0.5
    assert history.history["accuracy"][-1] > 0.9


def test_bad_arguments():
    with pytest.raises(ValueError, match="num_heads"):
        layers.MultiHeadAttention(num_heads=0, key_dim=2)
    layer = layers.MultiHeadAttention(num_heads=1, key_dim=2)
    with pytest.raises(TypeError, match="query` and `value"):
        layer(np.ones((1, 2, 3), "float32"))
    with pytest.raises(ValueError, match="rank >= 3"):
        layers.MultiHeadAttention(num_heads=1, key_dim=2)(np.ones((2, 3), "float32"), np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match="does not broadcast"):
        layer(np.ones((1, 2, 3), "float32"), np.ones((1, 4, 3), "float32"), attention_mask=np.ones((1, 3, 3), bool))


def test_saved_and_loaded_with_the_model(tmp_path):
    inputs = keras.Input((5,), dtype="int32")
    x = layers.Embedding(20, 8)(inputs)
    x = layers.MultiHeadAttention(num_heads=2, key_dim=4)(x, x, use_causal_mask=True)
    model = keras.Model(inputs, layers.EinsumDense("abc,cd->abd", (None, 3), bias_axes="d")(x))
    data = np.random.default_rng(0).integers(0, 20, (3, 5))
    path = tmp_path / "attention.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded(data).numpy(), model(data).numpy())
    assert loaded.layers[2].get_config()["query_shape"] == [None, 5, 8]


def test_self_attention_runs_its_projections_as_one_product():
    rng = np.random.default_rng(5)
    x = ff.constant(rng.normal(size=(2, 4, 6)))
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=2, dtype="float64")
    layer(x, x)
    layer.set_weights([rng.normal(size=w.shape) for w in layer.get_weights()])
    assert layer._fusable_projections() and layer._packed_attention_applies(x, None)
    assert layer._output_product(np.dtype("float64"))[0] is not None  # the output projection joins the one op
    results = []
    for value in (x, ff.constant(x.numpy())):  # the same tensor: fused; an equal copy: three products
        with ff.GradientTape() as tape:
            out = layer(x, value)
            loss = ff.reduce_sum(out * out)
        results.append([out.numpy()] + [g.numpy() for g in tape.gradient(loss, layer.trainable_weights)])
    for fused, separate in zip(*results):
        np.testing.assert_allclose(fused, separate, rtol=1e-12, atol=1e-12)
    check_gradient(lambda inputs: layer(inputs, inputs), [x.numpy()])  # through all three projections


class _MaskedEncoder(layers.Layer):
    """keras.io's seq2seq encoder block: reads the Keras mask in `call`, a Sequential feed-forward inside."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.attention = layers.MultiHeadAttention(num_heads=2, key_dim=4)
        self.dense_proj = keras.Sequential([layers.Dense(8, activation="relu"), layers.Dense(4)])
        self.supports_masking = True

    def call(self, inputs, mask=None):
        padding_mask = ff.cast(mask[:, None, :], dtype="int32")  # unbound without a mask, as in keras.io's code
        attended = self.attention(query=inputs, value=inputs, key=inputs, attention_mask=padding_mask)
        return self.dense_proj(inputs + attended)


def test_masks_reach_custom_layers_while_a_variable_length_model_is_built():
    inputs = keras.Input(shape=(None,), dtype="int64")
    embedded = layers.Embedding(10, 4, mask_zero=True)(inputs)
    encoded = _MaskedEncoder()(embedded)
    assert embedded._mask_ndim == 2 and encoded.shape == (None, None, 4)
    model = keras.Model(inputs, encoded)
    short, long = np.array([[1, 2, 0]]), np.array([[1, 2, 0, 0, 0, 3]])  # any length after the build
    assert model(short).shape == (1, 3, 4) and model(long).shape == (1, 6, 4)
    # padded keys get no attention: the real tokens' outputs do not depend on how much padding follows
    padded = model(np.array([[1, 2, 0, 0, 0, 0]])).numpy()
    np.testing.assert_allclose(padded[0, :2], model(short).numpy()[0, :2], rtol=1e-5, atol=1e-6)
