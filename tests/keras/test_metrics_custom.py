"""Custom metrics and losses written for tf.keras: Metric is a Layer with add_weight state, inside compile/fit,
saved with the model; Loss subclasses with get_config."""

import numpy as np
import pytest

import featherflow as tf
from featherflow import keras


class BinaryTruePositives(keras.metrics.Metric):
    """The example of tf.keras's Metric documentation, unchanged but for the import."""

    def __init__(self, name="binary_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_weight(name="tp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = tf.cast(y_true, tf.bool)
        y_pred = tf.cast(y_pred, tf.bool)
        values = tf.logical_and(tf.equal(y_true, True), tf.equal(y_pred, True))
        values = tf.cast(values, self.dtype)
        if sample_weight is not None:
            sample_weight = tf.cast(sample_weight, self.dtype)
            values = tf.multiply(values, sample_weight)
        self.true_positives.assign_add(tf.reduce_sum(values))

    def result(self):
        return self.true_positives


class BalancedAccuracy(keras.metrics.Metric):
    """Mean per-class recall, with per-class counts kept in add_weight state."""

    def __init__(self, num_classes, name="balanced_accuracy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.num_classes = num_classes
        self.hits = self.add_weight(name="hits", shape=(num_classes,), initializer="zeros")
        self.seen = self.add_weight(name="seen", shape=(num_classes,), initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels = tf.reshape(tf.cast(y_true, "int32"), [-1])
        guesses = tf.cast(tf.argmax(y_pred, axis=-1), "int32")
        one_hot = tf.one_hot(labels, self.num_classes)
        correct = tf.cast(tf.equal(labels, guesses), self.dtype)
        self.hits.assign_add(tf.reduce_sum(one_hot * tf.expand_dims(correct, -1), axis=0))
        self.seen.assign_add(tf.reduce_sum(one_hot, axis=0))

    def result(self):
        return tf.reduce_mean(tf.math.divide_no_nan(self.hits, self.seen))

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}


def _balanced_accuracy(labels, scores, classes):
    guesses = scores.argmax(-1)
    return np.mean([np.mean(guesses[labels == c] == c) if (labels == c).any() else 0.0 for c in range(classes)])


def test_the_documentation_example_is_a_layer_with_state():
    m = BinaryTruePositives()
    assert isinstance(m, keras.layers.Layer) and m.built and m.stateful and m.dtype == "float32"
    assert [v.name for v in m.variables] == ["binary_true_positives/tp"] and not m.trainable_weights
    m.update_state([1, 0, 1, 1], [1, 1, 0, 1])
    m.update_state([1, 1], [1, 1], sample_weight=[0.5, 0.0])
    assert float(m.result()) == 2.5
    assert float(m([1], [1])) == 3.5
    m.reset_state()  # the default reset: every variable back to zero
    assert float(m.result()) == 0.0
    assert m.get_config() == {"name": "binary_true_positives", "dtype": "float32"}
    assert type(m).from_config(m.get_config()).name == "binary_true_positives"


class Unnamed(keras.metrics.Metric):
    def update_state(self, values):
        pass

    def result(self):
        return 0.0


def test_names_and_errors():
    keras.backend.clear_session()
    assert [Unnamed().name, Unnamed().name] == ["unnamed", "unnamed_1"]  # unique, like layers
    with pytest.raises(NotImplementedError, match="must implement update_state"):
        keras.metrics.Metric(name="m").update_state(1)


def test_update_state_does_not_record_on_a_watching_tape():
    metric = BinaryTruePositives()
    x = tf.Variable([1.0, 0.0])
    with tf.GradientTape() as tape:
        y = x * 2.0
        metric.update_state([1.0, 1.0], y)
        loss = tf.reduce_sum(y)
    assert tape.gradient(loss, x).numpy().tolist() == [2.0, 2.0]
    assert float(metric.result()) == 1.0


def _classification_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 1).astype("int64")
    return x, y


def _classifier(metrics):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy", metrics=metrics)
    return model


def test_custom_metric_in_fit_evaluate_and_save(tmp_path):
    x, y = _classification_data()
    model = _classifier([BalancedAccuracy(3)])
    history = model.fit(x, y, epochs=2, batch_size=60, verbose=0)
    assert set(history.history) == {"loss", "balanced_accuracy"}
    # one batch per epoch: the epoch's value is the metric on the predictions before that epoch's update
    result = model.evaluate(x, y, batch_size=7, verbose=0, return_dict=True)
    expected = _balanced_accuracy(y, model.predict(x, verbose=0), 3)
    assert result["balanced_accuracy"] == pytest.approx(expected, rel=1e-6)
    model.save(tmp_path / "m.keras")
    with pytest.raises((ValueError, TypeError), match="BalancedAccuracy"):
        keras.models.load_model(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", custom_objects={"BalancedAccuracy": BalancedAccuracy})
    again = loaded.evaluate(x, y, batch_size=7, verbose=0, return_dict=True)
    assert again["balanced_accuracy"] == pytest.approx(expected, rel=1e-6)
    assert any(isinstance(m, BalancedAccuracy) and m.num_classes == 3 for m in loaded.metrics)


class CustomFit(keras.Model):
    """The "customizing what happens in fit" pattern: metrics held as attributes."""

    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(1)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
        self.positives = BinaryTruePositives(name="positives")

    def call(self, x):
        return self.dense(x)

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = keras.losses.mean_squared_error(y, y_pred)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        self.positives.update_state(y > 0.5, y_pred > 0.5)
        return {m.name: m.result() for m in self.metrics}


def test_metrics_held_as_attributes():
    keras.backend.clear_session()
    rng = np.random.default_rng(1)
    x = rng.normal(size=(32, 2)).astype("float32")
    y = rng.normal(size=(32, 1)).astype("float32")
    model = CustomFit()
    model.compile(keras.optimizers.SGD(0.01))
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert [m.name for m in model.metrics] == ["loss", "mae", "positives"]
    assert [layer.name for layer in model.layers] == ["dense"]
    assert set(history.history) == {"loss", "mae", "positives"}
    assert any(w is model.positives.true_positives for w in model.weights)  # metric state, as in tf.keras
    assert not any(w is model.positives.true_positives for w in model.trainable_weights)


class ScaledMAE(keras.losses.Loss):
    def __init__(self, scale=2.0, name="scaled_mae", **kwargs):
        super().__init__(name=name, **kwargs)
        self.scale = scale

    def call(self, y_true, y_pred):
        return self.scale * tf.reduce_mean(tf.abs(y_true - y_pred), axis=-1)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


def test_custom_loss_subclass_trains_and_saves(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(20, 3)).astype("float32")
    y = rng.normal(size=(20, 1)).astype("float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", ScaledMAE(3.0))
    model.fit(x, y, epochs=1, verbose=0)
    expected = 3.0 * np.mean(np.abs(y - model.predict(x, verbose=0)))
    assert model.evaluate(x, y, batch_size=20, verbose=0) == pytest.approx(expected, rel=1e-5)
    model.save(tmp_path / "loss.keras")
    loaded = keras.models.load_model(tmp_path / "loss.keras", custom_objects={"ScaledMAE": ScaledMAE})
    assert loaded.evaluate(x, y, batch_size=20, verbose=0) == pytest.approx(expected, rel=1e-5)


def test_compiled_losses_and_metrics_see_targets_shaped_like_the_outputs():
    """tf.keras aligns targets with the outputs before the compiled losses and metrics (match_dtype_and_rank): labels
    of shape (batch,) for an output (batch, 1) reach a custom loss or Metric as (batch, 1) in the output's dtype,
    so `y_true - y_pred` does not broadcast to (batch, batch)."""
    seen = []

    def mean_abs(y_true, y_pred):
        seen.append(("loss", tuple(y_true.shape), tuple(y_pred.shape), y_true.dtype))
        return tf.reduce_mean(tf.abs(y_true - y_pred), axis=-1)

    class SumAbsError(keras.metrics.Metric):
        def __init__(self, **kwargs):
            super().__init__(name="sum_abs_error", **kwargs)
            self.total = self.add_weight(name="total", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            seen.append(("metric", tuple(y_true.shape), tuple(y_pred.shape), y_true.dtype))
            values = tf.abs(y_true - y_pred)
            if sample_weight is not None:
                seen.append(("weight", tuple(sample_weight.shape)))
                values = values * sample_weight
            self.total.assign_add(tf.reduce_sum(values))

        def result(self):
            return self.total

    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3)).astype("float32")
    y = x.sum(axis=1).astype("float64")  # rank 1, float64: becomes (16, 1) float32
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", loss=mean_abs, metrics=[SumAbsError()], weighted_metrics=[SumAbsError()])
    weights = np.linspace(0.5, 2.0, 16)
    loss, total, weighted_total = model.evaluate(x, y, sample_weight=weights, batch_size=16, verbose=0)
    assert ("loss", (16, 1), (16, 1), np.dtype("float32")) in seen
    assert ("metric", (16, 1), (16, 1), np.dtype("float32")) in seen
    assert ("weight", (16, 1)) in seen
    errors = np.abs(y - model.predict(x, verbose=0)[:, 0])
    np.testing.assert_allclose(total, errors.sum(), rtol=1e-5)
    np.testing.assert_allclose(weighted_total, (errors * weights).sum(), rtol=1e-5)
    np.testing.assert_allclose(loss, (errors * weights).mean(), rtol=1e-5)
