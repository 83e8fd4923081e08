"""The fused mean sparse cross-entropy that ``Loss.__call__`` takes for the common case: same numbers,
gradients and errors as the general path (per-sample op, then the mean), and a float64 gradient check."""

import numpy as np
import pytest
from gradcheck import check_gradient

import featherflow as ff
from featherflow import keras
from featherflow.keras.losses import probabilistic
from featherflow.ops.nn import sparse_xent_mean


def general_path(y, logits_var, from_softmax=True):
    """The unfused computation: per-sample cross-entropy op, then reduce_mean."""
    with ff.GradientTape() as tape:
        pred = ff.nn.softmax(logits_var) if from_softmax else logits_var
        value = ff.reduce_mean(probabilistic.sparse_categorical_crossentropy(y, pred, from_logits=not from_softmax))
    return value.numpy(), tape.gradient(value, logits_var).numpy()


def fused_path(loss, y, logits_var, from_softmax=True):
    with ff.GradientTape() as tape:
        pred = ff.nn.softmax(logits_var) if from_softmax else logits_var
        value = loss(y, pred)
    return value.numpy(), tape.gradient(value, logits_var).numpy()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("label_shape", ["flat", "column"])
def test_same_value_and_gradient_as_the_general_path(dtype, label_shape):
    rng = np.random.default_rng(3)
    logits = ff.Variable(rng.normal(size=(7, 5)).astype(dtype) * 3)
    y = rng.integers(0, 5, 7).astype(np.uint8)
    y_in = y if label_shape == "flat" else y.reshape(7, 1)
    expected_value, expected_grad = general_path(y_in, logits)
    loss = keras.losses.SparseCategoricalCrossentropy()
    value, grad = fused_path(loss, y_in, logits)
    assert value.dtype == np.dtype(dtype) and value == expected_value
    np.testing.assert_array_equal(grad, expected_grad)
    # and an independent float64 reference: mean(logsumexp(z) - z[y]); gradient (softmax - onehot) / n
    z = logits.numpy().astype("float64")
    lse = np.log(np.exp(z - z.max(1, keepdims=True)).sum(1)) + z.max(1)
    np.testing.assert_allclose(value, np.mean(lse - z[np.arange(7), y]), rtol=1e-6)
    soft = np.exp(z - lse[:, None])
    soft[np.arange(7), y] -= 1
    np.testing.assert_allclose(grad, soft / 7, rtol=1e-5, atol=1e-7)


def test_from_logits_and_the_compile_string_take_the_same_path():
    rng = np.random.default_rng(4)
    logits = ff.Variable(rng.normal(size=(6, 3)).astype("float32"))
    y = rng.integers(0, 3, 6)
    expected = general_path(y, logits, from_softmax=False)
    got = fused_path(keras.losses.SparseCategoricalCrossentropy(from_logits=True), y, logits, from_softmax=False)
    assert got[0] == expected[0]
    np.testing.assert_array_equal(got[1], expected[1])
    wrapped = keras.losses.as_loss("sparse_categorical_crossentropy")
    assert wrapped._mean_fast is not None
    expected = general_path(y, logits)
    got = fused_path(wrapped, y, logits)
    assert got[0] == expected[0]
    np.testing.assert_array_equal(got[1], expected[1])


def test_gradient_check_float64():
    y = np.array([2, 0, 1, 1])
    check_gradient(lambda z: sparse_xent_mean(y, z), [np.random.default_rng(5).normal(size=(4, 3))])


def test_out_of_range_labels_raise_the_same_error():
    pred = ff.nn.softmax(ff.constant(np.zeros((2, 3), "float32")))
    with pytest.raises(ValueError, match=r"label value of 3 which is outside the valid range of \[0, 3\)"):
        keras.losses.SparseCategoricalCrossentropy()(np.array([0, 3]), pred)


def test_cases_outside_the_fused_path_keep_the_general_one():
    rng = np.random.default_rng(6)
    logits = ff.Variable(rng.normal(size=(4, 3)).astype("float32"))
    pred = ff.nn.softmax(logits)
    y = np.array([0, 2, 1, 2])
    # sample weights, float labels, ignore_class and the "none" reduction all give the general path's numbers
    weights = np.array([1.0, 0.0, 2.0, 1.0], "float32")
    per_sample = probabilistic.sparse_categorical_crossentropy(y, pred).numpy()
    loss = keras.losses.SparseCategoricalCrossentropy()
    np.testing.assert_allclose(loss(y, pred, sample_weight=weights).numpy(), (per_sample * weights).mean(), rtol=1e-6)
    np.testing.assert_allclose(loss(y.astype("float32"), pred).numpy(), per_sample.mean(), rtol=1e-6)
    ignoring = keras.losses.SparseCategoricalCrossentropy(ignore_class=2)
    np.testing.assert_allclose(ignoring(y, pred).numpy(), (per_sample[0] + per_sample[2]) / 2, rtol=1e-6)  # mean of valid
    none = keras.losses.SparseCategoricalCrossentropy(reduction="none")
    np.testing.assert_array_equal(none(y, pred).numpy(), per_sample)
    with pytest.raises(ValueError, match="integer class indices"):
        loss(np.array([0.5, 1, 1, 1], "float32"), pred)


def test_a_subclass_that_overrides_call_is_not_bypassed():
    class Doubled(keras.losses.SparseCategoricalCrossentropy):
        def call(self, y_true, y_pred):
            return super().call(y_true, y_pred) * 2.0

    pred = ff.nn.softmax(ff.constant(np.zeros((2, 4), "float32")))
    np.testing.assert_allclose(Doubled()(np.array([1, 2]), pred).numpy(), 2 * np.log(4), rtol=1e-6)


def test_flat_labels_against_a_one_unit_output_keep_keras_squeeze_and_its_error():
    # Keras squeezes a (n, 1) y_pred against (n,) labels before the loss: the sparse loss then refuses it
    pred = ff.nn.softmax(ff.constant(np.zeros((3, 1), "float32")))
    with pytest.raises(ValueError, match="one class index per prediction"):
        keras.losses.SparseCategoricalCrossentropy()(np.zeros(3, "int64"), pred)
    # (n, 1) labels are not squeezed: one class, loss 0 (as the general path)
    assert float(keras.losses.SparseCategoricalCrossentropy()(np.zeros((3, 1), "int64"), pred)) == 0.0


@pytest.mark.parametrize("numba", [False, True])
def test_a_compiled_step_takes_the_fused_path_too(numba):
    """In a tf.function the labels are traced values: the fused op still applies (one node, its gradient of the
    logits' static shape, so the backward's products keep their planned buffers), with eager's numbers."""
    from featherflow.ops import _kernels

    if numba and not _kernels.available():
        pytest.skip("Numba is not installed")
    _kernels.use_kernels(numba)
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(48, 5)).astype("float32"), rng.integers(0, 3, 48)
    results = []
    for eager in (False, True):
        keras.utils.set_random_seed(2)
        model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(6, activation="relu"),
                                  keras.layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", run_eagerly=eager)
        results.append((model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False).history,
                        model.get_weights()))
        if not eager:
            source = model._train_fn.function._traces.popitem()[1].program.source
            assert "in sparse_xent_mean" in source and "in sparse_softmax_cross_entropy_with_logits" not in source
            products = [line for line in source.splitlines() if "= matmul(" in line]
            assert len(products) == 5 and all("out=" in line for line in products)  # into planned buffers
    assert results[0][0] == results[1][0]
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(a, b)
