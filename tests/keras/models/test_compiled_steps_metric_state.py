"""Metric and loss-tracker state lives in variables updated in place (tf.keras's ``metric.variables``), so a
compiled step that replays the same program updates them on every call."""

import re

import numpy as np
import pytest

from featherflow import keras


def test_mean_keeps_total_and_count_in_variables_updated_in_place():
    m = keras.metrics.Mean()
    total, count = m.total, m.count
    m.update_state([1.0, 2.0, 6.0], sample_weight=[1.0, 1.0, 0.5])
    assert [v.name for v in m.variables] == ["mean/total", "mean/count"]
    assert m.total is total and m.count is count  # the same variables, written in place
    assert float(m.total.numpy()) == 6.0 and float(m.count.numpy()) == 2.5
    assert float(m.result()) == pytest.approx(2.4)
    m.reset_state()
    assert m.total is total and float(total.numpy()) == 0.0 and float(count.numpy()) == 0.0
    assert float(m.result()) == 0.0


def test_threshold_iou_and_auc_metrics_have_tf_keras_state_variables():
    p = keras.metrics.Precision(thresholds=[0.3, 0.7])
    p.update_state([0, 1, 1, 1], [0.9, 0.2, 0.5, 0.8])
    assert sorted(v.name.split("/")[-1] for v in p.variables) == ["false_negatives", "false_positives",
                                                                  "true_negatives", "true_positives"]
    np.testing.assert_array_equal(p.true_positives.numpy(), [2.0, 1.0])
    np.testing.assert_array_equal(p.false_positives.numpy(), [1.0, 1.0])
    p.reset_state()
    np.testing.assert_array_equal(p.true_positives.numpy(), [0.0, 0.0])
    iou = keras.metrics.MeanIoU(num_classes=2)
    iou.update_state([0, 1, 1], [0, 1, 0])
    np.testing.assert_array_equal(iou.total_cm.numpy(), [[1.0, 0.0], [1.0, 1.0]])
    auc = keras.metrics.AUC(num_thresholds=3, multi_label=True)
    assert auc.variables == []  # built by the first update, which knows the number of labels
    auc.update_state([[1, 0], [0, 1]], [[0.9, 0.2], [0.4, 0.8]])
    assert auc.true_positives.shape == (3, 2) and float(auc.result()) == 1.0


def test_fit_keeps_loss_tracker_and_metric_results_in_variables():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).normal(size=(10, 3)).astype("float32")
    y = np.array([0, 1] * 5)
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    tracker, accuracy = model.metrics
    assert float(tracker.count.numpy()) == 10.0  # 4 + 4 + 2 samples
    assert history.history["loss"][0] == pytest.approx(float(tracker.total.numpy()) / 10.0, rel=1e-12)
    assert float(accuracy.count.numpy()) == 10.0
    assert history.history["accuracy"][0] == pytest.approx(float(accuracy.result()))
    model.reset_metrics()
    assert float(tracker.count.numpy()) == 0.0 and float(accuracy.total.numpy()) == 0.0


def _fit_with_accuracies(run_eagerly):
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", run_eagerly=run_eagerly,
                  metrics=["accuracy", keras.metrics.SparseCategoricalAccuracy(name="sca"),
                           keras.metrics.SparseTopKCategoricalAccuracy(k=2)])
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(40, 4)).astype("float32"), rng.integers(0, 3, size=40)
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    return model, history.history


@pytest.mark.parametrize("numba", [False, True])
def test_compiled_fit_records_the_accuracy_and_loss_tracker_updates_with_eager_values(numba):
    from featherflow.ops import _kernels

    if numba and not _kernels.available():
        pytest.skip("Numba is not installed")
    _kernels.use_kernels(numba)
    compiled, logs = _fit_with_accuracies(False)
    eager, eager_logs = _fit_with_accuracies(True)
    assert logs == eager_logs
    for a, b in zip(compiled.metrics, eager.metrics):
        for va, vb in zip(a.variables, b.variables):
            np.testing.assert_array_equal(va.numpy(), vb.numpy())
    fn = compiled._train_fn.function
    source = next(iter(fn._traces.values())).program.source
    # the loss tracker's update is one host call on its variables (compile_utils._add_batch_loss); both accuracies
    # are in-place adds on theirs (NumPy) or one compiled pass each (Numba: ops/_numba_softmax.add_argmax_matches,
    # on the same variables); top-k stays a host call
    assert re.search(r"host__add_batch_loss\(loss_total\w*, loss_count\w*, \w+, 8\.0\)", source)
    for name in () if numba else ("accuracy_total", "accuracy_count", "sca_total", "sca_count"):
        assert re.search(rf"add\({name}\w*, .*, out=\({name}\w*,\)\)", source), name
    if numba:
        for name in ("accuracy", "sca"):
            assert re.search(rf"host_add_argmax_matches\(\w+, \w+, {name}_total\w*, {name}_count\w*\)", source), name
    assert source.count("host_host") == 1
