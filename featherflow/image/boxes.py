"""Bounding boxes: greedy (and soft) non-max suppression, and drawing boxes on images.

Boxes are ``[y1, x1, y2, x2]`` (any two opposite corners). Suppression keeps the highest-scoring box, drops
every later box whose intersection-over-union with a kept one exceeds ``iou_threshold`` (soft-NMS instead
multiplies its score by ``exp(-iou^2 / (2 sigma))``), and repeats: TensorFlow's ``NonMaxSuppressionV5``.

>>> boxes = [[0, 0, 1, 1], [0, 0.1, 1, 1.1], [0, 2, 1, 3]]
>>> non_max_suppression(boxes, [0.9, 0.8, 0.7], 3, iou_threshold=0.5).numpy()
array([0, 2], dtype=int32)
"""

from __future__ import annotations

import heapq

import numpy as np

from featherflow.core.tensor import Tensor
from featherflow.ops._host import on_host


def _array(value, dtype="float32"):
    return np.asarray(value.numpy() if isinstance(value, Tensor) else value, dtype=dtype)


def _iou_matrix(boxes: np.ndarray) -> np.ndarray:
    y_min, y_max = np.minimum(boxes[:, 0], boxes[:, 2]), np.maximum(boxes[:, 0], boxes[:, 2])
    x_min, x_max = np.minimum(boxes[:, 1], boxes[:, 3]), np.maximum(boxes[:, 1], boxes[:, 3])
    area = (y_max - y_min) * (x_max - x_min)
    inter_h = np.maximum(np.minimum(y_max[:, None], y_max[None]) - np.maximum(y_min[:, None], y_min[None]), 0)
    inter_w = np.maximum(np.minimum(x_max[:, None], x_max[None]) - np.maximum(x_min[:, None], x_min[None]), 0)
    inter = inter_h * inter_w
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = inter / (area[:, None] + area[None] - inter)
    valid = (area[:, None] > 0) & (area[None] > 0)
    return np.where(valid, iou, 0.0).astype(np.float32)


def _suppress(similarity, scores, max_output_size, threshold, score_threshold, soft_sigma=0.0):
    """The greedy loop of TF's kernel: a max-heap of (score, -index), lazily re-scored for soft-NMS."""
    max_output_size = int(max_output_size)
    if max_output_size < 0:
        raise ValueError(f"max_output_size must be >= 0. Received: max_output_size={max_output_size}")
    scale = -0.5 / soft_sigma if soft_sigma > 0 else 0.0
    heap = [(-float(s), i, 0) for i, s in enumerate(scores) if s > score_threshold]
    heapq.heapify(heap)
    selected, selected_scores = [], []
    while heap and len(selected) < max_output_size:
        negative, index, begin = heapq.heappop(heap)
        score = original = -negative
        hard = False
        for j in range(len(selected) - 1, begin - 1, -1):
            sim = float(similarity(index, selected[j]))
            if soft_sigma <= 0 and sim > threshold:
                hard = True
                break
            score *= float(np.exp(np.float32(scale * sim * sim)))
            if score <= score_threshold:
                break
        if hard:
            continue
        if score == original:
            selected.append(index)
            selected_scores.append(score)
        elif score > score_threshold:
            heapq.heappush(heap, (-score, index, len(selected)))
    return np.asarray(selected, dtype=np.int32), np.asarray(selected_scores, dtype=np.float32)


def _check(boxes, scores):
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"boxes must be 2-D [num_boxes, 4]. Received: boxes.shape={boxes.shape}")
    if scores.shape != (boxes.shape[0],):
        raise ValueError(f"scores must be 1-D [num_boxes]. Received: scores.shape={scores.shape}, "
                         f"boxes.shape={boxes.shape}")


def non_max_suppression(boxes, scores, max_output_size, iou_threshold=0.5, score_threshold=float("-inf"),
                        name=None) -> Tensor:
    """Indices (int32) of at most ``max_output_size`` boxes kept by greedy non-max suppression, best first.

    Args:
        boxes: ``(num_boxes, 4)`` ``[y1, x1, y2, x2]``.
        scores: ``(num_boxes,)``.
        max_output_size: the most boxes to keep.
        iou_threshold: a box overlapping a kept one by more than this IoU is dropped.
        score_threshold: boxes scoring at most this are never kept.
    """
    boxes, scores = _array(boxes), _array(scores)
    _check(boxes, scores)
    if not 0.0 <= float(iou_threshold) <= 1.0:
        raise ValueError(f"iou_threshold must be in [0, 1]. Received: iou_threshold={iou_threshold}")
    iou = _iou_matrix(boxes)
    selected, _ = _suppress(lambda i, j: iou[i, j], scores, max_output_size, float(iou_threshold),
                            float(score_threshold))
    return Tensor(selected)


def non_max_suppression_with_scores(boxes, scores, max_output_size, iou_threshold=0.5,
                                    score_threshold=float("-inf"), soft_nms_sigma=0.0, name=None):
    """``(selected_indices, selected_scores)``; ``soft_nms_sigma > 0`` decays overlapping scores instead of
    dropping the boxes (Bodla et al. 2017, Soft-NMS).

    >>> idx, sc = non_max_suppression_with_scores([[0, 0, 1, 1], [0, 0, 1, 1]], [0.9, 0.8], 2, soft_nms_sigma=0.5)
    >>> idx.numpy().tolist(), sc.numpy().round(4).tolist()
    ([0, 1], [0.8999999761581421, 0.29429998993873596])
    """
    boxes, scores = _array(boxes), _array(scores)
    _check(boxes, scores)
    iou = _iou_matrix(boxes)
    selected, kept = _suppress(lambda i, j: iou[i, j], scores, max_output_size, float(iou_threshold),
                               float(score_threshold), float(soft_nms_sigma))
    return Tensor(selected), Tensor(kept)


def non_max_suppression_overlaps(overlaps, scores, max_output_size, overlap_threshold=0.5,
                                 score_threshold=float("-inf"), name=None) -> Tensor:
    """Greedy suppression with a given ``(num_boxes, num_boxes)`` overlap matrix instead of IoU."""
    overlaps, scores = _array(overlaps), _array(scores)
    if overlaps.ndim != 2 or overlaps.shape != (scores.shape[0], scores.shape[0]):
        raise ValueError(f"overlaps must be [num_boxes, num_boxes] matching scores. Received: "
                         f"overlaps.shape={overlaps.shape}, scores.shape={scores.shape}")
    selected, _ = _suppress(lambda i, j: overlaps[i, j], scores, max_output_size, float(overlap_threshold),
                            float(score_threshold))
    return Tensor(selected)


_DEFAULT_COLORS = np.array([[1, 1, 0, 1], [0, 0, 1, 1], [1, 0, 0, 1], [0, 1, 0, 0.5], [0.89, 0.71, 0.87, 1],
                            [0.84, 0.49, 0, 1], [0.26, 0.43, 0.49, 1], [0.58, 0.26, 0.07, 1], [0, 0.76, 0.73, 1],
                            [0.93, 0.51, 0.93, 1]], dtype="float32")


def draw_bounding_boxes(images, boxes, colors=None, name=None) -> Tensor:
    """Draw the outlines of normalised ``[y_min, x_min, y_max, x_max]`` boxes ``(batch, num_boxes, 4)`` on
    float images ``(batch, rows, cols, depth)``, box ``k`` in ``colors[k % len(colors)]`` (RGBA rows).

    >>> import numpy as np
    >>> out = draw_bounding_boxes(np.zeros((1, 4, 4, 1), "float32"), [[[0, 0, 1, 1]]], [[1.0]])
    >>> out.numpy()[0, :, :, 0]
    array([[1., 1., 1., 1.],
           [1., 0., 0., 1.],
           [1., 0., 0., 1.],
           [1., 1., 1., 1.]], dtype=float32)
    """
    # a Python loop over the boxes: inside a tf.function, one host call on the real arrays at every call (the
    # output is not differentiable, as TensorFlow's DrawBoundingBoxes). The arrays travel in one tuple: the
    # compiler takes a plain ndarray argument of a host call for one it writes, and constant boxes would end the trace
    return Tensor(on_host(_draw_boxes, tuple(x.value if isinstance(x, Tensor) else x for x in (images, boxes, colors))))


def _draw_boxes(arrays):
    images, boxes, colors = arrays
    canvas = np.array(_array(images, None), copy=True)
    if canvas.ndim != 4 or canvas.dtype.kind != "f":
        raise ValueError(f"draw_bounding_boxes: images must be a 4-D float batch (batch, rows, cols, depth). "
                         f"Received: images.shape={canvas.shape}, dtype={canvas.dtype}")
    box = _array(boxes)
    if box.ndim != 3 or box.shape[0] != canvas.shape[0] or box.shape[2] != 4:
        raise ValueError(f"draw_bounding_boxes: boxes must be (batch, num_boxes, 4). Received: "
                         f"boxes.shape={box.shape}, images.shape={canvas.shape}")
    table = _DEFAULT_COLORS if colors is None or np.size(colors) == 0 else _array(colors).reshape(
        len(_array(colors)), -1)
    n, h, w, depth = canvas.shape
    if table.shape[1] < depth:
        table = np.concatenate([table, np.ones((len(table), depth - table.shape[1]), "float32")], axis=1)
    for b in range(n):
        for k in range(box.shape[1]):
            color = table[k % len(table), :depth]
            top = int(np.float32(box[b, k, 0]) * np.float32(h - 1))
            bottom = int(np.float32(box[b, k, 2]) * np.float32(h - 1))
            left = int(np.float32(box[b, k, 1]) * np.float32(w - 1))
            right = int(np.float32(box[b, k, 3]) * np.float32(w - 1))
            if top > bottom or left > right or top >= h or bottom < 0 or left >= w or right < 0:
                continue
            rows = slice(max(top, 0), min(bottom, h - 1) + 1)
            cols = slice(max(left, 0), min(right, w - 1) + 1)
            if top >= 0:
                canvas[b, top, cols] = color
            if bottom < h:
                canvas[b, bottom, cols] = color
            if left >= 0:
                canvas[b, rows, left] = color
            if right < w:
                canvas[b, rows, right] = color
    return canvas
