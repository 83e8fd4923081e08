"""Confusion-matrix metrics: TruePositives/TrueNegatives/FalsePositives/FalseNegatives, Precision,
Recall, AUC (ROC and PR) and F1Score/FBetaScore, with Keras 2.13's semantics.

A prediction is positive at threshold ``th`` when ``y_pred > th``; a label is positive when it is
nonzero. Counts for all thresholds are accumulated at once: each prediction's rank among the
sorted thresholds is found by binary search and weighted counts are cumulated, so a batch costs
``O(n log T + T)`` instead of ``O(n T)``.

>>> m = Precision()
>>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1]); round(float(m.result()), 4)
0.6667
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import epsilon
from featherflow.keras.metrics.base import Metric, _result, add_into, state_variable, to_array

NEG_INF = -1e10


def _prepare(y_true, y_pred, sample_weight, check_range=True):
    t = to_array(y_true, np.float64)
    p = to_array(y_pred, np.float64)
    if p.ndim == t.ndim + 1 and p.shape[-1] == 1:
        p = p[..., 0]
    elif t.ndim == p.ndim + 1 and t.shape[-1] == 1:
        t = t[..., 0]
    if t.shape != p.shape:
        raise ValueError(f"`y_true` and `y_pred` must have the same shape. Received: y_true.shape={t.shape}, "
                         f"y_pred.shape={p.shape}")
    if check_range and p.size:
        if np.nanmin(p) < 0:
            raise ValueError("predictions must be >= 0. Received values below 0; pass probabilities (apply a "
                             "sigmoid, or use AUC(from_logits=True)).")
        if np.nanmax(p) > 1:
            raise ValueError("predictions must be <= 1. Received values above 1; pass probabilities.")
    w = None
    if sample_weight is not None:
        w = to_array(sample_weight, np.float64)
        if w.ndim == p.ndim - 1:
            w = w[..., None]
        w = np.broadcast_to(w, p.shape)
    return t, p, w


def _filter_top_k(p, k):
    """Keep each row's ``k`` largest predictions, set the rest to ``NEG_INF`` (ties: lower index first)."""
    order = np.argsort(-p, axis=-1, kind="stable")[..., :k]
    keep = np.zeros(p.shape, dtype=bool)
    np.put_along_axis(keep, order, True, axis=-1)
    return np.where(keep, p, NEG_INF)


def confusion_counts(t, p, w, thresholds):
    """``(tp, fp, tn, fn)``, each of length ``len(thresholds)`` (sorted ascending), over all elements."""
    t, p = t.reshape(-1), p.reshape(-1)
    w = np.ones_like(p) if w is None else np.asarray(w, np.float64).reshape(-1)
    rank = np.searchsorted(thresholds, p, side="left")  # number of thresholds strictly below p
    rank[np.isnan(p)] = 0  # NaN > threshold is False
    n = len(thresholds)
    pos = t != 0
    hist_pos = np.bincount(rank[pos], weights=w[pos], minlength=n + 1)
    hist_neg = np.bincount(rank[~pos], weights=w[~pos], minlength=n + 1)
    # p > thresholds[j]  <=>  rank > j
    tp = np.cumsum(hist_pos[::-1])[::-1][1:]
    fp = np.cumsum(hist_neg[::-1])[::-1][1:]
    return tp, fp, hist_neg.sum() - fp, hist_pos.sum() - tp


class _ThresholdMetric(Metric):
    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None, default=0.5):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default = NEG_INF if top_k is not None else default
        values = [default] if thresholds is None else (
            [float(thresholds)] if np.ndim(thresholds) == 0 else [float(x) for x in thresholds])
        for th in values:
            if th != NEG_INF and not 0 <= th <= 1:
                raise ValueError(f"Threshold values must be in [0, 1]. Received: thresholds={thresholds}")
        self.thresholds = values
        self._order = np.argsort(values, kind="stable")
        self._sorted = np.asarray(values, np.float64)[self._order]
        self._single = thresholds is None or np.ndim(thresholds) == 0
        make_counts(self, (len(values),))

    def update_state(self, y_true, y_pred, sample_weight=None):
        t, p, w = _prepare(y_true, y_pred, sample_weight)
        if self.top_k is not None:
            p = _filter_top_k(p, self.top_k)
        if self.class_id is not None:
            t, p = t[..., self.class_id], p[..., self.class_id]
            w = None if w is None else w[..., self.class_id]
        tp, fp, tn, fn = confusion_counts(t, p, w, self._sorted)
        inverse = np.argsort(self._order)
        add_counts(self, tp[inverse], fp[inverse], tn[inverse], fn[inverse])

    def _out(self, values):
        return _result(values[0] if self._single else values)

    def get_config(self):
        config = super().get_config()
        config.update(thresholds=self.init_thresholds)
        if type(self) in (Precision, Recall):
            config.update(top_k=self.top_k, class_id=self.class_id)
        return config


def make_counts(metric, shape) -> None:
    """The metric's ``true_positives``, ``false_positives``, ``true_negatives``, ``false_negatives`` variables."""
    for name in _COUNTS:
        setattr(metric, name, state_variable(metric, name, shape))


def add_counts(metric, tp, fp, tn, fn) -> None:
    """Add a batch's counts to the metric's count variables (in place)."""
    for name, delta in zip(_COUNTS, (tp, fp, tn, fn)):
        add_into(getattr(metric, name), delta)


def counts(metric):
    """``(tp, fp, tn, fn)``: the arrays of the metric's count variables."""
    return tuple(getattr(metric, name).value for name in _COUNTS)


_COUNTS = ("true_positives", "false_positives", "true_negatives", "false_negatives")


def _div(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), 0.0)


class _Count(_ThresholdMetric):
    _which = ""

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(thresholds=thresholds, name=name, dtype=dtype)

    def result(self):
        return self._out(getattr(self, self._which).value)


class TruePositives(_Count):
    """Weighted count of positives predicted positive (``y_pred > threshold``, default 0.5)."""

    _which = "true_positives"


class FalsePositives(_Count):
    """Weighted count of negatives predicted positive."""

    _which = "false_positives"


class TrueNegatives(_Count):
    """Weighted count of negatives predicted negative."""

    _which = "true_negatives"


class FalseNegatives(_Count):
    """Weighted count of positives predicted negative."""

    _which = "false_negatives"


class Precision(_ThresholdMetric):
    """``tp / (tp + fp)``; with ``top_k`` only each row's k highest scores count as predicted positive;
    with ``class_id`` only that class column counts."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(thresholds=thresholds, top_k=top_k, class_id=class_id, name=name, dtype=dtype)

    def result(self):
        tp, fp, _, _ = counts(self)
        return self._out(_div(tp, tp + fp))


class Recall(_ThresholdMetric):
    """``tp / (tp + fn)`` (see ``Precision`` for ``top_k``/``class_id``)."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(thresholds=thresholds, top_k=top_k, class_id=class_id, name=name, dtype=dtype)

    def result(self):
        tp, _, _, fn = counts(self)
        return self._out(_div(tp, tp + fn))


class AUC(Metric):
    """Area under the ROC or precision-recall curve, by a Riemann sum over ``num_thresholds``.

    Args:
        num_thresholds: thresholds evenly spaced in ``[0, 1]`` (plus ``-eps`` and ``1 + eps``). Default 200.
        curve: ``"ROC"`` or ``"PR"``.
        summation_method: ``"interpolation"`` (PR: Davis & Goadrich's interpolation), ``"minoring"``,
            ``"majoring"``.
        thresholds: explicit thresholds (then ``num_thresholds`` is ignored).
        multi_label: one curve per label (last axis), averaged (weighted by ``label_weights``).
        label_weights: per-label weights.
        from_logits: apply a sigmoid to the predictions first.
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None, dtype=None,
                 thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        super().__init__(name=name, dtype=dtype)
        self.curve = str(curve).upper()
        if self.curve not in ("ROC", "PR"):
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are ["PR", "ROC"]')
        self.summation_method = str(summation_method).lower()
        if self.summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". Expected values are '
                             f'["interpolation", "majoring", "minoring"]')
        eps = epsilon()
        if thresholds is not None:
            inner = sorted(float(x) for x in thresholds)
            self.num_thresholds = len(inner) + 2
        else:
            if not isinstance(num_thresholds, int) or num_thresholds <= 1:
                raise ValueError(f"Argument `num_thresholds` must be an integer > 1. Received: "
                                 f"num_thresholds={num_thresholds}")
            self.num_thresholds = num_thresholds
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self._init_from_thresholds = thresholds is not None
        self.thresholds = [0.0 - eps] + inner + [1.0 + eps]
        self._sorted = np.asarray(self.thresholds, np.float64)
        self.multi_label = bool(multi_label)
        self.num_labels = num_labels
        self.label_weights = None if label_weights is None else np.asarray(label_weights, np.float64)
        self._from_logits = bool(from_logits)
        self._labels_known = not self.multi_label or bool(self.num_labels)
        if self._labels_known:  # else built by the first update, which knows the number of labels
            make_counts(self, (self.num_thresholds,) if not self.multi_label else (self.num_thresholds,
                                                                                   self.num_labels))

    def update_state(self, y_true, y_pred, sample_weight=None):
        p = to_array(y_pred, np.float64)
        if self._from_logits:
            p = 1.0 / (1.0 + np.exp(-p))
        t, p, w = _prepare(y_true, p, sample_weight)
        if self.multi_label:
            if p.ndim != 2:
                raise ValueError(f"AUC(multi_label=True) expects 2-D (batch, labels) inputs. Received: "
                                 f"y_pred.shape={p.shape}")
            if not self._labels_known:
                self.num_labels = p.shape[-1]
                make_counts(self, (self.num_thresholds, self.num_labels))
                self._labels_known = True
            columns = [confusion_counts(t[:, j], p[:, j], None if w is None else w[:, j], self._sorted)
                       for j in range(p.shape[-1])]
            add_counts(self, *(np.stack([c[i] for c in columns], axis=1) for i in range(4)))
            return
        if self.label_weights is not None:
            lw = np.broadcast_to(self.label_weights, p.shape)
            w = lw if w is None else w * lw
        add_counts(self, *confusion_counts(t, p, w, self._sorted))

    def _pr_interpolated(self):
        tp, fp, _, fn = counts(self)
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _div(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.where(both, _div(p[:-1], np.maximum(p[1:], 0)), 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_ratio = np.log(np.where(ratio > 0, ratio, 1.0))
        return _div(slope * (dtp + intercept * log_ratio), np.maximum(tp[1:] + fn[1:], 0))

    def result(self):
        if not self._labels_known:
            return _result(0.0)
        tp, fp, tn, fn = counts(self)
        if self.curve == "PR" and self.summation_method == "interpolation":
            terms = self._pr_interpolated()
        else:
            recall = _div(tp, tp + fn)
            if self.curve == "ROC":
                x, y = _div(fp, fp + tn), recall
            else:
                x, y = recall, _div(tp, tp + fp)
            if self.summation_method == "interpolation":
                heights = (y[:-1] + y[1:]) / 2.0
            elif self.summation_method == "minoring":
                heights = np.minimum(y[:-1], y[1:])
            else:
                heights = np.maximum(y[:-1], y[1:])
            terms = (x[:-1] - x[1:]) * heights
        if not self.multi_label:
            return _result(terms.sum())
        by_label = terms.sum(axis=0)
        if self.label_weights is None:
            return _result(by_label.mean() if by_label.size else 0.0)
        return _result(_div((by_label * self.label_weights).sum(), self.label_weights.sum()))

    def get_config(self):
        config = super().get_config()
        config.update(num_thresholds=self.num_thresholds, curve=self.curve, summation_method=self.summation_method,
                      multi_label=self.multi_label, num_labels=self.num_labels,
                      label_weights=None if self.label_weights is None else self.label_weights.tolist(),
                      from_logits=self._from_logits)
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config


class FBetaScore(Metric):
    """F-beta score per class (``average=None``) or averaged (``"micro"``, ``"macro"``, ``"weighted"``).

    ``(1 + beta^2) * precision * recall / (beta^2 * precision + recall)``; without ``threshold`` the
    highest score of each row counts as the predicted class.

    Args:
        average: ``None``, ``"micro"``, ``"macro"`` or ``"weighted"``.
        beta: > 0.
        threshold: in ``(0, 1]``, or ``None`` (argmax per row).
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError("Invalid `average` argument value. Expected one of: {None, 'micro', 'macro', "
                             f"'weighted'}}. Received: average={average}")
        if not isinstance(beta, (int, float)) or beta <= 0:
            raise ValueError(f"`beta` should be a float greater than 0. Received: beta={beta}")
        if threshold is not None and (not isinstance(threshold, float) or not 0 < threshold <= 1):
            raise ValueError(f"`threshold` should be a float in the range (0, 1]. Received: threshold={threshold}")
        self.average = average
        self.beta = float(beta)
        self.threshold = threshold
        self.axis = None if average == "micro" else 0
        self._counts = None  # the state variables, made by the first update (it knows the number of classes)

    def update_state(self, y_true, y_pred, sample_weight=None):
        t = to_array(y_true, np.float64)
        p = to_array(y_pred, np.float64)
        if p.ndim != 2 or t.shape != p.shape:
            raise ValueError(f"FBetaScore expects y_true and y_pred of the same shape (batch, classes). Received: "
                             f"y_true.shape={t.shape}, y_pred.shape={p.shape}")
        if self.threshold is None:
            top = p.max(axis=-1, keepdims=True)
            pred = ((p >= top) & (np.abs(p) > 1e-12)).astype(np.float64)
        else:
            pred = (p > self.threshold).astype(np.float64)
        w = None if sample_weight is None else to_array(sample_weight, np.float64).reshape(-1, 1)

        def wsum(x):
            return (x if w is None else x * w).sum(axis=self.axis)

        batch = (wsum(pred * t), wsum(pred * (1 - t)), wsum((1 - pred) * t), wsum(t))
        if self._counts is None:
            self._counts = [state_variable(self, name, np.shape(value)) for name, value in zip(
                ("true_positives", "false_positives", "false_negatives", "intermediate_weights"), batch)]
        for variable, value in zip(self._counts, batch):
            add_into(variable, value)

    def result(self):
        if self._counts is None:
            return _result(0.0)
        tp, fp, fn, support = (v.value for v in self._counts)
        precision = _div(tp, tp + fp)
        recall = _div(tp, tp + fn)
        b2 = self.beta ** 2
        score = _div(precision * recall, b2 * precision + recall) * (1 + b2)
        if self.average == "weighted":
            score = (score * _div(support, support.sum())).sum()
        elif self.average is not None:
            score = score.mean()
        return _result(score)

    def get_config(self):
        config = super().get_config()
        config.update(average=self.average, beta=self.beta, threshold=self.threshold)
        return config


class F1Score(FBetaScore):
    """F1 score: ``FBetaScore`` with ``beta=1``.

    >>> m = F1Score(average="micro", threshold=0.5)
    >>> m.update_state([[1, 0], [0, 1]], [[0.9, 0.2], [0.6, 0.7]]); round(float(m.result()), 4)
    0.8
    """

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
