"""Confusion-matrix metrics, AUC and F1 against brute-force NumPy and scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest

from featherflow import keras

M = keras.metrics
rng = np.random.default_rng(1)
T = rng.integers(0, 2, (12, 3)).astype(float)
P = rng.uniform(size=(12, 3))
W = rng.uniform(0, 2, 12)


def brute(t, p, w, th):
    w = np.ones_like(p) if w is None else np.broadcast_to(w[:, None] if w.ndim == 1 else w, p.shape)
    pos, pred = t != 0, p > th
    return ((pos & pred) * w).sum(), ((~pos & pred) * w).sum(), ((~pos & ~pred) * w).sum(), ((pos & ~pred) * w).sum()


def _feed(metric, t, p, w):
    metric.update_state(t[:5], p[:5], sample_weight=None if w is None else w[:5])
    metric.update_state(t[5:], p[5:], sample_weight=None if w is None else w[5:])
    return metric.result().numpy()


@pytest.mark.parametrize("w", [None, W], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("thresholds", [None, 0.3, [0.1, 0.5, 0.9, 0.2]])
def test_counts_precision_recall(w, thresholds):
    ths = [0.5] if thresholds is None else np.atleast_1d(thresholds)
    ref = np.array([brute(T, P, w, th) for th in ths])  # (n, 4): tp fp tn fn
    single = thresholds is None or np.ndim(thresholds) == 0
    for cls, col in ((M.TruePositives, 0), (M.FalsePositives, 1), (M.TrueNegatives, 2), (M.FalseNegatives, 3)):
        out = _feed(cls(thresholds=thresholds), T, P, w)
        np.testing.assert_allclose(out, ref[0, col] if single else ref[:, col], rtol=1e-6)
    precision = ref[:, 0] / (ref[:, 0] + ref[:, 1])
    recall = ref[:, 0] / (ref[:, 0] + ref[:, 3])
    np.testing.assert_allclose(_feed(M.Precision(thresholds=thresholds), T, P, w),
                               precision[0] if single else precision, rtol=1e-6)
    np.testing.assert_allclose(_feed(M.Recall(thresholds=thresholds), T, P, w),
                               recall[0] if single else recall, rtol=1e-6)


def test_precision_top_k_and_class_id():
    tp = fp = 0
    for t, p in zip(T, P):
        top = np.argsort(-p, kind="stable")[:1]
        tp += t[top].sum()
        fp += (1 - t[top]).sum()
    assert float(_feed(M.Precision(top_k=1), T, P, None)) == pytest.approx(tp / (tp + fp))
    col = 1
    tp, fp, _, fn = brute(T[:, col], P[:, col], None, 0.5)
    assert float(_feed(M.Precision(class_id=col), T, P, None)) == pytest.approx(tp / (tp + fp))
    assert float(_feed(M.Recall(class_id=col), T, P, None)) == pytest.approx(tp / (tp + fn))


def test_predictions_outside_unit_interval_are_refused():
    with pytest.raises(ValueError, match="predictions must be >= 0"):
        M.Precision().update_state([1.0], [-0.5])
    with pytest.raises(ValueError, match="predictions must be <= 1"):
        M.AUC().update_state([1.0], [1.5])


def _ref_auc(t, p, w=None, num=200, curve="ROC", method="interpolation"):
    ths = [-1e-7] + [(i + 1) / (num - 1) for i in range(num - 2)] + [1 + 1e-7]
    c = np.array([brute(t, p, w, th) for th in ths])
    tp, fp, tn, fn = c.T

    def div(a, b):
        return np.where(b > 0, a / np.where(b > 0, b, 1), 0.0)

    if curve == "PR" and method == "interpolation":
        dtp = tp[:-1] - tp[1:]
        pp = tp + fp
        dp = pp[:-1] - pp[1:]
        slope = div(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * pp[1:]
        ratio = np.where((pp[:-1] > 0) & (pp[1:] > 0), div(pp[:-1], np.maximum(pp[1:], 0)), 1.0)
        return div(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0)).sum()
    rec = div(tp, tp + fn)
    x, y = (div(fp, fp + tn), rec) if curve == "ROC" else (rec, div(tp, tp + fp))
    h = {"interpolation": (y[:-1] + y[1:]) / 2, "minoring": np.minimum(y[:-1], y[1:]),
         "majoring": np.maximum(y[:-1], y[1:])}[method]
    return ((x[:-1] - x[1:]) * h).sum()


@pytest.mark.parametrize("curve", ["ROC", "PR"])
@pytest.mark.parametrize("method", ["interpolation", "minoring", "majoring"])
def test_auc_matches_riemann_sum(curve, method):
    m = M.AUC(curve=curve, summation_method=method)
    assert float(_feed(m, T, P, W)) == pytest.approx(_ref_auc(T, P, W, curve=curve, method=method), rel=1e-5)


def test_auc_close_to_exact_roc_auc():
    from sklearn.metrics import roc_auc_score

    t = rng.integers(0, 2, 400)
    p = np.clip(t * 0.3 + rng.uniform(size=400) * 0.7, 0, 1)
    m = M.AUC(num_thresholds=1000)
    m.update_state(t, p)
    assert float(m.result()) == pytest.approx(roc_auc_score(t, p), abs=2e-3)


def test_auc_multi_label_and_logits():
    m = M.AUC(multi_label=True)
    _feed(m, T, P, None)
    per_label = [_ref_auc(T[:, j], P[:, j]) for j in range(3)]
    assert float(m.result()) == pytest.approx(np.mean(per_label), rel=1e-5)
    lw = np.array([1.0, 2.0, 0.5])
    m = M.AUC(multi_label=True, label_weights=lw)
    _feed(m, T, P, None)
    assert float(m.result()) == pytest.approx((np.array(per_label) * lw).sum() / lw.sum(), rel=1e-5)
    logits = np.log(P / (1 - P))
    m = M.AUC(from_logits=True)
    _feed(m, T, logits, None)
    assert float(m.result()) == pytest.approx(_ref_auc(T, P), rel=1e-5)


def test_auc_arguments():
    with pytest.raises(ValueError, match="num_thresholds"):
        M.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="curve"):
        M.AUC(curve="XY")
    m = M.AUC(thresholds=[0.5, 0.25])
    assert m.thresholds[1:-1] == [0.25, 0.5] and m.num_thresholds == 4


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
def test_f1_score_matches_sklearn(average):
    from sklearn.metrics import f1_score

    m = M.F1Score(average=average, threshold=0.5)
    out = _feed(m, T, P, None)
    expected = f1_score(T.astype(int), (P > 0.5).astype(int), average=average, zero_division=0)
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_fbeta_and_argmax_mode():
    from sklearn.metrics import fbeta_score

    onehot = np.eye(3)[rng.integers(0, 3, 12)]
    m = M.FBetaScore(average="macro", beta=2.0)
    _feed(m, onehot, P, None)
    pred = np.eye(3)[P.argmax(-1)]
    assert float(m.result()) == pytest.approx(fbeta_score(onehot, pred, beta=2.0, average="macro",
                                                          zero_division=0), rel=1e-6)
    with pytest.raises(ValueError, match="average"):
        M.F1Score(average="mean")
    with pytest.raises(ValueError, match="threshold"):
        M.F1Score(threshold=2.0)
