"""``compile(loss=...(reduction="none"))``: tf.keras 2 differentiates the per-sample losses' sum and logs their
mean; featherflow does the same, compiled and eager."""

import numpy as np
import pytest

import featherflow as tf


def _linear_model(w, b):
    model = tf.keras.Sequential([tf.keras.layers.Dense(2, input_shape=(3,))])
    model.set_weights([w, b])
    return model


@pytest.mark.parametrize("run_eagerly", [False, True])
def test_reduction_none_trains_on_the_sum_and_logs_the_mean(run_eagerly):
    rng = np.random.default_rng(0)
    w = rng.normal(size=(3, 2)).astype(np.float32)
    b = rng.normal(size=(2,)).astype(np.float32)
    x = rng.normal(size=(4, 3)).astype(np.float32)
    y = rng.normal(size=(4, 2)).astype(np.float32)
    model = _linear_model(w, b)
    model.compile(tf.keras.optimizers.SGD(0.01), loss=tf.keras.losses.MeanSquaredError(reduction="none"),
                  run_eagerly=run_eagerly)
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)

    err = x.astype(np.float64) @ w + b - y  # (4, 2)
    per_sample = (err ** 2).mean(axis=1)  # MSE over the last axis, one value per sample
    # d(sum of per-sample MSE)/dw = sum_i x_i^T (2 err_i / 2)
    grad_w = x.T.astype(np.float64) @ (2 * err / 2)
    grad_b = (2 * err / 2).sum(axis=0)
    np.testing.assert_allclose(history.history["loss"][0], per_sample.mean(), rtol=1e-5)
    new_w, new_b = model.get_weights()
    np.testing.assert_allclose(new_w, w - 0.01 * grad_w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(new_b, b - 0.01 * grad_b, rtol=1e-5, atol=1e-6)

    err2 = x.astype(np.float64) @ new_w + new_b - y
    assert model.evaluate(x, y, verbose=0) == pytest.approx((err2 ** 2).mean(), rel=1e-5)


def test_reduction_none_on_one_of_two_outputs():
    rng = np.random.default_rng(1)
    inputs = tf.keras.Input((3,))
    a = tf.keras.layers.Dense(2, name="a")(inputs)
    c = tf.keras.layers.Dense(1, name="c")(inputs)
    model = tf.keras.Model(inputs, [a, c])
    model.compile("sgd", loss=[tf.keras.losses.MeanAbsoluteError(reduction="none"), "mse"])
    x = rng.normal(size=(6, 3)).astype(np.float32)
    ya = rng.normal(size=(6, 2)).astype(np.float32)
    yc = rng.normal(size=(6, 1)).astype(np.float32)
    pa, pc = model.predict(x, verbose=0)
    logs = model.evaluate(x, [ya, yc], verbose=0, return_dict=True)
    a_loss = np.abs(pa - ya).mean()
    c_loss = ((pc - yc) ** 2).mean()
    assert logs["a_loss"] == pytest.approx(a_loss, rel=1e-5)
    assert logs["c_loss"] == pytest.approx(c_loss, rel=1e-5)
    assert logs["loss"] == pytest.approx(a_loss + c_loss, rel=1e-5)
