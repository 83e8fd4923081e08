"""Intersection-over-union metrics for segmentation: ``IoU``, ``MeanIoU``, ``BinaryIoU``, ``OneHotIoU``,
``OneHotMeanIoU`` (tf.keras 2's).

A confusion matrix ``cm[true_class, predicted_class]`` (weighted counts) is accumulated over batches; the IoU of
class ``c`` is ``cm[c, c] / (row_sum[c] + column_sum[c] - cm[c, c])``, and the result is the mean over the target
classes that occurred (true or predicted). Labels and predictions are class ids (``sparse_*=True``) or one-hot /
scores reduced by argmax over ``axis``; entries of ``ignore_class`` are skipped.

>>> m = MeanIoU(num_classes=2)
>>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1]); round(float(m.result()), 4)   # both classes: 1 / 3
0.3333
"""

from __future__ import annotations

import numpy as np

from featherflow.keras.metrics.base import Metric, _result, state_variable, to_array


class IoU(Metric):
    """Mean IoU over ``target_class_ids`` of ``num_classes`` classes (see the module docstring).

    Args:
        num_classes: the number of classes (the confusion matrix is ``num_classes x num_classes``).
        target_class_ids: the classes averaged.
        ignore_class: a label whose entries are skipped.
        sparse_y_true / sparse_y_pred: class ids (``True``) or one-hot / scores over ``axis`` (``False``).
        axis: the class axis of non-sparse inputs.
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None, sparse_y_true=True,
                 sparse_y_pred=True, axis=-1):
        super().__init__(name=name, dtype=dtype)
        target_class_ids = list(target_class_ids)
        if target_class_ids and max(target_class_ids) >= num_classes:
            raise ValueError(f"Target class id {max(target_class_ids)} is out of range, which is [0, {num_classes}).")
        self.num_classes = int(num_classes)
        self.target_class_ids = target_class_ids
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = state_variable(self, "total_confusion_matrix", (self.num_classes, self.num_classes))

    def _labels(self, values, sparse):
        arr = to_array(values, np.float64)
        if not sparse:
            arr = arr.argmax(axis=self.axis)
        return arr.reshape(-1)

    def update_state(self, y_true, y_pred, sample_weight=None):
        t = self._labels(y_true, self.sparse_y_true)
        p = self._labels(y_pred, self.sparse_y_pred)
        if t.size != p.size:
            raise ValueError(f"`y_true` and `y_pred` must hold one class each per entry. Received {t.size} labels and "
                             f"{p.size} predictions.")
        w = np.ones_like(t) if sample_weight is None else np.broadcast_to(
            to_array(sample_weight, np.float64).reshape(-1), t.shape)
        if self.ignore_class is not None:
            keep = t != self.ignore_class
            t, p, w = t[keep], p[keep], w[keep]
        t, p = t.astype(np.int64), p.astype(np.int64)  # tf.math.confusion_matrix's cast of float classes
        for name, ids in (("labels", t), ("predictions", p)):
            if ids.size and (ids.min() < 0 or ids.max() >= self.num_classes):
                raise ValueError(f"`{name}` must be class ids in [0, {self.num_classes}). Received values from "
                                 f"{ids.min()} to {ids.max()}.")
        np.add.at(self.total_cm.value, (t, p), w)  # in place

    def result(self):
        cm = self.total_cm.value
        true_positives = np.diag(cm)
        denominator = cm.sum(axis=0) + cm.sum(axis=1) - true_positives
        ids = self.target_class_ids
        true_positives, denominator = true_positives[ids], denominator[ids]
        valid = float((denominator > 1e-9).sum())
        with np.errstate(divide="ignore", invalid="ignore"):
            iou = np.where(denominator > 0, true_positives / np.where(denominator > 0, denominator, 1), 0.0)
        return _result(iou.sum() / valid if valid else 0.0)

    def get_config(self):
        config = {"num_classes": self.num_classes, "target_class_ids": self.target_class_ids,
                  "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                  "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}
        config.update(super().get_config())
        return config


class BinaryIoU(IoU):
    """IoU of a binary segmentation: a prediction is class 1 when ``y_pred >= threshold``.

    Args:
        target_class_ids: ``(0,)``, ``(1,)`` or ``(0, 1)`` (the default: the mean of both).
        threshold: the decision threshold.
    """

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        predicted = (to_array(y_pred, np.float64) >= self.threshold).astype(np.float64)
        super().update_state(y_true, predicted, sample_weight)

    def get_config(self):
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold, "name": self.name,
                "dtype": np.dtype(self._dtype).name}


class MeanIoU(IoU):
    """The mean IoU over all ``num_classes`` classes."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True, sparse_y_pred=True,
                 axis=-1):
        super().__init__(num_classes=num_classes, target_class_ids=list(range(num_classes)), name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred,
                         axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["target_class_ids"]
        return config


class OneHotIoU(IoU):
    """``IoU`` for one-hot labels (and scores, unless ``sparse_y_pred``)."""

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None, sparse_y_pred=False,
                 axis=-1):
        super().__init__(num_classes=num_classes, target_class_ids=target_class_ids, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotMeanIoU(MeanIoU):
    """``MeanIoU`` for one-hot labels (and scores, unless ``sparse_y_pred``)."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(num_classes=num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config
