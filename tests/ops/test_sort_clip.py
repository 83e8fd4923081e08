"""argmax/argmin, top_k, in_top_k, sort/argsort; norm clipping and l2_normalize."""

import numpy as np
import pytest
from gradcheck import check_gradient, random_array

import featherflow as ff


def test_argmax_argmin():
    x = np.array([[1.0, 5.0, 5.0], [7.0, 2.0, 7.0]])
    np.testing.assert_array_equal(ff.argmax(x).numpy(), [1, 0, 1])  # axis defaults to 0
    np.testing.assert_array_equal(ff.argmax(x, axis=1).numpy(), [1, 0])  # first of ties
    np.testing.assert_array_equal(ff.argmin(x, axis=-1).numpy(), [0, 1])
    assert ff.argmax(x).dtype == ff.int64
    assert ff.math.argmax(x, output_type="int32").dtype == ff.int32
    with pytest.raises(ValueError, match="argmax: axis 2 is out of range"):
        ff.argmax(x, axis=2)
    with pytest.raises(ValueError, match="argmin"):
        ff.argmin(np.zeros((0, 2)))


@pytest.mark.parametrize("shape,k", [((6,), 3), ((3, 5), 1), ((2, 3, 4), 4), ((2, 4), 0)], ids=str)
def test_top_k_value_and_gradient(shape, k):
    x = random_array(shape)
    values, indices = ff.math.top_k(x, k=k)
    expected_idx = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    np.testing.assert_array_equal(indices.numpy(), expected_idx)
    assert indices.dtype == ff.int32
    np.testing.assert_array_equal(values.numpy(), np.take_along_axis(x, expected_idx, axis=-1))
    check_gradient(lambda t: ff.nn.top_k(t, k=k).values, [x])


def test_top_k_ties_prefer_lower_index_and_errors():
    result = ff.math.top_k([3.0, 1.0, 3.0, 3.0], k=2)
    assert result.indices.numpy().tolist() == [0, 2]
    with pytest.raises(ValueError, match="top_k: k must be in \\[0, 4\\]"):
        ff.math.top_k([3.0, 1.0, 3.0, 3.0], k=5)


def test_in_top_k():
    predictions = np.array([[0.1, 0.9, 0.5], [0.3, 0.3, 0.3], [0.5, 0.2, np.nan]])
    out = ff.math.in_top_k([2, 1, 2], predictions, k=1)
    np.testing.assert_array_equal(out.numpy(), [False, True, False])  # ties at the boundary count
    np.testing.assert_array_equal(ff.math.in_top_k([2, 0, 1], predictions, k=2).numpy(), [True, True, True])


@pytest.mark.parametrize("direction", ["ASCENDING", "DESCENDING"])
@pytest.mark.parametrize("shape,axis", [((6,), -1), ((3, 4), 0), ((2, 3, 4), 1)], ids=str)
def test_sort_and_argsort(direction, shape, axis):
    x = random_array(shape)
    order = np.argsort(x if direction == "ASCENDING" else -x, axis=axis, kind="stable")
    np.testing.assert_array_equal(ff.argsort(x, axis=axis, direction=direction).numpy(), order)
    np.testing.assert_array_equal(ff.sort(x, axis=axis, direction=direction).numpy(),
                                  np.take_along_axis(x, order, axis=axis))
    check_gradient(lambda t: ff.sort(t, axis=axis, direction=direction), [x])


def test_argsort_descending_is_stable_on_ties():
    np.testing.assert_array_equal(ff.argsort([1, 3, 1, 3], direction="DESCENDING").numpy(), [1, 3, 0, 2])
    with pytest.raises(ValueError, match="direction"):
        ff.sort([1.0], direction="UP")


@pytest.mark.parametrize("shape,axes", [((4,), None), ((3, 4), [1]), ((3, 4), None), ((2, 3, 2), [0, 2])], ids=str)
@pytest.mark.parametrize("clip", [0.5, 100.0])
def test_clip_by_norm(shape, axes, clip):
    x = random_array(shape)
    np_axes = None if axes is None else tuple(axes)
    norm = np.sqrt((x * x).sum(axis=np_axes, keepdims=True))
    expected = x * clip / np.maximum(norm, clip)
    np.testing.assert_allclose(ff.clip_by_norm(x, clip, axes=axes).numpy(), expected, rtol=1e-12)
    check_gradient(lambda t: ff.clip_by_norm(t, clip, axes=axes), [x])


def test_clip_by_norm_zero_tensor_has_finite_gradient():
    x = ff.zeros((3,))
    with ff.GradientTape() as tape:
        tape.watch(x)
        out = ff.clip_by_norm(x, 1.0)
    np.testing.assert_array_equal(out.numpy(), [0.0, 0.0, 0.0])
    assert np.isfinite(tape.gradient(out, x).numpy()).all()
    with pytest.raises(ValueError, match="clip_by_norm: `clip_norm` must be positive"):
        ff.clip_by_norm(x, 0.0)


@pytest.mark.parametrize("clip", [0.5, 100.0])
def test_clip_by_global_norm(clip):
    arrays = [random_array((3, 2)), random_array((4,), seed=1)]
    global_norm = np.sqrt(sum((a * a).sum() for a in arrays))
    clipped, norm = ff.clip_by_global_norm([arrays[0], None, arrays[1]], clip)
    assert clipped[1] is None
    np.testing.assert_allclose(float(norm), global_norm)
    scale = clip / max(global_norm, clip)
    np.testing.assert_allclose(clipped[0].numpy(), arrays[0] * scale, rtol=1e-12)
    np.testing.assert_allclose(clipped[2].numpy(), arrays[1] * scale, rtol=1e-12)
    np.testing.assert_allclose(float(ff.linalg.global_norm(arrays)), global_norm)
    check_gradient(lambda a, b: ff.clip_by_global_norm([a, b], clip)[0], arrays)


def test_clip_by_global_norm_use_norm_and_non_finite():
    clipped, norm = ff.clip_by_global_norm([[3.0, 4.0]], 1.0, use_norm=10.0)
    np.testing.assert_allclose(clipped[0].numpy(), [0.3, 0.4], rtol=1e-6)
    clipped, norm = ff.clip_by_global_norm([[np.inf, 1.0]], 1.0)
    assert np.isnan(clipped[0].numpy()).all()
    with pytest.raises(TypeError, match="clip_by_global_norm: `t_list` must be a list"):
        ff.clip_by_global_norm(ff.ones((2,)), 1.0)


@pytest.mark.parametrize("shape,axis", [((4,), None), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), [1, 2])], ids=str)
def test_l2_normalize(shape, axis):
    x = random_array(shape)
    np_axis = tuple(axis) if isinstance(axis, list) else axis
    expected = x / np.sqrt(np.maximum((x * x).sum(axis=np_axis, keepdims=True), 1e-12))
    np.testing.assert_allclose(ff.math.l2_normalize(x, axis=axis).numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(ff.nn.l2_normalize(x, axis=axis).numpy(), expected, rtol=1e-12)
    check_gradient(lambda t: ff.math.l2_normalize(t, axis=axis), [x])
    np.testing.assert_array_equal(ff.math.l2_normalize(np.zeros(3)).numpy(), np.zeros(3))
