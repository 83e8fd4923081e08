"""compile's containers give losses and metrics tf.keras 2's ``match_dtype_and_rank`` view of a batch:
``(batch,)`` labels against ``(batch, d)`` predictions arrive as ``(batch, 1)``, so custom ``Loss`` and ``Metric``
subclasses written for tf.keras compute per-sample values instead of a silent ``(batch, batch)`` broadcast."""

import numpy as np

import featherflow as tf
from featherflow import keras
from featherflow.keras import backend as K
from featherflow.keras.models.compile_utils import match_dtype_and_rank


class SquaredError(keras.losses.Loss):
    def call(self, y_true, y_pred):
        return K.mean(K.square(y_true - y_pred), axis=-1)


class RoundedAccuracy(keras.metrics.Metric):
    """The custom-metric guide's pattern: per-sample matches counted in variables."""

    def __init__(self, name="rounded_accuracy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.correct = self.add_weight(name="correct", initializer="zeros")
        self.total = self.add_weight(name="total", initializer="zeros")
        self.seen = []

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.seen.append((tuple(y_true.shape), None if sample_weight is None else tuple(sample_weight.shape)))
        match = K.cast(K.equal(K.cast(y_true, "float32"), K.round(y_pred)), "float32")
        if sample_weight is not None:
            match = match * K.cast(sample_weight, "float32")
        self.correct.assign_add(K.sum(match))
        self.total.assign_add(K.cast(K.shape(match)[0], "float32"))

    def result(self):
        return self.correct / self.total


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    return x, x @ np.array([1.0, 2.0, 3.0, 4.0], "float32")


def test_custom_loss_sees_labels_with_the_prediction_rank():
    x, y = _data()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, kernel_initializer="ones")])
    model.compile("sgd", SquaredError())
    prediction = model.predict(x, verbose=0)[:, 0]
    expected = float(np.mean((y - prediction) ** 2))  # per sample, not the (64, 64) broadcast
    assert abs(model.evaluate(x, y, batch_size=64, verbose=0) - expected) < 1e-4 * expected
    weighted = model.evaluate(x, y, batch_size=64, verbose=0, sample_weight=np.linspace(0, 1, 64))
    assert abs(weighted - float(np.mean(np.linspace(0, 1, 64) * (y - prediction) ** 2))) < 1e-4 * expected


def test_custom_metric_sees_labels_with_the_prediction_rank():
    x, y = _data()
    labels = (y > 0).astype("int32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    metric, weighted = RoundedAccuracy(), RoundedAccuracy(name="weighted_rounded_accuracy")
    model.compile("adam", "binary_crossentropy", metrics=[metric, "accuracy"], weighted_metrics=[weighted])
    logs = model.evaluate(x, labels, batch_size=64, verbose=0, return_dict=True, sample_weight=np.ones(64))
    assert metric.seen == [((64, 1), None)]  # `metrics` are unweighted in tf.keras 2
    assert weighted.seen == [((64, 1), (64, 1))]
    assert logs["rounded_accuracy"] == logs["weighted_rounded_accuracy"] == logs["accuracy"]
    assert 0.0 <= logs["rounded_accuracy"] <= 1.0


def test_sparse_labels_reach_a_custom_metric_as_a_column():
    x, y = _data()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    metric = RoundedAccuracy()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=[metric])
    model.evaluate(x, (y > 0).astype("int32"), batch_size=64, verbose=0)
    assert metric.seen == [((64, 1), None)]


def test_match_dtype_and_rank_rule():
    y_p = tf.constant(np.zeros((3, 2), "float32"))
    y_t, _, sw = match_dtype_and_rank(np.array([1.0, 2.0, 3.0]), y_p, np.ones(3))
    assert y_t.shape == (3, 1) and y_t.dtype == np.float32 and sw.shape == (3, 1)
    y_t, _, sw = match_dtype_and_rank(np.array([1, 0, 1]), y_p, None)
    assert y_t.shape == (3, 1) and y_t.dtype.kind == "i" and sw is None  # integer labels keep their dtype
    same, _, _ = match_dtype_and_rank(np.zeros((3, 2), "float32"), tf.constant(np.zeros((3, 2, 4), "float32")), None)
    assert same.shape == (3, 2)
