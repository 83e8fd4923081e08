"""The IoU family, the operating-point metrics, R2Score, MeanRelativeError and MeanTensor against tf_keras 2.21
(fixtures/metrics_tf.npz, written by fixtures/make_metric_fixtures.py), plus configs and errors."""

import os

import numpy as np
import pytest

from featherflow import keras

REF = np.load(os.path.join(os.path.dirname(__file__), "fixtures", "metrics_tf.npz"))
classes, guesses, scores, weights = REF["classes"], REF["guesses"], REF["scores"], REF["weights"]
labels, probs, bin_weights = REF["labels"], REF["probs"], REF["bin_weights"]
targets, predictions, row_weights = REF["targets"], REF["predictions"], REF["row_weights"]
M = keras.metrics

CASES = [
    ("iou", lambda: M.IoU(3, [0, 2]), lambda i: (classes[i], guesses[i], weights[i])),
    ("mean_iou", lambda: M.MeanIoU(3), lambda i: (classes[i], guesses[i], weights[i])),
    ("mean_iou_ignore", lambda: M.MeanIoU(3, ignore_class=1), lambda i: (classes[i], guesses[i], weights[i])),
    ("one_hot_iou", lambda: M.OneHotIoU(3, [1]), lambda i: (np.eye(3)[classes[i]], scores[i], weights[i])),
    ("one_hot_mean_iou", lambda: M.OneHotMeanIoU(3), lambda i: (np.eye(3)[classes[i]], scores[i])),
    ("binary_iou", lambda: M.BinaryIoU(threshold=0.4), lambda i: (labels[i], probs[i], bin_weights[i])),
    ("sens_at_spec", lambda: M.SensitivityAtSpecificity(0.6, num_thresholds=50),
     lambda i: (labels[i], probs[i], bin_weights[i])),
    ("spec_at_sens", lambda: M.SpecificityAtSensitivity(0.7), lambda i: (labels[i], probs[i], bin_weights[i])),
    ("prec_at_rec", lambda: M.PrecisionAtRecall(0.5, num_thresholds=20),
     lambda i: (labels[i], probs[i], bin_weights[i])),
    ("rec_at_prec", lambda: M.RecallAtPrecision(0.8), lambda i: (labels[i], probs[i], bin_weights[i])),
    ("r2_uniform", lambda: M.R2Score(), lambda i: (targets[i], predictions[i], row_weights[i])),
    ("r2_variance", lambda: M.R2Score(class_aggregation="variance_weighted_average"),
     lambda i: (targets[i], predictions[i], row_weights[i])),
    ("r2_none", lambda: M.R2Score(class_aggregation=None), lambda i: (targets[i], predictions[i], row_weights[i])),
    ("r2_adjusted", lambda: M.R2Score(num_regressors=4), lambda i: (targets[i], predictions[i])),
    ("mean_relative_error", lambda: M.MeanRelativeError(normalizer=[1.0, 2.0, 0.0]),
     lambda i: (targets[i], predictions[i], row_weights[i])),
    ("mean_tensor", lambda: M.MeanTensor(), lambda i: (targets[i], row_weights[i][:, None])),
]


@pytest.mark.parametrize("name, make, batch", CASES, ids=[c[0] for c in CASES])
def test_matches_tf_keras(name, make, batch):
    metric = make()
    for i in range(2):
        metric.update_state(*batch(i))
    np.testing.assert_allclose(metric.result().numpy(), REF[name], rtol=1e-5, atol=1e-6)
    clone = type(metric).from_config(metric.get_config())
    for i in range(2):
        clone.update_state(*batch(i))
    np.testing.assert_allclose(clone.result().numpy(), REF[name], rtol=1e-5, atol=1e-6)
    metric.reset_state()
    if name != "mean_tensor":
        assert float(np.ravel(metric.result().numpy())[0]) == 0.0


def test_unreachable_constraint_and_small_cases():
    m = M.RecallAtPrecision(1.0, num_thresholds=5)
    m.update_state(labels[0], probs[0])
    assert float(m.result()) == float(REF["rec_at_prec_unreachable"]) == 0.0
    iou = M.IoU(2, [1])
    iou.update_state([0, 1, 1], [1, 1, 0])  # class 1: intersection 1, union 3
    assert float(iou.result()) == pytest.approx(1 / 3)


def test_errors():
    with pytest.raises(ValueError, match="out of range"):
        M.IoU(2, [2])
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        M.MeanIoU(3).update_state([0, 3], [0, 1])
    with pytest.raises(ValueError, match="must be in the range"):
        M.PrecisionAtRecall(1.5)
    with pytest.raises(ValueError, match="num_thresholds"):
        M.SensitivityAtSpecificity(0.5, num_thresholds=0)
    with pytest.raises(ValueError, match="class_aggregation"):
        M.R2Score(class_aggregation="max")
    with pytest.raises(ValueError, match="does not have any value yet"):
        M.MeanTensor().result()
    m = M.MeanTensor()
    m.update_state([1.0, 2.0])
    with pytest.raises(ValueError, match="same shape"):
        m.update_state([1.0])
    with pytest.warns(UserWarning, match="More independent predictors"):
        r2 = M.R2Score(num_regressors=5)
        r2.update_state([[1.0], [2.0]], [[1.0], [2.5]])
        r2.result()


def test_in_compile_and_by_name():
    keras.backend.clear_session()  # metrics without a name are named like layers: mean_io_u, mean_io_u_1, ...
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=[M.MeanIoU(2, sparse_y_pred=False)])
    x = np.random.default_rng(0).normal(size=(8, 2)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    expected = M.MeanIoU(2)
    expected.update_state(y, model.predict(x, verbose=0).argmax(-1))
    assert logs["mean_io_u"] == pytest.approx(float(expected.result()), rel=1e-6)
    regression = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    regression.compile("sgd", "mse", metrics=[M.R2Score(name="r2")])
    target = x[:, :1] * 2.0
    r2 = regression.evaluate(x, target, verbose=0, return_dict=True)["r2"]
    residual = ((target - regression.predict(x, verbose=0)) ** 2).sum()
    assert r2 == pytest.approx(1 - residual / ((target - target.mean()) ** 2).sum(), rel=1e-5)
    assert isinstance(M.get("R2Score"), M.R2Score)
    assert isinstance(M.experimental.PyMetric(name="p"), M.Metric)
