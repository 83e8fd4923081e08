"""Shape ops: values against NumPy, gradients by finite differences, and their errors."""

import numpy as np
import pytest
from gradcheck import check_gradient, random_array

import featherflow as ff


@pytest.mark.parametrize("shape,new", [((2, 3), (3, 2)), ((2, 3), [-1]), ((4,), (2, 1, 2)), ((0, 3), (3, 0)),
                                       ((), (1, 1)), ((1,), ())], ids=str)
def test_reshape(shape, new):
    x = random_array(shape)
    np.testing.assert_array_equal(ff.reshape(x, new).numpy(), x.reshape(new))
    check_gradient(lambda t: ff.reshape(t, new), [x])


def test_reshape_errors_and_tensor_shape():
    with pytest.raises(ValueError, match="reshape: cannot reshape a tensor with 6 elements"):
        ff.reshape(ff.ones((2, 3)), (4, 2))
    assert ff.reshape(ff.ones((2, 3)), ff.constant([3, 2])).shape == (3, 2)
    assert ff.reshape(ff.ones((2, 3)), [None, 2]).shape == (3, 2)


@pytest.mark.parametrize("shape,perm", [((2, 3), None), ((2, 3, 4), (1, 2, 0)), ((2, 3, 4), (0, -1, 1)),
                                        ((0, 3), (1, 0))], ids=str)
def test_transpose(shape, perm):
    x = random_array(shape)
    expected = x.transpose(None if perm is None else [p % x.ndim for p in perm])
    np.testing.assert_array_equal(ff.transpose(x, perm).numpy(), expected)
    check_gradient(lambda t: ff.transpose(t, perm), [x])
    with pytest.raises(ValueError, match="transpose: `perm` must be a permutation"):
        ff.transpose(x, (0, 0))


@pytest.mark.parametrize("shape,axis", [((3,), 0), ((3,), -1), ((2, 3), 1), ((), 0), ((0, 2), 2)], ids=str)
def test_expand_dims_and_squeeze(shape, axis):
    x = random_array(shape)
    out = ff.expand_dims(x, axis)
    np.testing.assert_array_equal(out.numpy(), np.expand_dims(x, axis))
    check_gradient(lambda t: ff.expand_dims(t, axis), [x])
    np.testing.assert_array_equal(ff.squeeze(out, axis).numpy(), x)
    check_gradient(lambda t: ff.squeeze(ff.expand_dims(t, axis), axis), [x])
    with pytest.raises(ValueError, match="expand_dims: axis"):
        ff.expand_dims(x, x.ndim + 2)


def test_squeeze_all_and_errors():
    x = random_array((1, 3, 1, 2))
    np.testing.assert_array_equal(ff.squeeze(x).numpy(), x.squeeze())
    np.testing.assert_array_equal(ff.squeeze(x, [0, 2]).numpy(), x.squeeze((0, 2)))
    check_gradient(ff.squeeze, [x])
    with pytest.raises(ValueError, match="squeeze: can not squeeze axis 1"):
        ff.squeeze(x, 1)


@pytest.mark.parametrize("shapes,axis", [([(2, 3), (4, 3)], 0), ([(2, 3), (2, 1), (2, 0)], 1),
                                         ([(2, 3, 4), (2, 3, 1)], -1), ([(0, 2), (3, 2)], 0)], ids=str)
def test_concat(shapes, axis):
    arrays = [random_array(s, seed=i) for i, s in enumerate(shapes)]
    np.testing.assert_array_equal(ff.concat(arrays, axis).numpy(), np.concatenate(arrays, axis))
    check_gradient(lambda *ts: ff.concat(list(ts), axis), arrays)


def test_concat_errors_and_python_data_adopts_dtype():
    with pytest.raises(ValueError, match="concat: all dimensions except the concat axis must match"):
        ff.concat([ff.ones((2, 3)), ff.ones((2, 4))], 0)
    with pytest.raises(ValueError, match="non-empty"):
        ff.concat([], 0)
    with pytest.raises(TypeError, match="concat: all values must have one dtype"):
        ff.concat([ff.ones((1,), dtype="float64"), ff.ones((1,))], 0)
    out = ff.concat([ff.ones((1,), dtype="float64"), [2.0]], 0)
    assert out.dtype == ff.float64


@pytest.mark.parametrize("shape,axis,count", [((3,), 0, 2), ((2, 3), 1, 3), ((2, 3), -1, 2), ((0, 2), 0, 2),
                                              ((), 0, 3)], ids=str)
def test_stack(shape, axis, count):
    arrays = [random_array(shape, seed=i) for i in range(count)]
    np.testing.assert_array_equal(ff.stack(arrays, axis).numpy(), np.stack(arrays, axis))
    check_gradient(lambda *ts: ff.stack(list(ts), axis), arrays)


def test_stack_errors():
    with pytest.raises(ValueError, match="stack: all values must have the same shape"):
        ff.stack([ff.ones((2,)), ff.ones((3,))])
    with pytest.raises(ValueError, match="stack: axis 3 is out of range"):
        ff.stack([ff.ones((2,)), ff.ones((2,))], axis=3)


@pytest.mark.parametrize("shape,axis", [((3,), 0), ((2, 3), 1), ((2, 3, 4), -2), ((4, 0), 0)], ids=str)
def test_unstack_value_and_gradient(shape, axis):
    x = random_array(shape)
    pieces = ff.unstack(x, axis=axis)
    expected = [np.take(x, i, axis=axis) for i in range(x.shape[axis])]
    assert len(pieces) == len(expected)
    for p, e in zip(pieces, expected):
        np.testing.assert_array_equal(p.numpy(), e)
    check_gradient(lambda t: ff.unstack(t, axis=axis), [x])


def test_unstack_gradient_of_some_pieces_only():
    x = ff.constant(random_array((3, 2)))
    with ff.GradientTape() as tape:
        tape.watch(x)
        a, _, c = ff.unstack(x)
        out = ff.reduce_sum(a * 2.0 + c)
    np.testing.assert_array_equal(tape.gradient(out, x).numpy(), [[2, 2], [0, 0], [1, 1]])
    with pytest.raises(ValueError, match="unstack: `num` must equal"):
        ff.unstack(x, num=2)


@pytest.mark.parametrize("shape,splits,axis", [((6,), 3, 0), ((2, 6), [1, 2, 3], 1), ((2, 6), [2, -1], -1),
                                               ((4, 3), [0, 4], 0), ((0, 4), 2, 1)], ids=str)
def test_split_value_and_gradient(shape, splits, axis):
    x = random_array(shape)
    pieces = ff.split(x, splits, axis=axis)
    if isinstance(splits, int):
        expected = np.split(x, splits, axis=axis)
    else:
        sizes = list(splits)
        if -1 in sizes:
            sizes[sizes.index(-1)] = x.shape[axis] - (sum(sizes) + 1)
        expected = np.split(x, np.cumsum(sizes)[:-1], axis=axis)
    assert [p.shape for p in pieces] == [e.shape for e in expected]
    for p, e in zip(pieces, expected):
        np.testing.assert_array_equal(p.numpy(), e)
    check_gradient(lambda t: ff.split(t, splits, axis=axis), [x])


def test_split_errors():
    with pytest.raises(ValueError, match="split: the size of axis 0 \\(5\\) must be divisible"):
        ff.split(ff.ones((5,)), 2)
    with pytest.raises(ValueError, match="split: the sizes must add up"):
        ff.split(ff.ones((5,)), [1, 2])
    with pytest.raises(ValueError, match="at most one size may be -1"):
        ff.split(ff.ones((5,)), [-1, -1])


@pytest.mark.parametrize("shape,multiples", [((3,), [2]), ((2, 3), [2, 1]), ((2, 1, 3), [1, 4, 2]),
                                             ((0, 2), [3, 2]), ((2,), [0])], ids=str)
def test_tile(shape, multiples):
    x = random_array(shape)
    np.testing.assert_array_equal(ff.tile(x, multiples).numpy(), np.tile(x, multiples))
    check_gradient(lambda t: ff.tile(t, multiples), [x])
    with pytest.raises(ValueError, match="tile: `multiples` must have one"):
        ff.tile(x, [1] * (x.ndim + 1))


@pytest.mark.parametrize("shape,target", [((3,), (2, 3)), ((2, 1), (2, 4)), ((), (3,)), ((1, 3), (0, 3))], ids=str)
def test_broadcast_to(shape, target):
    x = random_array(shape)
    out = ff.broadcast_to(x, target)
    np.testing.assert_array_equal(out.numpy(), np.broadcast_to(x, target))
    out.value[...] = 0  # a real array, not a read-only view of the input
    check_gradient(lambda t: ff.broadcast_to(t, target), [x])


def test_broadcast_to_error():
    with pytest.raises(ValueError, match="broadcast_to: cannot broadcast a tensor of shape \\(3,\\)"):
        ff.broadcast_to(ff.ones((3,)), (2, 4))


@pytest.mark.parametrize("axis", [[0], [1], [0, 1], [-1], []])
def test_reverse(axis):
    x = random_array((3, 4))
    expected = np.flip(x, tuple(a % 2 for a in axis)) if axis else x
    np.testing.assert_array_equal(ff.reverse(x, axis).numpy(), expected)
    check_gradient(lambda t: ff.reverse(t, axis), [x])


def test_shape_size_rank():
    x = ff.ones((2, 3, 4))
    assert ff.shape(x).dtype == ff.int32
    np.testing.assert_array_equal(ff.shape(x).numpy(), [2, 3, 4])
    assert ff.shape(x, out_type="int64").dtype == ff.int64
    assert int(ff.size(x)) == 24 and ff.size(x).dtype == ff.int32
    assert int(ff.rank(x)) == 3 and int(ff.rank(1.0)) == 0
    np.testing.assert_array_equal(ff.shape([[1, 2]]).numpy(), [1, 2])


def test_view_ops_of_a_variable_are_snapshots():
    v = ff.Variable([[1.0, 2.0], [3.0, 4.0]])
    views = [ff.reshape(v, [-1]), ff.transpose(v), ff.expand_dims(v, 0), ff.squeeze(ff.expand_dims(v, 0)),
             v[0], v[:, 1], ff.identity(v), ff.stop_gradient(v), ff.unstack(v)[0], ff.split(v, 2)[1],
             ff.cast(v, "float32")]
    before = [t.numpy() for t in views]
    v.assign([[9.0, 9.0], [9.0, 9.0]])
    for t, b in zip(views, before):
        np.testing.assert_array_equal(t.numpy(), b)


@pytest.mark.parametrize("shape,repeats,axis", [((3,), 2, None), ((2, 3), 2, 1), ((2, 3), [1, 0, 3], 1),
                                                ((2, 3), [2, 1], 0), ((2, 2), 3, None), ((0, 2), 2, 0)], ids=str)
def test_repeat(shape, repeats, axis):
    x = random_array(shape)
    np.testing.assert_array_equal(ff.repeat(x, repeats, axis=axis).numpy(), np.repeat(x, repeats, axis=axis))
    check_gradient(lambda t: ff.repeat(t, repeats, axis=axis), [x])


def test_repeat_errors():
    with pytest.raises(ValueError, match="repeat: `repeats` must be a non-negative int or one count per element"):
        ff.repeat(ff.ones((2, 3)), [1, 2], axis=1)
