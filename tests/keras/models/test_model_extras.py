"""keras.models: experimental.SharpnessAwareMinimization (one step checked by hand) and model_from_yaml's error."""

import numpy as np
import pytest

import featherflow as tf
from featherflow import keras


def _mse_gradient(x, y, w, b):
    residual = x @ w + b - y  # d/dw mean((xw + b - y)^2) over all entries
    return 2 * x.T @ residual / residual.size, 2 * residual.sum(0) / residual.size


@pytest.mark.parametrize("splits", [None, 2])
def test_one_sam_step_by_hand(splits):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 3)).astype("float64")
    y = rng.normal(size=(8, 1)).astype("float64")
    inner = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])  # float32, as the wrapper casts inputs
    w0, b0 = [a.astype("float64") for a in inner.get_weights()]
    rho, lr = 0.1, 0.5
    model = keras.models.experimental.SharpnessAwareMinimization(inner, rho=rho, num_batch_splits=splits)
    model.compile(keras.optimizers.SGD(lr), "mse")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    total_w, total_b = np.zeros_like(w0), np.zeros_like(b0)
    for xs, ys in zip(np.array_split(x, splits or 1), np.array_split(y, splits or 1)):
        gw, gb = _mse_gradient(xs, ys, w0, b0)
        scale = rho / (np.sqrt((gw ** 2).sum() + (gb ** 2).sum()) + 1e-12)
        gw2, gb2 = _mse_gradient(xs, ys, w0 + gw * scale, b0 + gb * scale)
        total_w, total_b = total_w + gw2, total_b + gb2
    np.testing.assert_allclose(inner.get_weights()[0], w0 - lr * total_w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(inner.get_weights()[1], b0 - lr * total_b, rtol=1e-5, atol=1e-6)


def test_sam_config_round_trip_and_yaml():
    inner = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    sam = keras.models.experimental.SharpnessAwareMinimization(inner, rho=0.2, num_batch_splits=3)
    again = type(sam).from_config(sam.get_config())
    assert (again.rho, again.num_batch_splits) == (0.2, 3) and len(again.model.layers) == 1
    with pytest.raises(RuntimeError, match="model_from_json"):
        keras.models.model_from_yaml("{}")


class _ActivationStats(keras.layers.Layer):
    def call(self, inputs):
        self.add_metric(inputs, name="mean_activation")
        self.add_metric(keras.backend.std(inputs), name="std_activation", aggregation="mean")
        return inputs


def test_add_metric_logs_a_running_mean_reset_each_epoch():
    """Layer.add_metric (tf.keras 2): a Mean per name, created on the first call (symbolic construction included,
    which counts nothing), in model.metrics after the compiled ones, updated by fit and evaluate, reset per epoch."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype("float32")
    y = rng.normal(size=(40, 1)).astype("float32")
    inputs = keras.Input((3,))
    hidden = keras.layers.Dense(4, name="hidden")(inputs)
    stats = _ActivationStats()
    outputs = keras.layers.Dense(1)(stats(hidden))
    model = keras.Model(inputs, outputs)
    assert [m.name for m in stats.metrics] == ["mean_activation", "std_activation"]
    assert all(float(m.result()) == 0.0 for m in stats.metrics)  # the symbolic call counted nothing
    model.compile("sgd", "mse", metrics=["mae"])
    results = model.evaluate(x, y, batch_size=10, return_dict=True, verbose=0)
    assert list(results) == ["loss", "mae", "mean_activation", "std_activation"]
    activations = keras.Model(inputs, hidden).predict(x, verbose=0)
    np.testing.assert_allclose(results["mean_activation"], activations.mean(), rtol=1e-5)
    batch_stds = [activations[i:i + 10].std() for i in range(0, 40, 10)]
    np.testing.assert_allclose(results["std_activation"], np.mean(batch_stds), rtol=1e-5)
    history = model.fit(x, y, batch_size=40, epochs=2, shuffle=False, verbose=0)
    # one batch per epoch: each epoch's value is that batch's alone (the metric was reset in between)
    assert history.history["mean_activation"][0] != history.history["mean_activation"][1]
    np.testing.assert_allclose(history.history["mean_activation"][0], activations.mean(), rtol=1e-5)


def test_add_metric_arguments():
    layer = keras.layers.Layer()
    with pytest.raises(ValueError, match="provide a name"):
        layer.add_metric(np.ones(3))
    with pytest.raises(TypeError, match="Expected `aggregation`"):
        layer.add_metric(np.ones(3), name="m", reduction="sum")
    with pytest.raises(ValueError, match="inside the `call"):
        layer.add_metric(keras.Input((2,)), name="m")


class _Penalty(keras.layers.Layer):
    def call(self, inputs):
        self.add_loss(0.5 * tf.reduce_sum(inputs))
        return inputs


class _Outer(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.penalty = _Penalty()

    def call(self, inputs):
        return self.penalty(self.penalty(inputs))  # a shared inner layer: both calls' losses count


class _SelfPenalizing(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(2)

    def call(self, inputs):
        out = self.dense(inputs)
        self.add_loss(tf.reduce_sum(out * 0.0) + 1.0)
        return out


def test_add_loss_losses_are_those_of_the_last_outermost_call():
    """As in tf.keras, each outermost call (of a layer or a model) starts with no losses: a layer called inside
    another adds to that call's losses, and a model's own add_loss does not pile up across eager calls."""
    x = np.ones((2, 3), "float32")
    penalty = _Penalty()
    penalty(x)
    penalty(2 * x)
    assert [float(v) for v in penalty.losses] == [6.0]
    outer = _Outer()
    outer(x)
    outer(x)
    assert [float(v) for v in outer.losses] == [3.0, 3.0]
    model = _SelfPenalizing()
    for _ in range(3):
        model(x)
    assert [float(v) for v in model.losses] == [1.0]
