import image_reference
import numpy as np
import pytest

import featherflow as tf

tf_ref = image_reference.load()  # TF 2.21 outputs (tests/image/fixtures/tf_reference.npz)


def test_non_max_suppression_matches_tensorflow():
    selected = tf.image.non_max_suppression(tf_ref["misc/nms_boxes"], tf_ref["misc/nms_scores"], 6,
                                            iou_threshold=0.3, score_threshold=0.1)
    assert selected.dtype == np.int32
    np.testing.assert_array_equal(selected.numpy(), tf_ref["misc/nms"])


def test_suppression_rules():
    boxes = np.array([[0, 0, 1, 1], [1, 1, 0, 0.1], [0, 2, 1, 3], [0, 2, 1, 3]], "float32")
    scores = [0.9, 0.8, 0.7, 0.7]
    # box 1 (corners given in the other order) overlaps box 0 with IoU 0.9; boxes 2 and 3 tie: the lower index wins
    assert tf.image.non_max_suppression(boxes, scores, 10, 0.5).numpy().tolist() == [0, 2]
    assert tf.image.non_max_suppression(boxes, scores, 10, 0.95).numpy().tolist() == [0, 1, 2]
    assert tf.image.non_max_suppression(boxes, scores, 1, 0.95).numpy().tolist() == [0]
    assert tf.image.non_max_suppression(boxes, scores, 10, 0.5, score_threshold=0.85).numpy().tolist() == [0]
    overlaps = np.eye(4, dtype="float32")
    assert tf.image.non_max_suppression_overlaps(overlaps, scores, 4).numpy().tolist() == [0, 1, 2, 3]
    idx, kept = tf.image.non_max_suppression_with_scores(boxes, scores, 10, soft_nms_sigma=0.5)
    assert idx.numpy().tolist()[:2] == [0, 2]
    iou = 0.9
    assert np.isclose(kept.numpy()[idx.numpy().tolist().index(1)], 0.8 * np.exp(-iou * iou))
    with pytest.raises(ValueError, match="num_boxes, 4"):
        tf.image.non_max_suppression(np.zeros((3, 3)), np.zeros(3), 2)


def test_draw_bounding_boxes():
    images = np.zeros((2, 5, 6, 3), "float32")
    boxes = [[[0.25, 0.2, 0.75, 0.8]], [[-1.0, -1.0, 0.5, 0.4]]]
    out = tf.image.draw_bounding_boxes(images, boxes, [[1.0, 0.5, 0.25, 1.0]]).numpy()
    first = out[0, :, :, 0]
    assert first[1, 1:5].tolist() == [1] * 4 and first[3, 1:5].tolist() == [1] * 4
    assert first[1:4, 1].tolist() == [1] * 3 and first[1:4, 4].tolist() == [1] * 3 and first.sum() == 10
    assert out[0, 1, 1].tolist() == [1.0, 0.5, 0.25]
    second = out[1, :, :, 0]  # top and left edges outside the image: only bottom and right drawn
    assert second[2, 0:3].tolist() == [1] * 3 and second[0:3, 2].tolist() == [1] * 3 and second.sum() == 5
    assert images.sum() == 0
