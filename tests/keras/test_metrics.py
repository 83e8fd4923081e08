"""keras.metrics against independent float64 NumPy: running state over batches of unequal size,
sample weights, resets, name resolution ("accuracy" -> binary/sparse/categorical), serialization."""

from __future__ import annotations

import numpy as np
import pytest

import featherflow as ff
from featherflow import keras

M = keras.metrics
EPS = 1e-7


def _batches(t, p, w=None, cuts=(3,)):
    """Split arrays at ``cuts`` (unequal batches)."""
    idx = [0, *cuts, len(t)]
    for a, b in zip(idx[:-1], idx[1:]):
        yield t[a:b], p[a:b], None if w is None else w[a:b]


def _run(metric, t, p, w=None, cuts=(3,)):
    for bt, bp, bw in _batches(t, p, w, cuts):
        metric.update_state(bt, bp, sample_weight=bw)
    return float(metric.result())


def _wmean(values, w=None):
    values = np.asarray(values, float)
    if w is None:
        return values.mean()
    return (values * w).sum() / np.broadcast_to(w, values.shape).sum()


def _l2n(x):
    return x / np.sqrt(np.maximum((x * x).sum(-1, keepdims=True), 1e-12))


rng = np.random.default_rng(0)
N, C = 8, 4
LABELS = rng.integers(0, C, N)
ONEHOT = np.eye(C)[LABELS]
PROBS = rng.dirichlet(np.ones(C), N)
BIN_T = rng.integers(0, 2, (N, 1)).astype(float)
BIN_P = rng.uniform(size=(N, 1))
REG_T = rng.normal(size=(N, 3))
REG_P = rng.normal(size=(N, 3))
POS_T = rng.uniform(0.1, 2.0, size=(N, 3))
POS_P = rng.uniform(0.1, 2.0, size=(N, 3))
W = rng.uniform(0.0, 2.0, N)

CASES = {
    "Accuracy": (M.Accuracy(), LABELS, np.argmax(PROBS, -1), lambda t, p: (t == p)),
    "BinaryAccuracy": (M.BinaryAccuracy(), BIN_T, BIN_P, lambda t, p: (t == (p > 0.5))[:, 0]),
    "BinaryAccuracy_t0.3": (M.BinaryAccuracy(threshold=0.3), BIN_T, BIN_P, lambda t, p: (t == (p > 0.3))[:, 0]),
    "CategoricalAccuracy": (M.CategoricalAccuracy(), ONEHOT, PROBS,
                            lambda t, p: t.argmax(-1) == p.argmax(-1)),
    "SparseCategoricalAccuracy": (M.SparseCategoricalAccuracy(), LABELS, PROBS,
                                  lambda t, p: t == p.argmax(-1)),
    "SparseCategoricalAccuracy_col": (M.SparseCategoricalAccuracy(), LABELS[:, None], PROBS,
                                      lambda t, p: t[:, 0] == p.argmax(-1)),
    "TopK": (M.TopKCategoricalAccuracy(k=2), ONEHOT, PROBS,
             lambda t, p: [t.argmax() in np.argsort(-pi)[:2] for t, pi in zip(t, p)]),
    "SparseTopK": (M.SparseTopKCategoricalAccuracy(k=3), LABELS, PROBS,
                   lambda t, p: [ti in np.argsort(-pi)[:3] for ti, pi in zip(t, p)]),
    "MeanSquaredError": (M.MeanSquaredError(), REG_T, REG_P, lambda t, p: ((p - t) ** 2).mean(-1)),
    "MeanAbsoluteError": (M.MeanAbsoluteError(), REG_T, REG_P, lambda t, p: np.abs(p - t).mean(-1)),
    "MeanAbsolutePercentageError": (M.MeanAbsolutePercentageError(), REG_T, REG_P,
                                    lambda t, p: 100 * (np.abs(t - p) / np.maximum(np.abs(t), EPS)).mean(-1)),
    "MeanSquaredLogarithmicError": (M.MeanSquaredLogarithmicError(), POS_T, POS_P,
                                    lambda t, p: ((np.log(p + 1) - np.log(t + 1)) ** 2).mean(-1)),
    "CosineSimilarity": (M.CosineSimilarity(), REG_T, REG_P, lambda t, p: (_l2n(t) * _l2n(p)).sum(-1)),
    "LogCoshError": (M.LogCoshError(), REG_T, REG_P, lambda t, p: np.log(np.cosh(p - t)).mean(-1)),
    "Hinge": (M.Hinge(), BIN_T, REG_P[:, :1], lambda t, p: np.maximum(1 - (2 * t - 1) * p, 0).mean(-1)),
    "SquaredHinge": (M.SquaredHinge(), BIN_T, REG_P[:, :1],
                     lambda t, p: (np.maximum(1 - (2 * t - 1) * p, 0) ** 2).mean(-1)),
    "CategoricalHinge": (M.CategoricalHinge(), ONEHOT, PROBS,
                         lambda t, p: np.maximum(((1 - t) * p).max(-1) - (t * p).sum(-1) + 1, 0)),
    "KLDivergence": (M.KLDivergence(), ONEHOT, PROBS,
                     lambda t, p: (np.clip(t, EPS, 1) * np.log(np.clip(t, EPS, 1) / np.clip(p, EPS, 1))).sum(-1)),
    "Poisson": (M.Poisson(), POS_T, POS_P, lambda t, p: (p - t * np.log(p + EPS)).mean(-1)),
    "BinaryCrossentropy": (M.BinaryCrossentropy(), BIN_T, BIN_P,
                           lambda t, p: -(t * np.log(p + EPS) + (1 - t) * np.log(1 - p + EPS)).mean(-1)),
    "CategoricalCrossentropy": (M.CategoricalCrossentropy(), ONEHOT, PROBS, lambda t, p: -(t * np.log(p)).sum(-1)),
    "SparseCategoricalCrossentropy": (M.SparseCategoricalCrossentropy(), LABELS, PROBS,
                                      lambda t, p: -np.log(p[np.arange(len(t)), t])),
}


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("case", sorted(CASES))
def test_running_mean_over_unequal_batches(case, weighted):
    metric, t, p, ref = CASES[case]
    metric = type(metric).from_config(metric.get_config())  # fresh state, same configuration
    w = W if weighted else None
    expected = _wmean(np.asarray(ref(t, p), float), w)
    assert _run(metric, t, p, w, cuts=(3,)) == pytest.approx(expected, rel=1e-5, abs=1e-6)
    metric.reset_state()
    assert float(metric.result()) == 0.0
    assert _run(metric, t, p, w, cuts=(1, 6)) == pytest.approx(expected, rel=1e-5, abs=1e-6)
    assert metric.result().dtype == np.float32


def test_root_mean_squared_error():
    m = M.RootMeanSquaredError()
    expected = np.sqrt((((REG_P - REG_T) ** 2) * W[:, None]).sum() / (W.sum() * 3))
    assert _run(m, REG_T, REG_P, W) == pytest.approx(expected, rel=1e-6)


def test_mean_and_sum():
    m, s = M.Mean(), M.Sum()
    values = rng.normal(size=7)
    for metric in (m, s):
        metric.update_state(values[:2], sample_weight=W[:2])
        metric.update_state(values[2:], sample_weight=W[2:7])
    assert float(m.result()) == pytest.approx((values * W[:7]).sum() / W[:7].sum(), rel=1e-6)
    assert float(s.result()) == pytest.approx((values * W[:7]).sum(), rel=1e-6)
    m2 = M.Mean()
    m2.update_state(np.ones((3, 2)) * [[1], [2], [3]], sample_weight=[1.0, 0.0, 1.0])  # weights per row
    assert float(m2.result()) == pytest.approx(2.0)
    assert float(m2(np.array([10.0]))) == pytest.approx((4 + 10) / 3)  # __call__ updates then reads
    m2.reset_states()
    assert float(m2.result()) == 0.0


def test_metric_functions_return_tensors():
    out = M.sparse_categorical_accuracy(LABELS, PROBS)
    assert isinstance(out, ff.Tensor) and out.shape == (N,)
    np.testing.assert_array_equal(out.numpy(), LABELS == PROBS.argmax(-1))
    np.testing.assert_allclose(M.binary_accuracy([[1.0, 0.0]], [[0.7, 0.6]]).numpy(), [0.5])
    np.testing.assert_allclose(M.mse(REG_T, REG_P).numpy(), ((REG_P - REG_T) ** 2).mean(-1), rtol=1e-6)


def test_top_k_ties_count_as_in():
    assert float(M.sparse_top_k_categorical_accuracy([2], [[0.5, 0.5, 0.5]], k=1)[0]) == 1.0
    assert float(M.sparse_top_k_categorical_accuracy([0], [[0.1, 0.5, 0.4]], k=1)[0]) == 0.0


def test_accepts_tensors_and_softmax_outputs():
    m = M.SparseCategoricalAccuracy()
    m.update_state(ff.constant(LABELS), ff.nn.softmax(ff.constant(np.log(PROBS).astype("float32"))))
    assert float(m.result()) == pytest.approx((LABELS == PROBS.argmax(-1)).mean())
    ce = M.SparseCategoricalCrossentropy()
    logits = np.log(PROBS).astype("float32")
    with ff.GradientTape() as tape:  # a recording tape must not see metric computations
        x = ff.Variable(logits)
        ce.update_state(LABELS, ff.nn.softmax(x))
    assert tape._nodes and all(node[4] == "softmax" for node in tape._nodes)
    assert float(ce.result()) == pytest.approx(-np.log(PROBS[np.arange(N), LABELS]).mean(), rel=1e-5)


def test_ignore_class_in_metric():
    m = M.SparseCategoricalCrossentropy(ignore_class=-1)
    labels = np.array([0, -1, 2])
    probs = PROBS[:3, :3] / PROBS[:3, :3].sum(-1, keepdims=True)
    m.update_state(labels, probs)
    assert float(m.result()) == pytest.approx(-np.log(probs[[0, 2], [0, 2]]).mean(), rel=1e-5)


@pytest.mark.parametrize("loss,output_shape,y_true_shape,expected", [
    ("binary_crossentropy", (None, 1), None, "binary_accuracy"),
    ("binary_crossentropy", (None, 5), None, "binary_accuracy"),
    ("mse", (None, 1), None, "binary_accuracy"),
    ("sparse_categorical_crossentropy", (None, 10), None, "sparse_categorical_accuracy"),
    ("categorical_crossentropy", (None, 10), None, "categorical_accuracy"),
    (None, (None, 10), (None,), "sparse_categorical_accuracy"),
    (None, (None, 10), (None, 1), "sparse_categorical_accuracy"),
    ("categorical_crossentropy", (None, 10), (None, 10), "categorical_accuracy"),
    (keras.losses.SparseCategoricalCrossentropy(from_logits=True), (None, 10), None, "sparse_categorical_accuracy"),
    (keras.losses.BinaryCrossentropy(), None, None, "binary_accuracy"),
])
def test_resolve_accuracy(loss, output_shape, y_true_shape, expected):
    for name in ("accuracy", "acc"):
        m = M.resolve(name, loss=loss, output_shape=output_shape, y_true_shape=y_true_shape)
        assert m.name == name and m._fn.__name__ == expected
    assert M.resolve_accuracy(loss, output_shape, y_true_shape)._fn.__name__ == expected


def test_resolve_crossentropy_and_others():
    m = M.resolve("ce", loss="sparse_categorical_crossentropy", output_shape=(None, 3))
    assert m.name == "ce" and m._fn is keras.losses.sparse_categorical_crossentropy
    assert M.resolve("mae").name == "mae"
    assert M.resolve("mean_squared_error").name == "mean_squared_error"
    auc = M.resolve("AUC")
    assert isinstance(auc, M.AUC) and auc.name == "auc"
    custom = M.Precision(name="p")
    assert M.resolve(custom) is custom

    def my_metric(y_true, y_pred):
        return ff.reduce_mean(ff.abs(y_pred - y_true), axis=-1)

    m = M.resolve(my_metric)
    assert m.name == "my_metric"
    m.update_state([[1.0, 3.0]], [[0.0, 0.0]])
    assert float(m.result()) == pytest.approx(2.0)


def test_get_and_serialize():
    assert M.get("accuracy") is M.accuracy
    assert isinstance(M.get("SparseCategoricalAccuracy"), M.SparseCategoricalAccuracy)
    for cls in (M.BinaryAccuracy, M.TopKCategoricalAccuracy, M.AUC, M.Precision, M.F1Score, M.MeanSquaredError,
                M.CategoricalCrossentropy, M.CosineSimilarity):
        metric = cls(name="given")
        clone = M.deserialize(M.serialize(metric))
        assert type(clone) is cls and clone.get_config() == metric.get_config() and clone.name == "given"
    with pytest.raises(ValueError, match="Unknown metric function: 'accuracyy'.*'accuracy'"):
        M.get("accuracyy")
