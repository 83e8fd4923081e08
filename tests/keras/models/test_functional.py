"""Functional and subclassed models: graphs, shared layers, nesting, dict inputs, masks, training flag."""

import numpy as np
import pytest

import featherflow as ff
from featherflow import keras


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()


def dense_np(x, layer, act=None):
    kernel, bias = layer.get_weights()
    z = x @ kernel.astype(np.float64) + bias
    return np.maximum(z, 0) if act == "relu" else z


def test_multi_input_multi_output_values_and_structure():
    a = keras.Input(shape=(3,), name="a")
    b = keras.Input(shape=(2,), name="b")
    h = keras.layers.Dense(4, activation="relu", name="h")(a)
    joined = keras.layers.Concatenate(name="joined")([h, b])
    out1 = keras.layers.Dense(1, name="out1")(joined)
    out2 = keras.layers.Dense(2, name="out2")(h)
    model = keras.Model(inputs=[a, b], outputs=[out1, out2])
    assert model.input_names == ["a", "b"] and model.output_names == ["out1", "out2"]
    assert [layer.name for layer in model.layers] == ["a", "h", "b", "joined", "out1", "out2"]
    assert model.output_shape == [(None, 1), (None, 2)] and model.input_shape == [(None, 3), (None, 2)]
    rng = np.random.default_rng(0)
    xa, xb = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    hv = dense_np(xa, model.get_layer("h"), "relu")
    e1 = dense_np(np.concatenate([hv, xb], axis=1), model.get_layer("out1"))
    e2 = dense_np(hv, model.get_layer("out2"))
    for result in (model([xa, xb]), model({"a": xa, "b": xb})):
        assert isinstance(result, list) and len(result) == 2
        np.testing.assert_allclose(result[0].numpy(), e1, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(result[1].numpy(), e2, rtol=1e-5, atol=1e-6)
    p1, p2 = model.predict({"a": xa, "b": xb}, verbose=0, batch_size=2)
    np.testing.assert_allclose(p1, e1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(p2, e2, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match='Missing data for input "b"'):
        model({"a": xa})
    with pytest.raises(ValueError, match="expects 2 input"):
        model([xa, xb, xb])


def test_dict_inputs_and_outputs():
    inputs = {"x": keras.Input(shape=(2,), name="x"), "y": keras.Input(shape=(2,), name="y")}
    summed = keras.layers.Add()([inputs["x"], inputs["y"]])
    model = keras.Model(inputs, {"sum": summed, "neg": keras.layers.Lambda(lambda t: -t, name="neg")(summed)})
    out = model({"x": np.ones((1, 2)), "y": np.full((1, 2), 2.0)})
    assert set(out) == {"sum", "neg"}
    np.testing.assert_allclose(out["sum"].numpy(), [[3.0, 3.0]])
    np.testing.assert_allclose(out["neg"].numpy(), [[-3.0, -3.0]])
    assert model.output_names == ["neg", "sum"]


def test_shared_layer_is_one_set_of_weights():
    shared = keras.layers.Dense(3, name="shared")
    a, b = keras.Input(shape=(4,)), keras.Input(shape=(4,))
    model = keras.Model([a, b], keras.layers.Subtract()([shared(a), shared(b)]))
    assert model.count_params() == 15 and len(model.trainable_weights) == 2
    x1, x2 = np.ones((2, 4)), np.zeros((2, 4))
    kernel, _ = shared.get_weights()
    np.testing.assert_allclose(model([x1, x2]).numpy(), x1 @ kernel - x2 @ kernel, rtol=1e-5, atol=1e-6)
    assert shared.output_shape == (None, 3)


def test_nested_models_and_their_summary_rows():
    inner_in = keras.Input(shape=(3,))
    inner = keras.Model(inner_in, keras.layers.Dense(2, name="inner_dense")(inner_in), name="encoder")
    outer_in = keras.Input(shape=(3,))
    outer = keras.Model(outer_in, keras.layers.Dense(1, name="head")(inner(outer_in)))
    assert outer.count_params() == 8 + 3 and [la.name for la in outer.layers] == ["input_2", "encoder", "head"]
    x = np.random.default_rng(2).normal(size=(4, 3))
    expected = dense_np(dense_np(x, inner.get_layer("inner_dense")), outer.get_layer("head"))
    np.testing.assert_allclose(outer.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    lines = []
    outer.summary(print_fn=lines.append)
    assert any(line.startswith(" encoder (Functional)") and "(None, 2)" in line and " 8 " in line for line in lines)
    # Inner layers' weights are trained through the outer model.
    outer.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    before = inner.get_layer("inner_dense").get_weights()[0].copy()
    outer.fit(x, np.ones((4, 1)), verbose=0)
    assert not np.allclose(before, inner.get_layer("inner_dense").get_weights()[0])


def test_layer_order_follows_keras_depths():
    x = keras.Input(shape=(2,), name="x")
    left = keras.layers.Dense(2, name="left")(x)
    right = keras.layers.Dense(2, name="right")(keras.layers.Dense(2, name="right0")(x))
    out = keras.layers.Add(name="add")([left, right])
    model = keras.Model(x, out)
    # Depth-first from the output; layers sorted by decreasing depth, then by discovery order.
    assert [layer.name for layer in model.layers] == ["x", "right0", "left", "right", "add"]


def test_graph_disconnected_and_duplicate_names():
    a, b = keras.Input(shape=(2,), name="a"), keras.Input(shape=(2,), name="b")
    out = keras.layers.Add()([a, b])
    with pytest.raises(ValueError, match=r'Graph disconnected: cannot obtain value for tensor .* at layer "add"'):
        keras.Model(a, out)
    x = keras.Input(shape=(2,))
    y = keras.layers.Dense(2, name="twin")(x)
    z = keras.layers.Dense(2, name="twin")(y)
    with pytest.raises(ValueError, match='The name "twin" is used 2 times'):
        keras.Model(x, z)
    with pytest.raises(ValueError, match="symbolic tensors"):
        keras.Model(np.ones((1, 2)), z)


def test_intermediate_tensor_as_input():
    x = keras.Input(shape=(3,))
    h = keras.layers.Dense(2, name="h")(x)
    out = keras.layers.Dense(1, name="o")(h)
    tail = keras.Model(h, out)
    assert [layer.name for layer in tail.layers] == ["o"]
    np.testing.assert_allclose(tail(np.ones((1, 2))).numpy(), dense_np(np.ones((1, 2)), tail.get_layer("o")),
                               rtol=1e-6)


class MaskedSum(keras.layers.Layer):
    """Sums the timesteps the mask keeps (tests that masks reach a layer through the graph)."""

    def call(self, inputs, mask=None):
        if mask is None:
            return ff.reduce_sum(inputs, axis=1)
        return ff.reduce_sum(inputs * ff.cast(ff.expand_dims(mask, -1), inputs.dtype), axis=1)


def test_masks_propagate_through_the_graph():
    x = keras.Input(shape=(4, 2))
    masked = keras.layers.Masking(mask_value=0.0)(x)
    scaled = keras.layers.Dense(2, use_bias=False, kernel_initializer="ones", name="scale")(masked)
    model = keras.Model(x, MaskedSum()(scaled))
    data = np.array([[[1.0, 1.0], [0.0, 0.0], [2.0, 0.0], [0.0, 0.0]]])
    # Dense(ones) makes padded steps 0 anyway; masked steps are excluded, kept ones sum.
    expected = (data @ np.ones((2, 2))).sum(axis=1)
    np.testing.assert_allclose(model(data).numpy(), expected)
    step_mask = keras.layers.Masking(mask_value=1.0)
    model2 = keras.Model(x, MaskedSum()(step_mask(x)))
    data2 = np.array([[[1.0, 1.0], [3.0, 4.0], [1.0, 1.0], [5.0, 6.0]]])
    np.testing.assert_allclose(model2(data2).numpy(), [[8.0, 10.0]])
    np.testing.assert_allclose(model2.predict(data2, verbose=0), [[8.0, 10.0]])


def test_training_flag_reaches_dropout():
    x = keras.Input(shape=(1000,))
    model = keras.Model(x, keras.layers.Dropout(0.5)(x))
    ones = np.ones((1, 1000), np.float32)
    np.testing.assert_array_equal(model(ones, training=False).numpy(), ones)
    np.testing.assert_array_equal(model(ones).numpy(), ones)
    dropped = model(ones, training=True).numpy()
    assert set(np.unique(dropped)) <= {0.0, 2.0} and 300 < (dropped == 0).sum() < 700


class TwoLayerNet(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(8, activation="relu")
        self.drop = keras.layers.Dropout(0.5)
        self.out = keras.layers.Dense(1)

    def call(self, inputs, training=None):
        return self.out(self.drop(self.hidden(inputs), training=training))


def test_subclassed_model():
    model = TwoLayerNet()
    assert model.name == "two_layer_net" and [la.name for la in model.layers] == ["dense", "dropout", "dense_1"]
    with pytest.raises(ValueError, match="has not yet been built"):
        model.summary()
    model.build((None, 3))
    assert model.count_params() == 3 * 8 + 8 + 9
    lines = []
    model.summary(print_fn=lines.append)
    assert lines[0] == 'Model: "two_layer_net"'
    assert any(line.startswith(" dense (Dense)") and "multiple" in line for line in lines)
    x = np.random.default_rng(3).normal(size=(6, 3))
    expected = dense_np(dense_np(x, model.hidden, "relu"), model.out)
    np.testing.assert_allclose(model(x, training=False).numpy(), expected, rtol=1e-5, atol=1e-6)
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, np.zeros((6, 1)), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_model_without_call_raises():
    class Empty(keras.Model):
        pass

    with pytest.raises(NotImplementedError, match="implement"):
        Empty()(np.ones((1, 2)))


def test_functional_config_round_trip():
    a = keras.Input(shape=(3,), name="a")
    b = keras.Input(shape=(3,), name="b")
    shared = keras.layers.Dense(2, name="shared")
    out = keras.layers.Concatenate(name="cat")([shared(a), shared(b)])
    model = keras.Model([a, b], out, name="siamese")
    config = model.get_config()
    assert config["input_layers"] == [["a", 0, 0], ["b", 0, 0]]
    assert config["output_layers"] == [["cat", 0, 0]]
    cat = [entry for entry in config["layers"] if entry["name"] == "cat"][0]
    assert cat["inbound_nodes"] == [[["shared", 0, 0, {}], ["shared", 1, 0, {}]]]
    clone = keras.Model.from_config(config)
    assert type(clone).__name__ == "Functional" and clone.name == "siamese"
    assert clone.count_params() == 8 and [la.name for la in clone.layers] == [la.name for la in model.layers]
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(4).normal(size=(2, 3))
    np.testing.assert_allclose(clone.predict([x, -x], verbose=0), model.predict([x, -x], verbose=0), rtol=1e-6)


def test_model_called_on_symbolic_input_adds_a_node():
    base_in = keras.Input(shape=(2,))
    base = keras.Model(base_in, keras.layers.Dense(3)(base_in))
    new_in = keras.Input(shape=(2,))
    out = base(new_in)
    assert out.shape == (None, 3)
    wrapper = keras.Model(new_in, out)
    np.testing.assert_allclose(wrapper(np.ones((1, 2))).numpy(), base(np.ones((1, 2))).numpy())


def test_embedding_mask_reaches_the_recurrent_layer_in_fit_and_predict():
    model = keras.Sequential([keras.Input(shape=(None,), dtype="int32"), keras.layers.Embedding(10, 3, mask_zero=True),
                              keras.layers.LSTM(2)])
    padded = np.array([[4, 2, 0, 0, 0], [3, 0, 0, 0, 0]])
    unpadded_0, unpadded_1 = np.array([[4, 2]]), np.array([[3]])
    out = model.predict(padded, verbose=0)
    np.testing.assert_allclose(out[0], model.predict(unpadded_0, verbose=0)[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out[1], model.predict(unpadded_1, verbose=0)[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model(padded).numpy(), out, rtol=1e-6)


def test_keras_tensors_in_call_arguments_are_graph_inputs():
    x = keras.Input(shape=(5, 3), name="seq")
    h = keras.Input(shape=(4,), name="h")
    c = keras.Input(shape=(4,), name="c")
    out, state_h, _ = keras.layers.LSTM(4, return_state=True, name="lstm")(x, initial_state=[h, c])
    model = keras.Model([x, h, c], [out, state_h])
    assert [layer.name for layer in model.layers] == ["seq", "h", "c", "lstm"]
    lines = []
    model.summary(print_fn=lines.append)
    assert any("'h[0][0]'," in line for line in lines)
    rng = np.random.default_rng(0)
    seq, h0, c0 = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    result = model([seq, h0, c0])
    direct = model.get_layer("lstm")(seq, initial_state=[h0, c0])
    np.testing.assert_allclose(result[0].numpy(), direct[0].numpy(), rtol=1e-6)
    other = model([seq, np.zeros((2, 4)), np.zeros((2, 4))])
    assert not np.allclose(result[0].numpy(), other[0].numpy())


def test_symbolic_shapes_are_tensor_shapes():
    """keras.Input(...).shape is a TensorShape in tf.keras: `.as_list()`, `.rank`, indexing and tuple equality."""
    from featherflow.core.tensor import TensorShape

    inputs = keras.Input(shape=(None, 4))
    outputs = keras.layers.Dense(3)(inputs)
    for tensor, expected in [(inputs, [None, None, 4]), (outputs, [None, None, 3])]:
        assert isinstance(tensor.shape, TensorShape)
        assert tensor.shape.as_list() == expected and tensor.shape.rank == 3
        assert tensor.shape == tuple(expected) and tensor.shape[-1] == expected[-1]
        assert not tensor.shape.is_fully_defined()


def test_unknown_axes_through_strided_and_valid_layers():
    """Unknown time/image axes stay unknown through pooling and strided convolutions (2 and 3 both pool to 1, so
    dummy sizes must be further apart), and kernels larger than a small dummy size still fit, as with tf.keras's
    static shapes. The model then runs on any length."""
    inputs = keras.Input(shape=(None, 5))
    assert keras.layers.MaxPooling1D(2)(inputs).shape == (None, None, 5)
    assert keras.layers.Conv1D(3, 3)(inputs).shape == (None, None, 3)
    assert keras.layers.Conv2D(4, 3, strides=2)(keras.Input(shape=(None, None, 3))).shape == (None, None, None, 4)

    # keras.io's text CNN: three (Conv1D(5), MaxPooling1D(5)) blocks on sequences of unknown length.
    tokens = keras.Input(shape=(None,), dtype="int64")
    x = keras.layers.Embedding(50, 4)(tokens)
    for _ in range(3):
        x = keras.layers.Conv1D(4, 5, activation="relu")(x)
        x = keras.layers.MaxPooling1D(5)(x)
    assert x.shape == (None, None, 4)
    outputs = keras.layers.Dense(2)(keras.layers.GlobalMaxPooling1D()(x))
    model = keras.Model(tokens, outputs)
    assert model.output_shape == (None, 2)
    for length in (400, 800):
        assert model.predict(np.ones((2, length), "int64"), verbose=0).shape == (2, 2)

    # A genuinely too-short fixed size is still the layer's error.
    with pytest.raises(ValueError, match="dimensions in the output is <= 0"):
        keras.layers.Conv1D(3, 5)(keras.Input(shape=(4, 5)))


def test_an_explicit_training_argument_is_part_of_the_graph(tmp_path):
    """`base(x, training=False)` keeps the base in inference mode inside fit (BatchNormalization's moving
    statistics do not move, as the transfer-learning guide relies on) and `Dropout(...)(x, training=True)` stays
    active in predict (Monte-Carlo dropout); the mode survives get_config and a .keras round trip."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = rng.normal(size=(32, 1)).astype("float32")
    base_inputs = keras.Input((4,))
    base = keras.Model(base_inputs, keras.layers.BatchNormalization()(keras.layers.Dense(4)(base_inputs)))
    inputs = keras.Input((4,))
    features = base(inputs, training=False)
    outputs = keras.layers.Dense(1)(keras.layers.Dropout(0.5)(features, training=True))
    model = keras.Model(inputs, outputs)
    batch_norm = base.layers[-1]
    model.compile("sgd", "mse")
    kernel = base.layers[1].kernel.numpy().copy()
    model.fit(x, y, epochs=2, verbose=0)
    np.testing.assert_array_equal(batch_norm.moving_mean.numpy(), np.zeros(4))
    np.testing.assert_array_equal(batch_norm.moving_variance.numpy(), np.ones(4))
    assert not np.array_equal(base.layers[1].kernel.numpy(), kernel)  # the base still trains
    first, second = model.predict(x, verbose=0), model.predict(x, verbose=0)
    assert not np.allclose(first, second)  # dropout active at predict time

    nodes = {layer["name"]: layer["inbound_nodes"] for layer in model.get_config()["layers"]}
    assert nodes[base.name][0][0][3] == {"training": False}
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    loaded_bn = loaded.get_layer(base.name).layers[-1]
    loaded.fit(x, y, epochs=1, verbose=0)
    np.testing.assert_array_equal(loaded_bn.moving_mean.numpy(), np.zeros(4))
    assert not np.allclose(loaded.predict(x, verbose=0), loaded.predict(x, verbose=0))
