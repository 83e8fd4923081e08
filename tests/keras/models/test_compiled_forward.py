"""The compiled forward pass (``steps.CompiledForward``): ``predict`` on a small batch and ``model(x)`` on raw
arrays replay a traced program, and give the very numbers, errors and Tensor attributes of the layer-by-layer
Tensor path. Each test calls at least three times: a shape's first call runs eagerly, the second traces, the
third replays."""

import re

import numpy as np
import pytest

import featherflow as ff
from featherflow import keras
from featherflow.backend import blas
from featherflow.keras.models.functional import get_plan


def seed_mlp(dtype=None):
    keras.utils.set_random_seed(0)
    kw = {} if dtype is None else {"dtype": dtype}
    model = keras.models.Sequential([
        keras.layers.Flatten(input_shape=(28, 28), **kw),
        keras.layers.Dense(128, activation="relu", **kw),
        keras.layers.Dropout(0.2, **kw),
        keras.layers.Dense(10, activation="softmax", **kw),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def tensor_path(model, x, training=False):
    """The layer-by-layer Tensor path: a recording tape turns the compiled forward pass off."""
    with ff.GradientTape():
        return model(x, training=training)


def numpy_mlp(model, x):
    """An independent float64 reference of the seed MLP at inference."""
    w1, b1, w2, b2 = (w.astype("float64") for w in model.get_weights())
    h = np.maximum(x.reshape(len(x), -1).astype("float64") @ w1 + b1, 0)
    z = h @ w2 + b2
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def forward_of(model):
    return get_plan(model).derived.get("compiled_forward")


def test_seed_mlp_compiles_to_a_program_without_the_dropout():
    model = seed_mlp()
    x = np.ones((2, 28, 28), np.float32)
    for _ in range(3):
        model(x)
    (trace, has_logits), = forward_of(model).traces.values()
    assert has_logits and "random" not in trace.program.source and "matmul" in trace.program.source


@pytest.mark.parametrize("rows", [1, 5, 32])
def test_predict_and_call_equal_the_tensor_path_bit_for_bit(rows):
    model = seed_mlp()
    x = np.random.default_rng(1).random((rows, 28, 28), dtype=np.float32)
    reference = tensor_path(model, x)
    expected = reference.numpy()
    np.testing.assert_allclose(expected, numpy_mlp(model, x), rtol=1e-5, atol=1e-6)
    for _ in range(3):
        predicted = model.predict(x, verbose=0)
        assert predicted.dtype == np.float32 and np.array_equal(predicted, expected)
        assert np.array_equal(model.predict_on_batch(x), expected)
        out = model(x)
        assert isinstance(out, ff.Tensor) and out.dtype == np.float32
        assert np.array_equal(out.numpy(), expected)
        # the softmax output keeps its logits, as ops.softmax's does (losses use the fused form)
        assert out._logits is not None and np.array_equal(out._logits.numpy(), reference._logits.numpy())
        assert out._keras_mask is None
    assert x.shape in forward_of(model).traces


def test_bulk_predict_equals_the_tensor_path():
    model = seed_mlp()
    x = np.random.default_rng(2).random((100, 28, 28), dtype=np.float32)
    with blas.managed():  # predict's batches run in its BLAS context (OpenBLAS's results depend on the threads)
        expected = np.concatenate([tensor_path(model, x[i:i + 32]).numpy() for i in range(0, 100, 32)])
        first7 = tensor_path(model, x[:7]).numpy()
    for _ in range(3):
        assert np.array_equal(model.predict(x, verbose=0), expected)
        assert np.array_equal(model.predict(x, batch_size=7, verbose=0)[:7], first7)


def test_a_loss_on_the_call_output_uses_the_logits_like_the_tensor_path():
    model = seed_mlp()
    x = np.random.default_rng(3).random((4, 28, 28), dtype=np.float32)
    y = np.array([1, 2, 3, 4])
    loss = keras.losses.SparseCategoricalCrossentropy()
    for _ in range(3):
        assert float(loss(y, model(x))) == float(loss(y, tensor_path(model, x)))


def test_other_input_dtypes_are_cast_like_the_tensor_path():
    model = seed_mlp()
    x = np.random.default_rng(4).random((3, 28, 28))  # float64
    expected = tensor_path(model, x.astype(np.float32)).numpy()
    for _ in range(3):
        assert np.array_equal(model.predict(x, verbose=0), expected)
        assert np.array_equal(model(x).numpy(), expected)
        assert np.array_equal(model(ff.constant(x)).numpy(), expected)
    ints = (x * 10).astype("int64")
    assert np.array_equal(model(ints).numpy(), tensor_path(model, ints.astype(np.float32)).numpy())


def test_float64_models_run_in_float64():
    model = seed_mlp(dtype="float64")
    x = np.random.default_rng(5).random((2, 28, 28))
    for _ in range(3):
        out = model.predict(x, verbose=0)
        assert out.dtype == np.float64
        assert np.array_equal(out, tensor_path(model, x).numpy())


def test_new_weights_are_seen_after_the_program_was_built():
    model = seed_mlp()
    x = np.random.default_rng(6).random((1, 28, 28), dtype=np.float32)
    for _ in range(3):
        before = model.predict(x, verbose=0)
    weights = model.get_weights()
    model.set_weights([w * 0.5 for w in weights])
    after = model.predict(x, verbose=0)
    assert not np.array_equal(before, after)
    assert np.array_equal(after, tensor_path(model, x).numpy())
    np.testing.assert_allclose(after, numpy_mlp(model, x), rtol=1e-5, atol=1e-6)
    model.fit(np.random.default_rng(7).random((64, 28, 28), dtype=np.float32), np.arange(64) % 10, verbose=0)
    assert np.array_equal(model.predict(x, verbose=0), tensor_path(model, x).numpy())
    assert np.array_equal(model(x).numpy(), tensor_path(model, x).numpy())


def test_training_true_still_drops_and_tapes_still_record():
    model = seed_mlp()
    x = np.random.default_rng(8).random((2, 28, 28), dtype=np.float32)
    model(x), model(x)  # compiled for this shape
    keras.utils.set_random_seed(1)
    dropped = model(x, training=True).numpy()
    keras.utils.set_random_seed(1)
    h = model.layers[0](x)
    h = model.layers[1](h)
    h = model.layers[2](h, training=True)
    assert np.array_equal(dropped, model.layers[3](h).numpy())
    assert not np.array_equal(dropped, model(x).numpy())
    with ff.GradientTape() as tape:
        total = ff.reduce_sum(model(x) * np.arange(10, dtype=np.float32))
    grads = tape.gradient(total, model.trainable_variables)
    assert all(g is not None and np.any(g.numpy() != 0) for g in grads)


def test_wrong_shapes_raise_the_same_errors():
    model = seed_mlp()
    bad = np.zeros((1, 28, 27), np.float32)
    with pytest.raises(ValueError, match=r'Input 0 of layer "sequential.*" is incompatible .*expected shape=\(None, '
                                         r'28, 28\), found shape=\(1, 28, 27\)'):
        model.predict(bad, verbose=0)
    for _ in range(3):
        with pytest.raises(ValueError, match="is incompatible"):
            model(bad)
    with pytest.raises(ValueError, match="is incompatible"):
        model.predict(np.zeros((40, 28, 27), np.float32), verbose=0)


def test_zero_rows_behave_as_on_the_tensor_path():
    model = seed_mlp()
    empty = np.zeros((0, 28, 28), np.float32)
    try:
        expected = tensor_path(model, empty).numpy()
    except ValueError as exc:  # what Flatten's reshape says about an empty batch
        with pytest.raises(ValueError, match=re.escape(str(exc)[:40])):
            model(empty)
    else:
        assert np.array_equal(model(empty).numpy(), expected)


def test_other_layers_and_rank_3_inputs():
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(5, 4))
    h = keras.layers.Dense(6, activation="tanh")(inputs)
    h = keras.layers.Dense(3, activation="sigmoid")(h)
    outputs = keras.layers.Dense(2, activation="elu")(h)
    model = keras.Model(inputs, outputs)
    x = np.random.default_rng(9).standard_normal((3, 5, 4)).astype(np.float32)
    expected = tensor_path(model, x).numpy()
    for _ in range(3):
        assert np.array_equal(model.predict(x, verbose=0), expected)
        assert np.array_equal(model(x).numpy(), expected)
    w = [layer.get_weights() for layer in model.layers[1:]]
    ref = np.tanh(x.astype("float64") @ w[0][0] + w[0][1])
    ref = 1 / (1 + np.exp(-(ref @ w[1][0] + w[1][1])))
    ref = ref @ w[2][0] + w[2][1]
    np.testing.assert_allclose(expected, np.where(ref > 0, ref, np.expm1(ref)), rtol=1e-5, atol=1e-6)


def test_an_activation_changed_after_tracing_is_followed():
    model = seed_mlp()
    x = np.random.default_rng(10).random((2, 28, 28), dtype=np.float32)
    for _ in range(3):
        model.predict(x, verbose=0)
        model(x)
    model.layers[-1].activation = keras.activations.linear  # a common trick to read the logits
    for _ in range(3):
        logits = model.predict(x, verbose=0)
        assert np.array_equal(logits, tensor_path(model, x).numpy())
        assert np.array_equal(model(x).numpy(), logits)
    assert logits.min() < 0  # not probabilities any more


def test_custom_layers_masks_and_activity_losses():
    class Twice(keras.layers.Dense):
        def call(self, inputs):
            return super().call(inputs) * 2.0

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(3,)), Twice(2)])
    x = np.ones((1, 3), np.float32)
    w, b = model.get_weights()
    for _ in range(3):
        np.testing.assert_allclose(model.predict(x, verbose=0), 2 * (x @ w + b), rtol=1e-6)

    masked = keras.Sequential([keras.Input(shape=(3, 2)), keras.layers.Masking(), keras.layers.Flatten(),
                               keras.layers.Dense(1)])
    xm = np.arange(6.0, dtype=np.float32).reshape(1, 3, 2)
    for _ in range(3):
        assert np.array_equal(masked.predict(xm, verbose=0), tensor_path(masked, xm).numpy())

    regularized = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2, activity_regularizer="l2")])
    for _ in range(3):
        regularized.predict(x, verbose=0)
        regularized(x)
    assert len(regularized.losses) == 1  # the activity loss of the last call, as before


def test_a_dropout_as_last_layer_keeps_the_logits():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2, activation="softmax"),
                              keras.layers.Dropout(0.5)])
    x = np.ones((1, 3), np.float32)
    for _ in range(3):
        out = model(x)
        assert out._logits is not None  # the Dropout passes the softmax's Tensor on unchanged
        assert np.array_equal(model.predict(x, verbose=0), out.numpy())


def test_predict_keeps_verbose_and_callbacks():
    model = seed_mlp()
    x = np.random.default_rng(11).random((1, 28, 28), dtype=np.float32)
    seen = []

    class Recorder(keras.callbacks.Callback):
        def on_predict_batch_end(self, batch, logs=None):
            seen.append(logs["outputs"])

    out = model.predict(x, verbose=0, callbacks=[Recorder()])
    assert len(seen) == 1 and np.array_equal(seen[0], out)
    with pytest.raises(ValueError, match="verbose"):
        model.predict(x, verbose=-1)


def test_special_values_go_through_relu_and_bias_as_in_ops_dense():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(6, activation="relu"),
                              keras.layers.Dense(3, activation="tanh", use_bias=False),
                              keras.layers.Dense(2, activation="sigmoid")])
    kernel, bias = model.layers[0].get_weights()
    kernel[:, 0] = 0.0
    bias[0] = -0.0  # relu(-0.0) keeps the sign ops.dense gives it
    model.layers[0].set_weights([kernel, bias])
    x = np.array([[1.0, -2.0, 0.5, 3.0], [np.nan, 1.0, 0.0, -1.0], [np.inf, 0.0, 0.0, 0.0],
                  [-0.0, -0.0, -0.0, -0.0]], np.float32)
    with np.errstate(invalid="ignore"):  # inf * 0 in the products, on both paths
        expected = tensor_path(model, x).numpy()
        outputs = [(model.predict(x, verbose=0), model(x).numpy(), model.predict(x[:1], verbose=0))
                   for _ in range(3)]
    for got in [g for triple in outputs for g in triple]:
        rows = len(got)
        assert np.array_equal(got, expected[:rows], equal_nan=True)
        assert np.array_equal(np.signbit(got), np.signbit(expected[:rows]))


class _Counting(keras.layers.Layer):
    """A user's layer whose call has a Python side effect (a counter), as course code writes for debugging."""

    calls = 0

    def call(self, x):
        type(self).calls += 1
        return x * 2.0


@pytest.mark.parametrize("wrap", ["layer", "lambda", "time_distributed"])
def test_model_call_with_a_users_code_stays_eager(wrap):
    # tf.keras's model(x) is eager: the user's Python runs at every call (predict traces, as tf.keras does)
    counted = []
    inputs = keras.Input((3, 4))
    if wrap == "layer":
        _Counting.calls = 0
        hidden = _Counting()(inputs)
    elif wrap == "lambda":
        hidden = keras.layers.Lambda(lambda t: counted.append(1) or t * 2.0)(inputs)
    else:
        _Counting.calls = 0
        hidden = keras.layers.TimeDistributed(_Counting())(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2)(hidden))
    x = np.ones((2, 3, 4), np.float32)
    before = _Counting.calls if wrap != "lambda" else len(counted)
    outs = [model(x).numpy() for _ in range(4)]
    after = _Counting.calls if wrap != "lambda" else len(counted)
    assert after - before >= 4
    for out in outs[1:]:
        np.testing.assert_array_equal(out, outs[0])
