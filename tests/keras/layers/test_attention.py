import numpy as np
import pytest
from layer_helpers import layer_test
from tf_fixtures import check_against_tf

from featherflow import keras
from featherflow.keras import layers


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_dot_attention_matches_numpy():
    rng = np.random.default_rng(0)
    q, v = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4))
    out, weights = layers.Attention(dtype="float64")([q, v], return_attention_scores=True)
    expected_weights = _softmax(q @ v.transpose(0, 2, 1))
    np.testing.assert_allclose(weights.numpy(), expected_weights, rtol=1e-12)
    np.testing.assert_allclose(out.numpy(), expected_weights @ v, rtol=1e-12)


def test_additive_attention_matches_numpy():
    rng = np.random.default_rng(1)
    q, v, k = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 5, 4))
    layer = layers.AdditiveAttention(dtype="float64")
    layer([q, v, k])
    scale = rng.normal(size=4)
    layer.set_weights([scale])
    scores = (scale * np.tanh(q[:, :, None, :] + k[:, None, :, :])).sum(-1)
    np.testing.assert_allclose(layer([q, v, k]).numpy(), _softmax(scores) @ v, rtol=1e-12)


@pytest.mark.parametrize("name, make, call", [
    ("attention_dot", lambda: layers.Attention(), lambda m, x: m([x[0], x[1]], return_attention_scores=True)),
    ("attention_concat_causal", lambda: layers.Attention(use_scale=True, score_mode="concat"),
     lambda m, x: m([x[0], x[1]], use_causal_mask=True, return_attention_scores=True)),
    ("additive_noscale_causal", lambda: layers.AdditiveAttention(use_scale=False),
     lambda m, x: m([x[0], x[1]], use_causal_mask=True)),
])
def test_against_tf_keras(name, make, call):
    check_against_tf(make(), name, call)


Q_MASK = np.array([[True, True, False], [True, True, True]])
V_MASK = np.array([[True, True, True, False, False], [True, True, True, True, True]])


@pytest.mark.parametrize("name, make", [
    ("attention_scale_masks", lambda: layers.Attention(use_scale=True)),
    ("additive", lambda: layers.AdditiveAttention()),
])
def test_masks_against_tf_keras(name, make):
    outs = check_against_tf(make(), name, lambda m, x: m(list(x), mask=[Q_MASK, V_MASK],
                                                         return_attention_scores=True))
    assert np.all(outs[1].numpy()[0, :, 3:] == 0)  # masked values get no weight
    assert np.all(outs[0].numpy()[0, 2] == 0)  # masked query rows output zeros


@pytest.mark.parametrize("cls, kwargs, trainable", [
    (layers.Attention, {}, 0),
    (layers.Attention, {"use_scale": True, "score_mode": "concat"}, 2),
    (layers.AdditiveAttention, {}, 1),
    (layers.AdditiveAttention, {"use_scale": False}, 0),
])
def test_layer_helper(cls, kwargs, trainable):
    layer_test(cls, kwargs, input_shape=[(2, 3, 4), (2, 5, 4)], expected_output_shape=(None, 3, 4),
               expected_num_trainable_weights=trainable, supports_masking=True)
    layer_test(cls, kwargs, input_shape=[(2, 3, 4), (2, 5, 4), (2, 5, 4)], call_kwargs={"use_causal_mask": True})


def test_dropout_only_while_training():
    rng = np.random.default_rng(3)
    q, v = rng.normal(size=(4, 6, 3)).astype("float32"), rng.normal(size=(4, 6, 3)).astype("float32")
    layer = layers.Attention(dropout=0.5)
    np.testing.assert_array_equal(layer([q, v]).numpy(), layer([q, v], training=False).numpy())
    assert not np.allclose(layer([q, v], training=True).numpy(), layer([q, v]).numpy())
    layer_test(layers.Attention, {"dropout": 0.3}, input_shape=[(2, 3, 4), (2, 5, 4)], gradient_training=True)


def test_keras_masks_flow_through_a_functional_model():
    ids = keras.Input((4,), dtype="int32")
    embedded = layers.Embedding(10, 3, mask_zero=True)(ids)
    attended = layers.Attention()([embedded, embedded])
    pooled = layers.GlobalAveragePooling1D()(attended)
    model = keras.Model(ids, pooled)
    data = np.array([[1, 2, 0, 0], [3, 4, 5, 6]])
    embedding = model.layers[1]
    vectors = embedding.embeddings.numpy()[data]
    weights = _softmax(vectors @ vectors.transpose(0, 2, 1) - 1e9 * (data[:, None, :] == 0))
    attended_ref = (weights @ vectors) * (data != 0)[..., None]
    expected = attended_ref.sum(1) / (data != 0).sum(1, keepdims=True)  # pooling honours the query mask
    np.testing.assert_allclose(model(data).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_bad_inputs():
    with pytest.raises(ValueError, match="must be called on a list of inputs"):
        layers.Attention()(np.ones((1, 2, 3), "float32"))
    with pytest.raises(ValueError, match="length 2 or 3"):
        layers.Attention()([np.ones((1, 2, 3), "float32")] * 4)
    with pytest.raises(ValueError, match="score_mode"):
        layers.Attention(score_mode="cosine")
