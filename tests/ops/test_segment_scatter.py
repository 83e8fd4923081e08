"""Segment reductions, scatter ops, slicing and block moves: values, float64 gradients, errors."""

import numpy as np
import pytest
from gradcheck import check_gradient, random_array

import featherflow as ff

DATA = random_array((6, 2), seed=1)
SORTED = np.array([0, 0, 1, 3, 3, 3])
UNSORTED = np.array([2, 0, -1, 2, 1, 0])


@pytest.mark.parametrize("name", ["segment_sum", "segment_mean", "segment_max", "segment_min", "segment_prod"])
def test_sorted_segment_ops(name):
    op = getattr(ff.math, name)
    out = op(DATA, SORTED).numpy()
    reducer = {"segment_sum": np.sum, "segment_mean": np.mean, "segment_max": np.max, "segment_min": np.min,
               "segment_prod": np.prod}[name]
    for s in range(4):
        rows = DATA[SORTED == s]
        expected = reducer(rows, axis=0) if len(rows) else (np.ones(2) if name == "segment_prod" else np.zeros(2))
        np.testing.assert_allclose(out[s], expected)
    check_gradient(lambda d: op(d, SORTED), [DATA])


@pytest.mark.parametrize("name", ["unsorted_segment_sum", "unsorted_segment_mean", "unsorted_segment_max",
                                  "unsorted_segment_min", "unsorted_segment_prod", "unsorted_segment_sqrt_n"])
def test_unsorted_segment_ops_drop_negative_ids(name):
    op = getattr(ff.math, name)
    out = op(DATA, UNSORTED, 3).numpy()
    for s in range(3):
        rows = DATA[UNSORTED == s]
        expected = {"unsorted_segment_sum": rows.sum(0), "unsorted_segment_mean": rows.mean(0),
                    "unsorted_segment_max": rows.max(0), "unsorted_segment_min": rows.min(0),
                    "unsorted_segment_prod": rows.prod(0),
                    "unsorted_segment_sqrt_n": rows.sum(0) / np.sqrt(len(rows))}[name]
        np.testing.assert_allclose(out[s], expected)
    check_gradient(lambda d: op(d, UNSORTED, 3), [DATA])


def test_segment_max_splits_gradient_among_ties_and_prod_handles_zeros():
    x = np.array([1.0, 5.0, 5.0, 2.0, 0.0, 3.0, 0.0, 0.0, 2.0])
    ids = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    t = ff.constant(x)
    with ff.GradientTape(persistent=True) as tape:
        tape.watch(t)
        m = ff.math.segment_max(t, ids)
        p = ff.math.segment_prod(t, ids)
    np.testing.assert_allclose(tape.gradient(m, t).numpy(), [0, 0.5, 0.5, 0, 0, 1, 0, 0, 1])
    np.testing.assert_allclose(tape.gradient(p, t).numpy(), [25, 5, 5, 0, 6, 0, 0, 0, 0])


def test_segment_errors():
    with pytest.raises(ff.errors.InvalidArgumentError, match="not increasing"):
        ff.math.segment_sum([1.0, 2.0], [1, 0])
    with pytest.raises(ValueError, match="out of range"):
        ff.math.unsorted_segment_sum([1.0, 2.0], [0, 5], 3)


def test_scatter_family_values_and_gradients():
    idx = np.array([[4], [3], [1], [7], [1]])
    upd = random_array((5,), seed=2)
    expected = np.zeros(8)
    np.add.at(expected, idx[:, 0], upd)
    np.testing.assert_allclose(ff.scatter_nd(idx, upd, [8]).numpy(), expected)
    check_gradient(lambda u: ff.scatter_nd(idx, u, [8]), [upd])
    base = random_array((4, 3), seed=3)
    for op in (ff.tensor_scatter_nd_update, ff.tensor_scatter_nd_add, ff.tensor_scatter_nd_sub,
               ff.tensor_scatter_nd_max, ff.tensor_scatter_nd_min):
        check_gradient(lambda b, u, op=op: op(b, [[0], [2]], u), [base, random_array((2, 3), seed=4)])
    out = ff.tensor_scatter_nd_update(base, [[0, 1]], [9.0]).numpy()
    assert out[0, 1] == 9.0 and np.array_equal(np.delete(out.ravel(), 1), np.delete(base.ravel(), 1))
    with pytest.raises(ValueError, match="does not index into shape"):
        ff.scatter_nd([[9]], [1.0], [8])


def test_slicing_ops():
    x = random_array((3, 4, 5), seed=5)
    np.testing.assert_array_equal(ff.slice(x, [1, 0, 2], [2, -1, 2]).numpy(), x[1:3, :, 2:4])
    np.testing.assert_array_equal(ff.strided_slice(x, [0, 1, 0], [1, 3, 2], [1, 1, 1], shrink_axis_mask=1,
                                                   new_axis_mask=4).numpy(), x[0, 1:3, None])
    np.testing.assert_array_equal(ff.strided_slice(x, [1, 3], [0, 0], [1, -1], begin_mask=1, ellipsis_mask=0,
                                                   end_mask=1).numpy(), x[:, 3:0:-1])
    np.testing.assert_array_equal(ff.roll(x, [1, -2], [0, 2]).numpy(), np.roll(x, [1, -2], [0, 2]))
    check_gradient(lambda t: ff.roll(t, [1, -2], [0, 2]), [x])
    check_gradient(lambda t: ff.strided_slice(t, [2, 3], [0, 0], [-1, -2]), [x])
    with pytest.raises(ValueError, match=r"Expected size\[0\] in \[0, 2\]"):
        ff.slice(x, [1, 0, 0], [3, 1, 1])


def test_reverse_sequence_and_dynamic_partition_stitch():
    x = random_array((2, 4, 3), seed=6)
    out = ff.reverse_sequence(x, [2, 3], seq_axis=1, batch_axis=0).numpy()
    np.testing.assert_array_equal(out[0], np.concatenate([x[0, 1::-1], x[0, 2:]]))
    np.testing.assert_array_equal(out[1], np.concatenate([x[1, 2::-1], x[1, 3:]]))
    check_gradient(lambda t: ff.reverse_sequence(t, [2, 3], seq_axis=1, batch_axis=0), [x])
    data = random_array((5, 2), seed=7)
    parts = ff.dynamic_partition(data, [1, 0, 1, 2, 0], 3)
    np.testing.assert_array_equal(parts[1].numpy(), data[[0, 2]])
    check_gradient(lambda d: ff.dynamic_partition(d, [1, 0, 1, 2, 0], 3), [data])
    stitched = ff.dynamic_stitch([[0, 2], [1, 2]], [data[:2], data[2:4]])
    np.testing.assert_array_equal(stitched.numpy(), data[[0, 2, 3]])
    check_gradient(lambda a, b: ff.dynamic_stitch([[0, 2], [1, 2]], [a, b]), [data[:2], data[2:4]])


def test_block_moves_round_trip_and_gradient():
    x = random_array((2, 4, 6, 3), seed=8)
    y = ff.space_to_batch_nd(x, [2, 3], [[0, 0], [0, 0]])
    assert y.shape == (12, 2, 2, 3)
    np.testing.assert_array_equal(ff.batch_to_space(y, [2, 3], [[0, 0], [0, 0]]).numpy(), x)
    d = ff.nn.space_to_depth(x[:, :, :4], 2)
    np.testing.assert_array_equal(ff.nn.depth_to_space(d, 2).numpy(), x[:, :, :4])
    assert ff.nn.space_to_depth(random_array((2, 3, 4, 6)), 2, data_format="NCHW").shape == (2, 12, 2, 3)
    check_gradient(lambda t: ff.space_to_batch_nd(t, [2, 2], [[1, 1], [0, 2]]), [x[:, :2, :2]])
    check_gradient(lambda t: ff.extract_volume_patches(t, [1, 2, 1, 2, 1], [1, 1, 2, 1, 1], "VALID"),
                   [random_array((1, 3, 3, 3, 2), seed=9)])


def test_shape_utilities():
    x, y = ff.meshgrid([1, 2, 3], [4, 5])
    assert x.numpy().tolist() == [[1, 2, 3], [1, 2, 3]] and y.numpy().tolist() == [[4, 4, 4], [5, 5, 5]]
    check_gradient(lambda a, b: ff.meshgrid(a, b, indexing="ij"), [random_array((3,)), random_array((2,))])
    assert ff.sequence_mask([1, 3], 4).numpy().tolist() == [[True, False, False, False], [True, True, True, False]]
    assert ff.unravel_index([2, 5, 7], [3, 3]).numpy().tolist() == [[0, 1, 2], [2, 2, 1]]
    assert int(ff.bitcast(1.0, "int32")) == 1065353216
    assert ff.broadcast_static_shape([1, 3], [2, 1]) == (2, 3)
    with pytest.raises(ValueError, match="Incompatible shapes"):
        ff.broadcast_static_shape([2], [3])
    with pytest.raises(ff.errors.InvalidArgumentError, match="not compatible with expected shape"):
        ff.ensure_shape(ff.zeros(3), [2])
    assert [s.numpy().tolist() for s in ff.shape_n([ff.zeros((2, 3)), ff.zeros(4)])] == [[2, 3], [4]]
    check_gradient(lambda a, b: ff.identity_n([a, b]), [random_array((2,)), random_array((3,))])
    check_gradient(lambda a, b: ff.parallel_stack([a, b]), [random_array((2,)), random_array((2,), seed=1)])


def test_counting_and_bitwise():
    assert ff.math.bincount([1, 1, 3], minlength=5).numpy().tolist() == [0, 2, 0, 1, 0]
    with pytest.raises(ff.errors.InvalidArgumentError, match="non-negative"):
        ff.math.bincount([-1, 2])
    assert ff.math.confusion_matrix([0, 1, 1], [0, 1, 0]).numpy().tolist() == [[1, 0], [1, 1]]
    y, idx = ff.unique([3, 1, 3, 2])
    assert y.numpy().tolist() == [3, 1, 2] and idx.numpy().tolist() == [0, 1, 0, 2]
    assert ff.searchsorted([0, 3, 9], [2, 9], side="right").numpy().tolist() == [1, 3]
    assert ff.histogram_fixed_width([-1.0, 0.0, 1.5, 2.0, 5.0, 15.0], [0.0, 5.0], 5).numpy().tolist() == [2, 1, 1, 0, 2]
    assert ff.math.invert_permutation([3, 4, 0, 2, 1]).numpy().tolist() == [2, 4, 3, 0, 1]
    with pytest.raises(ff.errors.InvalidArgumentError, match="duplicated"):
        ff.math.invert_permutation([0, 0])
    assert float(ff.math.zero_fraction([0, 1, 0, 3])) == 0.5
    assert bool(ff.math.is_non_decreasing([1, 1, 2])) and not bool(ff.math.is_strictly_increasing([1, 1, 2]))
    assert ff.bitwise.bitwise_xor([5], [3]).numpy().tolist() == [6]
    assert ff.bitwise.right_shift([-8], [2]).numpy().tolist() == [-2]
    with pytest.raises(TypeError, match="integer"):
        ff.bitwise.invert([1.0])
