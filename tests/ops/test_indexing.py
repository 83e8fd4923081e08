"""Indexing ops: getitem, gather, gather_nd, boolean_mask, one_hot, pad."""

import numpy as np
import pytest
from gradcheck import check_gradient, random_array

import featherflow as ff

KEYS = [
    0, -1, slice(1, None), (slice(None), 1), (Ellipsis, 0), (None, slice(None, None, 2)),
    (slice(None, None, -1), slice(0, 2)),
    np.array([0, 2, 0]),  # advanced, with a repeat: gradients accumulate
    (slice(None), np.array([1, 1])),
    np.array([True, False, True]),
    (np.array([0, 1]), np.array([1, 2])),
]


@pytest.mark.parametrize("key", KEYS, ids=repr)
def test_getitem_value_and_gradient(key):
    x = random_array((3, 3))
    np.testing.assert_array_equal(ff.constant(x)[key].numpy(), x[key])
    check_gradient(lambda t: t[key], [x])


def test_getitem_with_tensor_keys_and_errors():
    x = random_array((4, 2))
    t = ff.constant(x)
    np.testing.assert_array_equal(t[ff.constant([3, 0])].numpy(), x[[3, 0]])
    np.testing.assert_array_equal(t[ff.constant(x[:, 0] > 0)].numpy(), x[x[:, 0] > 0])
    np.testing.assert_array_equal(t[ff.constant(1):].numpy(), x[1:])
    with pytest.raises(IndexError, match="shape \\(4, 2\\)"):
        t[5]


@pytest.mark.parametrize("shape,indices,axis", [
    ((5,), [4, 0, 4], None), ((5, 3), [[1, 2], [2, 2]], 0), ((3, 4), [3, 0], 1), ((2, 3, 4), [1], -1),
    ((4, 2), np.zeros((0,), "int64"), 0), ((3, 0), [2, 1], 0)], ids=str)
def test_gather_value_and_gradient(shape, indices, axis):
    x = random_array(shape)
    idx = np.asarray(indices)
    out = ff.gather(x, idx, axis=axis)
    np.testing.assert_array_equal(out.numpy(), np.take(x, idx, axis=0 if axis is None else axis))
    check_gradient(lambda t: ff.gather(t, idx, axis=axis), [x])


@pytest.mark.parametrize("params_shape,indices_shape,axis,batch_dims", [
    ((2, 5), (2, 3), 1, 1), ((2, 4, 3), (2, 2), 1, 1), ((2, 3, 5, 2), (2, 4), 2, 1),
    ((2, 3, 4), (2, 3, 2), 2, 2), ((3, 4, 2), (3, 2, 2), 1, 1)], ids=str)
def test_gather_batch_dims(params_shape, indices_shape, axis, batch_dims):
    x = random_array(params_shape)
    idx = np.random.default_rng(0).integers(0, params_shape[axis], size=indices_shape)
    # reference: gather row by row over the flattened batch axes
    batch = int(np.prod(params_shape[:batch_dims]))
    xs = x.reshape((batch,) + params_shape[batch_dims:])
    ids = idx.reshape((batch,) + indices_shape[batch_dims:])
    rows = [np.take(xs[b], ids[b], axis=axis - batch_dims) for b in range(batch)]
    expected = np.stack(rows).reshape(params_shape[:batch_dims] + rows[0].shape)
    out = ff.gather(x, idx, axis=axis, batch_dims=batch_dims)
    assert out.shape == params_shape[:axis] + indices_shape[batch_dims:] + params_shape[axis + 1:]
    np.testing.assert_array_equal(out.numpy(), expected)
    check_gradient(lambda t: ff.gather(t, idx, axis=axis, batch_dims=batch_dims), [x])


def test_gather_errors():
    with pytest.raises(ValueError, match="gather: indices must lie in \\[0, 3\\)"):
        ff.gather([1.0, 2.0, 3.0], [3])
    with pytest.raises(ValueError, match="gather: indices must lie"):
        ff.gather([1.0, 2.0, 3.0], [-1])
    with pytest.raises(TypeError, match="gather: `indices` must be an integer tensor"):
        ff.gather([1.0, 2.0], [0.0])
    with pytest.raises(ValueError, match="batch axes|first 1 axes"):
        ff.gather(ff.ones((2, 3)), ff.constant([[0], [1], [2]]), axis=1, batch_dims=1)


def test_embedding_lookup_is_gather():
    params = random_array((5, 3))
    ids = np.array([[0, 4], [4, 4]])
    np.testing.assert_array_equal(ff.nn.embedding_lookup(params, ids).numpy(), params[ids])
    check_gradient(lambda p: ff.nn.embedding_lookup(p, ids), [params])


@pytest.mark.parametrize("params_shape,indices,batch_dims", [
    ((3, 4), [[0, 1], [2, 3], [0, 1]], 0), ((3, 4, 2), [[2], [0]], 0), ((3, 4), [[1], [1], [0]], 0),
    ((2, 3, 4), [[[1], [2]], [[0], [0]]], 1), ((3, 2), np.zeros((0, 2), "int64"), 0)], ids=str)
def test_gather_nd(params_shape, indices, batch_dims):
    x = random_array(params_shape)
    idx = np.asarray(indices)
    if batch_dims == 0:
        expected = x[tuple(idx[..., j] for j in range(idx.shape[-1]))]
    else:
        expected = np.stack([xb[tuple(ib[..., j] for j in range(ib.shape[-1]))] for xb, ib in zip(x, idx)])
    out = ff.gather_nd(x, idx, batch_dims=batch_dims)
    np.testing.assert_array_equal(out.numpy(), expected)
    check_gradient(lambda t: ff.gather_nd(t, idx, batch_dims=batch_dims), [x])


def test_gather_nd_errors():
    with pytest.raises(ValueError, match="gather_nd"):
        ff.gather_nd(ff.ones((2, 2)), [[0, 0, 0]])
    with pytest.raises(ValueError, match="gather_nd: indices must lie in \\[0, 2\\)"):
        ff.gather_nd(ff.ones((2, 2)), [[0, 2]])


@pytest.mark.parametrize("shape,mask_shape,axis", [((4,), (4,), None), ((3, 2), (3,), None), ((3, 2), (3, 2), None),
                                                   ((2, 3, 2), (3,), 1), ((0, 2), (0,), None)], ids=str)
def test_boolean_mask(shape, mask_shape, axis):
    x = random_array(shape)
    mask = random_array(mask_shape, seed=3) > 0
    expected = x[(slice(None),) * (axis or 0) + (mask,)]
    np.testing.assert_array_equal(ff.boolean_mask(x, mask, axis=axis).numpy(), expected)
    check_gradient(lambda t: ff.boolean_mask(t, mask, axis=axis), [x])


def test_boolean_mask_errors():
    with pytest.raises(ValueError, match="boolean_mask: mask.shape must equal"):
        ff.boolean_mask(ff.ones((3, 2)), [True, False])
    with pytest.raises(TypeError, match="boolean_mask: `mask` must be boolean"):
        ff.boolean_mask(ff.ones((2,)), [1, 0])


def test_one_hot():
    idx = np.array([[0, 2], [1, 5]])
    out = ff.one_hot(idx, 3)
    assert out.dtype == ff.float32 and out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.numpy(), (idx[..., None] == np.arange(3)).astype("float32"))
    first = ff.one_hot([1, -1], 3, axis=0)
    np.testing.assert_array_equal(first.numpy(), [[0, 0], [1, 0], [0, 0]])
    custom = ff.one_hot([0, 1], 2, on_value=5, off_value=-1)
    assert custom.dtype == ff.int32
    np.testing.assert_array_equal(custom.numpy(), [[5, -1], [-1, 5]])
    assert ff.one_hot([0], 2, dtype="float64").dtype == ff.float64
    with pytest.raises(TypeError, match="one_hot: `indices` must be an integer"):
        ff.one_hot([0.5], 2)


PADS = [([[1, 2]], "CONSTANT"), ([[0, 0], [2, 1]], "constant"), ([[2, 1], [1, 2]], "REFLECT"),
        ([[2, 2], [0, 3]], "SYMMETRIC"), ([[0, 1], [1, 0]], "reflect")]


@pytest.mark.parametrize("paddings,mode", PADS, ids=str)
def test_pad_value_and_gradient(paddings, mode):
    shape = (4,) if len(paddings) == 1 else (3, 4)
    x = random_array(shape)
    expected = np.pad(x, paddings, mode=mode.lower())
    np.testing.assert_array_equal(ff.pad(x, paddings, mode=mode).numpy(), expected)
    check_gradient(lambda t: ff.pad(t, paddings, mode=mode), [x])


def test_pad_constant_values_and_errors():
    np.testing.assert_array_equal(ff.pad([1.0], [[1, 0]], constant_values=-3.0).numpy(), [-3.0, 1.0])
    with pytest.raises(ValueError, match="pad: in REFLECT mode the paddings of axis 0 must be at most 2"):
        ff.pad(ff.ones((3,)), [[3, 0]], mode="REFLECT")
    ff.pad(ff.ones((3,)), [[3, 0]], mode="SYMMETRIC")
    with pytest.raises(ValueError, match="pad: `paddings` must have one"):
        ff.pad(ff.ones((3,)), [[1, 1], [1, 1]])
    with pytest.raises(ValueError, match="pad: mode must be one of"):
        ff.pad(ff.ones((3,)), [[1, 1]], mode="EDGE")
    with pytest.raises(ValueError, match="non-negative"):
        ff.pad(ff.ones((3,)), [[-1, 1]])
    check_gradient(lambda t: ff.pad(t, [[0, 1], [1, 1]]), [random_array((0, 2))])


@pytest.mark.parametrize("shape,key", [((0, 3), (slice(None), 1)), ((1, 3), 0), ((2, 1, 3), (Ellipsis, 0, None)),
                                       ((4,), np.array([], dtype="int64"))], ids=str)
def test_getitem_size_one_and_empty(shape, key):
    x = random_array(shape)
    np.testing.assert_array_equal(ff.constant(x)[key].numpy(), x[key])
    check_gradient(lambda t: t[key], [x])
